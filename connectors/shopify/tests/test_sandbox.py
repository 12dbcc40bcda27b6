"""The demo's Shopify sandbox store: orders it makes up reach the app, by webhook and poll."""

import io
import socket
from decimal import Decimal

import pytest
from django.core.management import call_command

from connectors.models import ChannelListing, WebhookReceipt, WebhookReceiptStatus
from connectors.services import webhook_receipt_process
from connectors.shopify.sandbox import sandbox_for
from connectors.sync import channel_sync
from connectors.tests.factories import ChannelFactory
from inventory.tests.factories import ProductFactory
from orders.models import Order

SECRET = "whsec_sandbox_test"
SKUS = ["SBX-TEE", "SBX-MUG", "SBX-LAMP"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _sandbox_channel():
    channel = ChannelFactory(
        code="sandbox-us",
        shop_url=f"http://127.0.0.1:{_free_port()}",
        stock_location_id="gid://shopify/Location/42",
        credentials={"access_token": "shpat_sandbox", "webhook_secret": SECRET},
    )
    for position, sku in enumerate(SKUS, start=1):
        ChannelListing.objects.create(
            channel=channel,
            product=ProductFactory(sku=sku, unit_cost=Decimal("4.00")),
            external_variant_id=str(1000 + position),
            external_inventory_item_id=str(2000 + position),
        )
    return channel


@pytest.mark.django_db
def test_orders_placed_in_the_sandbox_are_found_by_a_poll():
    # given
    channel = _sandbox_channel()
    sandbox = sandbox_for(channel)
    sandbox.start()
    try:
        deliveries = [sandbox.next_order() for _ in range(4)]

        # when
        run = channel_sync(channel_id=channel.pk)
    finally:
        sandbox.stop()

    # then: the store served them through the GraphQL API, valid against the schema
    assert (run.status, run.created) == ("succeeded", 4)
    assert sandbox.store.invalid_documents == []
    assert sandbox.store.execution_errors == []
    orders = Order.objects.filter(channel=channel)
    assert {line.sku for order in orders for line in order.lines.all()} <= set(SKUS)
    assert all(
        order.total
        == sum(line.unit_price * line.quantity for line in order.lines.all())
        for order in orders
    )
    assert all(d.url_path == "/webhooks/shopify/sandbox-us/" for d in deliveries)
    # The sandbox stocks every listed item at the store's location (stock pushes land).
    assert (
        sandbox.store.available(
            inventory_item_id=2001, location_id="gid://shopify/Location/42"
        )
        == 0
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sandbox_stores_command_posts_signed_orders_the_app_accepts(live_server):
    # given
    channel = _sandbox_channel()
    out = io.StringIO()

    # when
    call_command(
        "sandbox_stores",
        f"--app-url={live_server.url}",
        "--every=0",
        "--count=3",
        stdout=out,
    )

    # then: three deliveries stored (signature good), each one an order once processed
    receipts = list(WebhookReceipt.objects.filter(channel=channel).order_by("pk"))
    assert [r.topic for r in receipts] == ["orders/create"] * 3
    assert all(r.status == WebhookReceiptStatus.RECEIVED for r in receipts)
    for receipt in receipts:
        webhook_receipt_process(receipt_id=receipt.pk)
    assert Order.objects.filter(channel=channel).count() == 3
    assert out.getvalue().count("-> HTTP 200") == 3
    assert "Sent 3 order(s): 3 accepted, 0 refused." in out.getvalue()


@pytest.mark.django_db
def test_demo_shopify_store_is_the_sandbox_and_shares_its_webhook_secret():
    from connectors.demo import SHOPIFY_SANDBOX_WEBHOOK_SECRET, demo_load
    from connectors.models import Channel
    from connectors.sandbox import sandbox_channels, sandbox_port
    from connectors.shopify.webhooks import webhook_secret_for

    demo_load()
    channel = Channel.objects.get(code="us-shopify")

    sandbox = sandbox_for(channel)

    assert sandbox_port(channel) == 8701
    assert [c.code for c in sandbox_channels()] == ["eu-woo", "us-shopify"]
    assert (
        sandbox.secret == webhook_secret_for(channel) == SHOPIFY_SANDBOX_WEBHOOK_SECRET
    )
    assert {p.sku for p in sandbox.products} == set(
        channel.listings.values_list("product__sku", flat=True)
    )
    assert len(sandbox.products) == 6
