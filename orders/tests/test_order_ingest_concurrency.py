"""Webhook and poll delivering the same order at the same moment (PostgreSQL)."""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from inventory.models import StockItem
from orders.canonical import OrderSource
from orders.choices import OrderStatus
from orders.models import Order, OrderLine
from orders.services.ingest import order_ingest
from orders.tests.builders import canonical_order

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _race(calls):
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait()
            call()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_eight_simultaneous_deliveries_make_one_order_allocated_once(channel, stock):
    stock("SKU-A", 5)
    data = canonical_order(lines=[("SKU-A", 2, "10.00")])

    errors = _race(
        [
            lambda: order_ingest(
                channel_id=channel.pk, data=data, source=OrderSource.WEBHOOK
            )
            for _ in range(8)
        ]
    )

    assert errors == []
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 1
    assert Order.objects.get().status == OrderStatus.ALLOCATED
    assert StockItem.objects.aggregate(n=Sum("quantity_allocated"))["n"] == 2


def test_two_stores_selling_the_last_unit_at_once_never_oversell(channel, stock):
    from connectors.tests.factories import ChannelFactory

    stock("SKU-A", 1)
    other = ChannelFactory(code="eu-shop", currency="USD")

    errors = _race(
        [
            lambda: order_ingest(
                channel_id=channel.pk,
                data=canonical_order("A1"),
                source=OrderSource.WEBHOOK,
            ),
            lambda: order_ingest(
                channel_id=other.pk,
                data=canonical_order("B1", email="b@example.com"),
                source=OrderSource.WEBHOOK,
            ),
        ]
    )

    assert errors == []
    statuses = sorted(Order.objects.values_list("status", flat=True))
    assert statuses == [OrderStatus.ALLOCATED, OrderStatus.AWAITING_STOCK]
    item = StockItem.objects.get()
    assert (item.quantity_on_hand, item.quantity_allocated) == (1, 1)
