"""The main flow end to end, on PostgreSQL and Redis with a real Celery worker:

signed Shopify webhook in -> stored and acknowledged -> processed by the worker ->
order reviewed and allocated -> outbox message for the store -> the worker pushes the
new available-to-sell figure to the (fake) store over real HTTP.
"""

import copy
import time

import pytest
from celery.contrib.testing.worker import start_worker

from connectors.models import ChannelListing, WebhookReceipt, WebhookReceiptStatus
from connectors.shopify.testing.fake_server import FakeShopifyStore, official_order
from connectors.shopify.testing.webhooks import webhook_body, webhook_headers
from connectors.tests.factories import ChannelFactory
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

SECRET = "whsec-flow-test-0123456789"
LOCATION = "655441491"


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def fake_store():
    with FakeShopifyStore(restore_rate=1_000_000.0) as store:
        yield store
    assert store.invalid_documents == [], store.invalid_documents


def test_signed_webhook_becomes_an_allocated_order_and_a_stock_push(client, fake_store):
    # given: a store fed by one warehouse holding 10 of each SKU of the official order
    order_payload = copy.deepcopy(official_order())
    channel = ChannelFactory(
        code="flow-shop",
        shop_url=fake_store.url,
        stock_location_id=LOCATION,
        credentials={"access_token": fake_store.access_token, "webhook_secret": SECRET},
    )
    warehouse = Warehouse.objects.create(code="us-east", name="US East", country="US")
    for index, line in enumerate(order_payload["line_items"]):
        product = Product.objects.create(sku=line["sku"], title=line["title"])
        stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=10)
        ChannelListing.objects.create(
            channel=channel,
            product=product,
            external_variant_id=str(line["variant_id"]),
            external_inventory_item_id=str(808_950_000 + index),
        )
        fake_store.set_inventory(
            inventory_item_id=808_950_000 + index, location_id=LOCATION, available=10
        )
    channel_stock_policy_set(channel_id=channel.pk, warehouse_ids=[warehouse.pk])
    body = webhook_body(order_payload)
    headers = webhook_headers(secret=SECRET, body=body, topic="orders/create")
    content_type = headers.pop("Content-Type")

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        # when: Shopify delivers the order
        response = client.post(
            f"/webhooks/shopify/{channel.code}/",
            data=body,
            content_type=content_type,
            headers=headers,
        )

        # then: acknowledged at once, and the worker takes it all the way
        assert response.status_code == 200
        assert _wait_for(
            lambda: Order.objects.filter(status=OrderStatus.ALLOCATED).exists()
        ), (
            list(Order.objects.values("status", "hold_reasons")),
            list(WebhookReceipt.objects.values("status", "error")),
        )
        assert _wait_for(
            lambda: (
                not OutboxMessage.objects.exclude(
                    status__in=[OutboxStatus.DELIVERED, OutboxStatus.SUPERSEDED]
                ).exists()
            )
        ), list(OutboxMessage.objects.values("topic", "status", "last_error"))

    receipt = WebhookReceipt.objects.get()
    assert receipt.status == WebhookReceiptStatus.PROCESSED
    order = Order.objects.get()
    assert order.external_id == str(order_payload["id"])
    assert sorted(
        Allocation.objects.filter(order_line__order=order).values_list(
            "order_line__sku", "quantity"
        )
    ) == sorted((line["sku"], line["quantity"]) for line in order_payload["line_items"])
    # the store now shows what is left to sell: 10 minus what the order took
    for index, line in enumerate(order_payload["line_items"]):
        assert (
            fake_store.available(
                inventory_item_id=808_950_000 + index, location_id=LOCATION
            )
            == 10 - line["quantity"]
        )
    assert OutboxMessage.objects.filter(topic="inventory.available_changed").exists()
