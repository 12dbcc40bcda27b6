"""Row locks of logistics; the only module here that calls select_for_update.

Global lock order (docs: orders/locks.py): orders.Order -> orders.OrderLine ->
logistics.Shipment -> finance.Payment -> inventory.StockItem -> inventory.Allocation,
pk ascending within a table. Carrier calls never happen while one of these is held.
"""

from __future__ import annotations

from collections.abc import Collection

from logistics.models import Shipment


def shipment_lock(*, shipment_id: int) -> Shipment | None:
    """Lock one shipment; None if it does not exist.

    FOR NO KEY UPDATE: quotes, packages and events reference it and must still insert.
    """
    return (
        Shipment.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk=shipment_id)
        .first()
    )


def shipments_lock(*, shipment_ids: Collection[int]) -> list[Shipment]:
    """Lock several shipments in pk order."""
    return list(
        Shipment.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in=list(shipment_ids))
        .order_by("pk")
    )
