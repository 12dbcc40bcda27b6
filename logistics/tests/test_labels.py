"""Buying, storing, voiding and batch-printing labels."""

from decimal import Decimal

import pytest

from logistics.carriers.base import CarrierError
from logistics.choices import ShipmentStatus, TrackingStatus
from logistics.documents import pdf_page_count
from logistics.exceptions import ShipmentStateError
from logistics.models import Shipment
from logistics.services.labels import shipment_buy_label, shipment_void
from logistics.services.printing import shipments_print_batch
from logistics.services.selection import shipment_select_service
from logistics.services.shipments import (
    shipment_tracking_number_set,
    shipments_mark_shipped,
)
from logistics.tests.factories import CarrierServiceFactory, rate_card_service
from logistics.tests.fakecarrier import Route

pytestmark = pytest.mark.django_db


@pytest.fixture
def usps(api_account):
    account, fake = api_account("usps")
    service = CarrierServiceFactory(
        account=account, code="usps_ground_advantage", name="Ground Advantage"
    )
    return service, fake


def rated(draft, **kwargs) -> Shipment:
    shipment = draft(**kwargs)
    return shipment_select_service(shipment_id=shipment.pk)


def test_label_is_bought_and_stored(usps, draft):
    # given
    service, fake = usps
    shipment = rated(draft, grams=1500)

    # when
    shipment = shipment_buy_label(shipment_id=shipment.pk)

    # then
    assert shipment.status == ShipmentStatus.LABEL_PURCHASED
    assert shipment.tracking_number == "9234690361980900000142"
    assert shipment.tracking_status == TrackingStatus.PRE_TRANSIT
    assert shipment.tracking_url.endswith("9234690361980900000142")
    assert (shipment.label_cost, shipment.label_currency) == (Decimal("18.76"), "USD")
    assert shipment.label_format == "PDF"
    assert shipment.label_file.name.startswith("labels/")
    assert shipment.label_file.name.endswith("-9234690361980900000142.pdf")
    with shipment.label_file.open("rb") as handle:
        assert handle.read().startswith(b"%PDF")
    assert list(shipment.packages.values_list("tracking_number", flat=True)) == [
        "9234690361980900000142"
    ]
    label_call = next(r for r in fake.requests if r.path == "/labels/v3/label")
    assert (
        label_call.json()["packageDescription"]["mailClass"] == "USPS_GROUND_ADVANTAGE"
    )


def test_a_label_is_never_bought_twice(usps, draft):
    # given
    service, fake = usps
    shipment = rated(draft)
    shipment_buy_label(shipment_id=shipment.pk)

    # when
    with pytest.raises(ShipmentStateError):
        shipment_buy_label(shipment_id=shipment.pk)

    # then
    assert [r.path for r in fake.requests].count("/labels/v3/label") == 1


def test_carrier_refusal_leaves_the_shipment_ready_to_retry(usps, draft):
    # given: USPS answers the label call with its documented error body
    service, fake = usps
    fake.routes.insert(
        0,
        Route("POST", r"^/labels/v3/label$", "usps/error_response.json", status=400),
    )
    shipment = rated(draft)

    # when
    with pytest.raises(CarrierError):
        shipment_buy_label(shipment_id=shipment.pk)

    # then
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.RATED
    assert shipment.error
    assert shipment.tracking_number == ""
    assert not shipment.label_file


def test_void_cancels_at_the_carrier(usps, draft):
    # given
    service, fake = usps
    shipment = shipment_buy_label(shipment_id=rated(draft).pk)

    # when
    shipment = shipment_void(shipment_id=shipment.pk, reason="address wrong")

    # then
    assert shipment.status == ShipmentStatus.VOIDED
    assert shipment.tracking_status == TrackingStatus.CANCELLED
    assert shipment.voided_at is not None
    assert shipment.error == "Voided at the carrier. address wrong"
    assert ("DELETE", "/labels/v3/label/9234690361980900000142") in fake.paths()


def test_a_shipped_label_cannot_be_voided(usps, draft):
    # given
    shipment = shipment_buy_label(shipment_id=rated(draft).pk)
    shipments_mark_shipped(shipment_ids=[shipment.pk])

    # when
    with pytest.raises(ShipmentStateError):
        shipment_void(shipment_id=shipment.pk)

    # then
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.SHIPPED


def test_rate_card_label_is_ours_and_takes_the_operators_number(draft):
    # given
    rate_card_service(code="yun_global", price="9.90")
    shipment = rated(draft)

    # when
    shipment = shipment_buy_label(
        shipment_id=shipment.pk, tracking_number="YT2433121266053791"
    )

    # then
    assert shipment.status == ShipmentStatus.LABEL_PURCHASED
    assert shipment.tracking_number == "YT2433121266053791"
    assert (shipment.label_cost, shipment.label_currency) == (Decimal("9.9000"), "USD")
    with shipment.label_file.open("rb") as handle:
        content = handle.read()
    assert pdf_page_count(content) == 1


def test_rate_card_tracking_number_can_follow(draft):
    # given: the label was printed before the line gave a number
    service = rate_card_service(code="4px_line", price="7.00")
    service.account.tracking_url_template = (
        "https://track.4px.com/#/result/0/{tracking_number}"
    )
    service.account.save()
    shipment = shipment_buy_label(shipment_id=rated(draft).pk)
    assert shipment.tracking_number == ""

    # when
    shipment = shipment_tracking_number_set(
        shipment_id=shipment.pk, tracking_number=" 4PX3001234567890CN "
    )

    # then
    assert shipment.tracking_number == "4PX3001234567890CN"
    assert (
        shipment.tracking_url == "https://track.4px.com/#/result/0/4PX3001234567890CN"
    )


def test_batch_print_merges_labels_pick_lists_and_slips(usps, draft):
    # given: two labelled shipments from one warehouse, one still without a label
    first = shipment_buy_label(shipment_id=rated(draft).pk)
    rate_card_service(code="yun_global", price="1.00")
    second = shipment_buy_label(shipment_id=rated(draft).pk, tracking_number="YT1")
    unlabelled = draft()

    # when
    batch = shipments_print_batch(shipment_ids=[first.pk, second.pk, unlabelled.pk])

    # then: 2 labels + 1 pick list page + 2 packing slip pages
    assert batch.labels == 2
    assert batch.pages == 5
    assert pdf_page_count(batch.pdf) == 5
    assert batch.warehouses == ("wh-us",)
    assert batch.skipped == (f"S{unlabelled.pk}: draft, no label to print",)


def test_batch_print_refuses_when_nothing_has_a_label(draft):
    shipment = draft()
    with pytest.raises(ShipmentStateError):
        shipments_print_batch(shipment_ids=[shipment.pk])
