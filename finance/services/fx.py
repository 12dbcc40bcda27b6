"""Exchange rates: imports (ECB feed or file, CSV, by hand) and money conversion.

Conversion uses the rate of the requested day or the nearest earlier one (up to
MAX_RATE_AGE_DAYS back, which covers weekends and TARGET holidays when the ECB
publishes nothing), and says which day it used. Without a usable rate it raises
MissingRateError naming each missing pair: it never assumes 1.0.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from erp.core.money import Money, quantize
from finance.choices import RATE_SOURCE_PRIORITY, RateSource
from finance.ecb import ECB_DAILY_URL, ecb_fetch, ecb_parse
from finance.exceptions import FxImportError, ImportFileError, MissingRateError
from finance.importing import FIRST_DATA_ROW, RowError, csv_read
from finance.models import ExchangeRate

# ECB skips weekends and TARGET closing days (Easter takes four days); beyond this a
# rate is too old to stand for the day and the conversion is refused.
MAX_RATE_AGE_DAYS = 10
# ECB rates are all quoted against the euro, so any two of them cross through it.
PIVOT_CURRENCY = "EUR"
RATE_CSV_COLUMNS = ("date", "base", "quote", "rate")


# --- conversion ----------------------------------------------------------------------


@dataclass(frozen=True)
class RateLeg:
    """One published rate used in a conversion (inverted when used from quote to base)."""

    base: str
    quote: str
    rate: Decimal
    on: datetime.date
    source: str
    inverted: bool = False

    def __str__(self) -> str:
        return f"1 {self.base} = {self.rate.normalize()} {self.quote} ({self.source} {self.on})"


@dataclass(frozen=True)
class Converted:
    """A converted amount, the rate applied and the day that rate is from."""

    original: Money
    amount: Money
    exact_amount: Decimal
    rate: Decimal
    requested_on: datetime.date
    rate_on: datetime.date | None
    legs: tuple[RateLeg, ...] = field(default_factory=tuple)

    @property
    def is_exact_date(self) -> bool:
        """True when the rate is of the requested day (or no rate was needed)."""
        return self.rate_on is None or self.rate_on == self.requested_on

    @property
    def note(self) -> str:
        """A sentence saying which rate was used, for reports and API answers."""
        if not self.legs:
            return f"No conversion needed ({self.original.currency})."
        path = " × ".join(str(leg) for leg in self.legs)
        if self.is_exact_date:
            return f"Rate of {self.rate_on}: {path}."
        return (
            f"No rate on {self.requested_on}; used the nearest earlier one, "
            f"of {self.rate_on}: {path}."
        )


def base_currency() -> str:
    """The company's base currency (setting ERP_BASE_CURRENCY), read at call time."""
    return str(settings.ERP_BASE_CURRENCY).upper()


def max_rate_age_days() -> int:
    return int(getattr(settings, "FINANCE_FX_MAX_RATE_AGE_DAYS", MAX_RATE_AGE_DAYS))


class RateBook:
    """Rates looked up once and reused for many conversions (one profit refresh, a run).

    Each (pair, day) lookup hits the database once; the book never outlives a request
    or task, so it cannot go stale.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, datetime.date], RateLeg | None] = {}

    def _best(self, base: str, quote: str, on: datetime.date) -> RateLeg | None:
        """The latest rate of the pair (either direction) within the age limit."""
        key = (base, quote, on)
        if key in self._cache:
            return self._cache[key]
        oldest = on - datetime.timedelta(days=max_rate_age_days())
        rows = ExchangeRate.objects.filter(
            Q(base=base, quote=quote) | Q(base=quote, quote=base),
            on__lte=on,
            on__gte=oldest,
        ).values_list("base", "quote", "rate", "on", "source")
        best: RateLeg | None = None
        best_key: tuple[datetime.date, int, int] | None = None
        for row_base, row_quote, rate, row_on, source in rows:
            inverted = row_base != base
            # Latest day first; on the same day a manual rate beats a file, and a rate
            # quoted the way it is asked beats an inverse.
            rank = (row_on, -RATE_SOURCE_PRIORITY[RateSource(source)], -int(inverted))
            if best_key is None or rank > best_key:
                best_key = rank
                best = RateLeg(
                    base=row_base,
                    quote=row_quote,
                    rate=rate,
                    on=row_on,
                    source=source,
                    inverted=inverted,
                )
        self._cache[key] = best
        return best

    def convert(self, *, amount: Money, to: str, on: datetime.date) -> Converted:
        """Convert with the rate of `on` or the nearest earlier one.

        Raises: MissingRateError listing every missing pair.
        """
        to = to.upper()
        source = amount.currency
        if source == to:
            return Converted(
                original=amount,
                amount=Money(quantize(amount.amount, to), to),
                exact_amount=amount.amount,
                rate=Decimal(1),
                requested_on=on,
                rate_on=None,
            )
        direct = self._best(source, to, on)
        cross: tuple[RateLeg, RateLeg] | None = None
        missing: list[str] = []
        if PIVOT_CURRENCY not in (source, to):
            leg_in = self._best(PIVOT_CURRENCY, source, on)
            leg_out = self._best(PIVOT_CURRENCY, to, on)
            if leg_in and leg_out:
                cross = (leg_in, leg_out)
            if direct is None:
                missing.extend(
                    f"{PIVOT_CURRENCY}→{cur}"
                    for cur, leg in ((source, leg_in), (to, leg_out))
                    if leg is None
                )
        if direct is not None and (
            cross is None or direct.on >= min(c.on for c in cross)
        ):
            rate = _leg_rate(direct)
            legs: tuple[RateLeg, ...] = (direct,)
            rate_on = direct.on
        elif cross is not None:
            # EUR→source and EUR→target: source→EUR is the inverse of the first.
            rate = _leg_rate(cross[1]) / _leg_rate(cross[0])
            legs = cross
            rate_on = min(leg.on for leg in cross)
        else:
            oldest = on - datetime.timedelta(days=max_rate_age_days())
            pairs = [f"{source}→{to}", *missing]
            raise MissingRateError(
                gettext(
                    "No exchange rate converts %(source)s to %(to)s on %(on)s (looked back to %(oldest)s). Missing: %(join)s. Import the ECB rates of that day or enter the rate by hand."
                )
                % {
                    "source": source,
                    "to": to,
                    "on": on,
                    "oldest": oldest,
                    "join": ", ".join(pairs),
                },
                source=source,
                target=to,
                on=on.isoformat(),
                looked_back_to=oldest.isoformat(),
                missing=pairs,
            )
        exact = amount.amount * rate
        return Converted(
            original=amount,
            amount=Money(quantize(exact, to), to),
            exact_amount=exact,
            rate=rate,
            requested_on=on,
            rate_on=rate_on,
            legs=legs,
        )


def _leg_rate(leg: RateLeg) -> Decimal:
    """Units of the asked quote per unit of the asked base."""
    return Decimal(1) / leg.rate if leg.inverted else leg.rate


def money_convert(*, amount: Money, to: str, on: datetime.date) -> Converted:
    """Convert `amount` into currency `to` with the rate of `on` (or nearest earlier).

    ECB rates cross through EUR; a direct manual or CSV rate is used when it is at least
    as recent. Raises: MissingRateError naming each missing pair, never assumes 1.0.
    """
    return RateBook().convert(amount=amount, to=to, on=on)


# --- imports ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RateImportResult:
    """What a rate import found and did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    days: tuple[datetime.date, ...] = ()
    errors: tuple[RowError, ...] = ()
    committed: bool = True

    def as_dict(self) -> dict[str, object]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "days": [d.isoformat() for d in self.days],
            "errors": [e.as_dict() for e in self.errors],
            "committed": self.committed,
        }


_RateKey = tuple[str, str, datetime.date]


def _rates_upsert(
    *, source: str, rates: dict[_RateKey, Decimal], reference: str
) -> RateImportResult:
    """Insert new rates, update changed ones, leave equal ones alone (idempotent)."""
    if not rates:
        return RateImportResult()
    days = {key[2] for key in rates}
    existing = {
        (r.base, r.quote, r.on): r
        for r in ExchangeRate.objects.filter(
            source=source,
            on__in=days,
            base__in={k[0] for k in rates},
            quote__in={k[1] for k in rates},
        )
    }
    to_create: list[ExchangeRate] = []
    to_update: list[ExchangeRate] = []
    for (base, quote, on), rate in rates.items():
        row = existing.get((base, quote, on))
        if row is None:
            to_create.append(
                ExchangeRate(
                    source=source,
                    base=base,
                    quote=quote,
                    on=on,
                    rate=rate,
                    reference=reference[:255],
                )
            )
        elif row.rate != rate:
            row.rate = rate
            row.reference = reference[:255]
            to_update.append(row)
    ExchangeRate.objects.bulk_create(to_create)
    if to_update:
        ExchangeRate.objects.bulk_update(to_update, ["rate", "reference", "updated_at"])
    return RateImportResult(
        created=len(to_create),
        updated=len(to_update),
        unchanged=len(rates) - len(to_create) - len(to_update),
        days=tuple(sorted(days)),
    )


def _after_rates_changed(result: RateImportResult) -> RateImportResult:
    """Profit rows that lacked these rates are refreshed once the import commits."""
    if result.days and (result.created or result.updated):
        from finance.tasks import order_profits_refresh_stale_task

        first = result.days[0].isoformat()
        transaction.on_commit(
            lambda: order_profits_refresh_stale_task.delay(first), robust=True
        )
    return result


@transaction.atomic(durable=True)
def exchange_rates_import_ecb(*, content: bytes, reference: str) -> RateImportResult:
    """Import an ECB reference-rate XML (daily, 90-day or history file); idempotent.

    Raises: FxImportError (nothing is written).
    """
    days = ecb_parse(content)
    rates: dict[_RateKey, Decimal] = {
        (PIVOT_CURRENCY, currency, day.on): rate
        for day in days
        for currency, rate in day.rates.items()
        if currency != PIVOT_CURRENCY
    }
    return _after_rates_changed(
        _rates_upsert(source=RateSource.ECB, rates=rates, reference=reference)
    )


def exchange_rates_import_ecb_url(*, url: str | None = None) -> RateImportResult:
    """Fetch the ECB feed (default: the daily file) and import it.

    The download happens outside any transaction so a slow feed holds no locks.
    Raises: FxFetchError (retry later), FxImportError.
    """
    url = url or getattr(settings, "FINANCE_ECB_URL", "") or ECB_DAILY_URL
    content = ecb_fetch(url)
    return exchange_rates_import_ecb(content=content, reference=url)


def _positive_decimal(raw: str) -> Decimal | None:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


@transaction.atomic(durable=True)
def exchange_rates_import_csv(*, content: bytes, reference: str) -> RateImportResult:
    """Import rates from CSV (date,base,quote,rate: 1 base = rate quote), all or none.

    A file with any bad row writes nothing and reports every bad row.
    Raises: ImportFileError when the file or its columns are wrong.
    """
    _header, rows = csv_read(content, required=RATE_CSV_COLUMNS)
    rates: dict[_RateKey, Decimal] = {}
    errors: list[RowError] = []
    seen: dict[_RateKey, int] = {}
    for number, row in enumerate(rows, start=FIRST_DATA_ROW):
        if not row:
            continue
        row_errors: list[RowError] = []
        try:
            on = datetime.date.fromisoformat(row["date"])
        except ValueError:
            row_errors.append(
                RowError(number, "date", f"{row['date']!r} is not a date (YYYY-MM-DD).")
            )
            on = None
        codes = {}
        for column in ("base", "quote"):
            code = row[column].upper()
            if len(code) != 3 or not code.isalpha():
                row_errors.append(
                    RowError(number, column, f"{row[column]!r} is not a currency code.")
                )
            codes[column] = code
        if codes["base"] == codes["quote"]:
            row_errors.append(RowError(number, "quote", "A rate needs two currencies."))
        rate = _positive_decimal(row["rate"])
        if rate is None:
            row_errors.append(
                RowError(number, "rate", f"{row['rate']!r} is not a positive number.")
            )
        if not row_errors and on is not None and rate is not None:
            key = (codes["base"], codes["quote"], on)
            if key in seen:
                row_errors.append(
                    RowError(number, "", f"Same pair and day as row {seen[key]}.")
                )
            else:
                seen[key] = number
                rates[key] = rate
        errors.extend(row_errors)
    if errors:
        return RateImportResult(errors=tuple(errors), committed=False)
    if not rates:
        raise ImportFileError(gettext("The file has a header but no rates."))
    return _after_rates_changed(
        _rates_upsert(source=RateSource.CSV, rates=rates, reference=reference)
    )


@transaction.atomic(durable=True)
def exchange_rate_set(
    *, base: str, quote: str, rate: Decimal, on: datetime.date, reference: str = ""
) -> ExchangeRate:
    """Enter (or correct) one rate by hand: 1 `base` = `rate` `quote` on `on`.

    Raises: FxImportError for a bad pair or a non-positive rate.
    """
    base, quote = base.upper(), quote.upper()
    for code in (base, quote):
        if len(code) != 3 or not code.isalpha():
            raise FxImportError(
                gettext("%(code)r is not a currency code.") % {"code": code},
                currency=code,
            )
    if base == quote:
        raise FxImportError(gettext("A rate needs two different currencies."))
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise FxImportError(
            gettext("The rate %(rate)r is not a positive decimal.") % {"rate": rate}
        )
    _after_rates_changed(
        _rates_upsert(
            source=RateSource.MANUAL,
            rates={(base, quote, on): rate},
            reference=reference or "manual",
        )
    )
    return ExchangeRate.objects.get(
        source=RateSource.MANUAL, base=base, quote=quote, on=on
    )
