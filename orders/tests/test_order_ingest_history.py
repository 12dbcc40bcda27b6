"""Imported history: mirrors the store's status, never reserves stock or pushes back."""

import pytest

from erp.core.models import OutboxMessage
from inventory.models import Allocation
from orders.canonical import OrderSource
from orders.choices import FinancialStatus, FulfillmentStatus, OrderStatus
from orders.models import Order
from orders.services.ingest import order_ingest
from orders.tests.builders import canonical_order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"fulfillment_status": FulfillmentStatus.FULFILLED}, OrderStatus.SHIPPED),
        (
            {"fulfillment_status": FulfillmentStatus.PARTIAL},
            OrderStatus.PARTIALLY_SHIPPED,
        ),
        ({"financial_status": FinancialStatus.REFUNDED}, OrderStatus.REFUNDED),
        ({"cancelled": True}, OrderStatus.CANCELLED),
        ({}, OrderStatus.NEW),
    ],
)
def test_imported_order_takes_the_stores_status_without_review_or_stock(
    channel, stock, overrides, status
):
    stock("SKU-A", 5)

    order_ingest(
        channel_id=channel.pk,
        data=canonical_order(**overrides),
        source=OrderSource.IMPORT,
    )

    order = Order.objects.get()
    assert order.status == status
    assert order.is_historical is True
    assert Allocation.objects.exists() is False
    assert (
        OutboxMessage.objects.exclude(
            topic__in=["inventory.available_changed", "inventory.stock_arrived"]
        ).exists()
        is False
    )


def test_import_never_overwrites_an_order_the_live_sync_stored(channel, stock):
    stock("SKU-A", 5)
    order_ingest(
        channel_id=channel.pk, data=canonical_order(), source=OrderSource.WEBHOOK
    )

    result = order_ingest(
        channel_id=channel.pk,
        data=canonical_order(version=9, note="from the CSV"),
        source=OrderSource.IMPORT,
    )

    order = Order.objects.get()
    assert result.changed is False
    assert (order.note, order.source, order.status) == (
        "",
        "webhook",
        OrderStatus.ALLOCATED,
    )


def test_reimporting_the_same_history_changes_nothing(channel):
    data = canonical_order(fulfillment_status=FulfillmentStatus.FULFILLED)
    order_ingest(channel_id=channel.pk, data=data, source=OrderSource.IMPORT)
    events = list(Order.objects.get().events.values_list("pk", flat=True))

    result = order_ingest(channel_id=channel.pk, data=data, source=OrderSource.IMPORT)

    assert result.changed is False
    assert list(Order.objects.get().events.values_list("pk", flat=True)) == events
