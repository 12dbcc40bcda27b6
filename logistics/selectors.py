"""Reads of logistics for screens, the API and other apps."""

from __future__ import annotations

from django.db.models import QuerySet

from logistics.choices import Incoterm, ShipmentStatus, TrackingStatus
from logistics.models import DeliveryPromise, IncotermRule, Shipment


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


def _destination_rank(codes: list[str], country: str, region: str) -> int | None:
    """2 when a region matches, 1 a country, 0 "anywhere"; None when nothing matches."""
    wanted = {str(c).upper() for c in codes}
    if not wanted:
        return 0
    if region and f"{country}-{region}" in wanted:
        return 2
    if country in wanted:
        return 1
    return None


def delivery_promise_for(
    *, channel_id: int | None, country: str, region: str = ""
) -> DeliveryPromise | None:
    """The store's promise for this destination: the most specific, then the strictest."""
    if channel_id is None:
        return None
    country, region = country.upper(), region.upper()
    best: tuple[int, int, int] | None = None
    chosen = None
    for promise in DeliveryPromise.objects.filter(
        channel_id=channel_id, is_active=True
    ).select_related("channel"):
        rank = _destination_rank(promise.destinations, country, region)
        if rank is None:
            continue
        key = (-rank, promise.carrier_days, promise.pk)
        if best is None or key < best:
            best, chosen = key, promise
    return chosen


def incoterm_for(*, channel_id: int | None, country: str, region: str = "") -> str:
    """DDP or DAP for a cross-border parcel of this store: the first matching rule, else DAP."""
    country, region = country.upper(), region.upper()
    for rule in IncotermRule.objects.filter(is_active=True).prefetch_related(
        "channels"
    ):
        if _destination_rank(rule.destinations, country, region) is None:
            continue
        channel_ids = {c.pk for c in rule.channels.all()}
        if channel_ids and channel_id not in channel_ids:
            continue
        return rule.incoterm
    return Incoterm.DAP
