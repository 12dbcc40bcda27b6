"""Shipments from what orders hands over: drafts, tracking numbers, shipped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from erp.core.money import Money
from erp.core.outbox import outbox_enqueue
from logistics.carriers.base import Address, Customs, Parcel
from logistics.choices import ShipmentStatus, TrackingStatus
from logistics.exceptions import ShipmentNotFoundError, ShipmentStateError
from logistics.locks import shipment_lock
from logistics.models import CustomsItem, Package, Shipment, ShipmentItem
from logistics.services.tracking import (
    MOVING_STATUSES,
    TRACKING_UPDATED_TOPIC,
    tracking_payload,
)
from logistics.spreadsheets import FIRST_DATA_ROW, dataset_load


@dataclass(frozen=True)
class ShipmentItemInput:
    """One SKU line packed in the shipment."""

    sku: str
    title: str
    quantity: int
    barcode: str = ""
    unit_weight_grams: int = 0
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0


@dataclass(frozen=True)
class ShipmentDraftInput:
    """Everything logistics needs to ship one warehouse's part of an order."""

    order_id: int
    warehouse_id: int
    ship_from: Address
    ship_to: Address
    parcels: tuple[Parcel, ...]
    items: tuple[ShipmentItemInput, ...]
    order_value: Money
    currency: str
    reference: str = ""
    customs: Customs | None = None
    allocation_ids: tuple[int, ...] = ()
    channel_id: int | None = None
    sku_tags: tuple[str, ...] = ()
    promise_days: int | None = None
    # Packaging added to each parcel when the goods must be split into several.
    packaging_grams: int = 0


@transaction.atomic
def shipment_create_draft(*, data: ShipmentDraftInput) -> Shipment:
    """Record a draft shipment with its parcels, items and customs lines."""
    shipment = Shipment.objects.create(
        order_id=data.order_id,
        warehouse_id=data.warehouse_id,
        ship_from=data.ship_from.as_dict(),
        ship_to=data.ship_to.as_dict(),
        order_value=data.order_value.amount,
        currency=data.currency.upper(),
        channel_id_snapshot=data.channel_id,
        sku_tags=list(data.sku_tags),
        promise_days=data.promise_days,
        packaging_grams=data.packaging_grams,
        incoterm=data.customs.incoterm if data.customs else "DAP",
        allocation_ids=sorted(data.allocation_ids),
        reference=data.reference,
    )
    Package.objects.bulk_create(
        Package(
            shipment=shipment,
            weight_grams=p.weight_grams,
            length_mm=p.length_mm,
            width_mm=p.width_mm,
            height_mm=p.height_mm,
            reference=p.reference,
        )
        for p in data.parcels
    )
    ShipmentItem.objects.bulk_create(
        ShipmentItem(
            shipment=shipment,
            sku=i.sku,
            title=i.title,
            quantity=i.quantity,
            barcode=i.barcode,
            unit_weight_grams=i.unit_weight_grams,
            length_mm=i.length_mm,
            width_mm=i.width_mm,
            height_mm=i.height_mm,
        )
        for i in data.items
    )
    if data.customs is not None:
        CustomsItem.objects.bulk_create(
            CustomsItem(
                shipment=shipment,
                sku=line.sku,
                description=line.description,
                hs_code=line.hs_code,
                origin_country=line.origin_country,
                quantity=line.quantity,
                unit_value=line.unit_value.amount,
                currency=line.unit_value.currency,
                unit_weight_grams=line.unit_weight_grams,
            )
            for line in data.customs.lines
        )
    return shipment


def _locked(shipment_id: int) -> Shipment:
    shipment = shipment_lock(shipment_id=shipment_id)
    if shipment is None:
        raise ShipmentNotFoundError(
            gettext("That shipment does not exist."), shipment_id=shipment_id
        )
    return shipment


@transaction.atomic
def shipments_mark_shipped(*, shipment_ids: Sequence[int]) -> list[Shipment]:
    """Hand labelled shipments over to the carrier's care (stock leaves with them).

    The caller (orders) holds the order lock; shipments are locked here, pk order.
    Already shipped ones are left as they are, so a retry is harmless.
    Raises: ShipmentStateError when one has no label yet or was voided.
    """
    shipped = []
    for shipment_id in sorted(shipment_ids):
        shipment = _locked(shipment_id)
        if shipment.status == ShipmentStatus.LABEL_PURCHASED:
            shipment.status = ShipmentStatus.SHIPPED
            shipment.shipped_at = timezone.now()
            shipment.save(update_fields=["status", "shipped_at", "updated_at"])
        elif shipment.status not in (
            ShipmentStatus.SHIPPED,
            ShipmentStatus.IN_TRANSIT,
            ShipmentStatus.DELIVERED,
        ):
            raise ShipmentStateError(
                gettext(
                    "Shipment S%(pk)s is %(status)s; only a shipment with a label can ship."
                )
                % {"pk": shipment.pk, "status": shipment.get_status_display().lower()},
                shipment_id=shipment.pk,
                status=shipment.status,
            )
        shipped.append(shipment)
    return shipped


def _tracking_number_apply(shipment: Shipment, tracking_number: str) -> Shipment:
    """Record ops' number on a locked rate-card shipment; announce it if it is moving."""
    if shipment.status in (ShipmentStatus.VOIDED, ShipmentStatus.DRAFT):
        raise ShipmentStateError(
            gettext("Shipment S%(pk)s is %(status)s.")
            % {"pk": shipment.pk, "status": shipment.get_status_display().lower()},
            shipment_id=shipment.pk,
        )
    account = shipment.carrier_account
    if account is None or account.carrier != "rate_card":
        raise ShipmentStateError(
            gettext(
                "Only rate-card shipments take a tracking number by hand; API carriers give theirs with the label."
            ),
            shipment_id=shipment.pk,
        )
    shipment.tracking_number = tracking_number.strip()
    if account.tracking_url_template:
        shipment.tracking_url = account.tracking_url_template.replace(
            "{tracking_number}", shipment.tracking_number
        )
    if not shipment.tracking_status:
        shipment.tracking_status = TrackingStatus.PRE_TRANSIT
    shipment.save(
        update_fields=[
            "tracking_number",
            "tracking_url",
            "tracking_status",
            "updated_at",
        ]
    )
    if shipment.status in MOVING_STATUSES:
        # Already on its way: the store learns the number it did not have.
        outbox_enqueue(
            topic=TRACKING_UPDATED_TOPIC,
            key=str(shipment.pk),
            payload=tracking_payload(shipment),
        )
    return shipment


@transaction.atomic(durable=True)
def shipment_tracking_number_set(*, shipment_id: int, tracking_number: str) -> Shipment:
    """Record the tracking number ops entered for a rate-card (no API) shipment.

    Raises: ShipmentStateError for API carriers (their number comes with the label),
    drafts and voided shipments.
    """
    return _tracking_number_apply(_locked(shipment_id), tracking_number)


@dataclass(frozen=True)
class TrackingNumberRowError:
    row: int
    message: str


TRACKING_NUMBER_COLUMNS = ("shipment_id", "tracking_number")


@transaction.atomic(durable=True)
def shipment_tracking_numbers_import(
    *, content: bytes, file_format: str
) -> list[TrackingNumberRowError]:
    """Numbers from a line's manifest (CSV/XLSX: shipment_id, tracking_number); all or none.

    Returns the bad rows (the header is row 1); any bad row writes nothing.
    Locks: the shipments, pk order. Raises: ImportFileError for a bad file.
    """
    dataset = dataset_load(
        content=content,
        file_format=file_format,
        required=TRACKING_NUMBER_COLUMNS,
        allowed=TRACKING_NUMBER_COLUMNS,
    )
    errors: list[TrackingNumberRowError] = []
    rows: list[tuple[int, int, str]] = []
    for index, values in enumerate(dataset, start=FIRST_DATA_ROW):
        row = dict(zip(dataset.headers, values, strict=False))
        raw_id = str(row.get("shipment_id") or "").strip().removeprefix("S")
        number = str(row.get("tracking_number") or "").strip()
        if not raw_id and not number:
            continue
        try:
            shipment_id = int(float(raw_id))
        except ValueError:
            errors.append(
                TrackingNumberRowError(
                    index,
                    gettext("%(value)r is not a shipment id.") % {"value": raw_id},
                )
            )
            continue
        if not number:
            errors.append(
                TrackingNumberRowError(index, gettext("tracking_number is empty."))
            )
            continue
        rows.append((shipment_id, index, number))
    for shipment_id, index, number in sorted(rows):
        try:
            with transaction.atomic():
                _tracking_number_apply(_locked(shipment_id), number)
        except (ShipmentStateError, ShipmentNotFoundError) as exc:
            errors.append(TrackingNumberRowError(index, exc.message))
    if errors:
        transaction.set_rollback(True)
    return sorted(errors, key=lambda e: e.row)
