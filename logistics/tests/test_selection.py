"""Cheapest suitable service: rules, limits, the promise, currencies, every quote kept."""

import time
from decimal import Decimal

import pytest

from logistics.choices import CarrierKind, RateQuoteStatus, ShipmentStatus
from logistics.exceptions import (
    CurrencyConversionUnavailableError,
    NoEligibleServiceError,
)
from logistics.fx import StaticRates
from logistics.models import CarrierService, RateQuote
from logistics.services.selection import shipment_select_service
from logistics.tests.factories import (
    CarrierAccountFactory,
    CarrierServiceFactory,
    ShippingRuleFactory,
    rate_card_service,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines():
    """Four rate-card lines to US; one express line to anywhere; a 10-day US promise."""
    yun = rate_card_service(
        code="yun_economy",
        price="3.00",
        per_kg="10",
        transit_days=9,
        max_weight_grams=2000,
    )
    fourpx = rate_card_service(
        code="4px_standard", price="5.00", per_kg="6", transit_days=7
    )
    express = rate_card_service(
        code="express", price="25.00", transit_days=3, countries=("US", "*")
    )
    slow = rate_card_service(code="sea_post", price="2.00", transit_days=20)
    ShippingRuleFactory(
        name="US within 10 days", destinations=["US"], max_transit_days=10
    )
    return {"yun": yun, "4px": fourpx, "express": express, "slow": slow}


@pytest.mark.parametrize(
    ("country", "grams", "chosen", "price", "reason_bits"),
    [
        # yun 8.00 and 4px 8.00 tie; 4px is faster (7 days against 9)
        ("US", 500, "4px_standard", "8.00", ["same price; faster"]),
        # 4px 14.00 beats yun 18.00
        (
            "US",
            1500,
            "4px_standard",
            "14.00",
            ["Next: YUN_ECONOMY Yun Economy at 18.00 USD"],
        ),
        # yun is over its 2 kg limit; 4px 23.00 beats express 25.00
        ("US", 3000, "4px_standard", "23.00", ["over the 2000 g limit"]),
        # light parcel: yun 5.00 beats 4px 6.20
        ("US", 200, "yun_economy", "5.00", ["cheapest of 3 qualifying"]),
        # only the express line serves Great Britain
        ("GB", 500, "express", "25.00", ["cheapest of 1 qualifying"]),
    ],
)
def test_cheapest_allowed_service_within_the_promise(
    lines, draft, country, grams, chosen, price, reason_bits
):
    # given
    shipment = draft(country=country, grams=grams)

    # when
    shipment = shipment_select_service(shipment_id=shipment.pk)

    # then
    assert shipment.status == ShipmentStatus.RATED
    assert shipment.service.code == chosen
    assert shipment.chosen_quote.compared_amount == Decimal(price)
    assert shipment.chosen_quote.status == RateQuoteStatus.CHOSEN
    for bit in reason_bits:
        assert bit in shipment.selection_reason
    if country == "US":
        assert (
            "Sea Post (20 days breaks the 10-day promise)" in shipment.selection_reason
        )
        assert "Rule: US within 10 days." in shipment.selection_reason
    stored = RateQuote.objects.filter(shipment=shipment)
    assert stored.filter(status=RateQuoteStatus.CHOSEN).count() == 1
    assert stored.count() == (4 if country == "US" else 1)


def test_preferred_service_wins_when_it_qualifies(lines, draft):
    # given: the rule prefers express although it costs more
    rule = ShippingRuleFactory(
        name="Batteries by express", sku_tags=["battery"], position=1
    )
    rule.preferred_services.add(lines["express"])
    shipment = draft(grams=500, sku_tags=["battery"])

    # when
    shipment = shipment_select_service(shipment_id=shipment.pk)

    # then
    assert shipment.service == lines["express"]
    assert "preferred by the shipping rule" in shipment.selection_reason
    assert "Rule: Batteries by express." in shipment.selection_reason


def test_rule_limits_the_allowed_services(lines, draft):
    # given: heavy parcels to the US may only go by express
    rule = ShippingRuleFactory(
        name="Heavy US", destinations=["US"], min_weight_grams=2500, position=1
    )
    rule.allowed_services.add(lines["express"])
    shipment = draft(grams=3000)

    # when
    shipment = shipment_select_service(shipment_id=shipment.pk)

    # then: 4px would be cheaper, but it is not allowed and was not even asked
    assert shipment.service == lines["express"]
    assert set(shipment.quotes.values_list("service_code", flat=True)) == {"express"}


def test_promise_on_the_shipment_drops_slow_services(lines, draft):
    # given: the store promised 5 days
    shipment = draft(grams=500, promise_days=5)

    # when
    shipment = shipment_select_service(shipment_id=shipment.pk)

    # then
    assert shipment.service == lines["express"]
    assert "7 days breaks the 5-day promise" in shipment.selection_reason


def test_nothing_qualifies_is_refused_with_the_reasons(lines, draft):
    # given: the promise is 2 days, the fastest line takes 3
    shipment = draft(grams=500, promise_days=2)

    # when
    with pytest.raises(NoEligibleServiceError) as caught:
        shipment_select_service(shipment_id=shipment.pk)

    # then
    assert "3 days breaks the 2-day promise" in caught.value.message
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DRAFT
    assert shipment.service is None
    assert RateQuote.objects.filter(shipment=shipment, status="rejected").count() == 4


def test_quotes_in_other_currencies_are_refused_without_rates(
    lines, draft, api_account
):
    # given: UPS quotes in CAD, the shipment compares in USD, nobody has CAD rates
    ups, _ = api_account("ups")
    CarrierServiceFactory(account=ups, code="ups_standard", name="UPS Standard")
    shipment = draft(grams=500)

    # when
    with pytest.raises(CurrencyConversionUnavailableError) as caught:
        shipment_select_service(shipment_id=shipment.pk)

    # then: no silent 1:1, and the quotes are kept for ops
    assert caught.value.extra["missing"] == ["CAD->USD"]
    assert "CAD->USD" in caught.value.message
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DRAFT
    assert shipment.error == "Missing exchange rate(s): CAD->USD"
    ups_quote = RateQuote.objects.get(shipment=shipment, service_code="ups_standard")
    assert (ups_quote.amount, ups_quote.currency) == (Decimal("132.84"), "CAD")
    assert ups_quote.compared_amount is None


def test_quotes_are_converted_with_the_rates_given(lines, draft, api_account):
    # given: UPS Standard 132.84 CAD × 0.05 = 6.64 USD beats every rate card
    ups, _ = api_account("ups")
    CarrierServiceFactory(account=ups, code="ups_standard", name="UPS Standard")
    shipment = draft(grams=500)

    # when
    shipment = shipment_select_service(
        shipment_id=shipment.pk,
        converter=StaticRates({("CAD", "USD"): Decimal("0.05")}),
    )

    # then
    assert shipment.service.code == "ups_standard"
    assert (
        shipment.chosen_quote.compared_amount,
        shipment.chosen_quote.compared_currency,
    ) == (
        Decimal("6.64"),
        "USD",
    )
    assert "6.64 USD (from 132.84 CAD)" in shipment.selection_reason
    # UPS priced five services; only the one we offer was asked for and kept
    assert list(
        RateQuote.objects.filter(shipment=shipment, account=ups).values_list(
            "service_code", flat=True
        )
    ) == ["ups_standard"]


def test_carriers_are_quoted_concurrently_and_slow_ones_left_out(draft, fake_carrier):
    # given: two DHL accounts answering in 0.8 s and one that takes longer than its 1 s
    services = []
    for n, delay in enumerate((0.8, 0.8, 3.0)):
        fake = fake_carrier("dhl_express")
        fake.delay_seconds = delay
        account = CarrierAccountFactory(
            code=f"dhl-{n}",
            name=f"DHL {n}",
            carrier=CarrierKind.DHL_EXPRESS,
            credentials={"username": "u", "password": "p", "account_number": "1"},
            api_base_url=fake.url,
            timeout_seconds=1 if delay > 1 else 5,
            priority=n,
        )
        services.append(
            CarrierServiceFactory(
                account=account,
                code="mydhl_express_worldwide",
                name="Express Worldwide",
            )
        )
    shipment = draft(country="GB", region="", grams=500, currency="GBP")

    # when
    started = time.monotonic()
    shipment = shipment_select_service(shipment_id=shipment.pk)
    elapsed = time.monotonic() - started

    # then: 0.8 s + 0.8 s + 1 s in sequence would be 2.6 s
    assert elapsed < 2.0
    assert shipment.service == services[0]  # same price and days: account priority
    failed = RateQuote.objects.get(shipment=shipment, status=RateQuoteStatus.FAILED)
    assert failed.account == services[2].account
    assert failed.reason == "no answer within 1 s"
    assert "No quote from: DHL 2 (no answer within 1 s)." in shipment.selection_reason


def test_inactive_services_and_accounts_are_not_asked(lines, draft):
    # given
    CarrierService.objects.filter(pk=lines["4px"].pk).update(is_active=False)
    lines["yun"].account.is_active = False
    lines["yun"].account.save()
    shipment = draft(grams=500)

    # when
    shipment = shipment_select_service(shipment_id=shipment.pk)

    # then
    assert shipment.service == lines["express"]
    assert set(shipment.quotes.values_list("service_code", flat=True)) == {
        "express",
        "sea_post",
    }
