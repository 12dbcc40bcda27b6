"""Goods heavier or larger than a service takes go as several parcels of one shipment."""

from decimal import Decimal

import pytest

from logistics.carriers.base import Parcel
from logistics.choices import RateQuoteStatus, ShipmentStatus
from logistics.models import Package, RateQuote
from logistics.services.labels import shipment_buy_label
from logistics.services.packing import PackUnit, ParcelLimits, parcels_pack
from logistics.services.selection import shipment_select_service
from logistics.services.shipments import ShipmentItemInput
from logistics.tests.factories import CarrierServiceFactory, rate_card_service

TEA = PackUnit("TEA", 700, 200, 150, 50)
MUG = PackUnit("MUG", 400, 120, 120, 100)
ANVIL = PackUnit("ANVIL", 2500, 300, 200, 200)


@pytest.mark.parametrize(
    ("units", "limits", "packaging", "weights"),
    [
        # fits in one: nothing to split
        ([TEA, TEA], ParcelLimits(max_weight_grams=2000), 150, [1550]),
        # 5 × 700 g, 1850 g of goods per 2 kg parcel: 2 + 2 + 1
        ([TEA] * 5, ParcelLimits(max_weight_grams=2000), 150, [1550, 1550, 850]),
        # heaviest first, the light ones fill the gaps
        (
            [TEA, TEA, MUG, MUG, MUG],
            ParcelLimits(max_weight_grams=2000),
            100,
            [1900, 900],
        ),
        # no limit: one parcel whatever it weighs
        ([TEA] * 10, ParcelLimits(), 150, [7150]),
        # stacked height: 4 × 100 mm mugs, 250 mm longest side allowed -> 2 per box
        ([MUG] * 4, ParcelLimits(max_length_mm=250), 0, [800, 800]),
        # length + girth 600 mm: 200 + 2 × (150 + 50·n) ≤ 600 -> one tea per box
        ([TEA] * 2, ParcelLimits(max_girth_mm=600), 0, [700, 700]),
    ],
)
def test_goods_are_packed_into_the_fewest_parcels_within_the_limits(
    units, limits, packaging, weights
):
    parcels = parcels_pack(
        units=units, limits=limits, packaging_grams=packaging, reference="#1001"
    )

    assert [p.weight_grams for p in parcels] == weights
    assert all(not limits.breach(p) for p in parcels)
    if len(parcels) > 1:
        assert [p.reference for p in parcels] == [
            f"#1001 {n}/{len(parcels)}" for n in range(1, len(parcels) + 1)
        ]


@pytest.mark.parametrize(
    ("units", "limits"),
    [
        ([ANVIL], ParcelLimits(max_weight_grams=2000)),
        ([TEA, ANVIL], ParcelLimits(max_weight_grams=2000)),
        ([ANVIL], ParcelLimits(max_length_mm=250)),
    ],
)
def test_a_unit_too_big_on_its_own_cannot_be_split(units, limits):
    assert (
        parcels_pack(units=units, limits=limits, packaging_grams=0, reference="")
        is None
    )


FIVE_TEAS = (
    ShipmentItemInput(
        "TEA",
        "Green tea",
        5,
        unit_weight_grams=700,
        length_mm=200,
        width_mm=150,
        height_mm=50,
    ),
)


@pytest.fixture
def ups_standard(api_account):
    """UPS Standard (2 kg per parcel here) against its fake; the sample prices 132.84 CAD."""
    account, fake = api_account("ups")
    service = CarrierServiceFactory(
        account=account,
        code="ups_standard",
        name="UPS Standard",
        max_weight_grams=2000,
    )
    return service, fake


@pytest.mark.django_db
def test_heavy_order_is_quoted_and_labelled_as_several_parcels(ups_standard, draft):
    # given: 3.65 kg in one box; a rate-card line takes it whole for 150 CAD
    service, fake = ups_standard
    rate_card_service(code="heavy_line", price="150.00", currency="CAD")
    shipment = draft(
        currency="CAD",
        grams=3650,
        items=FIVE_TEAS,
        packaging_grams=150,
    )

    # when
    shipment = shipment_select_service(shipment_id=shipment.pk)

    # then: UPS was asked for three parcels and is cheaper than the whole-box line
    assert shipment.service == service
    rating = next(r for r in fake.requests if r.path.startswith("/api/rating/"))
    packages = rating.json()["RateRequest"]["Shipment"]["Package"]
    assert len(packages) == 3
    assert [p["PackageWeight"]["Weight"] for p in packages] == [
        "3.42",  # 1.55 kg in lb
        "3.42",
        "1.87",  # 0.85 kg
    ]
    assert (
        "Goods split into 3 parcels (1550, 1550, 850 g) to fit the 2000 g limit."
        in (shipment.selection_reason)
    )
    chosen = shipment.chosen_quote
    assert (chosen.parcel_count, chosen.amount) == (3, Decimal("132.84"))
    whole = RateQuote.objects.get(shipment=shipment, service_code="heavy_line")
    assert (whole.parcel_count, whole.status) == (1, RateQuoteStatus.ELIGIBLE)
    assert list(
        Package.objects.filter(shipment=shipment).values_list(
            "weight_grams", "reference"
        )
    ) == [
        (1550, f"{shipment.reference} 1/3"),
        (1550, f"{shipment.reference} 2/3"),
        (850, f"{shipment.reference} 3/3"),
    ]

    # when: the label is bought
    shipment = shipment_buy_label(shipment_id=shipment.pk)

    # then: one UPS shipment with three packages
    assert shipment.status == ShipmentStatus.LABEL_PURCHASED
    ship = fake.requests[-1].json()["ShipmentRequest"]["Shipment"]
    assert len(ship["Package"]) == 3


@pytest.mark.django_db
def test_a_unit_over_the_limit_drops_the_service_with_the_reason(ups_standard, draft):
    # given: one 2.5 kg item; only the rate-card line can take it
    rate_card_service(code="heavy_line", price="150.00", currency="CAD")
    shipment = draft(
        currency="CAD",
        grams=2650,
        items=(ShipmentItemInput("ANVIL", "Anvil", 1, unit_weight_grams=2500),),
        packaging_grams=150,
    )

    # when
    shipment = shipment_select_service(shipment_id=shipment.pk)

    # then
    assert shipment.service.code == "heavy_line"
    assert "UPS Standard (parcel of 2650 g is over the 2000 g limit)" in (
        shipment.selection_reason
    )
    assert list(shipment.packages.values_list("weight_grams", flat=True)) == [2650]


@pytest.mark.django_db
def test_without_item_weights_the_parcel_is_not_split(ups_standard, draft):
    # given: a draft whose lines carry no unit weight (recorded before splitting existed)
    rate_card_service(code="heavy_line", price="150.00", currency="CAD")
    shipment = draft(currency="CAD", grams=3650, packaging_grams=150)

    # when
    shipment = shipment_select_service(shipment_id=shipment.pk)

    # then
    assert shipment.service.code == "heavy_line"
    assert shipment.packages.count() == 1
    assert Parcel(3650).weight_grams == shipment.packages.get().weight_grams
