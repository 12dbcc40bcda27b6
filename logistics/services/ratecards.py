"""Importing a rate card's zones and weight brackets from CSV/XLSX, all rows or none."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import tablib
from django.db import transaction
from django.utils.translation import gettext

from logistics.exceptions import RateCardImportError
from logistics.models import RateCard, RateCardRate, RateCardZone
from logistics.spreadsheets import FIRST_DATA_ROW, dataset_load

REQUIRED_COLUMNS = ("zone", "destinations", "weight_to_g")
MONEY_COLUMNS = (
    "flat_price",
    "per_kg_price",
    "first_weight_price",
    "additional_step_price",
    "registration_fee",
)
GRAM_COLUMNS = ("weight_from_g", "first_weight_g", "additional_step_g")
DAY_COLUMNS = ("transit_days_min", "transit_days_max")
ALL_COLUMNS = (
    *REQUIRED_COLUMNS,
    *GRAM_COLUMNS,
    *MONEY_COLUMNS,
    *DAY_COLUMNS,
)


@dataclass(frozen=True)
class RowError:
    """One problem in one row of the file."""

    row: int
    column: str
    message: str


@dataclass
class RateCardImportReport:
    """What the import found and did."""

    total_rows: int = 0
    zones: int = 0
    brackets: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_rows": self.total_rows,
            "zones": self.zones,
            "brackets": self.brackets,
            "committed": self.committed,
            "dry_run": self.dry_run,
            "errors": [e.__dict__ for e in self.errors],
        }


def _dataset(content: bytes, file_format: str) -> tablib.Dataset:
    return dataset_load(
        content=content,
        file_format=file_format,
        required=REQUIRED_COLUMNS,
        allowed=ALL_COLUMNS,
    )


def _cell(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # XLSX gives 500.0 for a typed 500
    return str(value).strip()


class _RowReader:
    """Reads typed cells of one row and collects that row's errors."""

    def __init__(self, row: dict[str, Any], index: int) -> None:
        self.row = row
        self.index = index
        self.errors: list[RowError] = []

    def fail(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.index, column, message))

    def integer(self, column: str, default: int | None = 0) -> int | None:
        text = _cell(self.row, column)
        if not text:
            return default
        try:
            number = int(Decimal(text))
        except (InvalidOperation, ValueError):
            self.fail(column, f"{text!r} is not a whole number.")
            return default
        if number < 0:
            self.fail(column, "must not be negative.")
        return number

    def money(self, column: str) -> Decimal:
        text = _cell(self.row, column)
        if not text:
            return Decimal(0)
        try:
            amount = Decimal(text)
        except InvalidOperation:
            self.fail(column, f"{text!r} is not an amount.")
            return Decimal(0)
        if not amount.is_finite() or amount < 0:
            self.fail(column, "must be a positive amount or 0.")
        return amount


@dataclass
class _ZonePlan:
    code: str
    destinations: tuple[str, ...]
    transit_days_min: int | None
    transit_days_max: int | None
    first_row: int
    rates: list[RateCardRate] = field(default_factory=list)


def _parse(dataset: tablib.Dataset, errors: list[RowError]) -> dict[str, _ZonePlan]:
    zones: dict[str, _ZonePlan] = {}
    owner_of: dict[str, str] = {}
    for index, values in enumerate(dataset, start=FIRST_DATA_ROW):
        row = dict(zip(dataset.headers, values, strict=False))
        if not any(_cell(row, c) for c in dataset.headers if c):
            continue  # blank line at the end of a sheet
        reader = _RowReader(row, index)
        row_errors = reader.errors
        fail, integer, money = reader.fail, reader.integer, reader.money

        code = _cell(row, "zone")
        if not code:
            fail("zone", "is required.")
        destinations = tuple(
            d.strip().upper()
            for d in _cell(row, "destinations").replace(";", ",").split(",")
            if d.strip()
        )
        if not destinations:
            fail("destinations", 'is required, e.g. "US,CA" or "US-CA" or "*".')
        weight_from = integer("weight_from_g") or 0
        weight_to = integer("weight_to_g", None)
        if weight_to is None:
            fail("weight_to_g", "is required.")
        elif weight_to <= weight_from:
            fail("weight_to_g", f"must be above weight_from_g ({weight_from}).")
        days_min = integer("transit_days_min", None)
        days_max = integer("transit_days_max", None)
        rate = RateCardRate(
            weight_from_grams=weight_from,
            weight_to_grams=weight_to or 0,
            first_weight_grams=integer("first_weight_g") or 0,
            additional_step_grams=integer("additional_step_g") or 0,
            **{f: money(f) for f in MONEY_COLUMNS},
        )
        if rate.first_weight_grams and not rate.additional_step_grams:
            fail("additional_step_g", "is required when first_weight_g is set.")
        if code and destinations:
            plan = zones.get(code)
            if plan is None:
                plan = zones[code] = _ZonePlan(
                    code, destinations, days_min, days_max, index
                )
                for destination in destinations:
                    if destination in owner_of:
                        fail(
                            "destinations",
                            f"{destination} is already in zone {owner_of[destination]}.",
                        )
                    owner_of.setdefault(destination, code)
            elif set(plan.destinations) != set(destinations):
                fail(
                    "destinations",
                    f"zone {code} lists other destinations in row {plan.first_row}.",
                )
            elif (days_min, days_max) != (plan.transit_days_min, plan.transit_days_max):
                fail(
                    "transit_days_max",
                    f"zone {code} has other transit days in row {plan.first_row}.",
                )
            if not row_errors and weight_to is not None:
                for other in plan.rates:
                    if (
                        rate.weight_from_grams < other.weight_to_grams
                        and other.weight_from_grams < rate.weight_to_grams
                    ):
                        fail(
                            "weight_from_g",
                            f"overlaps {other.weight_from_grams}-"
                            f"{other.weight_to_grams} g of zone {code}.",
                        )
                        break
            if not row_errors:
                plan.rates.append(rate)
        errors.extend(row_errors)
    return zones


@transaction.atomic(durable=True)
def rate_card_import(
    *, rate_card_id: int, content: bytes, file_format: str, dry_run: bool = False
) -> RateCardImportReport:
    """Replace a card's zones and brackets with the file's; any bad row writes nothing.

    Raises: RateCardImportError for an unreadable file or wrong columns.
    """
    card = RateCard.objects.filter(pk=rate_card_id).first()
    if card is None:
        raise RateCardImportError(
            gettext("That rate card does not exist."), code="not_found"
        )
    dataset = _dataset(content, file_format)
    report = RateCardImportReport(total_rows=len(dataset), dry_run=dry_run)
    zones = _parse(dataset, report.errors)
    report.zones = len(zones)
    report.brackets = sum(len(z.rates) for z in zones.values())
    if report.errors or dry_run:
        return report
    RateCardZone.objects.filter(rate_card=card).delete()
    for plan in zones.values():
        zone = RateCardZone.objects.create(
            rate_card=card,
            code=plan.code,
            countries=list(plan.destinations),
            transit_days_min=plan.transit_days_min,
            transit_days_max=plan.transit_days_max,
        )
        for rate in plan.rates:
            rate.zone = zone
        RateCardRate.objects.bulk_create(plan.rates)
    card.save(update_fields=["updated_at"])
    report.committed = True
    return report
