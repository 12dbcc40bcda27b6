"""Exact money: Decimal amounts with an ISO 4217 code, rounded to the currency's minor unit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext

from erp.core.exceptions import CurrencyMismatchError, InvalidMoneyError

# Database columns keep four places so converted and per-unit amounts are not rounded
# before the last step; presented amounts are rounded to the currency's minor unit.
MONEY_MAX_DIGITS = 19
MONEY_DECIMAL_PLACES = 4

# ISO 4217 minor units that differ from 2 among the currencies stores actually use.
_MINOR_UNITS = {
    "BHD": 3,
    "CLP": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
}


def money_field(**kwargs: object) -> models.DecimalField:
    """A DecimalField sized for money; pair it with a currency column."""
    return models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


def currency_field(**kwargs: object) -> models.CharField:
    """An ISO 4217 currency code column."""
    return models.CharField(max_length=3, **kwargs)


def minor_units(currency: str) -> int:
    """Digits after the decimal point for this currency (2 unless ISO says otherwise)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def to_decimal(value: object) -> Decimal:
    """Read an amount from a store payload or form; floats are refused, not rounded."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool | float):
        raise InvalidMoneyError(
            gettext("Amount %(value)r is a float; pass it as a string or Decimal.")
            % {"value": value},
            value=repr(value),
        )
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidMoneyError(
                gettext("Amount %(value)r is not a number.") % {"value": value},
                value=str(value),
            ) from None
    else:
        raise InvalidMoneyError(
            gettext("Amount %(value)r is not a number.") % {"value": value},
            value=repr(value),
        )
    if not result.is_finite():
        raise InvalidMoneyError(
            gettext("Amount %(value)r is not finite.") % {"value": value},
            value=str(value),
        )
    return result


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit (commercial rounding)."""
    return amount.quantize(
        Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP
    )


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency; arithmetic across currencies raises instead of guessing."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        code = self.currency.upper()
        if len(code) != 3 or not code.isalpha():
            raise InvalidMoneyError(
                gettext("Currency %(currency)r is not an ISO 4217 code.")
                % {"currency": self.currency}
            )
        object.__setattr__(self, "currency", code)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                gettext("Cannot combine %(currency)s and %(currency2)s without a rate.")
                % {"currency": self.currency, "currency2": other.currency},
                currencies=[self.currency, other.currency],
            )

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise InvalidMoneyError(
                gettext("Multiply money by an int or Decimal, not a float.")
            )
        return Money(self.amount * factor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def rounded(self) -> Money:
        return Money(quantize(self.amount, self.currency), self.currency)

    def __str__(self) -> str:
        return f"{quantize(self.amount, self.currency)} {self.currency}"


def money_sum(items: Iterable[Money], *, currency: str) -> Money:
    """Sum amounts that must all be in `currency` (an empty sum is zero in it)."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


def allocate_proportionally(total: Money, weights: list[Decimal]) -> list[Money]:
    """Split a total over weights in minor units so the parts add up exactly to the total.

    Used for discounts, shipping and fees spread over order lines: the remainder cents go
    to the largest weights first, so the parts never drift from the total.
    """
    if not weights:
        return []
    weight_sum = sum(weights, Decimal(0))
    exponent = Decimal(1).scaleb(-minor_units(total.currency))
    total_units = int(quantize(total.amount, total.currency) / exponent)
    if weight_sum == 0:
        weights = [Decimal(1)] * len(weights)
        weight_sum = Decimal(len(weights))
    raw = [Decimal(total_units) * w / weight_sum for w in weights]
    units = [int(r.to_integral_value(rounding="ROUND_FLOOR")) for r in raw]
    remainder = total_units - sum(units)
    order = sorted(
        range(len(weights)), key=lambda i: (raw[i] - units[i], weights[i]), reverse=True
    )
    for i in order[: abs(remainder)]:
        units[i] += 1 if remainder > 0 else -1
    return [Money(Decimal(u) * exponent, total.currency) for u in units]
