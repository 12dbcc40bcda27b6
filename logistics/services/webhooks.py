"""Carrier tracking webhooks: verify, store the raw delivery, apply it in a worker.

Intake answers in milliseconds: the credential is checked in constant time, the body
is validated and stored (rejected and malformed deliveries too, for ops to see), and
processing is queued after commit. The worker turns the delivery into the same
normalised scan as polling and stores it with the shipment's new status and the
delivery's outcome in one transaction.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from erp.core.text import Phrase
from logistics.carriers.base import TrackingResult
from logistics.carriers.push import PUSH_CARRIERS, PushPayloadError, PushScan
from logistics.choices import ShipmentStatus, WebhookDeliveryStatus
from logistics.exceptions import WebhookDeliveryStateError
from logistics.locks import shipment_lock
from logistics.models import CarrierAccount, CarrierWebhookDelivery, Shipment
from logistics.services.tracking import POLLED_STATUSES, tracking_events_apply

logger = logging.getLogger(__name__)

# Where the account keeps the secret the carrier sends back (UPS: the `credential`
# chosen in the Track Alert subscription); encrypted with the other credentials.
WEBHOOK_CREDENTIAL_KEY = "webhook_credential"
MAX_BODY_BYTES = 64 * 1024
KEPT_HEADERS = frozenset({"content-type", "user-agent", "content-length"})


@dataclass(frozen=True)
class WebhookIntake:
    """What the endpoint answers, and the delivery it recorded (None: unknown account)."""

    http_status: int
    message: str
    delivery: CarrierWebhookDelivery | None = None


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    # The credential itself is never stored.
    return {k.lower(): v for k, v in headers.items() if k.lower() in KEPT_HEADERS}


def credential_matches(*, expected: str, presented: str) -> bool:
    """Constant-time comparison; False when either side is empty."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(
        expected.encode("utf-8"), presented.encode("utf-8", "replace")
    )


def _record(
    *, account: CarrierAccount, body: str, headers: dict[str, str], **fields: Any
) -> CarrierWebhookDelivery:
    return CarrierWebhookDelivery.objects.create(
        account=account, carrier=account.carrier, body=body, headers=headers, **fields
    )


def carrier_webhook_receive(
    *, carrier: str, account_code: str, body: bytes, headers: Mapping[str, str]
) -> WebhookIntake:
    """Verify and store one push; processing is queued once the delivery is committed.

    Every delivery to a known account leaves a row: rejected (bad credential, 401),
    failed (not the carrier's documented shape, 400), duplicate (same body again, 200)
    or received (200, then processed by a worker).
    """
    spec = PUSH_CARRIERS.get(carrier)
    account = (
        CarrierAccount.objects.filter(code=account_code, carrier=carrier).first()
        if spec
        else None
    )
    if spec is None or account is None or not account.is_active:
        return WebhookIntake(
            404, Phrase(gettext_noop("No active carrier account takes these pushes."))
        )
    kept = _kept_headers(headers)
    text = body[:MAX_BODY_BYTES].decode("utf-8", "replace")
    presented = next(
        (v for k, v in headers.items() if k.lower() == spec.credential_header), ""
    )
    expected = str((account.credentials or {}).get(WEBHOOK_CREDENTIAL_KEY) or "")
    if not credential_matches(expected=expected, presented=presented):
        reason = (
            Phrase(
                gettext_noop(
                    "No %(key)s is configured on carrier account %(account)s."
                ),
                key=WEBHOOK_CREDENTIAL_KEY,
                account=account.code,
            )
            if not expected
            else Phrase(
                gettext_noop("The %(header)s header is missing or wrong."),
                header=spec.credential_header,
            )
        )
        delivery = _record(
            account=account,
            body=text,
            headers=kept,
            status=WebhookDeliveryStatus.REJECTED,
            error=reason,
        )
        return WebhookIntake(401, reason, delivery)
    try:
        if len(body) > MAX_BODY_BYTES:
            raise PushPayloadError(
                Phrase(
                    gettext_noop("The body is over %(max_body_bytes)s bytes."),
                    max_body_bytes=MAX_BODY_BYTES,
                )
            )
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise PushPayloadError(
                Phrase(gettext_noop("The body is not JSON (%(exc)s)."), exc=exc)
            ) from exc
        scan = spec.parse(payload)
    except PushPayloadError as exc:
        delivery = _record(
            account=account,
            body=text,
            headers=kept,
            status=WebhookDeliveryStatus.FAILED,
            error=exc.message,
        )
        return WebhookIntake(400, exc.message, delivery)
    digest = hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            delivery = _record(
                account=account,
                body=text,
                headers=kept,
                body_sha256=digest,
                tracking_number=scan.tracking_number,
            )
            transaction.on_commit(partial(_enqueue, delivery.pk), robust=True)
    except IntegrityError:
        first = CarrierWebhookDelivery.objects.filter(
            account=account, body_sha256=digest
        ).first()
        delivery = _record(
            account=account,
            body=text,
            headers=kept,
            status=WebhookDeliveryStatus.DUPLICATE,
            tracking_number=scan.tracking_number,
            error=Phrase(
                gettext_noop("Same body as delivery #%(pk)s."),
                pk=first.pk if first else "?",
            ),
        )
        return WebhookIntake(200, "duplicate", delivery)
    return WebhookIntake(200, "received", delivery)


def _enqueue(delivery_id: int) -> None:
    from logistics.tasks import carrier_webhook_process_task

    carrier_webhook_process_task.delay(delivery_id)


def _shipment_for(account_id: int, tracking_number: str) -> Shipment | None:
    return (
        Shipment.objects.filter(service__account_id=account_id)
        .filter(
            Q(tracking_number=tracking_number)
            | Q(packages__tracking_number=tracking_number)
        )
        .order_by("-pk")
        .first()
    )


def _finish(delivery_id: int, **fields: Any) -> None:
    CarrierWebhookDelivery.objects.filter(pk=delivery_id).update(
        processed_at=timezone.now(), updated_at=timezone.now(), **fields
    )


@transaction.atomic(durable=True)
def _scan_apply(*, delivery_id: int, shipment_id: int, scan: PushScan) -> None:
    """The scan, the shipment's status and the delivery's outcome: all or nothing.

    Locks: Shipment.
    """
    shipment = shipment_lock(shipment_id=shipment_id)
    assert shipment is not None
    if shipment.status not in POLLED_STATUSES:
        _finish(
            delivery_id,
            status=WebhookDeliveryStatus.PROCESSED,
            shipment_id=shipment.pk,
            error=Phrase(
                gettext_noop(
                    "Shipment S%(pk)s is %(status)s; the scan was not applied."
                ),
                pk=shipment.pk,
                status=ShipmentStatus(shipment.status).label,
            ),
        )
        return
    _changed, added = tracking_events_apply(
        shipment=shipment,
        result=TrackingResult(
            tracking_number=scan.tracking_number,
            status=scan.event.status,
            events=(scan.event,),
            estimated_delivery=scan.estimated_delivery,
        ),
        from_stored=True,
    )
    _finish(
        delivery_id,
        status=WebhookDeliveryStatus.PROCESSED,
        shipment_id=shipment.pk,
        events_recorded=added,
        error="",
    )


def carrier_webhook_process(*, delivery_id: int) -> CarrierWebhookDelivery | None:
    """Apply one stored push (worker); a delivery already taken is left alone.

    A delivery whose body no longer parses, or whose parcel is not ours, fails with
    the reason and changes nothing else.
    """
    claimed = CarrierWebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDeliveryStatus.RECEIVED
    ).update(status=WebhookDeliveryStatus.PROCESSING, updated_at=timezone.now())
    if not claimed:
        return CarrierWebhookDelivery.objects.filter(pk=delivery_id).first()
    delivery = CarrierWebhookDelivery.objects.select_related("account").get(
        pk=delivery_id
    )
    spec = PUSH_CARRIERS.get(delivery.carrier)
    try:
        if spec is None:
            raise PushPayloadError(
                Phrase(
                    gettext_noop("%(carrier)s pushes are not read here."),
                    carrier=delivery.carrier,
                )
            )
        scan = spec.parse(json.loads(delivery.body))
    except (PushPayloadError, ValueError) as exc:
        message = exc.message if isinstance(exc, PushPayloadError) else str(exc)
        _finish(delivery_id, status=WebhookDeliveryStatus.FAILED, error=message)
        return CarrierWebhookDelivery.objects.get(pk=delivery_id)
    shipment = _shipment_for(delivery.account_id, scan.tracking_number)
    if shipment is None:
        _finish(
            delivery_id,
            status=WebhookDeliveryStatus.FAILED,
            error=Phrase(
                gettext_noop(
                    "No shipment of carrier account %(account)s has tracking number "
                    "%(tracking)s."
                ),
                account=delivery.account.code,
                tracking=scan.tracking_number,
            ),
        )
        return CarrierWebhookDelivery.objects.get(pk=delivery_id)
    try:
        _scan_apply(delivery_id=delivery_id, shipment_id=shipment.pk, scan=scan)
    except Exception:
        # Put it back so a retry (or ops) can take it again; nothing was written.
        CarrierWebhookDelivery.objects.filter(pk=delivery_id).update(
            status=WebhookDeliveryStatus.RECEIVED
        )
        raise
    return CarrierWebhookDelivery.objects.get(pk=delivery_id)


# A delivery received or taken this long ago and still not done lost its worker.
STUCK_AFTER = datetime.timedelta(minutes=10)


@transaction.atomic
def carrier_webhook_retry(*, delivery_id: int) -> CarrierWebhookDelivery:
    """Queue a delivery again: a failed one (e.g. once its shipment has its tracking
    number), or one whose worker was lost (received or processing for 10 minutes).

    Raises: WebhookDeliveryStateError for rejected, duplicate, processed or busy ones.
    """
    stuck = Q(
        status__in=[WebhookDeliveryStatus.RECEIVED, WebhookDeliveryStatus.PROCESSING],
        updated_at__lt=timezone.now() - STUCK_AFTER,
    )
    updated = (
        CarrierWebhookDelivery.objects.filter(pk=delivery_id)
        .filter(Q(status=WebhookDeliveryStatus.FAILED) | stuck)
        .exclude(body_sha256=None)
        .update(
            status=WebhookDeliveryStatus.RECEIVED, error="", updated_at=timezone.now()
        )
    )
    delivery = CarrierWebhookDelivery.objects.filter(pk=delivery_id).first()
    if not updated or delivery is None:
        raise WebhookDeliveryStateError(
            Phrase(
                gettext_noop(
                    "Only a failed delivery that was accepted, or one stuck for 10 "
                    "minutes, can be processed again."
                )
            ),
            delivery_id=delivery_id,
        )
    transaction.on_commit(partial(_enqueue, delivery_id), robust=True)
    return delivery
