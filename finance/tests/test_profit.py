import datetime
from decimal import Decimal

import pytest

from connectors.tests.factories import ChannelFactory
from erp.core.money import Money
from finance.choices import CostKind, CustomerType, FxStatus
from finance.exceptions import InvalidFinanceDataError
from finance.models import OrderCost, OrderLineProfit, OrderProfit
from finance.selectors.profit import ProfitFilters, profit_aggregate
from finance.services.fx import exchange_rate_set, exchange_rates_import_ecb
from finance.services.payments import order_payments_record
from finance.services.profit import order_cost_record, order_profits_refresh_stale
from finance.tests.factories import at, refund, sale
from orders.tests.factories import CustomerFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db
FRIDAY = datetime.date(2025, 5, 9)
MONDAY = datetime.date(2025, 5, 12)


@pytest.fixture
def rates(fixture_bytes):
    exchange_rates_import_ecb(
        content=fixture_bytes("ecb_eurofxref-daily_2025-05-09.xml"), reference="ecb"
    )
    exchange_rate_set(base="EUR", quote="USD", rate=Decimal("1.1100"), on=MONDAY)


@pytest.fixture
def seeded_order(rates):
    """A EUR order in a USD company: two lines, a partial refund, two lots, a shipment."""
    store = ChannelFactory(code="de-shop", currency="EUR")
    order = OrderFactory(
        channel=store,
        currency="EUR",
        subtotal=Decimal("100.00"),
        discount_total=Decimal("10.00"),
        shipping_total=Decimal("5.00"),
        tax_total=Decimal("0"),
        total=Decimal("95.00"),
        financial_status="partially_refunded",
        placed_at=at("2025-05-09", 8),
        shipping_address={"country_code": "DE", "city": "Berlin"},
        tags=["vip"],
    )
    line_a = OrderLineFactory(
        order=order, external_id="A", sku="MUG", quantity=2, unit_price=Decimal("30.00")
    )
    line_b = OrderLineFactory(
        order=order, external_id="B", sku="TEE", quantity=1, unit_price=Decimal("40.00")
    )
    order_payments_record(
        order_id=order.pk,
        channel_id=store.pk,
        transactions=[
            sale("t1", "95.00", currency="EUR", fee="3.05", gateway="paypal")
        ],
        refunds=[
            refund(
                "r1", "20.00", currency="EUR", day="2025-05-12", lines=(("B", 1, True),)
            )
        ],
    )
    # shipping: two lots at different costs (CNY) and the label (USD)
    order_cost_record(
        order_id=order.pk,
        kind=CostKind.COGS,
        amount=Money(Decimal("100.00"), "CNY"),
        reference="lot L-A1 × 2",
        on=FRIDAY,
        order_line_id=line_a.pk,
    )
    order_cost_record(
        order_id=order.pk,
        kind=CostKind.COGS,
        amount=Money(Decimal("80.00"), "CNY"),
        reference="lot L-B7 × 1",
        on=FRIDAY,
        order_line_id=line_b.pk,
    )
    order_cost_record(
        order_id=order.pk,
        kind=CostKind.SHIPPING,
        amount=Money(Decimal("7.50"), "USD"),
        reference="shipment 1Z999",
        on=FRIDAY,
    )
    return order


def test_profit_of_a_seeded_order_matches_the_hand_calculation(seeded_order):
    # Hand calculation, USD, each figure at the rate of its day, rounded to cents:
    #   revenue   (95 − 0 + 10) EUR × 1.1252           = 118.15
    #   discounts  10 EUR × 1.1252                     =  11.25
    #   refunds    20 EUR × 1.1100 (rate of 12 May)    =  22.20
    #   goods     100 CNY × 1.1252/8.1470 = 13.81, 80 CNY → 11.05 = 24.86
    #   shipping    7.50 USD                           =   7.50
    #   fees        3.05 EUR × 1.1252                  =   3.43
    #   profit = 118.15 − 11.25 − 22.20 − 24.86 − 7.50 − 3.43 = 48.91
    row = OrderProfit.objects.get(order=seeded_order)

    assert (row.revenue, row.discounts, row.refunds) == (
        Decimal("118.15"),
        Decimal("11.25"),
        Decimal("22.20"),
    )
    assert (row.cogs, row.shipping_cost, row.fees, row.other_costs) == (
        Decimal("24.86"),
        Decimal("7.50"),
        Decimal("3.43"),
        Decimal("0"),
    )
    assert row.profit == Decimal("48.91")
    assert (row.fx_status, row.country, row.base_currency) == (
        FxStatus.EXACT,
        "DE",
        "USD",
    )

    table = profit_aggregate(
        filters=ProfitFilters(country="DE"), group_by="country_period"
    )
    assert [(r.label, r.orders, r.figures["profit"]) for r in table.rows] == [
        ("DE · 2025-05-01", 1, Decimal("48.91"))
    ]
    assert table.totals.figures["profit"] == Decimal("48.91")


def test_line_profit_carries_its_own_lot_cost_and_a_share_of_the_rest(seeded_order):
    lines = {
        lp.sku: lp
        for lp in OrderLineProfit.objects.filter(order_profit__order=seeded_order)
    }
    # line revenue: MUG 60 EUR → 67.51, TEE 40 EUR → 45.01
    assert (lines["MUG"].revenue, lines["TEE"].revenue) == (
        Decimal("67.51"),
        Decimal("45.01"),
    )
    assert (lines["MUG"].cogs, lines["TEE"].cogs) == (
        Decimal("13.81"),
        Decimal("11.05"),
    )
    # refunds + shipping + fees = 33.13 shared 67.51 : 45.01
    assert lines["MUG"].other_costs + lines["TEE"].other_costs == Decimal("33.13")
    assert lines["MUG"].other_costs == Decimal("19.88")
    table = profit_aggregate(filters=ProfitFilters(), group_by="product")
    assert {r.label: r.figures["profit"] for r in table.rows} == {
        "MUG": Decimal("33.82"),
        "TEE": Decimal("20.71"),
    }


def test_recording_the_same_lot_again_replaces_it(seeded_order):
    # when
    order_cost_record(
        order_id=seeded_order.pk,
        kind=CostKind.COGS,
        amount=Money(Decimal("90.00"), "CNY"),
        reference="lot L-A1 × 2",
        on=FRIDAY,
    )

    # then
    assert OrderCost.objects.filter(order=seeded_order, kind=CostKind.COGS).count() == 2
    assert OrderProfit.objects.get(order=seeded_order).cogs == Decimal(
        "23.48"
    )  # 12.43 + 11.05


def test_missing_rates_keep_the_row_out_of_reports_until_they_arrive(fixture_bytes):
    # given: a GBP order and no rates yet
    order = OrderFactory(
        currency="GBP", total=Decimal("50.00"), placed_at=at("2025-05-09")
    )
    order_payments_record(
        order_id=order.pk,
        channel_id=order.channel_id,
        transactions=[sale("g1", "50.00", currency="GBP")],
        refunds=[],
    )
    row = OrderProfit.objects.get(order=order)
    assert row.fx_status == FxStatus.MISSING
    assert "GBP→USD on 2025-05-09" in row.fx_note
    table = profit_aggregate(filters=ProfitFilters(), group_by="period")
    assert (table.rows, table.orders_missing_rates) == ([], 1)

    # when
    exchange_rates_import_ecb(
        content=fixture_bytes("ecb_eurofxref-daily_2025-05-09.xml"), reference="ecb"
    )
    refreshed = order_profits_refresh_stale(since=FRIDAY)

    # then: 50 GBP × 1.1252 / 0.84770 = 66.37
    row.refresh_from_db()
    assert refreshed == 1
    assert (row.fx_status, row.revenue) == (FxStatus.EXACT, Decimal("66.37"))


def test_groups_by_customer_type_tag_and_store(rates):
    # given
    us, uk = (
        ChannelFactory(code="us", currency="USD"),
        ChannelFactory(code="uk", currency="USD"),
    )
    buyer = CustomerFactory(tags=["wholesale"])
    first = OrderFactory(
        channel=us, customer=buyer, total=Decimal("10"), placed_at=at("2025-05-02")
    )
    second = OrderFactory(
        channel=uk, customer=buyer, total=Decimal("30"), placed_at=at("2025-05-03")
    )
    for order in (first, second):
        order_payments_record(
            order_id=order.pk, channel_id=order.channel_id, transactions=[], refunds=[]
        )

    # when
    by_type = profit_aggregate(filters=ProfitFilters(), group_by="customer_type")
    by_tag = profit_aggregate(filters=ProfitFilters(), group_by="tag")
    by_store = profit_aggregate(
        filters=ProfitFilters(channel_id=uk.pk), group_by="channel"
    )

    # then
    assert {r.label: r.figures["revenue"] for r in by_type.rows} == {
        CustomerType.NEW: Decimal("10.00"),
        CustomerType.RETURNING: Decimal("30.00"),
    }
    assert [(r.label, r.orders) for r in by_tag.rows] == [("wholesale", 2)]
    assert [(r.label, r.figures["profit"]) for r in by_store.rows] == [
        ("uk", Decimal("30.00"))
    ]


def test_bad_cost_is_refused(seeded_order):
    with pytest.raises(InvalidFinanceDataError) as caught:
        order_cost_record(
            order_id=seeded_order.pk,
            kind="marketing",
            amount=Money(Decimal("-1"), "USD"),
            reference="",
            on=FRIDAY,
        )
    assert len(caught.value.extra["problems"]) == 3
