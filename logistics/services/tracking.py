"""Tracking: poll carriers in batches, store normalised scans, tell orders via the outbox."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from erp.core.outbox import outbox_enqueue
from erp.core.text import Phrase
from logistics.carriers.base import Capability, CarrierError, TrackingResult
from logistics.carriers.registry import adapter_for
from logistics.choices import (
    FINAL_TRACKING_STATUSES,
    ShipmentStatus,
    TrackingStatus,
)
from logistics.locks import shipment_lock
from logistics.models import CarrierAccount, Shipment, TrackingEvent

logger = logging.getLogger(__name__)

TRACKING_UPDATED_TOPIC = "logistics.tracking_updated"
# FedEx documents 30 numbers per tracking call; the others take one each and karrio
# fans out, so 30 keeps every carrier's request small.
TRACK_BATCH_SIZE = 30

# Shipments that left us and have not reached an end; a bought label that was never
# handed over is tracked too, so ops see a parcel the carrier scanned.
POLLED_STATUSES = (
    ShipmentStatus.LABEL_PURCHASED,
    ShipmentStatus.SHIPPED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.EXCEPTION,
)
# Only shipments that orders confirmed follow the parcel's status.
MOVING_STATUSES = frozenset(
    {ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION}
)


def shipment_status_for(tracking_status: str, current: str) -> str:
    """The shipment status a parcel's tracking status implies."""
    if current not in MOVING_STATUSES:
        return current
    if tracking_status == TrackingStatus.DELIVERED:
        return ShipmentStatus.DELIVERED
    if tracking_status == TrackingStatus.RETURNED:
        return ShipmentStatus.RETURNED
    if tracking_status in (TrackingStatus.EXCEPTION, TrackingStatus.FAILED_ATTEMPT):
        return ShipmentStatus.EXCEPTION
    if tracking_status in (TrackingStatus.PRE_TRANSIT, TrackingStatus.UNKNOWN, ""):
        return current
    return ShipmentStatus.IN_TRANSIT


def tracking_payload(shipment: Shipment) -> dict[str, Any]:
    """What orders and the stores learn about a parcel (topic logistics.tracking_updated)."""
    account = shipment.carrier_account
    return {
        "shipment_id": shipment.pk,
        "order_id": shipment.order_id,
        "status": shipment.tracking_status,
        "shipment_status": shipment.status,
        "tracking_number": shipment.tracking_number,
        "carrier": account.carrier if account else "",
        "carrier_name": account.name if account else "",
        "tracking_url": shipment.tracking_url,
        "delivered_at": shipment.delivered_at.isoformat()
        if shipment.delivered_at
        else None,
    }


def tracking_events_apply(
    *, shipment: Shipment, result: TrackingResult, from_stored: bool = False
) -> tuple[bool, int]:
    """Store new scans and the status of a shipment the caller holds locked.

    A poll answers with every scan, so its status is the parcel's; a push brings one
    scan that may arrive late, so with `from_stored` the status is that of the newest
    scan stored. A change is announced on the outbox in the caller's transaction.
    Returns (status changed, scans newly stored).
    """
    before = TrackingEvent.objects.filter(shipment=shipment).count()
    TrackingEvent.objects.bulk_create(
        [
            TrackingEvent(
                shipment=shipment,
                occurred_at=e.occurred_at,
                status=e.status,
                carrier_code=e.carrier_code[:50],
                description=e.description[:500],
                location=e.location[:255],
                raw=e.raw,
            )
            for e in result.events
        ],
        # Each poll sees the earlier scans again; the unique constraint keeps one.
        ignore_conflicts=True,
    )
    added = TrackingEvent.objects.filter(shipment=shipment).count() - before
    status = result.status
    if from_stored:
        newest = (
            TrackingEvent.objects.filter(shipment=shipment)
            .order_by("-occurred_at", "-pk")
            .values_list("status", flat=True)
            .first()
        )
        status = newest or result.status
    previous = (shipment.tracking_status, shipment.status)
    shipment.tracking_status = status
    shipment.status = shipment_status_for(status, shipment.status)
    if status == TrackingStatus.DELIVERED and shipment.delivered_at is None:
        delivered = (
            TrackingEvent.objects.filter(
                shipment=shipment, status=TrackingStatus.DELIVERED
            )
            .order_by("-occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
        shipment.delivered_at = delivered or timezone.now()
    if result.tracking_url and not shipment.tracking_url:
        shipment.tracking_url = result.tracking_url
    shipment.last_tracked_at = timezone.now()
    shipment.save(
        update_fields=[
            "tracking_status",
            "status",
            "delivered_at",
            "tracking_url",
            "last_tracked_at",
            "updated_at",
        ]
    )
    changed = previous != (shipment.tracking_status, shipment.status)
    if changed:
        outbox_enqueue(
            topic=TRACKING_UPDATED_TOPIC,
            key=str(shipment.pk),
            payload=tracking_payload(shipment),
        )
    return changed, added


@transaction.atomic(durable=True)
def tracking_result_record(*, shipment_id: int, result: TrackingResult) -> bool:
    """Store a poll's new scans and the status; returns whether the status changed.

    A change is announced on the outbox in the same transaction.
    """
    shipment = shipment_lock(shipment_id=shipment_id)
    if shipment is None or shipment.status not in POLLED_STATUSES:
        return False
    changed, _added = tracking_events_apply(shipment=shipment, result=result)
    return changed


@dataclass
class TrackingPollReport:
    """What one polling round did."""

    shipments: int = 0
    updated: int = 0
    carrier_calls: int = 0
    errors: list[str] = field(default_factory=list)


def _account_error(account: CarrierAccount, exc: CarrierError) -> Phrase:
    return Phrase(
        gettext_noop("%(account)s: %(error)s"), account=account.name, error=exc.message
    )


def _chunks(items: Sequence[Shipment], size: int) -> Iterator[Sequence[Shipment]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def shipments_due_for_tracking(
    *, now: datetime.datetime, min_interval: datetime.timedelta, limit: int
) -> list[Shipment]:
    """Trackable shipments not asked about within `min_interval`, oldest asked first."""
    return list(
        Shipment.objects.filter(status__in=POLLED_STATUSES)
        .exclude(tracking_number="")
        .exclude(tracking_status__in=FINAL_TRACKING_STATUSES)
        .filter(
            Q(last_tracked_at__isnull=True) | Q(last_tracked_at__lt=now - min_interval)
        )
        .select_related("service__account")
        .order_by("last_tracked_at", "pk")[:limit]
    )


def shipments_track_poll(
    *, limit: int = 1000, min_interval_minutes: int = 60
) -> TrackingPollReport:
    """Ask each carrier about its parcels in batches; each parcel is saved on its own.

    Carriers are called with no lock held. A carrier that fails is reported and
    its parcels are asked again next round.
    """
    now = timezone.now()
    due = shipments_due_for_tracking(
        now=now,
        min_interval=datetime.timedelta(minutes=min_interval_minutes),
        limit=limit,
    )
    report = TrackingPollReport(shipments=len(due))
    by_account: dict[int, list[Shipment]] = {}
    accounts: dict[int, CarrierAccount] = {}
    for shipment in due:
        if shipment.service is None:
            continue
        accounts[shipment.service.account_id] = shipment.service.account
        by_account.setdefault(shipment.service.account_id, []).append(shipment)
    for account_id, shipments in by_account.items():
        account = accounts[account_id]
        try:
            adapter = adapter_for(account)
        except CarrierError as exc:
            report.errors.append(_account_error(account, exc))
            continue
        if Capability.TRACK not in adapter.capabilities:
            continue
        for batch in _chunks(shipments, TRACK_BATCH_SIZE):
            report.carrier_calls += 1
            try:
                results = adapter.track([s.tracking_number for s in batch])
            except CarrierError as exc:
                logger.warning(
                    "logistics.tracking.carrier_failed",
                    extra={"account_id": account_id, "error": exc.message},
                )
                report.errors.append(_account_error(account, exc))
                continue
            by_number = {s.tracking_number: s for s in batch}
            for result in results:
                shipment = by_number.get(result.tracking_number)
                if shipment is None:
                    continue
                if tracking_result_record(shipment_id=shipment.pk, result=result):
                    report.updated += 1
            # Parcels the carrier does not know yet wait a full interval too.
            answered = {r.tracking_number for r in results}
            Shipment.objects.filter(
                pk__in=[s.pk for s in batch if s.tracking_number not in answered]
            ).update(last_tracked_at=now)
    return report
