"""Background jobs of logistics: thin, id-only, each one service call."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from logistics.services.tracking import shipments_track_poll
from logistics.services.webhooks import carrier_webhook_process


@shared_task(acks_late=True)
def shipments_track_poll_task() -> dict[str, object]:
    """Poll carriers for every parcel on its way (beat, every 30 minutes)."""
    report = shipments_track_poll()
    return {
        "shipments": report.shipments,
        "updated": report.updated,
        "carrier_calls": report.carrier_calls,
        "errors": report.errors,
    }


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=5)
def carrier_webhook_process_task(delivery_id: int) -> str:
    """Apply one stored carrier tracking push (queued by the webhook endpoint)."""
    delivery = carrier_webhook_process(delivery_id=delivery_id)
    return delivery.status if delivery else "missing"
