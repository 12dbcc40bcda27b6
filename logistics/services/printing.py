"""Batch printing: one PDF with the labels of the selected shipments, then per
warehouse a pick list and the packing slips."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext

from logistics.carriers.base import Address
from logistics.choices import ShipmentStatus
from logistics.documents import (
    PackingSlip,
    SlipLine,
    image_label_pdf,
    merge_pdfs,
    packing_slips_pdf,
    pdf_page_count,
    pick_list_pdf,
)
from logistics.exceptions import ShipmentStateError
from logistics.models import Shipment

PRINTABLE = frozenset(
    {
        ShipmentStatus.LABEL_PURCHASED,
        ShipmentStatus.SHIPPED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.EXCEPTION,
    }
)


@dataclass(frozen=True)
class BatchPrint:
    """The merged document and what went into it."""

    pdf: bytes
    pages: int
    labels: int
    warehouses: tuple[str, ...]
    skipped: tuple[str, ...] = field(default=())


def _label_pdf(shipment: Shipment) -> bytes | None:
    if not shipment.label_file:
        return None
    with shipment.label_file.open("rb") as handle:
        content = handle.read()
    if shipment.label_format == "PDF":
        return content
    if shipment.label_format == "PNG":
        return image_label_pdf(content)
    return None  # ZPL goes to a thermal printer as it is, never into a PDF


def _slip(shipment: Shipment) -> PackingSlip:
    return PackingSlip(
        shipment_id=shipment.pk,
        reference=shipment.reference or f"S{shipment.pk}",
        ship_to=Address.from_dict(shipment.ship_to),
        tracking_number=shipment.tracking_number,
        service_name=shipment.service.name if shipment.service else "",
        lines=tuple(
            SlipLine(i.sku, i.title, i.quantity, i.barcode)
            for i in shipment.items.all()
        ),
    )


def shipments_print_batch(
    *,
    shipment_ids: Sequence[int],
    labels: bool = True,
    packing_slips: bool = True,
    pick_lists: bool = True,
) -> BatchPrint:
    """Labels first (the order given), then each warehouse's pick list and slips.

    Raises: ShipmentStateError when none of the shipments has a label.
    """
    shipments = list(
        Shipment.objects.filter(pk__in=list(shipment_ids))
        .select_related("warehouse", "service")
        .prefetch_related("items")
    )
    order = {pk: n for n, pk in enumerate(shipment_ids)}
    shipments.sort(key=lambda s: order.get(s.pk, 0))
    skipped = [
        f"S{s.pk}: {s.get_status_display().lower()}, no label to print"
        for s in shipments
        if s.status not in PRINTABLE
    ]
    printable = [s for s in shipments if s.status in PRINTABLE]
    if not printable:
        raise ShipmentStateError(
            gettext("None of the selected shipments has a label to print."),
            skipped=skipped,
        )
    documents: list[bytes] = []
    label_count = 0
    if labels:
        for shipment in printable:
            label = _label_pdf(shipment)
            if label is None:
                skipped.append(
                    f"S{shipment.pk}: {shipment.label_format or 'no'} label, not PDF-printable"
                )
                continue
            documents.append(label)
            label_count += 1
    by_warehouse: dict[str, list[Shipment]] = {}
    for shipment in printable:
        by_warehouse.setdefault(shipment.warehouse.code, []).append(shipment)
    for code, group in sorted(by_warehouse.items()):
        if pick_lists:
            totals: dict[tuple[str, str], SlipLine] = {}
            for shipment in group:
                for item in shipment.items.all():
                    key = (item.sku, item.barcode)
                    seen = totals.get(key)
                    totals[key] = SlipLine(
                        item.sku,
                        item.title,
                        item.quantity + (seen.quantity if seen else 0),
                        item.barcode,
                    )
            documents.append(
                pick_list_pdf(
                    warehouse=code,
                    lines=sorted(totals.values(), key=lambda x: x.sku),
                    shipment_count=len(group),
                )
            )
        if packing_slips:
            documents.append(packing_slips_pdf(_slip(s) for s in group))
    pdf = merge_pdfs(documents)
    return BatchPrint(
        pdf=pdf,
        pages=pdf_page_count(pdf),
        labels=label_count,
        warehouses=tuple(sorted(by_warehouse)),
        skipped=tuple(skipped),
    )
