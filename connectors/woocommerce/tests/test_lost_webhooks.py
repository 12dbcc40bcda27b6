"""WooCommerce sends each webhook once and never again: the poll must heal the rest.

The fake store posts signed deliveries over real HTTP to our running webhook view
(pytest-django's live server); half are lost, some arrive twice, some out of order.
"""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import WebhookReceipt, WebhookReceiptStatus
from connectors.services import webhook_receipt_process
from connectors.sync import channel_sync
from connectors.woocommerce.mappers import gmt_moment
from connectors.woocommerce.subscriptions import TOPICS, woo_webhooks_ensure
from orders.choices import FinancialStatus, FulfillmentStatus, OrderStatus
from orders.models import Order

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ORDERS = 200


def _process_received() -> None:
    """What the worker does with every stored delivery (oldest first)."""
    for receipt_id in (
        WebhookReceipt.objects.filter(status=WebhookReceiptStatus.RECEIVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        webhook_receipt_process(receipt_id=receipt_id)


def test_200_orders_with_half_the_webhooks_lost_end_right_after_one_poll(
    live_server, woo_store, woo_channel, settings
):
    # given: our webhooks registered in the store through its API
    settings.WOOCOMMERCE_ALLOW_HTTP_CALLBACKS = True
    registered = woo_webhooks_ensure(channel=woo_channel, base_url=live_server.url)
    assert sorted(registered.created) == sorted(TOPICS)
    rng = random.Random(6)
    start = (timezone.now() - timedelta(minutes=50)).replace(microsecond=0)
    deliveries = []
    changed: dict[int, str] = {}
    for index in range(ORDERS):
        order = woo_store.add_order(created_at=start + timedelta(seconds=index))
        created = woo_store.deliveries_for("order.created", order["id"])
        if index % 4 == 1:
            # Changed later in the store: completed or cancelled. Its update is sent
            # before its creation (out of order), and sometimes twice.
            status = "completed" if index % 8 == 1 else "cancelled"
            woo_store.change_order(
                order["id"],
                status=status,
                at=start + timedelta(minutes=10, seconds=index),
            )
            changed[order["id"]] = status
            updated = woo_store.deliveries_for("order.updated", order["id"])
            deliveries.extend(
                (order["id"], d) for d in updated * (2 if index % 3 == 0 else 1)
            )
            deliveries.extend((order["id"], d) for d in created)
        else:
            deliveries.extend(
                (order["id"], d) for d in created * (2 if index % 5 == 0 else 1)
            )
    # Every delivery of half of the orders is lost; the rest arrive shuffled.
    lost = set(
        rng.sample(sorted({order_id for order_id, _ in deliveries}), ORDERS // 2)
    )
    sent = [d for order_id, d in deliveries if order_id not in lost]
    rng.shuffle(sent)

    # when: the deliveries that made it reach our endpoint and the worker...
    statuses = [woo_store.send(delivery) for delivery in sent]
    _process_received()
    from_webhooks = Order.objects.count()
    # ...and then one poll runs
    run = channel_sync(channel_id=woo_channel.pk)

    # then
    assert set(statuses) == {200}
    assert from_webhooks == ORDERS // 2
    assert run.status == "succeeded", run.message
    assert Order.objects.filter(channel=woo_channel).count() == ORDERS
    receipts = WebhookReceipt.objects.all()
    # Every arrival is recorded; a second arrival of one delivery is not a new row.
    assert receipts.count() == len(
        {d.headers["X-WC-Webhook-Delivery-ID"] for d in sent}
    )
    assert not receipts.filter(status=WebhookReceiptStatus.FAILED).exists()
    for order in Order.objects.filter(channel=woo_channel):
        store = woo_store.order(order.external_id)
        assert order.store_updated_at == gmt_moment(store["date_modified_gmt"], "x")
        status = changed.get(int(order.external_id), "processing")
        if status == "cancelled":
            assert order.status == OrderStatus.CANCELLED
        else:
            assert order.status != OrderStatus.CANCELLED
            assert order.financial_status == FinancialStatus.PAID
        assert order.fulfillment_status == (
            FulfillmentStatus.FULFILLED
            if status == "completed"
            else FulfillmentStatus.UNFULFILLED
        )
