"""Logistics jobs run in the background and followed on a progress page (erp.core.jobs)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_noop

from erp.core.exceptions import ApplicationError
from erp.core.jobs import JobProgress, job_runner
from erp.core.models import Job
from erp.core.money import quantize
from erp.core.text import Phrase
from logistics.choices import ShipmentStatus
from logistics.models import Shipment
from logistics.services.labels import shipment_buy_label
from logistics.services.selection import shipment_select_service

LABELS_JOB = "logistics.labels"


def shipment_label_buy_best(*, shipment_id: int) -> Shipment:
    """Choose the service of a draft shipment if needed, then buy its label."""
    if Shipment.objects.filter(pk=shipment_id, status=ShipmentStatus.DRAFT).exists():
        shipment_select_service(shipment_id=shipment_id)
    return shipment_buy_label(shipment_id=shipment_id)


@job_runner(LABELS_JOB)
def shipments_buy_labels_job(job: Job, progress: JobProgress) -> None:
    """Labels for many shipments: each bought on its own, a line per shipment."""
    shipment_ids = [int(pk) for pk in job.params["shipment_ids"]]
    progress.total(len(shipment_ids))
    # A job taken over after its worker died skips the shipments it already listed.
    listed = set(job.items.values_list("label", flat=True))
    for shipment_id in shipment_ids:
        label = f"S{shipment_id}"
        if label in listed:
            continue
        url = reverse("admin:logistics_shipment_change", args=[shipment_id])
        try:
            shipment = shipment_label_buy_best(shipment_id=shipment_id)
        except ApplicationError as exc:
            progress.item(label=label, is_success=False, message=exc.message, url=url)
            continue
        progress.item(
            label=label,
            is_success=True,
            message=Phrase(
                gettext_noop(
                    "%(service)s, %(cost)s %(currency)s, tracking %(tracking)s"
                ),
                service=shipment.service.name if shipment.service else "—",
                cost=str(quantize(shipment.label_cost, shipment.label_currency))
                if shipment.label_cost is not None
                else "—",
                currency=shipment.label_currency,
                tracking=shipment.tracking_number or "—",
            ),
            url=url,
        )
