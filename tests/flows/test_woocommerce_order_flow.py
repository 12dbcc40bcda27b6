"""The WooCommerce flow end to end, on PostgreSQL and Redis with a real Celery worker:

webhooks registered through the store's API -> the store's ping answered -> the store
posts a signed order.created over real HTTP to our running webhook view -> stored and
acknowledged -> processed by the worker -> reviewed and allocated -> the outbox pushes
the new stock of a simple product and a variation through the batch endpoints.
"""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from connectors.models import (
    ChannelKind,
    ChannelListing,
    WebhookReceipt,
    WebhookReceiptStatus,
)
from connectors.tests.factories import ChannelFactory
from connectors.woocommerce.subscriptions import woo_webhooks_ensure
from connectors.woocommerce.testing.fake_server import FakeWooStore
from erp.celery import app
from erp.core.models import OutboxMessage, OutboxStatus
from inventory.models import Allocation, Product, Warehouse
from inventory.services.channels import channel_stock_policy_set
from inventory.services.stock import stock_receive
from orders.choices import OrderStatus
from orders.models import Order

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_signed_woocommerce_webhook_becomes_an_allocated_order_and_a_stock_push(
    live_server, settings
):
    settings.WOOCOMMERCE_ALLOW_HTTP_CALLBACKS = True
    settings.WOOCOMMERCE_RETRY_BACKOFF_SECONDS = 0.01
    with FakeWooStore() as store:
        # given: a store selling a mug and a T-shirt in sizes, fed by one warehouse
        # holding 10 of each, with our webhooks registered through its API
        (mug,) = store.add_simple_products(1, sku_prefix="MUG", quantity=10)
        tee, (tee_s, tee_m) = store.add_variable_product(
            skus=["TEE-S", "TEE-M"], quantity=10
        )
        channel = ChannelFactory(
            kind=ChannelKind.WOOCOMMERCE,
            code="flow-woo",
            shop_url=store.url,
            credentials={
                "consumer_key": store.consumer_key,
                "consumer_secret": store.consumer_secret,
            },
        )
        warehouse = Warehouse.objects.create(
            code="us-west", name="US West", country="US"
        )
        for stored, parent in ((mug, mug), (tee_m, tee)):
            product = Product.objects.create(sku=stored["sku"], title=stored["sku"])
            stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=10)
            ChannelListing.objects.create(
                channel=channel,
                product=product,
                external_variant_id=str(stored["id"]),
                external_inventory_item_id=str(parent["id"]),
                pushed_quantity=10,
                store_quantity=10,
            )
        channel_stock_policy_set(channel_id=channel.pk, warehouse_ids=[warehouse.pk])
        registered = woo_webhooks_ensure(channel=channel, base_url=live_server.url)
        hook = next(
            h for h in store.state.webhooks.values() if h.topic == "order.created"
        )
        assert store.ping(hook) == 200

        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=30
        ):
            # when: a customer orders 2 mugs and a T-shirt in M
            order = store.add_order(
                items=[
                    {"product_id": mug["id"], "sku": "MUG-0000", "quantity": 2},
                    {
                        "product_id": tee["id"],
                        "variation_id": tee_m["id"],
                        "sku": "TEE-M",
                        "quantity": 1,
                    },
                ]
            )
            statuses = store.emit("order.created", order["id"])

            # then: acknowledged at once, and the worker takes it all the way
            assert statuses == [200]
            assert _wait_for(
                lambda: Order.objects.filter(status=OrderStatus.ALLOCATED).exists()
            ), (
                list(Order.objects.values("status", "hold_reasons")),
                list(WebhookReceipt.objects.values("status", "error")),
            )
            assert _wait_for(
                lambda: (
                    store.stock(mug["id"]) == 8
                    and store.stock(tee_m["id"], parent_id=tee["id"]) == 9
                )
            ), list(OutboxMessage.objects.values("topic", "status", "last_error"))

    assert registered.created
    receipt = WebhookReceipt.objects.get()
    assert (receipt.topic, receipt.status) == (
        "order.created",
        WebhookReceiptStatus.PROCESSED,
    )
    stored_order = Order.objects.get()
    assert stored_order.external_id == str(order["id"])
    assert sorted(
        Allocation.objects.filter(order_line__order=stored_order).values_list(
            "order_line__sku", "quantity"
        )
    ) == [("MUG-0000", 2), ("TEE-M", 1)]
    assert store.stock(tee_s["id"], parent_id=tee["id"]) == 10
    assert len(store.calls_to("POST", "products/batch")) >= 1
    assert len(store.calls_to("POST", rf"products/{tee['id']}/variations/batch")) >= 1
    assert not OutboxMessage.objects.filter(status=OutboxStatus.DEAD).exists()
