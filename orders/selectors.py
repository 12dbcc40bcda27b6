"""Reads of the orders app for ops screens, the API and the dashboard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from inventory.models import Allocation
from orders.choices import OrderStatus
from orders.filters import OrderFilterSet
from orders.models import Order, OrderEvent, OrderLine

# Statuses where an order waits on somebody in ops.
WAITING_STATUSES = (
    OrderStatus.ON_HOLD,
    OrderStatus.AWAITING_REVIEW,
    OrderStatus.AWAITING_STOCK,
    OrderStatus.ALLOCATED,
)


def order_list_for_ops(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Order]:
    """Orders for list screens, with what the list renders loaded up front."""
    qs = (
        Order.objects.select_related("channel", "customer")
        .annotate(line_count=Count("lines"))
        .order_by("-placed_at", "-pk")
    )
    return OrderFilterSet(filters or {}, qs).qs


def order_get_for_ops(*, order_id: int) -> Order | None:
    """One order with lines, their allocations and the event timeline."""
    return (
        Order.objects.select_related("channel", "customer")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("product").prefetch_related(
                    Prefetch(
                        "allocations",
                        queryset=Allocation.objects.select_related(
                            "stock_item__warehouse", "stock_item__batch"
                        ),
                    )
                ),
            ),
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
        )
        .filter(pk=order_id)
        .first()
    )


@dataclass(frozen=True)
class OrderDashboard:
    """What the start page shows about orders."""

    counts_by_status: dict[str, int]
    held_by_reason: dict[str, int]
    oldest_waiting: list[Order]


def order_dashboard(*, oldest: int = 10) -> OrderDashboard:
    """Counts by status and hold reason, and the orders waiting longest."""
    counts = dict(
        Order.objects.values_list("status").annotate(n=Count("pk")).order_by()
    )
    held: dict[str, int] = {}
    for reasons in Order.objects.filter(status=OrderStatus.ON_HOLD).values_list(
        "hold_reasons", flat=True
    ):
        for reason in reasons:
            held[reason["code"]] = held.get(reason["code"], 0) + 1
    waiting = list(
        Order.objects.filter(status__in=WAITING_STATUSES)
        .select_related("channel")
        .order_by("placed_at", "pk")[:oldest]
    )
    return OrderDashboard(
        counts_by_status=counts, held_by_reason=held, oldest_waiting=waiting
    )
