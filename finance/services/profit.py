"""Cost figures of orders and the profit of each order in the base currency.

Profit = revenue − discounts − refunds − cost of goods − shipping cost − payment fees
− other costs. Revenue is what the buyer was charged before discounts and without
tax (total − tax + discounts, so it holds for stores that price with or without
tax); refunds are the store's refund amounts. Each figure is converted with the rate
of its own day (order: placed; refund: refunded; fee: processed; cost: incurred) and
rounded to the base currency's minor unit, then the profit is their sum, so a hand
calculation done the same way matches to the cent.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext

from erp.core.money import Money, allocate_proportionally, quantize
from finance.choices import (
    MONEY_IN_KINDS,
    CostKind,
    CustomerType,
    FxStatus,
    PaymentKind,
)
from finance.exceptions import (
    InvalidFinanceDataError,
    MissingRateError,
    OrderNotFoundError,
)
from finance.locks import order_lock, orders_lock
from finance.models import (
    OrderCost,
    OrderLineProfit,
    OrderProfit,
    OrderProfitTag,
    Payment,
    Refund,
)
from finance.services.fx import RateBook, base_currency, max_rate_age_days


@transaction.atomic
def order_cost_record(
    *,
    order_id: int,
    kind: str,
    amount: Money,
    reference: str,
    on: datetime.date,
    order_line_id: int | None = None,
) -> OrderCost:
    """Record (or correct) one cost of an order and refresh its profit.

    Upserts by (order, kind, reference): the same lot or shipment again replaces the
    figure. A building block for shipping (cost of the lots shipped, label cost).
    Locks: the Order row. Raises: OrderNotFoundError, InvalidFinanceDataError.
    """
    problems = []
    if kind not in CostKind.values:
        problems.append(f"kind {kind!r} is not one of {CostKind.values}")
    if amount.amount < 0:
        problems.append("a cost cannot be negative")
    if not reference.strip():
        problems.append("the reference is empty (name the lot, shipment or invoice)")
    if problems:
        raise InvalidFinanceDataError(
            f"Cost of order {order_id} cannot be recorded: "
            + "; ".join(problems)
            + ".",
            order_id=order_id,
            problems=problems,
        )
    order = order_lock(order_id=order_id)
    if order is None:
        raise OrderNotFoundError(
            gettext("Order %(order_id)s does not exist.") % {"order_id": order_id},
            order_id=order_id,
        )
    if order_line_id is not None:
        line_model = apps.get_model("orders", "OrderLine")
        if not line_model.objects.filter(pk=order_line_id, order_id=order_id).exists():
            raise InvalidFinanceDataError(
                gettext("Line %(order_line_id)s is not a line of order %(order_id)s.")
                % {"order_line_id": order_line_id, "order_id": order_id},
                order_id=order_id,
                order_line_id=order_line_id,
            )
    cost, _created = OrderCost.objects.update_or_create(
        order_id=order_id,
        kind=kind,
        reference=reference.strip()[:200],
        defaults={
            "amount": amount.amount,
            "currency": amount.currency,
            "incurred_on": on,
            "order_line_id": order_line_id,
        },
    )
    order_profit_refresh(order_id=order_id)
    return cost


@dataclass
class _Converter:
    """Converts the figures of one order and remembers how it went."""

    target: str
    book: RateBook = field(default_factory=RateBook)
    earlier: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def __call__(self, amount: Decimal, currency: str, on: datetime.date) -> Decimal:
        if not amount:
            return Decimal(0)
        try:
            converted = self.book.convert(
                amount=Money(amount, currency), to=self.target, on=on
            )
        except MissingRateError as exc:
            for pair in exc.extra["missing"]:
                note = f"{pair} on {on}"
                if note not in self.missing:
                    self.missing.append(note)
            return Decimal(0)
        if not converted.is_exact_date:
            note = f"{currency}→{self.target} on {on} used {converted.rate_on}"
            if note not in self.earlier:
                self.earlier.append(note)
        return converted.amount.amount

    @property
    def status(self) -> str:
        if self.missing:
            return FxStatus.MISSING
        return FxStatus.EARLIER if self.earlier else FxStatus.EXACT

    @property
    def note(self) -> str:
        parts = []
        if self.missing:
            parts.append("Missing rates: " + "; ".join(self.missing) + ".")
        if self.earlier:
            parts.append("Nearest earlier rates: " + "; ".join(self.earlier) + ".")
        return " ".join(parts)


def _customer_type(order: Any) -> str:
    if order.customer_id is None:
        return CustomerType.GUEST
    order_model = apps.get_model("orders", "Order")
    earlier = order_model.objects.filter(customer_id=order.customer_id).filter(
        placed_at__lt=order.placed_at
    )
    same_time = order_model.objects.filter(
        customer_id=order.customer_id, placed_at=order.placed_at, pk__lt=order.pk
    )
    return (
        CustomerType.RETURNING
        if earlier.exists() or same_time.exists()
        else CustomerType.NEW
    )


def _spread(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    if not weights:
        return []
    return [m.amount for m in allocate_proportionally(Money(total, currency), weights)]


@dataclass
class _ProfitFigures:
    """One order's profit row, tags and line rows, computed but not yet written."""

    values: dict[str, Any]
    tags: set[str]
    lines: Sequence[Any]
    line_revenues: list[Decimal]
    line_cogs: dict[int, Decimal]
    line_shares: list[Decimal]

    def line_rows(self, row: OrderProfit) -> list[OrderLineProfit]:
        return [
            OrderLineProfit(
                order_profit=row,
                order_line_id=ln.pk,
                product_id=ln.product_id,
                sku=ln.sku,
                title=ln.title[:255],
                quantity=ln.quantity,
                revenue=revenue,
                cogs=self.line_cogs.get(ln.pk, Decimal(0)),
                other_costs=share,
                profit=quantize(
                    revenue - self.line_cogs.get(ln.pk, Decimal(0)) - share,
                    row.base_currency,
                ),
            )
            for ln, revenue, share in zip(
                self.lines, self.line_revenues, self.line_shares, strict=True
            )
        ]


def _profit_figures(
    *,
    order: Any,
    payments: Sequence[Any],
    refund_rows: Sequence[Any],
    costs: Sequence[Any],
    lines: Sequence[Any],
    customer_type: str,
    book: RateBook,
) -> _ProfitFigures:
    """The profit of one order from its recorded rows (shared by one and many)."""
    target = base_currency()
    convert = _Converter(target=target, book=book)
    placed_on = timezone.localdate(order.placed_at)
    currency = order.currency
    money_in = [p for p in payments if p.kind in MONEY_IN_KINDS]
    # A cancelled order nobody paid earned nothing; a paid one is cancelled by refunds.
    earned = not (order.status == "cancelled" and not money_in)
    gross = (
        order.total - order.tax_total + order.discount_total if earned else Decimal(0)
    )
    revenue = convert(gross, currency, placed_on)
    discounts = convert(
        order.discount_total if earned else Decimal(0), currency, placed_on
    )
    if refund_rows:
        refunds = sum(
            (
                convert(r.amount, r.currency, timezone.localdate(r.refunded_at))
                for r in refund_rows
            ),
            Decimal(0),
        )
    else:
        refunds = sum(
            (
                convert(p.amount, p.currency, timezone.localdate(p.processed_at))
                for p in payments
                if p.kind == PaymentKind.REFUND
            ),
            Decimal(0),
        )
    fees = sum(
        (
            convert(
                p.fee, p.fee_currency or p.currency, timezone.localdate(p.processed_at)
            )
            for p in payments
            if p.fee
        ),
        Decimal(0),
    )
    by_kind: dict[str, Decimal] = {k: Decimal(0) for k in CostKind.values}
    line_cogs: dict[int, Decimal] = {}
    for cost in costs:
        value = convert(cost.amount, cost.currency, cost.incurred_on)
        by_kind[cost.kind] += value
        if cost.kind == CostKind.COGS and cost.order_line_id is not None:
            line_cogs[cost.order_line_id] = (
                line_cogs.get(cost.order_line_id, Decimal(0)) + value
            )
    profit = (
        revenue
        - discounts
        - refunds
        - by_kind[CostKind.COGS]
        - by_kind[CostKind.SHIPPING]
        - fees
        - by_kind[CostKind.OTHER]
    )
    shared = (
        refunds
        + by_kind[CostKind.SHIPPING]
        + fees
        + by_kind[CostKind.OTHER]
        + (by_kind[CostKind.COGS] - sum(line_cogs.values(), Decimal(0)))
    )
    tags = {str(t)[:100] for t in (order.tags or [])}
    if order.customer is not None:
        tags |= {str(t)[:100] for t in (order.customer.tags or [])}
    values = {
        "channel_id": order.channel_id,
        "placed_at": order.placed_at,
        "country": str((order.shipping_address or {}).get("country_code", ""))[
            :2
        ].upper(),
        "customer_type": customer_type,
        "order_currency": currency,
        "base_currency": target,
        "revenue": revenue,
        "discounts": discounts,
        "refunds": refunds,
        "cogs": by_kind[CostKind.COGS],
        "shipping_cost": by_kind[CostKind.SHIPPING],
        "fees": fees,
        "other_costs": by_kind[CostKind.OTHER],
        "profit": profit,
        "fx_status": convert.status,
        "fx_note": convert.note,
        "computed_at": timezone.now(),
    }
    # Converted after the row's status and note are read, as the line rows always were.
    line_revenues = [
        convert(
            (ln.unit_price * ln.quantity - ln.discount_total) if earned else Decimal(0),
            currency,
            placed_on,
        )
        for ln in lines
    ]
    return _ProfitFigures(
        values=values,
        tags=tags,
        lines=lines,
        line_revenues=line_revenues,
        line_cogs=line_cogs,
        line_shares=_spread(
            shared, [max(r, Decimal(0)) for r in line_revenues], target
        ),
    )


@transaction.atomic
def order_profit_refresh(*, order_id: int) -> OrderProfit | None:
    """Recompute one order's profit row (and its line and tag rows) from what is recorded.

    Missing rates do not fail: the row is kept with fx_status "missing" and a note
    naming the pairs, and reports leave it out until the rates arrive.
    Locks: the Order row. Returns None when the order does not exist.
    """
    order_model = apps.get_model("orders", "Order")
    if order_lock(order_id=order_id) is None:
        return None
    order = order_model.objects.select_related("customer").get(pk=order_id)
    figures = _profit_figures(
        order=order,
        payments=list(Payment.objects.filter(order_id=order_id, succeeded=True)),
        refund_rows=list(Refund.objects.filter(order_id=order_id)),
        costs=list(OrderCost.objects.filter(order_id=order_id)),
        lines=list(order.lines.filter(is_removed=False).order_by("pk")),
        customer_type=_customer_type(order),
        book=RateBook(),
    )
    row, _created = OrderProfit.objects.update_or_create(
        order_id=order_id, defaults=figures.values
    )
    OrderProfitTag.objects.filter(profit=row).exclude(tag__in=figures.tags).delete()
    OrderProfitTag.objects.bulk_create(
        [OrderProfitTag(profit=row, tag=t) for t in sorted(figures.tags)],
        ignore_conflicts=True,
    )
    OrderLineProfit.objects.filter(order_profit=row).delete()
    OrderLineProfit.objects.bulk_create(figures.line_rows(row))
    return row


def _customer_types(orders: list[Any]) -> dict[int, str]:
    """_customer_type of a page of orders created in pk order, in one query.

    An order of the page counts the buyer's orders that existed when it was stored:
    every order outside the page, and the page's orders before it.
    """
    order_model = apps.get_model("orders", "Order")
    ids = [o.pk for o in orders]
    earlier = order_model.objects.filter(customer_id=OuterRef("customer_id")).filter(
        Q(placed_at__lt=OuterRef("placed_at"))
        | Q(placed_at=OuterRef("placed_at"), pk__lt=OuterRef("pk")),
        Q(pk__lt=OuterRef("pk")) | ~Q(pk__in=ids),
    )
    returning = set(
        order_model.objects.filter(pk__in=ids, customer_id__isnull=False)
        .filter(Exists(earlier))
        .values_list("pk", flat=True)
    )
    return {
        o.pk: CustomerType.GUEST
        if o.customer_id is None
        else CustomerType.RETURNING
        if o.pk in returning
        else CustomerType.NEW
        for o in orders
    }


_PAYMENT_READ = (
    "order_id",
    "kind",
    "amount",
    "currency",
    "processed_at",
    "fee",
    "fee_currency",
)
_LINE_READ = (
    "order_id",
    "pk",
    "product_id",
    "sku",
    "title",
    "quantity",
    "unit_price",
    "discount_total",
)


def order_profits_create_many(*, order_ids: list[int]) -> dict[int, OrderProfit]:
    """order_profit_refresh for a page of orders just stored, in a few statements.

    The orders were created in the caller's transaction in pk order (the ingest of a
    page); one with a profit row already is refreshed the one-order way. Rows, money
    and notes are the same as order_profit_refresh would write order by order.
    Locks: the Order rows (pk order).
    """
    return order_profits_create_locked(orders=orders_lock(order_ids=order_ids))


def order_profits_create_locked(*, orders: list[Any]) -> dict[int, OrderProfit]:
    """order_profits_create_many for orders the caller locked (orders_lock, pk order)."""
    order_ids = [o.pk for o in orders]
    done: dict[int, OrderProfit] = {}
    had_row = set(
        OrderProfit.objects.filter(order_id__in=order_ids).values_list(
            "order_id", flat=True
        )
    )
    fresh = [o for o in orders if o.pk not in had_row]
    for order in orders:
        if order.pk in had_row:
            row = order_profit_refresh(order_id=order.pk)
            if row is not None:
                done[order.pk] = row
    if not fresh:
        return done
    fresh_ids = [o.pk for o in fresh]
    # Read as plain rows (the figures only read them), in each model's own ordering.
    payments = _grouped(
        Payment.objects.filter(order_id__in=fresh_ids, succeeded=True).values_list(
            *_PAYMENT_READ, named=True
        )
    )
    refunds = _grouped(
        Refund.objects.filter(order_id__in=fresh_ids).values_list(
            "order_id", "amount", "currency", "refunded_at", named=True
        )
    )
    costs = _grouped(
        OrderCost.objects.filter(order_id__in=fresh_ids).values_list(
            "order_id",
            "kind",
            "amount",
            "currency",
            "incurred_on",
            "order_line_id",
            named=True,
        )
    )
    line_model = apps.get_model("orders", "OrderLine")
    lines = _grouped(
        line_model.objects.filter(order_id__in=fresh_ids, is_removed=False)
        .order_by("order_id", "pk")
        .values_list(*_LINE_READ, named=True)
    )
    types = _customer_types(fresh)
    book = RateBook()
    figures = [
        _profit_figures(
            order=order,
            payments=payments.get(order.pk, []),
            refund_rows=refunds.get(order.pk, []),
            costs=costs.get(order.pk, []),
            lines=lines.get(order.pk, []),
            customer_type=types[order.pk],
            book=book,
        )
        for order in fresh
    ]
    rows = OrderProfit.objects.bulk_create(
        OrderProfit(order_id=order.pk, **f.values)
        for order, f in zip(fresh, figures, strict=True)
    )
    OrderProfitTag.objects.bulk_create(
        OrderProfitTag(profit=row, tag=t)
        for row, f in zip(rows, figures, strict=True)
        for t in sorted(f.tags)
    )
    OrderLineProfit.objects.bulk_create(
        line for row, f in zip(rows, figures, strict=True) for line in f.line_rows(row)
    )
    done.update({row.order_id: row for row in rows})
    return done


def _grouped(rows: Any) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.order_id, []).append(row)
    return grouped


def order_profits_refresh_stale(*, since: datetime.date) -> int:
    """Refresh profit rows converted without the rates of their day, placed since `since`.

    Run after new rates arrive; each order is refreshed in its own transaction so one
    failure does not undo the rest. Returns how many rows were refreshed.
    """
    oldest = since - datetime.timedelta(days=max_rate_age_days())
    ids = list(
        OrderProfit.objects.filter(placed_at__date__gte=oldest)
        .exclude(fx_status=FxStatus.EXACT)
        .values_list("order_id", flat=True)
    )
    for order_id in ids:
        with transaction.atomic(durable=True):
            order_profit_refresh(order_id=order_id)
    return len(ids)
