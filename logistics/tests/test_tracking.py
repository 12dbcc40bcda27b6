"""Tracking polls: batched per carrier, scans stored once, changes on the outbox."""

import datetime

import pytest

from erp.core.models import OutboxMessage
from logistics.choices import ShipmentStatus, TrackingStatus
from logistics.models import Shipment, TrackingEvent
from logistics.services.labels import shipment_buy_label
from logistics.services.selection import shipment_select_service
from logistics.services.shipments import shipments_mark_shipped
from logistics.services.tracking import TRACKING_UPDATED_TOPIC, shipments_track_poll
from logistics.tasks import shipments_track_poll_task
from logistics.tests.factories import CarrierServiceFactory
from logistics.tests.fakecarrier import Route

pytestmark = pytest.mark.django_db


def shipped(draft, *, sample_number: str, **kwargs) -> Shipment:
    """A shipment through the real services: quoted, labelled, handed over.

    The carrier samples answer for their own parcel, so the shipment takes the
    sample's tracking number before the poll.
    """
    shipment = draft(**kwargs)
    shipment_select_service(shipment_id=shipment.pk)
    shipment_buy_label(shipment_id=shipment.pk)
    shipments_mark_shipped(shipment_ids=[shipment.pk])
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number=sample_number)
    shipment.refresh_from_db()
    return shipment


@pytest.fixture
def dhl(api_account):
    account, fake = api_account("dhl_express")
    CarrierServiceFactory(
        account=account, code="mydhl_express_worldwide", name="Express Worldwide"
    )
    return fake


@pytest.fixture
def fedex(api_account):
    account, fake = api_account("fedex")
    CarrierServiceFactory(account=account, code="fedex_ground", name="FedEx Ground")
    return fake


def test_delivered_parcel_is_stored_and_announced(dhl, draft):
    # given
    shipment = shipped(
        draft, sample_number="1234567890", country="GB", region="", currency="GBP"
    )
    OutboxMessage.objects.all().delete()

    # when
    report = shipments_track_poll()

    # then
    assert (report.shipments, report.updated, report.carrier_calls) == (1, 1, 1)
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.tracking_status == TrackingStatus.DELIVERED
    assert shipment.delivered_at == datetime.datetime(
        2023, 8, 10, 11, 59, tzinfo=datetime.UTC
    )
    events = list(TrackingEvent.objects.filter(shipment=shipment))
    assert len(events) == 13
    assert (events[0].status, events[0].carrier_code) == (
        TrackingStatus.DELIVERED,
        "OK",
    )
    assert {e.status for e in events} == {
        TrackingStatus.DELIVERED,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.CUSTOMS,
        TrackingStatus.PICKED_UP,
    }
    (message,) = OutboxMessage.objects.filter(topic=TRACKING_UPDATED_TOPIC)
    assert message.key == str(shipment.pk)
    assert message.payload == {
        "shipment_id": shipment.pk,
        "order_id": shipment.order_id,
        "status": "delivered",
        "shipment_status": "delivered",
        "tracking_number": "1234567890",
        "carrier": "dhl_express",
        "carrier_name": "DHL_EXPRESS",
        "tracking_url": shipment.tracking_url,
        "delivered_at": "2023-08-10T11:59:00+00:00",
    }
    assert shipment.tracking_url.endswith("1103733901")


def test_polling_again_stores_no_duplicates_and_announces_nothing(fedex, draft):
    # given
    shipment = shipped(draft, sample_number="123456789012")
    shipments_track_poll()
    OutboxMessage.objects.all().delete()

    # when: the next round (interval 0) sees the same scan
    report = shipments_track_poll(min_interval_minutes=0)

    # then
    assert report.updated == 0
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1
    shipment.refresh_from_db()
    assert (shipment.status, shipment.tracking_status) == (
        ShipmentStatus.IN_TRANSIT,
        TrackingStatus.PICKED_UP,
    )
    assert OutboxMessage.objects.filter(topic=TRACKING_UPDATED_TOPIC).exists() is False


def test_one_call_per_carrier_batch(fedex, draft):
    # given: three FedEx parcels
    shipments = [shipped(draft, sample_number=f"79495353500{n}") for n in range(3)]
    fedex.requests.clear()

    # when
    report = shipments_track_poll()

    # then: one tracking call carrying every number
    assert report.carrier_calls == 1
    (call,) = [r for r in fedex.requests if r.path == "/track/v1/trackingnumbers"]
    numbers = [
        i["trackingNumberInfo"]["trackingNumber"] for i in call.json()["trackingInfo"]
    ]
    assert sorted(numbers) == sorted(s.tracking_number for s in shipments)
    # the sample answers for another parcel: ours are marked as asked, not changed
    assert set(Shipment.objects.values_list("status", flat=True)) == {"shipped"}
    assert Shipment.objects.filter(last_tracked_at__isnull=True).exists() is False


def test_recently_tracked_and_finished_parcels_are_not_asked(fedex, draft):
    # given
    shipped(draft, sample_number="123456789012")
    shipments_track_poll()
    fedex.requests.clear()

    # when: within the hour
    report = shipments_track_poll()

    # then
    assert (report.shipments, report.carrier_calls) == (0, 0)
    assert fedex.requests == []


def test_carrier_failure_is_reported_and_changes_nothing(fedex, draft):
    # given
    shipment = shipped(draft, sample_number="123456789012")
    fedex.routes.insert(
        0, Route("POST", r"^/track/", "fedex/error_400.json", status=400)
    )

    # when
    report = shipments_track_poll_task()

    # then
    assert report["updated"] == 0
    assert report["errors"] == [
        "FEDEX: fedex tracking failed: TRACKING.TRACKINGNUMBER.EMPTY: "
        "Please provide tracking number."
    ]
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.SHIPPED
    assert shipment.last_tracked_at is None


def test_number_entered_after_shipping_reaches_the_outbox(draft):
    # given: a rate-card parcel shipped before its line gave a number
    from logistics.services.shipments import shipment_tracking_number_set
    from logistics.tests.factories import rate_card_service

    rate_card_service(code="yun_us", price="5.00")
    shipment = draft()
    shipment_select_service(shipment_id=shipment.pk)
    shipment_buy_label(shipment_id=shipment.pk)
    shipments_mark_shipped(shipment_ids=[shipment.pk])

    # when
    shipment_tracking_number_set(shipment_id=shipment.pk, tracking_number="YT42")

    # then
    (message,) = OutboxMessage.objects.filter(topic=TRACKING_UPDATED_TOPIC)
    assert message.payload["tracking_number"] == "YT42"
    assert message.payload["status"] == TrackingStatus.PRE_TRANSIT
    assert message.payload["carrier"] == "rate_card"
