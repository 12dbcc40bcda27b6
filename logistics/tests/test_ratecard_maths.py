"""Rate-card maths, table by table (no database)."""

from decimal import Decimal

import pytest

from erp.core.money import Money
from logistics.carriers.base import Address, Parcel, RateRequest
from logistics.carriers.ratecard import (
    Bracket,
    CardService,
    CardTerms,
    RateCardAdapter,
    RateCardNoPriceError,
    Zone,
    chargeable_grams,
    parcel_price,
    zone_for,
)

D = Decimal
USD = CardTerms(currency="USD")


@pytest.mark.parametrize(
    ("parcel", "terms", "expected"),
    [
        # actual weight wins over a small box
        (Parcel(1200, 100, 100, 100), CardTerms("USD", dim_divisor=5000), 1200),
        # 40×30×20 cm / 5000 = 4.8 kg beats 1.2 kg actual
        (Parcel(1200, 400, 300, 200), CardTerms("USD", dim_divisor=5000), 4800),
        # the same box on a 6000 divisor: 4 kg
        (Parcel(1200, 400, 300, 200), CardTerms("USD", dim_divisor=6000), 4000),
        # no divisor: actual weight only
        (Parcel(1200, 400, 300, 200), USD, 1200),
        # rounded up to the next 500 g
        (Parcel(1201), CardTerms("USD", rounding_step_grams=500), 1500),
        (Parcel(1500), CardTerms("USD", rounding_step_grams=500), 1500),
        # minimum chargeable weight
        (Parcel(30), CardTerms("USD", min_chargeable_grams=50), 50),
        # volumetric 33×22×11 / 6000 = 1.331 kg -> 1331 g, then 100 g steps
        (
            Parcel(900, 330, 220, 110),
            CardTerms("USD", dim_divisor=6000, rounding_step_grams=100),
            1400,
        ),
    ],
)
def test_chargeable_weight(parcel, terms, expected):
    assert chargeable_grams(parcel, terms) == expected


BRACKETS = (
    Bracket(weight_from_grams=0, weight_to_grams=500, flat_price=D("5.00")),
    Bracket(weight_from_grams=500, weight_to_grams=1000, flat_price=D("8.00")),
    Bracket(weight_from_grams=1000, weight_to_grams=2000, flat_price=D("12.50")),
)


@pytest.mark.parametrize(
    ("grams", "brackets", "terms", "expected"),
    [
        # weight brackets: (from, to]
        (1, BRACKETS, USD, "5.00"),
        (500, BRACKETS, USD, "5.00"),
        (501, BRACKETS, USD, "8.00"),
        (2000, BRACKETS, USD, "12.50"),
        # per kg + registration fee (YunExpress-style): 86/kg × 0.35 kg + 18 = 48.10
        (
            350,
            (
                Bracket(
                    weight_to_grams=2000,
                    per_kg_price=D("86"),
                    registration_fee=D("18"),
                ),
            ),
            CardTerms("CNY"),
            "48.10",
        ),
        # first 500 g 30.00, then 9.00 per started 500 g: 1.7 kg = 30 + 3 × 9
        (
            1700,
            (
                Bracket(
                    weight_to_grams=30000,
                    first_weight_grams=500,
                    first_weight_price=D("30"),
                    additional_step_grams=500,
                    additional_step_price=D("9"),
                ),
            ),
            USD,
            "57.00",
        ),
        # exactly the first weight: no additional step
        (
            500,
            (
                Bracket(
                    weight_to_grams=30000,
                    first_weight_grams=500,
                    first_weight_price=D("30"),
                    additional_step_grams=500,
                    additional_step_price=D("9"),
                ),
            ),
            USD,
            "30.00",
        ),
        # fuel 12.5 % on freight, not on the registration fee: 40 × 1.125 + 5
        (
            800,
            (
                Bracket(
                    weight_to_grams=1000,
                    flat_price=D("40"),
                    registration_fee=D("5"),
                ),
            ),
            CardTerms("USD", fuel_surcharge_percent=D("12.5")),
            "50.00",
        ),
        # rounding half up to the currency's minor unit: 7.3/kg × 0.333 kg = 2.4309
        (333, (Bracket(weight_to_grams=1000, per_kg_price=D("7.3")),), USD, "2.43"),
        # JPY has no minor unit: 1234.5 -> 1235
        (
            500,
            (Bracket(weight_to_grams=1000, per_kg_price=D("2469")),),
            CardTerms("JPY"),
            "1235",
        ),
    ],
)
def test_parcel_price(grams, brackets, terms, expected):
    price = parcel_price(Parcel(grams), terms, brackets)
    assert price == Money(D(expected), terms.currency)
    assert str(price.amount) == expected


def test_no_bracket_for_the_weight():
    with pytest.raises(RateCardNoPriceError):
        parcel_price(Parcel(2001), USD, BRACKETS)


ZONES = (
    Zone("1", ("US",), BRACKETS, transit_days_max=8),
    Zone("1W", ("US-CA", "US-WA"), BRACKETS, transit_days_max=6),
    Zone("EU", ("DE", "FR"), BRACKETS),
    Zone("ROW", ("*",), BRACKETS),
)


@pytest.mark.parametrize(
    ("country", "region", "zone"),
    [
        ("US", "TX", "1"),
        ("US", "CA", "1W"),
        ("us", "wa", "1W"),
        ("US", "", "1"),
        ("FR", "", "EU"),
        ("BR", "SP", "ROW"),
    ],
)
def test_zone_for(country, region, zone):
    assert zone_for(ZONES, country=country, region=region).code == zone


def test_no_zone_without_rest_of_world():
    with pytest.raises(RateCardNoPriceError):
        zone_for(ZONES[:3], country="BR")


def test_adapter_quotes_only_served_destinations_and_sums_parcels():
    # given
    adapter = RateCardAdapter(
        account_name="YunExpress",
        services=[
            CardService("yun_us", "Yun US", USD, (ZONES[0], ZONES[1])),
            CardService("yun_eu", "Yun EU", USD, (ZONES[2],)),
        ],
    )
    request = RateRequest(
        shipper=Address(name="WH", street1="1", city="Shenzhen", country_code="CN"),
        recipient=Address(
            name="A", street1="1", city="LA", country_code="US", state_code="CA"
        ),
        parcels=(Parcel(400), Parcel(900)),
    )

    # when
    quotes = adapter.get_rates(request)

    # then: 5.00 + 8.00, zone 1W's transit; no EU quote
    assert [(q.service_code, q.total, q.transit_days) for q in quotes] == [
        ("yun_us", Money(D("13.00"), "USD"), 6)
    ]
    assert quotes[0].raw == {"zone": "1W", "chargeable_grams": [400, 900]}
