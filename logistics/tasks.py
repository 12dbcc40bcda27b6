"""Background jobs of logistics: thin, id-only, each one service call."""

from __future__ import annotations

from celery import shared_task

from logistics.services.tracking import shipments_track_poll


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
