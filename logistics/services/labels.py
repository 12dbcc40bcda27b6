"""Buying and voiding labels; the carrier is called with no lock held."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from erp.core.text import Phrase, sentences
from logistics.carriers.base import (
    CarrierError,
    ShipmentRequest,
    ShipmentResult,
    VoidRequest,
    VoidResult,
)
from logistics.carriers.registry import adapter_for
from logistics.choices import ShipmentStatus, TrackingStatus
from logistics.exceptions import ShipmentNotFoundError, ShipmentStateError
from logistics.locks import shipment_lock
from logistics.models import Package, Shipment
from logistics.services.selection import shipment_rate_request

LABEL_EXTENSIONS = {"PDF": "pdf", "ZPL": "zpl", "PNG": "png"}


def _get(shipment_id: int) -> Shipment:
    shipment = (
        Shipment.objects.select_related("service__account")
        .filter(pk=shipment_id)
        .first()
    )
    if shipment is None:
        raise ShipmentNotFoundError(
            gettext("That shipment does not exist."), shipment_id=shipment_id
        )
    return shipment


def _claim_for_buying(shipment_id: int) -> bool:
    # A conditional update is the claim: of two simultaneous purchases exactly one
    # moves the shipment from RATED to BUYING, so a label is never bought twice.
    return (
        Shipment.objects.filter(pk=shipment_id, status=ShipmentStatus.RATED).update(
            status=ShipmentStatus.BUYING, error="", updated_at=timezone.now()
        )
        == 1
    )


def shipment_buy_label(
    *, shipment_id: int, tracking_number: str = "", label_format: str = "PDF"
) -> Shipment:
    """Buy the label of the chosen service and store it (tracking number, file, cost).

    Rate-card shipments take the tracking number ops entered (or none yet).
    Raises: ShipmentStateError unless a service is chosen; CarrierError when the
    carrier refuses (the shipment goes back to "service chosen" with the error).
    """
    shipment = _get(shipment_id)
    if shipment.status != ShipmentStatus.RATED or shipment.service is None:
        raise ShipmentStateError(
            gettext(
                "Shipment S%(pk)s is %(status)s; a label can be bought once a service is chosen."
            )
            % {"pk": shipment.pk, "status": shipment.get_status_display().lower()},
            shipment_id=shipment_id,
            status=shipment.status,
        )
    if not _claim_for_buying(shipment_id):
        raise ShipmentStateError(
            gettext("Shipment S%(pk)s is already being labelled.")
            % {"pk": shipment.pk},
            shipment_id=shipment_id,
        )
    service = shipment.service
    try:
        adapter = adapter_for(service.account)
        result = adapter.create_shipment(
            ShipmentRequest(
                rate_request=shipment_rate_request(shipment),
                service_code=service.code,
                label_format=label_format,
                reference=shipment.reference or f"S{shipment.pk}",
                tracking_number=tracking_number.strip(),
            )
        )
    except CarrierError as exc:
        _purchase_failed(shipment_id=shipment_id, error=exc.message)
        raise
    return _label_record(shipment_id=shipment_id, result=result)


@transaction.atomic(durable=True)
def _purchase_failed(*, shipment_id: int, error: str) -> None:
    shipment = shipment_lock(shipment_id=shipment_id)
    if shipment is not None and shipment.status == ShipmentStatus.BUYING:
        shipment.status = ShipmentStatus.RATED
        shipment.text_set("error", error)
        shipment.save(update_fields=["status", "error", "phrases", "updated_at"])


@transaction.atomic(durable=True)
def _label_record(*, shipment_id: int, result: ShipmentResult) -> Shipment:
    shipment = shipment_lock(shipment_id=shipment_id)
    assert shipment is not None  # shipments are never deleted (PROTECT from orders)
    shipment.tracking_number = result.tracking_number
    shipment.carrier_shipment_id = result.carrier_shipment_id
    shipment.tracking_url = result.tracking_url
    if result.charge is not None:
        shipment.label_cost = result.charge.amount
        shipment.label_currency = result.charge.currency
    elif shipment.chosen_quote is not None:
        shipment.label_cost = shipment.chosen_quote.amount
        shipment.label_currency = shipment.chosen_quote.currency
    if result.label is not None:
        label_format = result.label.format.upper()
        shipment.label_format = label_format
        name = f"S{shipment.pk}-{result.tracking_number or 'label'}.{LABEL_EXTENSIONS.get(label_format, 'bin')}"
        shipment.label_file.save(name, ContentFile(result.label.content), save=False)
    shipment.status = ShipmentStatus.LABEL_PURCHASED
    shipment.tracking_status = TrackingStatus.PRE_TRANSIT
    shipment.label_purchased_at = timezone.now()
    shipment.text_set("error", "")
    shipment.save()
    packages = list(Package.objects.filter(shipment=shipment))
    numbers = list(result.package_tracking_numbers) or [result.tracking_number]
    for package, number in zip(packages, numbers, strict=False):
        package.tracking_number = number
    Package.objects.bulk_update(packages, ["tracking_number"])
    return shipment


def shipment_void(*, shipment_id: int, reason: str = "") -> Shipment:
    """Cancel an unshipped label at the carrier (or only here when it has no cancel call).

    Raises: ShipmentStateError once the parcel has shipped; CarrierError when the
    carrier refuses.
    """
    shipment = _get(shipment_id)
    if shipment.status != ShipmentStatus.LABEL_PURCHASED:
        raise ShipmentStateError(
            gettext(
                "Shipment S%(pk)s is %(status)s; only a bought label that has not shipped can be voided."
            )
            % {"pk": shipment.pk, "status": shipment.get_status_display().lower()},
            shipment_id=shipment_id,
            status=shipment.status,
        )
    assert shipment.service is not None
    result = adapter_for(shipment.service.account).void_shipment(
        VoidRequest(
            carrier_shipment_id=shipment.carrier_shipment_id
            or shipment.tracking_number,
            tracking_numbers=tuple(
                n
                for n in Package.objects.filter(shipment=shipment).values_list(
                    "tracking_number", flat=True
                )
                if n
            ),
        )
    )
    if not result.ok:
        raise CarrierError(
            Phrase(
                gettext_noop("%(name)s refused to void the label: %(message)s"),
                name=shipment.service.account.name,
                message=result.message,
            ),
            carrier=shipment.service.account.carrier,
        )
    return _void_record(shipment_id=shipment_id, result=result, reason=reason)


@transaction.atomic(durable=True)
def _void_record(*, shipment_id: int, result: VoidResult, reason: str) -> Shipment:
    shipment = shipment_lock(shipment_id=shipment_id)
    assert shipment is not None
    if shipment.status != ShipmentStatus.LABEL_PURCHASED:
        raise ShipmentStateError(
            gettext("Shipment S%(pk)s changed while it was being voided.")
            % {"pk": shipment.pk},
            shipment_id=shipment_id,
        )
    shipment.status = ShipmentStatus.VOIDED
    shipment.tracking_status = TrackingStatus.CANCELLED
    shipment.voided_at = timezone.now()
    note = (
        result.message
        if not result.supported
        else Phrase(gettext_noop("Voided at the carrier."))
    )
    shipment.text_set("error", sentences(note, reason))
    shipment.save(
        update_fields=[
            "status",
            "tracking_status",
            "voided_at",
            "error",
            "phrases",
            "updated_at",
        ]
    )
    return shipment
