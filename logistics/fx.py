"""Currency conversion for comparing quotes: a port that finance will fill.

Logistics has no exchange rates of its own. A converter answers one question,
"this amount in that currency", or None when it has no rate; selection refuses to
compare what it cannot convert instead of assuming 1:1.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from erp.core.money import Money


class FxConverter(Protocol):
    def __call__(self, amount: Money, to_currency: str) -> Money | None: ...


class StaticRates:
    """Converts with a fixed table {("CAD", "USD"): Decimal("0.73"), ...} (contracts, tests)."""

    def __init__(self, rates: Mapping[tuple[str, str], Decimal]) -> None:
        self.rates = {(a.upper(), b.upper()): Decimal(r) for (a, b), r in rates.items()}

    def __call__(self, amount: Money, to_currency: str) -> Money | None:
        if amount.currency == to_currency.upper():
            return amount
        rate = self.rates.get((amount.currency, to_currency.upper()))
        if rate is None:
            return None
        return Money(amount.amount * rate, to_currency)


def fx_converter_default() -> FxConverter | None:
    """The converter named by settings.LOGISTICS_FX_CONVERTER (dotted path), if any."""
    path = getattr(settings, "LOGISTICS_FX_CONVERTER", "")
    return import_string(path) if path else None
