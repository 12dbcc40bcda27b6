"""Reads of logistics for screens, the API and other apps."""

from __future__ import annotations

from django.db.models import QuerySet

from logistics.choices import ShipmentStatus, TrackingStatus
from logistics.models import Shipment


def shipment_list() -> QuerySet[Shipment]:
    """Shipments with what list screens show loaded up front."""
    return Shipment.objects.select_related(
        "warehouse", "service__account", "chosen_quote", "order"
    ).order_by("-created_at", "-pk")


def shipments_for_order(*, order_id: int) -> list[Shipment]:
    """Every shipment of one order, voided ones included, oldest first."""
    return list(
        Shipment.objects.filter(order_id=order_id)
        .select_related("service__account", "warehouse")
        .order_by("pk")
    )


def shipment_exceptions_list() -> QuerySet[Shipment]:
    """Parcels ops must look at: carrier exceptions, failed attempts, returns."""
    return shipment_list().filter(
        status__in=[ShipmentStatus.EXCEPTION, ShipmentStatus.RETURNED]
    ) | shipment_list().filter(tracking_status=TrackingStatus.FAILED_ATTEMPT)
