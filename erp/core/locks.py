"""Row locks of erp.core; the only module here that calls select_for_update.

Global lock order (docs/locking.md):
orders.Order -> orders.OrderLine -> logistics.Shipment -> finance.Payment
-> inventory.Transfer -> inventory.StockItem -> inventory.Allocation, pk ascending
in each table; inventory.StockAlert (by product, warehouse) and core.OutboxMessage
(by topic, key) are written last. The outbox drain locks OutboxMessage rows alone.
"""

from __future__ import annotations

from datetime import datetime

from erp.core.models import OutboxMessage


def outbox_messages_claim_lock(*, now: datetime, limit: int) -> list[OutboxMessage]:
    """Lock up to `limit` due messages, skipping rows another worker is claiming.

    FOR NO KEY UPDATE: only status and lease columns change. SKIP LOCKED lets several
    drainers work side by side without waiting for each other.
    """
    return list(
        OutboxMessage.objects.due(now=now)
        .order_by("available_at", "pk")
        .select_for_update(skip_locked=True, no_key=True)[:limit]
    )


def outbox_message_lock(*, message_id: int) -> OutboxMessage | None:
    """Lock one message to record a delivery outcome (None if it was deleted)."""
    return (
        OutboxMessage.objects.select_for_update(no_key=True)
        .filter(pk=message_id)
        .first()
    )
