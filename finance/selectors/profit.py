"""Profit and sales figures for reports: per order, and grouped by any dimension.

Reads the profit rows finance keeps current (one table, indexed by placed_at,
country and store), so a report over a million orders is one grouped scan. Rows
still waiting for exchange rates are left out of the sums and counted apart.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import (
    TruncDay,
    TruncMonth,
    TruncQuarter,
    TruncWeek,
    TruncYear,
)
from django.utils import timezone

from erp.core.money import quantize
from finance.choices import FxStatus
from finance.models import OrderLineProfit, OrderProfit, OrderProfitTag
from finance.services.fx import base_currency

PERIODS = {
    "day": TruncDay,
    "week": TruncWeek,
    "month": TruncMonth,
    "quarter": TruncQuarter,
    "year": TruncYear,
}
GROUPS = (
    "period",
    "country",
    "channel",
    "customer_type",
    "tag",
    "product",
    "country_period",
)
FIGURES = (
    "revenue",
    "discounts",
    "refunds",
    "cogs",
    "shipping_cost",
    "fees",
    "other_costs",
    "profit",
)


@dataclass(frozen=True)
class ProfitFilters:
    """What a profit report is limited to."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    channel_id: int | None = None
    country: str = ""
    customer_type: str = ""
    tag: str = ""


@dataclass(frozen=True)
class ProfitRow:
    """One group of a profit report, in the base currency."""

    key: tuple[Any, ...]
    label: str
    orders: int
    figures: dict[str, Decimal]

    @property
    def margin(self) -> Decimal | None:
        """Profit as a percentage of net revenue (revenue − discounts − refunds)."""
        net = (
            self.figures["revenue"]
            - self.figures["discounts"]
            - self.figures["refunds"]
        )
        if not net:
            return None
        return (self.figures["profit"] / net * 100).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class ProfitTable:
    """A grouped profit report and the orders it could not include yet."""

    group_by: str
    period: str
    currency: str
    rows: list[ProfitRow]
    totals: ProfitRow
    orders_missing_rates: int


def profit_rows(filters: ProfitFilters) -> QuerySet[OrderProfit]:
    """Profit rows matching the filters, including those still missing rates."""
    qs = OrderProfit.objects.all()
    if filters.date_from:
        qs = qs.filter(placed_at__gte=_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(
            placed_at__lt=_start(filters.date_to + datetime.timedelta(days=1))
        )
    if filters.channel_id:
        qs = qs.filter(channel_id=filters.channel_id)
    if filters.country:
        qs = qs.filter(country=filters.country.upper())
    if filters.customer_type:
        qs = qs.filter(customer_type=filters.customer_type)
    if filters.tag:
        qs = qs.filter(tags__tag=filters.tag)
    return qs


def _start(day: datetime.date) -> datetime.datetime:
    """Midnight of a day in the site's time zone (ranges on placed_at use its index)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _label(group_by: str, key: tuple[Any, ...], names: dict[int, str]) -> str:
    def text(value: Any) -> str:
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        return "—" if value in (None, "") else str(value)

    if group_by == "channel":
        return names.get(key[0], text(key[0]))
    return " · ".join(text(v) for v in key)


def profit_aggregate(
    *, filters: ProfitFilters, group_by: str = "period", period: str = "month"
) -> ProfitTable:
    """Sum revenue, costs and profit per group (period, country, store, customer type,
    tag, product, or country × period), largest profit first for non-time groups."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {GROUPS}")
    trunc = PERIODS[period]
    base = profit_rows(filters)
    included = base.filter(~Q(fx_status=FxStatus.MISSING))
    missing = base.filter(fx_status=FxStatus.MISSING).count()
    if group_by == "product":
        qs: QuerySet[Any] = OrderLineProfit.objects.filter(
            order_profit__in=included.values("pk")
        )
        keys = ["sku"]
        sums = {
            "revenue": Sum("revenue"),
            "cogs": Sum("cogs"),
            "other_costs": Sum("other_costs"),
            "profit": Sum("profit"),
        }
        grouped = qs.values(*keys).annotate(
            orders=Count("order_profit_id", distinct=True),
            quantity=Sum("quantity"),
            **sums,
        )
    elif group_by == "tag":
        qs = OrderProfitTag.objects.filter(profit__in=included.values("pk"))
        keys = ["tag"]
        grouped = qs.values(*keys).annotate(
            orders=Count("profit_id"), **{f: Sum(f"profit__{f}") for f in FIGURES}
        )
    else:
        keys = {
            "period": ["bucket"],
            "country": ["country"],
            "channel": ["channel_id"],
            "customer_type": ["customer_type"],
            "country_period": ["country", "bucket"],
        }[group_by]
        qs = included
        if "bucket" in keys:
            qs = qs.annotate(bucket=trunc("placed_at"))
        grouped = qs.values(*keys).annotate(
            orders=Count("pk"), **{f: Sum(f) for f in FIGURES}
        )
    currency = base_currency()
    names = _channel_names() if group_by == "channel" else {}
    rows = []
    for item in grouped.order_by(*keys):
        figures = {f: quantize(item.get(f) or Decimal(0), currency) for f in FIGURES}
        key = tuple(item[k] for k in keys)
        rows.append(
            ProfitRow(
                key=key,
                label=_label(group_by, key, names),
                orders=item["orders"],
                figures=figures,
            )
        )
    if group_by not in ("period", "country_period"):
        rows.sort(key=lambda r: (-r.figures["profit"], r.label))
    if group_by in ("product", "tag"):
        # An order counts in several products or tags: totals come from the orders.
        raw = included.aggregate(orders=Count("pk"), **{f: Sum(f) for f in FIGURES})
        orders_total = raw["orders"] or 0
        sums_total = {f: quantize(raw.get(f) or Decimal(0), currency) for f in FIGURES}
    else:
        # Every order is in exactly one group: adding the groups up saves a second scan.
        orders_total = sum(r.orders for r in rows)
        sums_total = {f: sum((r.figures[f] for r in rows), Decimal(0)) for f in FIGURES}
    totals = ProfitRow(key=(), label="Total", orders=orders_total, figures=sums_total)
    return ProfitTable(
        group_by=group_by,
        period=period,
        currency=currency,
        rows=rows,
        totals=totals,
        orders_missing_rates=missing,
    )


def _channel_names() -> dict[int, str]:
    from django.apps import apps

    channel_model = apps.get_model("connectors", "Channel")
    return dict(channel_model.objects.values_list("pk", "code"))


def order_profit_get(*, order_id: int) -> OrderProfit | None:
    """One order's profit row with its lines, or None if finance has none yet."""
    return (
        OrderProfit.objects.filter(order_id=order_id)
        .prefetch_related("lines", "tags")
        .first()
    )
