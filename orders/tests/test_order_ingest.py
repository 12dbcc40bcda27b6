import itertools

import pytest
from django.db.models import Sum

from erp.core.models import OutboxMessage
from inventory.models import Allocation, StockItem
from orders.canonical import OrderSource
from orders.choices import FinancialStatus, OrderEventType, OrderStatus
from orders.exceptions import InvalidOrderDataError
from orders.models import Customer, Order, OrderEvent, OrderLine
from orders.services.ingest import order_ingest
from orders.tests.builders import canonical_order

pytestmark = pytest.mark.django_db


def _allocated_units(sku: str) -> int:
    return (
        StockItem.objects.filter(product__sku=sku).aggregate(
            n=Sum("quantity_allocated")
        )["n"]
        or 0
    )


def test_new_paid_order_in_stock_is_reviewed_and_allocated(channel, stock):
    # given
    stock("SKU-A", 5)

    # when
    result = order_ingest(
        channel_id=channel.pk,
        data=canonical_order(lines=[("SKU-A", 2, "10.00")]),
        source=OrderSource.WEBHOOK,
    )

    # then
    order = Order.objects.get()
    assert (result.created, result.changed, result.status) == (
        True,
        True,
        OrderStatus.ALLOCATED,
    )
    assert order.status == OrderStatus.ALLOCATED
    assert _allocated_units("SKU-A") == 2
    assert list(order.events.values_list("type", flat=True)) == [
        OrderEventType.CREATED,
        OrderEventType.APPROVED,
        OrderEventType.ALLOCATED,
    ]
    assert order.events.last().message == (
        "us-la: all lines in stock, serves US (priority 10)."
    )


def test_replaying_the_same_order_changes_nothing(channel, stock):
    stock("SKU-A", 5)
    data = canonical_order()
    order_ingest(channel_id=channel.pk, data=data, source=OrderSource.WEBHOOK)
    events = OrderEvent.objects.count()

    result = order_ingest(channel_id=channel.pk, data=data, source=OrderSource.POLL)

    assert (result.created, result.changed, result.stale) == (False, False, False)
    assert OrderEvent.objects.count() == events
    assert Allocation.objects.count() == 1
    assert _allocated_units("SKU-A") == 1


def test_an_older_version_is_ignored(channel, stock):
    stock("SKU-A", 5)
    order_ingest(
        channel_id=channel.pk,
        data=canonical_order(version=3, note="v3"),
        source=OrderSource.WEBHOOK,
    )

    result = order_ingest(
        channel_id=channel.pk,
        data=canonical_order(version=2, note="v2"),
        source=OrderSource.WEBHOOK,
    )

    assert result.stale is True
    assert Order.objects.get().note == "v3"


VERSIONS = {
    "create": {"version": 1, "financial_status": FinancialStatus.PENDING},
    "update": {
        "version": 2,
        "financial_status": FinancialStatus.PENDING,
        "note": "gift wrap",
    },
    "paid": {
        "version": 3,
        "financial_status": FinancialStatus.PAID,
        "note": "gift wrap",
    },
    "cancel": {
        "version": 4,
        "financial_status": FinancialStatus.PAID,
        "note": "gift wrap",
        "cancelled": True,
    },
}


@pytest.mark.parametrize(
    "deliveries",
    [
        # every order of the four events, each delivered with one duplicate (5 deliveries)
        (*perm, perm[n % 4])
        for n, perm in enumerate(
            itertools.permutations(["create", "update", "paid", "cancel"])
        )
    ],
)
def test_five_deliveries_in_any_order_end_as_one_cancelled_order_without_stock(
    channel, stock, deliveries
):
    stock("SKU-A", 5)
    for name in deliveries:
        order_ingest(
            channel_id=channel.pk,
            data=canonical_order(**VERSIONS[name]),
            source=OrderSource.WEBHOOK,
        )

    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert order.note == "gift wrap"
    assert _allocated_units("SKU-A") == 0


@pytest.mark.parametrize(
    "deliveries",
    [
        (*perm, perm[0], perm[-1])
        for perm in itertools.permutations(["create", "update", "paid"])
    ],
)
def test_five_deliveries_without_cancel_end_allocated_once(channel, stock, deliveries):
    stock("SKU-A", 5)
    for name in deliveries:
        order_ingest(
            channel_id=channel.pk,
            data=canonical_order(**VERSIONS[name]),
            source=OrderSource.WEBHOOK,
        )

    order = Order.objects.get()
    assert order.status == OrderStatus.ALLOCATED
    assert order.financial_status == FinancialStatus.PAID
    assert _allocated_units("SKU-A") == 1
    assert OrderLine.objects.count() == 1


def test_store_edit_of_lines_re_reviews_and_re_allocates(channel, stock):
    # given: an allocated order
    stock("SKU-A", 5)
    stock("SKU-B", 5)
    order_ingest(
        channel_id=channel.pk,
        data=canonical_order(lines=[("SKU-A", 2, "10.00")]),
        source=OrderSource.WEBHOOK,
    )

    # when: the store adds a line and changes the quantity of the first
    edited = canonical_order(
        version=2, lines=[("SKU-A", 1, "10.00"), ("SKU-B", 3, "4.00")]
    )
    order_ingest(channel_id=channel.pk, data=edited, source=OrderSource.WEBHOOK)

    # then
    order = Order.objects.get()
    assert order.status == OrderStatus.ALLOCATED
    assert (_allocated_units("SKU-A"), _allocated_units("SKU-B")) == (1, 3)
    update = order.events.get(type=OrderEventType.UPDATED)
    assert update.data["lines"]["added"] == ["SKU-B"]
    assert update.data["lines"]["changed"][0]["changes"]["quantity"] == [2, 1]
    assert order.events.filter(type=OrderEventType.ALLOCATION_RELEASED).count() == 1


def test_line_removed_in_the_store_is_kept_marked_removed_and_its_stock_freed(
    channel, stock
):
    stock("SKU-A", 5)
    stock("SKU-B", 5)
    order_ingest(
        channel_id=channel.pk,
        data=canonical_order(lines=[("SKU-A", 1, "10.00"), ("SKU-B", 2, "4.00")]),
        source=OrderSource.WEBHOOK,
    )

    order_ingest(
        channel_id=channel.pk,
        data=canonical_order(version=2, lines=[("SKU-A", 1, "10.00")]),
        source=OrderSource.WEBHOOK,
    )

    removed = OrderLine.objects.get(sku="SKU-B")
    assert removed.is_removed is True
    assert (_allocated_units("SKU-A"), _allocated_units("SKU-B")) == (1, 0)


def test_full_refund_in_the_store_releases_stock(channel, stock):
    stock("SKU-A", 5)
    order_ingest(
        channel_id=channel.pk, data=canonical_order(), source=OrderSource.WEBHOOK
    )

    order_ingest(
        channel_id=channel.pk,
        data=canonical_order(version=2, financial_status=FinancialStatus.REFUNDED),
        source=OrderSource.WEBHOOK,
    )

    assert Order.objects.get().status == OrderStatus.REFUNDED
    assert _allocated_units("SKU-A") == 0


def test_cancellation_from_the_store_is_not_pushed_back_to_it(channel, stock):
    stock("SKU-A", 5)
    order_ingest(
        channel_id=channel.pk,
        data=canonical_order(cancelled=True),
        source=OrderSource.WEBHOOK,
    )
    assert Order.objects.get().status == OrderStatus.CANCELLED
    assert OutboxMessage.objects.filter(topic="orders.cancelled").exists() is False


def test_invalid_order_is_refused_and_nothing_is_written(channel):
    bad = canonical_order(currency="dollars")
    with pytest.raises(
        InvalidOrderDataError, match="currency 'dollars' is not an ISO 4217 code"
    ):
        order_ingest(channel_id=channel.pk, data=bad, source=OrderSource.WEBHOOK)
    assert Order.objects.exists() is False
    assert Customer.objects.exists() is False


def test_customers_match_across_stores_by_normalised_email_and_phone(channel, stock):
    from connectors.tests.factories import ChannelFactory

    stock("SKU-A", 10)
    other_store = ChannelFactory(code="eu-shop", currency="USD")
    order_ingest(
        channel_id=channel.pk,
        data=canonical_order("1", email="Ava@Example.com "),
        source=OrderSource.WEBHOOK,
    )
    order_ingest(
        channel_id=other_store.pk,
        data=canonical_order("1", email="ava@example.com"),
        source=OrderSource.WEBHOOK,
    )
    order_ingest(
        channel_id=other_store.pk,
        data=canonical_order("2", email=""),
        source=OrderSource.WEBHOOK,
    )  # same phone as the address above

    assert Customer.objects.count() == 1
    customer = Customer.objects.get()
    assert customer.orders.count() == 3
    assert customer.phone_normalized == "+15125550100"


def test_payments_and_refunds_reach_finance_once(channel, stock):
    from datetime import timedelta
    from decimal import Decimal

    from finance.models import Payment, Refund
    from orders.canonical import CanonicalRefund, CanonicalTransaction
    from orders.tests.builders import T0

    stock("SKU-A", 5)
    sale = CanonicalTransaction(
        external_id="txn-1",
        kind="sale",
        gateway="shopify_payments",
        amount=Decimal("10.00"),
        currency="USD",
        processed_at=T0,
        fee=Decimal("0.59"),
        fee_currency="USD",
    )
    refund = CanonicalRefund(
        external_id="rf-1",
        amount=Decimal("10.00"),
        created_at=T0 + timedelta(hours=2),
        lines=(("820982911946154508-1", 1, True),),
    )
    data = canonical_order(version=2, transactions=(sale,), refunds=(refund,))

    order_ingest(channel_id=channel.pk, data=data, source=OrderSource.WEBHOOK)
    order_ingest(channel_id=channel.pk, data=data, source=OrderSource.POLL)

    payment = Payment.objects.get()
    assert (payment.external_id, payment.amount, payment.fee) == (
        "txn-1",
        Decimal("10.0000"),
        Decimal("0.5900"),
    )
    stored = Refund.objects.get()
    assert stored.external_id == "rf-1"
    line = stored.lines.get()
    assert (line.quantity, line.restock, line.order_line.sku) == (1, True, "SKU-A")


def test_payments_finance_refuses_are_noted_and_the_order_still_goes_on(channel, stock):
    from decimal import Decimal

    from finance.models import Payment
    from orders.canonical import CanonicalTransaction
    from orders.tests.builders import T0

    stock("SKU-A", 5)
    odd = CanonicalTransaction(
        external_id="txn-1",
        kind="teleport",
        gateway="x",
        amount=Decimal("10.00"),
        currency="USD",
        processed_at=T0,
    )

    order_ingest(
        channel_id=channel.pk,
        data=canonical_order(transactions=(odd,)),
        source=OrderSource.WEBHOOK,
    )

    order = Order.objects.get()
    assert order.status == OrderStatus.ALLOCATED
    assert Payment.objects.exists() is False
    note = order.events.get(type=OrderEventType.NOTE_ADDED)
    assert note.message.startswith("Payments not recorded: ")
    assert "teleport" in note.message
