"""The row locks of the connectors: the only module here that calls select_for_update."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from connectors.models import WebhookReceipt, WebhookReceiptStatus


def webhook_receipts_claim_lock(
    *, channel_id: int, now: datetime, limit: int
) -> list[int]:
    """Lock up to `limit` of a store's waiting receipts (oldest first); their ids.

    SKIP LOCKED: drains running side by side each take other rows, never wait. FOR NO
    KEY UPDATE: only status and lease columns change. A RECEIVED receipt whose lease
    is in the future waits for a retry and is not taken yet.
    """
    return list(
        WebhookReceipt.objects.filter(
            Q(leased_until__isnull=True) | Q(leased_until__lt=now),
            channel_id=channel_id,
            status=WebhookReceiptStatus.RECEIVED,
        )
        .order_by("pk")
        .select_for_update(skip_locked=True, no_key=True)
        .values_list("pk", flat=True)[:limit]
    )
