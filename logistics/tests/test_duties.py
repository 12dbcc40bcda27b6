"""DDP: duty terms per store and destination, and the carrier told who pays."""

from decimal import Decimal

import pytest

from connectors.tests.factories import ChannelFactory
from erp.core.money import Money
from logistics.carriers.base import Customs, CustomsLine
from logistics.models import IncotermRule
from logistics.selectors import incoterm_for
from logistics.services.labels import shipment_buy_label
from logistics.services.selection import shipment_select_service
from logistics.tests.factories import CarrierServiceFactory

pytestmark = pytest.mark.django_db


def tea(incoterm: str) -> Customs:
    return Customs(
        incoterm=incoterm,
        invoice_number="#1001",
        lines=(
            CustomsLine(
                description="Green tea",
                quantity=2,
                unit_value=Money(Decimal("12.50"), "USD"),
                origin_country="CN",
                hs_code="090210",
                unit_weight_grams=250,
                sku="TEA",
            ),
        ),
    )


@pytest.fixture
def rules():
    """EU store pays duties into GB and the EU; everyone pays into Norway; else DAP."""
    eu_store = ChannelFactory(code="eu-store")
    other = ChannelFactory(code="other-store")
    norway = IncotermRule.objects.create(
        name="Norway always DDP", destinations=["NO"], position=1
    )
    eu = IncotermRule.objects.create(
        name="EU store DDP", destinations=["GB", "DE", "FR"], position=2
    )
    eu.channels.add(eu_store)
    IncotermRule.objects.create(
        name="Inactive", destinations=["US"], position=0, is_active=False
    )
    return eu_store, other, norway


@pytest.mark.parametrize(
    ("store", "country", "incoterm"),
    [
        ("eu", "GB", "DDP"),
        ("eu", "de", "DDP"),
        ("other", "GB", "DAP"),
        ("other", "NO", "DDP"),
        ("eu", "US", "DAP"),
        (None, "NO", "DDP"),
    ],
)
def test_duty_terms_follow_the_first_matching_rule(rules, store, country, incoterm):
    channel = {"eu": rules[0], "other": rules[1], None: None}[store]
    assert (
        incoterm_for(channel_id=channel.pk if channel else None, country=country)
        == incoterm
    )


@pytest.mark.parametrize("incoterm", ["DDP", "DAP"])
def test_dhl_label_request_carries_who_pays_the_duties(api_account, draft, incoterm):
    # given: a CN -> GB parcel with a customs line
    account, fake = api_account("dhl_express")
    CarrierServiceFactory(
        account=account, code="mydhl_express_worldwide", name="Express Worldwide"
    )
    shipment = draft(
        country="GB", region="", currency="GBP", origin="CN", customs=tea(incoterm)
    )
    shipment_select_service(shipment_id=shipment.pk)

    # when
    shipment_buy_label(shipment_id=shipment.pk)

    # then
    body = fake.requests[-1].json()
    assert fake.requests[-1].path == "/shipments"
    content = body["content"]
    assert content["incoterm"] == incoterm
    assert content["isCustomsDeclarable"] is True
    line = content["exportDeclaration"]["lineItems"][0]
    assert line["commodityCodes"][0]["value"] == "090210"
    assert line["manufacturerCountry"] == "CN"
    assert line["quantity"]["value"] == 2


@pytest.mark.parametrize(
    ("incoterm", "payer"), [("DDP", "SENDER"), ("DAP", "RECIPIENT")]
)
def test_fedex_label_request_bills_duties_to_the_shipper_only_for_ddp(
    api_account, draft, incoterm, payer
):
    # given
    account, fake = api_account("fedex")
    CarrierServiceFactory(account=account, code="fedex_ground", name="FedEx Ground")
    shipment = draft(
        country="GB", region="", currency="USD", origin="US", customs=tea(incoterm)
    )
    shipment_select_service(shipment_id=shipment.pk)

    # when
    shipment_buy_label(shipment_id=shipment.pk)

    # then
    ship = next(r for r in fake.requests if r.path == "/ship/v1/shipments")
    customs = ship.json()["requestedShipment"]["customsClearanceDetail"]
    assert customs["dutiesPayment"]["paymentType"] == payer
    assert customs["commercialInvoice"]["termsOfSale"] == incoterm
    commodity = customs["commodities"][0]
    assert commodity["harmonizedCode"] == "090210"
    assert commodity["countryOfManufacture"] == "CN"


@pytest.mark.parametrize(
    ("incoterm", "percent", "value_currency", "duty"),
    [
        ("DDP", "20", "USD", Money(Decimal("5.00"), "USD")),  # 2 × 12.50 × 20 %
        ("DDP", "0", "USD", None),  # the line does not price DDP
        ("DAP", "20", "USD", None),  # the customer pays at the door
    ],
)
def test_ddp_line_prices_duties_on_the_declared_value(
    incoterm, percent, value_currency, duty
):
    from logistics.carriers.base import Address, Parcel, RateRequest
    from logistics.carriers.ratecard import CardTerms, ddp_duty

    request = RateRequest(
        shipper=Address("A", "1 St", "Shenzhen", "CN"),
        recipient=Address("B", "2 St", "London", "GB"),
        parcels=(Parcel(500),),
        customs=tea(incoterm),
    )
    terms = CardTerms(currency="USD", ddp_duty_percent=Decimal(percent))
    assert ddp_duty(request, terms) == duty


def test_ddp_line_gives_no_price_for_a_value_in_another_currency():
    from logistics.carriers.base import Address, Parcel, RateRequest
    from logistics.carriers.ratecard import CardTerms, RateCardNoPriceError, ddp_duty

    request = RateRequest(
        shipper=Address("A", "1 St", "Shenzhen", "CN"),
        recipient=Address("B", "2 St", "London", "GB"),
        parcels=(Parcel(500),),
        customs=tea("DDP"),
    )
    with pytest.raises(RateCardNoPriceError):
        ddp_duty(request, CardTerms(currency="CNY", ddp_duty_percent=Decimal(9)))
