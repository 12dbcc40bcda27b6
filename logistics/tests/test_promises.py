"""Each store's delivery promise: the cheapest service that keeps it, and the reason why."""

from decimal import Decimal

import pytest

from connectors.tests.factories import ChannelFactory
from logistics.choices import RateQuoteStatus
from logistics.exceptions import NoEligibleServiceError
from logistics.models import DeliveryPromise, RateQuote
from logistics.selectors import delivery_promise_for
from logistics.services.selection import shipment_select_service
from logistics.tests.factories import rate_card_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines():
    """Three lines to the US and Hawaii: slow and cheap, middling, fast and dear."""
    return {
        "sea": rate_card_service(
            code="sea_post", price="4.00", transit_days=8, countries=("US",)
        ),
        "yun": rate_card_service(
            code="yun_line", price="7.00", transit_days=4, countries=("US",)
        ),
        "express": rate_card_service(
            code="express", price="20.00", transit_days=2, countries=("US",)
        ),
    }


@pytest.fixture
def stores():
    """A strict store (5 business days to the US, 1 of handling, 10 to Hawaii) and a lax one."""
    strict = ChannelFactory(code="fast-store", name="Fast Store")
    lax = ChannelFactory(code="lax-store", name="Lax Store")
    DeliveryPromise.objects.create(
        channel=strict, destinations=["US"], business_days=5, handling_days=1
    )
    DeliveryPromise.objects.create(
        channel=strict, destinations=["US-HI"], business_days=10
    )
    return strict, lax


@pytest.mark.parametrize(
    ("store", "region", "chosen", "price", "reason_bits"),
    [
        # 4 days in transit allowed: sea (8) is dropped, yun (4) is the cheapest left
        (
            "strict",
            "TX",
            "yun_line",
            "7.00",
            [
                "Meets Fast Store's promise of delivery within 5 business days to US "
                "(1 handling day(s) leave 4 in transit)",
                "Sea Post (8 days breaks the 4-day promise)",
            ],
        ),
        # Hawaii has its own, looser promise: sea (8 ≤ 10) qualifies and is cheapest
        (
            "strict",
            "HI",
            "sea_post",
            "4.00",
            ["Meets Fast Store's promise of delivery within 10 business days to US-HI"],
        ),
        # no promise at all: the cheapest wins
        ("lax", "TX", "sea_post", "4.00", ["cheapest of 3 qualifying"]),
    ],
)
def test_store_promise_decides_how_fast_the_cheapest_service_must_be(
    lines, stores, draft, store, region, chosen, price, reason_bits
):
    # given
    channel = stores[0] if store == "strict" else stores[1]
    shipment = draft(country="US", region=region, channel=channel)

    # when
    shipment = shipment_select_service(shipment_id=shipment.pk)

    # then
    assert shipment.service.code == chosen
    assert shipment.chosen_quote.compared_amount == Decimal(price)
    for bit in reason_bits:
        assert bit in shipment.selection_reason
    if store == "lax":
        assert shipment.promise_note == ""
        assert "promise" not in shipment.selection_reason
    else:
        assert shipment.promise_note in shipment.selection_reason
    assert RateQuote.objects.filter(shipment=shipment).count() == 3
    assert (
        RateQuote.objects.filter(shipment=shipment, status=RateQuoteStatus.CHOSEN).get()
        == shipment.chosen_quote
    )


def test_strict_store_pays_for_speed_the_lax_store_does_not(lines, stores, draft):
    # given: the same parcel to the same address from both stores
    strict, lax = stores
    fast = draft(channel=strict)
    slow = draft(channel=lax)

    # when
    fast = shipment_select_service(shipment_id=fast.pk)
    slow = shipment_select_service(shipment_id=slow.pk)

    # then
    assert fast.chosen_quote.transit_days < slow.chosen_quote.transit_days
    assert fast.chosen_quote.compared_amount > slow.chosen_quote.compared_amount


def test_promise_nobody_can_keep_leaves_the_shipment_for_ops(lines, draft):
    # given: a store promising next-day delivery
    store = ChannelFactory(code="next-day", name="Next Day")
    DeliveryPromise.objects.create(channel=store, destinations=[], business_days=1)
    shipment = draft(channel=store)

    # when / then
    with pytest.raises(NoEligibleServiceError) as caught:
        shipment_select_service(shipment_id=shipment.pk)
    assert "Express (2 days breaks the 1-day promise)" in caught.value.message
    shipment.refresh_from_db()
    assert shipment.service is None
    assert RateQuote.objects.filter(shipment=shipment).count() == 3
    # the refusal names the promise it was held to, never claims to meet it
    stored = f"{shipment.error} {shipment.selection_reason}"
    assert "Held to Next Day's promise of delivery within 1 business" in stored
    assert "Meets" not in stored


@pytest.mark.parametrize(
    ("country", "region", "days"),
    [("US", "HI", 10), ("US", "TX", 4), ("us", "", 4), ("GB", "", None)],
)
def test_most_specific_destination_promise_applies(stores, country, region, days):
    promise = delivery_promise_for(
        channel_id=stores[0].pk, country=country, region=region
    )
    assert (promise.carrier_days if promise else None) == days


def test_ops_set_a_store_promise_through_the_api(db):
    from django.contrib.auth.models import Group, User
    from rest_framework.test import APIClient

    # given
    store = ChannelFactory(code="api-store")
    user = User.objects.create_user("ops-user", password="pw-for-tests-1")
    user.groups.add(Group.objects.get(name="ops"))
    ops = APIClient()
    ops.force_authenticate(user)
    url = "/api/v1/logistics/delivery-promises/"

    # when
    created = ops.post(
        url,
        {
            "channel": store.pk,
            "destinations": ["us", "US-HI"],
            "business_days": 5,
            "handling_days": 1,
        },
        format="json",
    )
    refused = ops.post(
        url,
        {
            "channel": store.pk,
            "destinations": ["USA"],
            "business_days": 1,
            "handling_days": 1,
        },
        format="json",
    )
    listed = ops.get(url, {"channel": store.pk})

    # then
    assert created.status_code == 201, created.json()
    assert created.json()["destinations"] == ["US", "US-HI"]
    assert created.json()["carrier_days"] == 4
    assert refused.status_code == 400
    assert "destinations" in str(refused.json())
    assert "USA" in str(refused.json())
    assert [p["id"] for p in listed.json()["results"]] == [created.json()["id"]]
    assert DeliveryPromise.objects.get().business_days == 5
