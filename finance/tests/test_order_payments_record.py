from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.tests.factories import ChannelFactory
from finance.exceptions import InvalidFinanceDataError, OrderNotFoundError
from finance.models import Payment, Refund, RefundLine
from finance.services.payments import order_payments_record
from finance.tests.factories import at, refund, sale
from orders.tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    order = OrderFactory(currency="USD", total=Decimal("50.00"))
    OrderLineFactory(order=order, external_id="L1")
    OrderLineFactory(order=order, external_id="L2")
    return order


def test_records_transactions_and_refunds_with_lines(order):
    # when
    result = order_payments_record(
        order_id=order.pk,
        channel_id=order.channel_id,
        transactions=[
            sale("t1", "50.00", fee="1.75", gateway="PPCP-Gateway", reference="PP-9"),
            sale("t2", "20.00", kind="refund", day="2025-05-12"),
        ],
        refunds=[refund("r1", "20.00", lines=(("L1", 1, True), ("L9", 2, False)))],
    )

    # then
    assert (result.payments_created, result.refunds_created) == (2, 1)
    assert set(
        Payment.objects.values_list(
            "external_id", "kind", "gateway_key", "amount", "fee", "fee_currency"
        )
    ) == {
        ("t1", "sale", "paypal", Decimal("50.00"), Decimal("1.75"), "USD"),
        ("t2", "refund", "shopify_payments", Decimal("20.00"), None, ""),
    }
    stored = Refund.objects.get()
    assert (stored.order_id, stored.channel_id, stored.amount, stored.refunded_at) == (
        order.pk,
        order.channel_id,
        Decimal("20.00"),
        at("2025-05-12"),
    )
    lines = {
        (ln.line_external_id, ln.order_line_id is not None, ln.quantity, ln.restock)
        for ln in RefundLine.objects.all()
    }
    assert lines == {("L1", True, 1, True), ("L9", False, 2, False)}


def test_replay_changes_nothing_and_an_update_is_applied(order):
    # given
    args = {
        "order_id": order.pk,
        "channel_id": order.channel_id,
        "transactions": [sale("t1", "50.00")],
        "refunds": [refund("r1", "5.00", lines=(("L2", 1, False),))],
    }
    first = order_payments_record(**args)

    # when
    replay = order_payments_record(**args)
    later = order_payments_record(
        **{
            **args,
            "transactions": [sale("t1", "50.00", fee="1.50")],
            "refunds": [refund("r1", "5.00", lines=(("L2", 1, True),))],
        }
    )

    # then
    assert replay.changed is False
    assert (replay.payments_unchanged, replay.refunds_unchanged) == (1, 1)
    assert replay.payment_ids == first.payment_ids
    assert (later.payments_updated, later.refunds_updated) == (1, 1)
    assert Payment.objects.get().fee == Decimal("1.50")
    assert list(RefundLine.objects.values_list("restock", flat=True)) == [True]
    assert (Payment.objects.count(), Refund.objects.count()) == (1, 1)


def test_a_payload_without_history_keeps_it(order):
    # given
    order_payments_record(
        order_id=order.pk,
        channel_id=order.channel_id,
        transactions=[sale("t1", "50.00")],
        refunds=[],
    )

    # when
    order_payments_record(
        order_id=order.pk, channel_id=order.channel_id, transactions=[], refunds=[]
    )

    # then
    assert Payment.objects.filter(order=order).count() == 1


def test_bad_input_lists_every_problem_and_writes_nothing(order):
    # when
    with pytest.raises(InvalidFinanceDataError) as caught:
        order_payments_record(
            order_id=order.pk,
            channel_id=ChannelFactory().pk,
            transactions=[
                sale("t1", "50.00", kind="suggested_refund"),
                sale("t1", "1"),
            ],
            refunds=[refund("", "-1", currency="US")],
        )

    # then
    problems = caught.value.extra["problems"]
    assert len(problems) == 6
    assert any("kind 'suggested_refund'" in p for p in problems)
    assert any("appears twice" in p for p in problems)
    assert any(p.startswith("the order belongs to store") for p in problems)
    assert Payment.objects.exists() is False
    assert Refund.objects.exists() is False


def test_unknown_order():
    with pytest.raises(OrderNotFoundError):
        order_payments_record(
            order_id=987654, channel_id=1, transactions=[sale("t", "1")], refunds=[]
        )


@pytest.mark.postgres
def test_locks_the_order_row_before_writing(order):
    # when
    with CaptureQueriesContext(connection) as queries:
        order_payments_record(
            order_id=order.pk,
            channel_id=order.channel_id,
            transactions=[sale("t1", "50.00")],
            refunds=[],
        )

    # then
    sql = [q["sql"] for q in queries.captured_queries]
    lock = next(i for i, s in enumerate(sql) if "FOR NO KEY UPDATE" in s)
    insert = next(
        i for i, s in enumerate(sql) if s.startswith('INSERT INTO "finance_payment"')
    )
    assert '"orders_order"' in sql[lock]
    assert lock < insert
