"""UPS, FedEx, DHL Express and USPS through karrio, over HTTP to a local fake carrier.

The fake answers with the carriers' published samples (tests/fixtures/README.md);
karrio builds every request and parses every answer for real.
"""

import base64
import datetime
from decimal import Decimal

import pytest

from erp.core.money import Money
from logistics.carriers.base import (
    Address,
    CarrierError,
    Customs,
    CustomsLine,
    Parcel,
    RateRequest,
    ShipmentRequest,
    VoidRequest,
)
from logistics.carriers.registry import adapter_for
from logistics.choices import TrackingStatus as T
from logistics.tests.fakecarrier import Route

pytestmark = pytest.mark.django_db

WAREHOUSE_NY = Address(
    name="DTC Warehouse",
    street1="1 Main St",
    city="New York",
    state_code="NY",
    postal_code="10001",
    country_code="US",
    phone="2125550100",
)
AUSTIN = Address(
    name="Ava Miller",
    street1="500 Congress Ave",
    city="Austin",
    state_code="TX",
    postal_code="78701",
    country_code="US",
    phone="5125550100",
    email="ava@example.com",
)
LONDON = Address(
    name="Oliver Smith",
    street1="10 Downing St",
    city="London",
    postal_code="SW1A 2AA",
    country_code="GB",
    phone="442071234567",
)
PARCEL = Parcel(weight_grams=1500, length_mm=300, width_mm=200, height_mm=100)
TEA = Customs(
    lines=(
        CustomsLine(
            description="Green tea",
            quantity=2,
            unit_value=Money(Decimal("12.50"), "USD"),
            origin_country="CN",
            hs_code="090210",
            unit_weight_grams=250,
        ),
    )
)


def domestic() -> RateRequest:
    return RateRequest(shipper=WAREHOUSE_NY, recipient=AUSTIN, parcels=(PARCEL,))


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# --- UPS ------------------------------------------------------------------------------


def test_ups_rates_parse_every_shop_service(api_account):
    # given
    account, fake = api_account("ups")

    # when
    quotes = adapter_for(account).get_rates(domestic())

    # then
    assert [(q.service_code, q.total, q.transit_days) for q in quotes] == [
        ("ups_next_day_air_early", Money(Decimal("344.00"), "CAD"), 1),
        ("ups_next_day_air", Money(Decimal("303.48"), "CAD"), 1),
        ("ups_next_day_air_saver", Money(Decimal("271.07"), "CAD"), 1),
        ("ups_2nd_day_air", Money(Decimal("257.41"), "CAD"), 2),
        ("ups_standard", Money(Decimal("132.84"), "CAD"), 6),
    ]
    token, rating = fake.requests
    assert token.path == "/security/v1/oauth/token"
    assert token.headers["authorization"] == basic("ups-client", "ups-secret")
    assert rating.path.startswith("/api/rating/v2409/Shop")
    shipment = rating.json()["RateRequest"]["Shipment"]
    assert shipment["ShipTo"]["Address"]["PostalCode"] == "78701"
    assert shipment["Package"][0]["PackageWeight"]["Weight"] == "3.31"  # 1.5 kg in lb


def test_ups_label_tracking_number_and_pdf(api_account):
    # given: the sample's PNG label, completed (README), which karrio turns into a PDF
    account, fake = api_account("ups")

    # when
    result = adapter_for(account).create_shipment(
        ShipmentRequest(rate_request=domestic(), service_code="ups_standard")
    )

    # then
    assert result.tracking_number == "1ZXXXXXXXXXXXXXXXX"
    assert result.carrier_shipment_id == "1ZXXXXXXXXXXXXXXXX"
    assert result.label is not None
    assert result.label.format == "PDF"
    assert result.label.content.startswith(b"%PDF")
    body = fake.requests[-1].json()["ShipmentRequest"]["Shipment"]
    assert body["Service"]["Code"] == "11"  # UPS Standard
    assert body["ShipTo"]["Address"]["City"] == "Austin"


def test_ups_tracking_normalised(api_account):
    # given
    account, fake = api_account("ups")

    # when
    (result,) = adapter_for(account).track(["1Z1442YY7229014688"])

    # then
    assert result.tracking_number == "1Z1442YY7229014688"
    assert result.status == T.DELIVERED
    assert result.delivered is True
    assert result.estimated_delivery == datetime.date(2022, 1, 26)
    assert [(e.status, e.carrier_code, e.description) for e in result.events] == [
        (T.DELIVERED, "F4", "DELIVERED"),
        (
            T.PRE_TRANSIT,
            "MP",
            "Shipper created a label, UPS has not received the package yet.",
        ),
    ]
    assert result.events[0].occurred_at == datetime.datetime(
        2022, 1, 26, 16, 30, tzinfo=datetime.UTC
    )
    tracking = fake.requests[-1]
    assert tracking.path.startswith("/api/track/v1/details/1Z1442YY7229014688")
    assert tracking.headers["transactionsrc"]


def test_ups_void(api_account):
    # given
    account, fake = api_account("ups")

    # when
    result = adapter_for(account).void_shipment(
        VoidRequest(carrier_shipment_id="1ZISDE016691609089")
    )

    # then
    assert result.ok is True
    assert result.supported is True
    assert fake.paths()[-1] == (
        "DELETE",
        "/api/shipments/v2409/void/cancel/1ZISDE016691609089",
    )


# --- FedEx ----------------------------------------------------------------------------


def test_fedex_rates_from_the_official_example(api_account):
    # given
    account, fake = api_account("fedex")

    # when
    quotes = adapter_for(account).get_rates(domestic())

    # then
    assert [(q.service_code, q.total) for q in quotes] == [
        ("fedex_international_first", Money(Decimal("341.13"), "USD")),
        ("INTERNATIONAL_PRIORITY", Money(Decimal("264.26"), "USD")),
        ("fedex_international_economy", Money(Decimal("160.45"), "USD")),
        ("fedex_ground", Money(Decimal("41.03"), "USD")),
    ]
    assert quotes[1].service_name == "FedEx International Priority"
    assert quotes[1].estimated_delivery == datetime.date(2019, 7, 22)
    token, rating = fake.requests
    assert token.body == (
        b"grant_type=client_credentials&client_id=fedex-key&client_secret=fedex-secret"
    )
    body = rating.json()
    assert body["accountNumber"] == {"value": "510087020"}
    assert body["requestedShipment"]["recipient"]["address"]["postalCode"] == "78701"


def test_fedex_label_and_void(api_account):
    # given
    account, fake = api_account("fedex")
    adapter = adapter_for(account)

    # when
    result = adapter.create_shipment(
        ShipmentRequest(rate_request=domestic(), service_code="fedex_ground")
    )
    void = adapter.void_shipment(
        VoidRequest(carrier_shipment_id=result.carrier_shipment_id)
    )

    # then
    assert result.tracking_number == "794953535000"
    assert result.label is not None
    assert result.label.content.startswith(b"%PDF")
    assert result.tracking_url.endswith("794953535000")
    assert void.ok is True
    assert fake.paths()[-1] == ("PUT", "/ship/v1/shipments/cancel")
    assert fake.requests[-1].json()["trackingNumber"] == "794953535000"


def test_fedex_tracking_normalised_and_uses_track_credentials(api_account):
    # given
    account, fake = api_account("fedex")

    # when
    (result,) = adapter_for(account).track(["123456789012"])

    # then
    assert result.tracking_number == "123456789012"
    assert result.status == T.PICKED_UP
    assert result.estimated_delivery == datetime.date(2021, 10, 1)
    assert [(e.carrier_code, e.status) for e in result.events] == [("PU", T.PICKED_UP)]
    token = next(r for r in fake.requests if r.path == "/oauth/token")
    assert b"client_id=fedex-track-key" in token.body


def test_fedex_error_envelope_becomes_carrier_error(api_account):
    # given: FedEx answers 400 with its documented error body
    account, fake = api_account("fedex")
    fake.routes.insert(
        0, Route("POST", r"^/rate/v1/rates/quotes", "fedex/error_400.json", status=400)
    )

    # when
    with pytest.raises(CarrierError) as caught:
        adapter_for(account).get_rates(domestic())

    # then
    assert caught.value.carrier == "fedex"
    assert caught.value.extra["messages"][0]["code"] == "TRACKING.TRACKINGNUMBER.EMPTY"


# --- DHL Express (MyDHL API) ----------------------------------------------------------


def test_dhl_express_rates_use_the_billing_currency(api_account):
    # given
    account, fake = api_account("dhl_express")
    request = RateRequest(
        shipper=WAREHOUSE_NY, recipient=LONDON, parcels=(PARCEL,), customs=TEA
    )

    # when
    (quote,) = adapter_for(account).get_rates(request)

    # then
    assert quote.service_code == "mydhl_express_worldwide"
    assert quote.service_name == "EXPRESS WORLDWIDE NONDOC"
    assert quote.total == Money(Decimal("157.95"), "GBP")
    assert quote.transit_days == 3
    (rating,) = fake.requests
    assert rating.headers["authorization"] == basic("dhl-user", "dhl-pass")
    body = rating.json()
    assert body["customerDetails"]["receiverDetails"]["countryCode"] == "GB"
    assert body["isCustomsDeclarable"] is True
    assert body["packages"][0]["weight"] == 1.5


def test_dhl_express_label_has_awb_and_one_pdf(api_account):
    # given: two label PDFs and an invoice in the sample (completed, README)
    account, fake = api_account("dhl_express")
    request = RateRequest(
        shipper=WAREHOUSE_NY, recipient=LONDON, parcels=(PARCEL,), customs=TEA
    )

    # when
    result = adapter_for(account).create_shipment(
        ShipmentRequest(rate_request=request, service_code="mydhl_express_worldwide")
    )

    # then
    assert result.tracking_number == "1103733901"
    assert result.label is not None
    assert result.label.content.startswith(b"%PDF")
    body = fake.requests[-1].json()
    line = body["content"]["exportDeclaration"]["lineItems"][0]
    # karrio 2026.1.32 sends int(unit value): 12.50 goes out as 12 (reported
    # upstream-worthy); this pins it so an upgrade that fixes it is noticed.
    assert (line["quantity"]["value"], line["price"]) == (2, 12)
    assert line["commodityCodes"][0]["value"] == "090210"


def test_dhl_express_tracking_every_checkpoint_normalised(api_account):
    # given
    account, fake = api_account("dhl_express")

    # when
    (result,) = adapter_for(account).track(["1234567890"])

    # then
    assert result.status == T.DELIVERED
    codes = [(e.carrier_code, e.status) for e in result.events]
    assert codes[0] == ("OK", T.DELIVERED)
    assert codes[1] == ("WC", T.OUT_FOR_DELIVERY)
    assert ("CR", T.CUSTOMS) in codes
    assert codes[-1] == ("PU", T.PICKED_UP)
    assert len(codes) == 13
    assert fake.requests[-1].path == "/tracking?shipmentTrackingNumber=1234567890"


def test_dhl_express_void_is_local_only(api_account):
    # given
    account, fake = api_account("dhl_express")

    # when
    result = adapter_for(account).void_shipment(
        VoidRequest(carrier_shipment_id="1103733901")
    )

    # then: MyDHL has no cancel call, so nothing is sent
    assert (result.ok, result.supported) == (True, False)
    assert fake.requests == []


# --- USPS -------------------------------------------------------------------------------


def test_usps_rates_from_shipping_options(api_account):
    # given
    account, fake = api_account("usps")

    # when
    quotes = adapter_for(account).get_rates(domestic())

    # then
    by_code = {q.service_code: q for q in quotes}
    assert by_code["usps_ground_advantage"].total == Money(Decimal("151.85"), "USD")
    assert by_code["usps_ground_advantage"].transit_days == 4
    assert by_code["usps_priority_mail"].total == Money(Decimal("184.00"), "USD")
    assert len(quotes) == 12
    body = fake.requests[-1].json()
    assert (body["originZIPCode"], body["destinationZIPCode"]) == ("10001", "78701")
    assert body["packageDescription"]["weight"] == 3.31


def test_usps_label_from_multipart_answer(api_account):
    # given
    account, fake = api_account("usps")

    # when
    result = adapter_for(account).create_shipment(
        ShipmentRequest(rate_request=domestic(), service_code="usps_ground_advantage")
    )

    # then
    assert result.tracking_number == "9234690361980900000142"
    assert result.charge == Money(Decimal("18.76"), "USD")
    assert result.label is not None
    assert result.label.content.startswith(b"%PDF")
    label_call = next(r for r in fake.requests if r.path == "/labels/v3/label")
    assert label_call.headers["x-payment-authorization-token"]
    assert label_call.json()["toAddress"]["ZIPCode"] == "78701"


def test_usps_tracking_and_void(api_account):
    # given
    account, fake = api_account("usps")
    adapter = adapter_for(account)

    # when
    (result,) = adapter.track(["9400100000000000000000"])
    void = adapter.void_shipment(
        VoidRequest(carrier_shipment_id="9400100000000000000000")
    )

    # then
    assert result.status == T.PICKED_UP
    assert [(e.carrier_code, e.description) for e in result.events] == [
        ("03", "USPS in possession of item")
    ]
    assert void.ok is True
    assert ("DELETE", "/labels/v3/label/9400100000000000000000") in fake.paths()


# --- accounts -----------------------------------------------------------------------------


def test_missing_credentials_are_named(db):
    # given
    from logistics.tests.factories import CarrierAccountFactory

    account = CarrierAccountFactory(carrier="ups", credentials={"client_id": "x"})

    # when
    with pytest.raises(CarrierError) as caught:
        adapter_for(account)

    # then
    assert caught.value.extra["missing"] == ["client_secret", "account_number"]


def test_unreachable_carrier_is_retryable(api_account):
    # given: an account whose host answers nothing
    account, fake = api_account("dhl_express")
    fake.stop()

    # when
    with pytest.raises(CarrierError) as caught:
        adapter_for(account).get_rates(domestic())

    # then
    assert caught.value.carrier == "dhl_express"


def test_credentials_are_encrypted_at_rest(api_account):
    # given
    from django.db import connection

    account, _ = api_account("ups")

    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM logistics_carrieraccount WHERE id = %s",
            [account.pk],
        )
        (stored,) = cursor.fetchone()

    # then
    assert "ups-secret" not in str(stored)
    assert account.credentials_masked()["client_secret"] == "••••••••cret"
