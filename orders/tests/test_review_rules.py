from decimal import Decimal

import pytest

from inventory.tests.factories import WarehouseFactory
from orders.canonical import CanonicalAddress, OrderSource, RiskLevel
from orders.choices import FinancialStatus, OrderStatus, ReviewAction, ReviewRuleKind
from orders.models import Customer, Order, ReviewRule
from orders.review import review_rule_dry_run
from orders.services.ingest import order_ingest
from orders.tests.builders import US_ADDRESS, canonical_order

pytestmark = pytest.mark.django_db


def _ingest(channel, **kwargs) -> Order:
    result = order_ingest(
        channel_id=channel.pk,
        data=canonical_order(**kwargs),
        source=OrderSource.WEBHOOK,
    )
    return Order.objects.get(pk=result.order_id)


def _reasons(order: Order) -> list[str]:
    return [r["message"] for r in order.hold_reasons]


def test_unpaid_order_is_held_and_released_when_paid(channel, stock):
    stock("SKU-A", 5)

    held = _ingest(channel, financial_status=FinancialStatus.PENDING)
    assert held.status == OrderStatus.ON_HOLD
    assert _reasons(held) == ["Payment not captured: the store reports it as pending."]

    released = _ingest(channel, version=2, financial_status=FinancialStatus.PAID)
    assert released.status == OrderStatus.ALLOCATED
    assert released.hold_reasons == []


def test_high_fraud_risk_is_held_until_the_store_clears_it(channel, stock):
    stock("SKU-A", 5)

    held = _ingest(channel, risk_level=RiskLevel.HIGH)
    assert _reasons(held) == ["Fraud risk is high by the store's analysis."]

    assert (
        _ingest(channel, version=2, risk_level=RiskLevel.LOW).status
        == OrderStatus.ALLOCATED
    )


def test_invalid_postal_code_is_held_with_the_problem_named(channel, stock):
    stock("SKU-A", 5)
    bad = CanonicalAddress(**{**US_ADDRESS.as_dict(), "postal_code": "7870"})

    held = _ingest(channel, address=bad)
    assert _reasons(held) == [
        "Address incomplete: postal code '7870' is invalid for US."
    ]

    assert (
        _ingest(channel, version=2, address=US_ADDRESS).status == OrderStatus.ALLOCATED
    )


def test_address_in_chinese_passes(channel, stock):
    stock("SKU-A", 5, warehouse=WarehouseFactory(code="sz", country="CN"))
    address = CanonicalAddress(
        name="李伟",
        line1="科技园1号",
        city="深圳市",
        province="广东省",
        postal_code="518000",
        country_code="CN",
    )
    assert _ingest(channel, address=address).status == OrderStatus.ALLOCATED


def test_blocked_customer_is_held(channel, stock):
    stock("SKU-A", 5)
    Customer.objects.create(
        email="ava@example.com",
        email_normalized="ava@example.com",
        is_blocked=True,
        blocked_reason="chargebacks",
    )

    held = _ingest(channel)

    assert _reasons(held) == [
        "Customer ava@example.com is on the block list: chargebacks."
    ]


def test_order_value_above_the_limit_for_its_currency_is_held(channel, stock):
    stock("SKU-A", 50)
    ReviewRule.objects.create(
        name="Big orders",
        kind=ReviewRuleKind.ORDER_VALUE_ABOVE,
        parameters={"limits": {"USD": "100", "EUR": "90"}},
    )

    assert _ingest(channel, external_id="1", lines=[("SKU-A", 10, "10.00")]).status == (
        OrderStatus.ALLOCATED
    )
    held = _ingest(
        channel,
        external_id="2",
        lines=[("SKU-A", 11, "10.00")],
        email="other@example.com",
    )
    assert _reasons(held) == ["Order value 110.00 USD is above the 100.00 USD limit."]


def test_unknown_sku_is_held_even_without_a_rule(channel, stock):
    ReviewRule.objects.filter(kind=ReviewRuleKind.UNKNOWN_SKU).delete()
    stock("SKU-A", 5)

    held = _ingest(channel, lines=[("SKU-A", 1, "10.00"), ("NOPE-9", 1, "3.00")])

    assert held.status == OrderStatus.ON_HOLD
    assert _reasons(held) == ["Unknown SKU: NOPE-9 (not in the product list)."]


def test_destination_no_warehouse_serves_is_held(channel, stock):
    stock(
        "SKU-A",
        5,
        warehouse=WarehouseFactory(
            code="us-la", country="US", service_area=["US", "CA"]
        ),
    )
    brazil = CanonicalAddress(
        name="Ana",
        line1="Av. Paulista 1000",
        city="São Paulo",
        province_code="SP",
        postal_code="01310-100",
        country_code="BR",
    )

    held = _ingest(channel, address=brazil)

    assert _reasons(held) == ["No active warehouse ships to BR-SP."]


def test_likely_duplicate_is_flagged_not_held(channel, stock):
    stock("SKU-A", 5)
    _ingest(channel, external_id="1001")

    second = _ingest(channel, external_id="1002")

    assert second.status == OrderStatus.ALLOCATED
    assert [f["message"] for f in second.review_flags] == [
        "Looks like a duplicate of #1001 (same customer and items within 24 h)."
    ]


def test_stock_short_flags_and_waits_then_allocates_when_stock_arrives(channel, stock):
    from orders.services.workflow import orders_awaiting_stock_allocate

    stock("SKU-A", 1)
    waiting = _ingest(channel, lines=[("SKU-A", 3, "10.00")])
    assert waiting.status == OrderStatus.AWAITING_STOCK
    assert [f["message"] for f in waiting.review_flags] == [
        "Stock short: SKU-A needs 3, 1 available."
    ]
    assert (
        waiting.events.last().message
        == "Waiting for stock: SKU-A needs 3, 1 available."
    )

    stock("SKU-A", 5)
    assert orders_awaiting_stock_allocate() == 1
    waiting.refresh_from_db()
    assert waiting.status == OrderStatus.ALLOCATED


def test_waiting_orders_allocate_as_soon_as_their_stock_is_received(channel, stock):
    from erp.core.outbox import outbox_drain

    # given: two orders waiting, each for its own SKU
    stock("SKU-A", 1)
    stock("SKU-B", 1)
    waiting_a = _ingest(channel, external_id="2001", lines=[("SKU-A", 3, "10.00")])
    waiting_b = _ingest(channel, external_id="2002", lines=[("SKU-B", 2, "10.00")])
    assert (waiting_a.status, waiting_b.status) == (
        OrderStatus.AWAITING_STOCK,
        OrderStatus.AWAITING_STOCK,
    )
    outbox_drain()

    # when: SKU-A is received and the outbox delivers what that committed
    stock("SKU-A", 5)
    outbox_drain()

    # then: the order waiting for SKU-A is allocated without the beat sweep; the one
    # waiting for SKU-B still waits
    waiting_a.refresh_from_db()
    waiting_b.refresh_from_db()
    assert waiting_a.status == OrderStatus.ALLOCATED
    assert waiting_b.status == OrderStatus.AWAITING_STOCK


def test_stock_short_rule_can_hold_instead(channel, stock):
    ReviewRule.objects.filter(kind=ReviewRuleKind.STOCK_SHORT).update(
        action=ReviewAction.HOLD
    )
    stock("SKU-A", 1)

    held = _ingest(channel, lines=[("SKU-A", 3, "10.00")])

    assert _reasons(held) == ["Stock short: SKU-A needs 3, 1 available."]


def test_rule_scoped_to_another_store_does_not_apply(channel, stock):
    from connectors.tests.factories import ChannelFactory

    stock("SKU-A", 50)
    rule = ReviewRule.objects.create(
        name="EU big orders",
        kind=ReviewRuleKind.ORDER_VALUE_ABOVE,
        parameters={"limits": {"USD": "5"}},
    )
    rule.channels.add(ChannelFactory(code="eu-shop"))

    assert _ingest(channel).status == OrderStatus.ALLOCATED


def test_inactive_rule_does_not_hold(channel, stock):
    ReviewRule.objects.filter(kind=ReviewRuleKind.PAYMENT_NOT_CAPTURED).update(
        is_active=False
    )
    stock("SKU-A", 5)
    assert _ingest(channel, financial_status=FinancialStatus.PENDING).status == (
        OrderStatus.ALLOCATED
    )


def test_dry_run_shows_what_a_new_rule_would_do_without_changing_orders(channel, stock):
    stock("SKU-A", 50)
    small = _ingest(channel, external_id="1", lines=[("SKU-A", 1, "10.00")])
    big = _ingest(
        channel, external_id="2", lines=[("SKU-A", 30, "10.00")], email="b@example.com"
    )
    rule = ReviewRule(
        name="Over 100",
        kind=ReviewRuleKind.ORDER_VALUE_ABOVE,
        parameters={"limits": {"USD": "100"}},
    )

    rows = review_rule_dry_run(rule=rule, last_n=10)

    assert {(row.number, row.fired) for row in rows} == {
        (small.number, False),
        (big.number, True),
    }
    assert next(r for r in rows if r.fired).message == (
        "Order value 300.00 USD is above the 100.00 USD limit."
    )
    big.refresh_from_db()
    assert big.status == OrderStatus.ALLOCATED
    assert big.total == Decimal("300.0000")


def test_a_webhook_without_a_fraud_verdict_keeps_the_one_the_poll_brought(
    channel, stock
):
    stock("SKU-A", 5)
    held = _ingest(channel, risk_level=RiskLevel.HIGH)

    again = _ingest(channel, version=2, risk_level=RiskLevel.UNKNOWN, note="gift")

    assert (again.risk_level, again.status, again.note) == (
        "high",
        OrderStatus.ON_HOLD,
        "gift",
    )
    assert held.pk == again.pk
