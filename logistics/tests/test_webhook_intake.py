"""Bad, foreign and repeated UPS pushes: refused or failed with the reason, recorded.

Same endpoint as test_webhooks.py, called through Django's test client so these cases
run inside one transaction each (the real-HTTP tests need a flushed database).
"""

import json

import pytest

from logistics.choices import WebhookDeliveryStatus
from logistics.models import CarrierWebhookDelivery, Shipment, TrackingEvent
from logistics.services.webhooks import carrier_webhook_retry
from logistics.tasks import carrier_webhook_process_task
from logistics.tests.fakecarrier import fixture_bytes
from logistics.tests.test_webhooks import CREDENTIAL, OURS, SAMPLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(client, ups):
    """post(body, credential=...) -> (HTTP status, JSON answer) from the endpoint."""

    def send(body: bytes, *, credential: str | None = CREDENTIAL, account=None):
        extra = {"HTTP_CREDENTIAL": credential} if credential is not None else {}
        response = client.post(
            f"/api/v1/logistics/webhooks/ups/{account or ups.code}/",
            data=body,
            content_type="application/json",
            HTTP_USER_AGENT="UPSPubSubTrackingService",
            **extra,
        )
        return response.status_code, response.json()

    return send


@pytest.mark.parametrize(
    ("body", "credential", "status", "stored", "error_bit"),
    [
        (SAMPLES["origin"], "wrong-credential", 401, "rejected", "missing or wrong"),
        (SAMPLES["origin"], None, 401, "rejected", "credential header"),
        (b"{not json", CREDENTIAL, 400, "failed", "not JSON"),
        (b'{"activityStatus": {"type": "I"}}', CREDENTIAL, 400, "failed", "1Z number"),
        (
            b'{"trackingNumber": "1ZABCXYZ0112346789", "activityStatus": {"type": "I"},'
            b' "localActivityDate": "2024-04-22", "localActivityTime": "091230"}',
            CREDENTIAL,
            400,
            "failed",
            "localActivityDate '2024-04-22' is not a YYYYMMDD date",
        ),
    ],
)
def test_bad_pushes_are_refused_recorded_and_change_nothing(
    shipped, post, enqueued, body, credential, status, stored, error_bit
):
    # given
    shipment = shipped()
    raw = fixture_bytes(body) if isinstance(body, str) else body

    # when
    answer_status, answer = post(raw, credential=credential)

    # then
    assert answer_status == status
    assert error_bit in answer["error"]
    delivery = CarrierWebhookDelivery.objects.get(pk=answer["delivery"])
    assert (delivery.status, delivery.body) == (stored, raw.decode())
    assert error_bit in delivery.error
    assert enqueued == []
    assert not TrackingEvent.objects.filter(shipment=shipment).exists()


def test_account_without_a_configured_credential_rejects_everything(api_account, post):
    # given: a second UPS account whose webhook credential was never set
    account, _fake = api_account("ups", code="ups-no-cred")

    # when
    status, answer = post(fixture_bytes(SAMPLES["origin"]), account=account.code)

    # then
    assert status == 401
    assert "No webhook_credential is configured" in answer["error"]


def test_push_for_a_parcel_that_is_not_ours_fails_with_the_reason_and_can_retry(
    shipped, post, enqueued
):
    # given: the pushed number belongs to no shipment yet
    shipment = shipped("1ZZZZZZZZZZZZZZZZZ")
    status, answer = post(fixture_bytes(SAMPLES["origin"]))

    # when
    carrier_webhook_process_task(answer["delivery"])

    # then
    delivery = CarrierWebhookDelivery.objects.get(pk=answer["delivery"])
    assert status == 200
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert delivery.error == (
        f"No shipment of carrier account ups-test has tracking number {OURS}."
    )

    # when: ops fix the number and process it again
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number=OURS)
    carrier_webhook_retry(delivery_id=delivery.pk)
    carrier_webhook_process_task(delivery.pk)

    # then
    delivery.refresh_from_db()
    assert (delivery.status, delivery.events_recorded) == ("processed", 1)


def test_unknown_account_or_carrier_is_not_found(post):
    assert post(fixture_bytes(SAMPLES["origin"]), account="nobody")[0] == 404
    assert CarrierWebhookDelivery.objects.count() == 0


def test_a_scan_pushed_then_polled_is_stored_once(shipped, post, enqueued):
    # given: the parcel of UPS's tracking sample; its label scan is pushed first, in
    # Track Alert's shape with the values of that scan
    from logistics.services.tracking import shipments_track_poll

    shipment = shipped("1Z1442YY7229014688")
    push = {
        "trackingNumber": "1Z1442YY7229014688",
        "localActivityDate": "20220126",
        "localActivityTime": "151641",
        "activityLocation": {
            "city": "",
            "stateProvince": "",
            "postalCode": "",
            "country": "US",
        },
        "activityStatus": {
            "type": "M",
            "code": "MP",
            "description": "Shipper created a label, UPS has not received the "
            "package yet. ",
            "descriptionCode": "003",
        },
        "scheduledDeliveryDate": "",
        "actualDeliveryDate": "",
        "actualDeliveryTime": "",
        "gmtActivityDate": "20220126",
        "gmtActivityTime": "201641",
    }
    _status, answer = post(json.dumps(push).encode())
    carrier_webhook_process_task(answer["delivery"])

    # when: the poll brings the label scan again, and the delivery
    shipments_track_poll(min_interval_minutes=0)

    # then
    events = TrackingEvent.objects.filter(shipment=shipment).order_by("occurred_at")
    assert [(e.carrier_code, e.status) for e in events] == [
        ("MP", "pre_transit"),
        ("F4", "delivered"),
    ]
    shipment.refresh_from_db()
    assert shipment.status == "delivered"


def test_retry_takes_back_a_delivery_whose_worker_was_lost(shipped, post):
    # given: a delivery taken by a worker that died 11 minutes ago
    import datetime

    from django.utils import timezone

    from logistics.exceptions import WebhookDeliveryStateError

    shipped()
    _status, answer = post(fixture_bytes(SAMPLES["origin"]))
    CarrierWebhookDelivery.objects.filter(pk=answer["delivery"]).update(
        status=WebhookDeliveryStatus.PROCESSING,
        updated_at=timezone.now() - datetime.timedelta(minutes=11),
    )
    _status, fresh = post(fixture_bytes(SAMPLES["departure"]))
    CarrierWebhookDelivery.objects.filter(pk=fresh["delivery"]).update(
        status=WebhookDeliveryStatus.PROCESSING
    )

    # when
    carrier_webhook_retry(delivery_id=answer["delivery"])
    carrier_webhook_process_task(answer["delivery"])

    # then: the lost one is done; one a live worker holds is left to it
    assert (
        CarrierWebhookDelivery.objects.get(pk=answer["delivery"]).status
        == WebhookDeliveryStatus.PROCESSED
    )
    with pytest.raises(WebhookDeliveryStateError):
        carrier_webhook_retry(delivery_id=fresh["delivery"])


def test_ops_see_and_retry_pushes_through_the_api(shipped, post):
    from django.contrib.auth.models import Group, User
    from rest_framework.test import APIClient

    # given: one push for a parcel we do not have yet
    shipment = shipped("1ZZZZZZZZZZZZZZZZZ")
    _status, answer = post(fixture_bytes(SAMPLES["origin"]))
    carrier_webhook_process_task(answer["delivery"])
    user = User.objects.create_user("ops-user", password="pw-for-tests-1")
    user.groups.add(Group.objects.get(name="ops"))
    ops = APIClient()
    ops.force_authenticate(user)
    api = "/api/v1/logistics/webhook-deliveries/"

    # when
    failed = ops.get(api, {"status": "failed"}).json()["results"]
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number=OURS)
    retried = ops.post(f"{api}{answer['delivery']}/retry/")
    carrier_webhook_process_task(answer["delivery"])
    again = ops.post(f"{api}{answer['delivery']}/retry/")

    # then
    assert [(d["id"], d["account"], d["tracking_number"]) for d in failed] == [
        (answer["delivery"], "ups-test", OURS)
    ]
    assert "No shipment of carrier account ups-test" in failed[0]["error"]
    assert retried.status_code == 200
    assert retried.json()["status"] == "received"
    assert again.status_code == 409
    assert "webhook_delivery_state" in str(again.json())
