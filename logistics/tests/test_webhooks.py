"""UPS Track Alert pushes over real HTTP: verified, stored raw, applied by the worker.

The bodies are UPS's own examples (UPSTrackAlert.yaml, fixtures README); the endpoint
runs in Django's live test server and is called with urllib, as UPS would.
"""

import datetime
import json
import urllib.error
import urllib.request

import pytest

from erp.core.models import OutboxMessage
from logistics.choices import (
    ShipmentStatus,
    TrackingStatus,
    WebhookDeliveryStatus,
)
from logistics.models import CarrierWebhookDelivery, TrackingEvent
from logistics.services.tracking import TRACKING_UPDATED_TOPIC
from logistics.tasks import carrier_webhook_process_task
from logistics.tests.fakecarrier import (
    UPS_SAMPLE_NUMBER,
    UPS_WEBHOOK_CREDENTIAL,
    fixture_bytes,
)

pytestmark = pytest.mark.django_db(transaction=True)

CREDENTIAL = UPS_WEBHOOK_CREDENTIAL
OURS = UPS_SAMPLE_NUMBER
SAMPLES = {
    "manifest": "ups/track_alert_1_manifest.json",
    "origin": "ups/track_alert_2_origin_scan.json",
    "departure": "ups/track_alert_3_departure_scan.json",
    "preparing": "ups/track_alert_4_preparing_for_delivery.json",
    "loaded": "ups/track_alert_5_loaded_on_vehicle.json",
    "out": "ups/track_alert_6_out_for_delivery.json",
    "delivered": "ups/track_alert_7_delivered.json",
}


@pytest.fixture
def post(live_server, ups):
    """post(body, credential=...) -> (HTTP status, JSON answer) from the live endpoint."""

    def send(body: bytes, *, credential: str | None = CREDENTIAL, account=None):
        code = account or ups.code
        request = urllib.request.Request(  # noqa: S310 - the live test server
            f"{live_server.url}/api/v1/logistics/webhooks/ups/{code}/",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "UPSPubSubTrackingService",
                **({"credential": credential} if credential is not None else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    return send


def test_pushed_scans_become_the_same_events_as_polling(shipped, post, enqueued):
    # given: a parcel on its way
    shipment = shipped()
    OutboxMessage.objects.all().delete()

    # when: UPS pushes five scans and the worker applies each
    answers = [post(fixture_bytes(SAMPLES[name])) for name in list(SAMPLES)[:5]]
    for delivery_id in enqueued:
        carrier_webhook_process_task(delivery_id)

    # then
    assert [status for status, _ in answers] == [200] * 5
    assert [body["status"] for _, body in answers] == ["received"] * 5
    deliveries = CarrierWebhookDelivery.objects.order_by("pk")
    assert enqueued == [d.pk for d in deliveries]
    assert {
        (d.status, d.shipment_id, d.events_recorded, d.tracking_number)
        for d in deliveries
    } == {(WebhookDeliveryStatus.PROCESSED, shipment.pk, 1, OURS)}
    # the raw delivery is kept as sent, without the credential
    first = deliveries.first()
    assert first.body == fixture_bytes(SAMPLES["manifest"]).decode()
    assert first.headers["user-agent"] == "UPSPubSubTrackingService"
    assert "credential" not in first.headers
    events = list(
        TrackingEvent.objects.filter(shipment=shipment).order_by("occurred_at")
    )
    assert [
        (e.occurred_at, e.status, e.carrier_code, e.description, e.location)
        for e in events
    ] == [
        (
            datetime.datetime(2024, 4, 22, 9, 12, tzinfo=datetime.UTC),
            TrackingStatus.PRE_TRANSIT,
            "MP",
            "Shipment Ready for UPS",
            "US",
        ),
        (
            datetime.datetime(2024, 4, 22, 21, 29, tzinfo=datetime.UTC),
            TrackingStatus.IN_TRANSIT,
            "OR",
            "On the Way",
            "Hickory, NC, US",
        ),
        (
            datetime.datetime(2024, 4, 22, 22, 54, tzinfo=datetime.UTC),
            TrackingStatus.IN_TRANSIT,
            "DP",
            "On the Way",
            "Hickory, NC, US",
        ),
        (
            datetime.datetime(2024, 4, 23, 0, 30, tzinfo=datetime.UTC),
            TrackingStatus.IN_TRANSIT,
            "YP",
            "Preparing for Delivery",
            "Charlotte, NC, US",
        ),
        (
            datetime.datetime(2024, 4, 23, 6, 39, tzinfo=datetime.UTC),
            TrackingStatus.IN_TRANSIT,
            "YP",
            "Preparing for Delivery",
            "Charlotte, NC, US",
        ),
    ]
    shipment.refresh_from_db()
    assert (shipment.status, shipment.tracking_status) == (
        ShipmentStatus.IN_TRANSIT,
        TrackingStatus.IN_TRANSIT,
    )
    # the store hears of the change once (label created -> in transit), not per scan
    announced = OutboxMessage.objects.filter(topic=TRACKING_UPDATED_TOPIC)
    assert [m.payload["status"] for m in announced] == [TrackingStatus.IN_TRANSIT]


def test_redelivery_and_late_scans_change_nothing(shipped, post, enqueued):
    # given: the departure scan is applied
    shipment = shipped()
    post(fixture_bytes(SAMPLES["departure"]))
    carrier_webhook_process_task(enqueued[-1])

    # when: UPS sends it again, then an older scan arrives late
    again = post(fixture_bytes(SAMPLES["departure"]))
    late = post(fixture_bytes(SAMPLES["manifest"]))
    for delivery_id in enqueued[1:]:
        carrier_webhook_process_task(delivery_id)

    # then: the repeat is a visible duplicate, never processed; the late scan is
    # stored but the parcel stays in transit
    assert again == (200, {"status": "duplicate", "delivery": again[1]["delivery"]})
    duplicate = CarrierWebhookDelivery.objects.get(pk=again[1]["delivery"])
    assert duplicate.status == WebhookDeliveryStatus.DUPLICATE
    assert duplicate.pk not in enqueued
    assert late[0] == 200
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 2
    shipment.refresh_from_db()
    assert shipment.tracking_status == TrackingStatus.IN_TRANSIT


def test_delivered_push_delivers_the_parcel_and_tells_the_store(
    shipped, post, enqueued
):
    # given
    shipment = shipped("1Z204W4R0308071865")
    OutboxMessage.objects.all().delete()

    # when
    for name in ("out", "delivered"):
        post(fixture_bytes(SAMPLES[name]))
    for delivery_id in enqueued:
        carrier_webhook_process_task(delivery_id)

    # then
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.delivered_at == datetime.datetime(
        2024, 4, 23, 9, 50, tzinfo=datetime.UTC
    )
    statuses = [
        m.payload["status"]
        for m in OutboxMessage.objects.filter(topic=TRACKING_UPDATED_TOPIC).order_by(
            "pk"
        )
    ]
    assert statuses == [TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED]
