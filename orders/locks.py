"""Row locks of the orders app; the only module here that calls select_for_update.

Global lock order (docs/locking.md): advisory order-upsert key -> orders.Order ->
orders.OrderLine -> logistics.Shipment -> finance.Payment -> inventory.Transfer ->
inventory.StockItem -> inventory.Allocation, pk ascending within a table; StockAlert
and OutboxMessage rows are written last.
"""

from __future__ import annotations

from collections.abc import Collection

from orders.models import Order


def order_lock(*, order_id: int) -> Order | None:
    """Lock one order (first lock in the global order); None if it does not exist.

    FOR NO KEY UPDATE: lines and events reference the order and must still insert.
    """
    return (
        Order.objects.select_for_update(of=("self",), no_key=True)
        .select_related("channel", "customer")
        .filter(pk=order_id)
        .first()
    )


def order_lock_by_external_id(*, channel_id: int, external_id: str) -> Order | None:
    """Lock the order a store knows as `external_id`, if we have it."""
    return (
        Order.objects.select_for_update(of=("self",), no_key=True)
        .select_related("channel", "customer")
        .filter(channel_id=channel_id, external_id=external_id)
        .first()
    )


def orders_lock(*, order_ids: Collection[int]) -> list[Order]:
    """Lock several orders in pk order (bulk actions, stock-arrival allocation)."""
    return list(
        Order.objects.select_for_update(of=("self",), no_key=True)
        .select_related("channel", "customer")
        .filter(pk__in=list(order_ids))
        .order_by("pk")
    )
