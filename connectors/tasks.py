"""Background jobs of the connectors: thin, id-only, idempotent."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from connectors.exceptions import ConnectorTransientError
from connectors.services import (
    channels_webhooks_ensure,
    webhook_receipt_process,
    webhook_receipts_drain,
    webhook_receipts_requeue,
)
from connectors.sync import channel_sync, channels_due_for_sync


@shared_task(
    acks_late=True,
    autoretry_for=(ConnectorTransientError, OperationalError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    ignore_result=True,
)
def webhook_receipt_process_task(receipt_id: int) -> None:
    """Process one stored webhook delivery."""
    webhook_receipt_process(receipt_id=receipt_id)


@shared_task(acks_late=True, ignore_result=True)
def webhook_receipts_drain_task(channel_id: int) -> int:
    """Process a store's waiting deliveries until none is left (woken by the intake)."""
    return webhook_receipts_drain(channel_id=channel_id)


@shared_task(ignore_result=True)
def webhook_receipts_requeue_task() -> int:
    """Beat: schedule receipts whose task was lost or whose worker died."""
    return webhook_receipts_requeue()


@shared_task(acks_late=True, ignore_result=True)
def channel_sync_task(channel_id: int) -> None:
    """Poll one store for orders changed since its cursor."""
    channel_sync(channel_id=channel_id)


@shared_task(ignore_result=True)
def channels_sync_due_task() -> int:
    """Beat: start the poll of every store whose poll interval has passed."""
    due = channels_due_for_sync()
    for channel_id in due:
        channel_sync_task.delay(channel_id)
    return len(due)


@shared_task(ignore_result=True)
def channels_webhooks_ensure_task() -> None:
    """Beat (daily): re-create webhook subscriptions a store removed."""
    channels_webhooks_ensure()
