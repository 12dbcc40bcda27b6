"""The demo's WooCommerce sandbox store: its orders reach the app by webhook and poll."""

import io
import socket
from decimal import Decimal

import pytest
from django.core.management import call_command

from connectors.models import (
    ChannelKind,
    ChannelListing,
    WebhookReceipt,
    WebhookReceiptStatus,
)
from connectors.services import webhook_receipt_process
from connectors.sync import channel_sync
from connectors.tests.factories import ChannelFactory
from connectors.woocommerce.sandbox import sandbox_for
from inventory.tests.factories import ProductFactory
from orders.models import Order

SKUS = ["SBX-TEE", "SBX-MUG", "SBX-LAMP"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _sandbox_channel():
    channel = ChannelFactory(
        kind=ChannelKind.WOOCOMMERCE,
        code="sandbox-eu",
        currency="EUR",
        shop_url=f"http://127.0.0.1:{_free_port()}",
        credentials={
            "consumer_key": "ck_sandbox",
            "consumer_secret": "cs_sandbox",
            "webhook_secret": "wc_sandbox_secret",
        },
    )
    for position, sku in enumerate(SKUS, start=1):
        ChannelListing.objects.create(
            channel=channel,
            product=ProductFactory(sku=sku, unit_cost=Decimal("4.00")),
            external_variant_id=str(9000 + position),
            external_inventory_item_id=str(9000 + position),
        )
    return channel


@pytest.mark.django_db
def test_orders_placed_in_the_sandbox_are_found_by_a_poll():
    channel = _sandbox_channel()
    sandbox = sandbox_for(channel)
    sandbox.start()
    try:
        deliveries = [sandbox.next_order() for _ in range(4)]

        run = channel_sync(channel_id=channel.pk)
    finally:
        sandbox.stop()

    assert (run.status, run.created) == ("succeeded", 4)
    assert sandbox.store.auth_failures == []
    orders = Order.objects.filter(channel=channel)
    assert {line.sku for order in orders for line in order.lines.all()} <= set(SKUS)
    assert {order.currency for order in orders} == {"EUR"}
    assert all(
        order.total
        == sum(line.unit_price * line.quantity for line in order.lines.all())
        + order.shipping_total
        for order in orders
    )
    assert all(d.url_path == "/webhooks/woocommerce/sandbox-eu/" for d in deliveries)
    # The sandbox sells every listed product under its id (stock pushes land).
    assert set(sandbox.store.state.products) == {9001, 9002, 9003}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sandbox_stores_command_posts_signed_woocommerce_orders_the_app_accepts(
    live_server,
):
    channel = _sandbox_channel()
    out = io.StringIO()

    call_command(
        "sandbox_stores",
        f"--app-url={live_server.url}",
        "--every=0",
        "--count=3",
        "--store=sandbox-eu",
        stdout=out,
    )

    receipts = list(WebhookReceipt.objects.filter(channel=channel).order_by("pk"))
    assert [r.topic for r in receipts] == ["order.created"] * 3
    assert all(r.status == WebhookReceiptStatus.RECEIVED for r in receipts)
    for receipt in receipts:
        webhook_receipt_process(receipt_id=receipt.pk)
    assert Order.objects.filter(channel=channel).count() == 3
    assert "Sent 3 order(s): 3 accepted, 0 refused." in out.getvalue()


@pytest.mark.django_db
def test_demo_woocommerce_store_is_the_sandbox_with_its_keys_and_secret():
    from connectors.demo import WOOCOMMERCE_SANDBOX_WEBHOOK_SECRET, demo_load
    from connectors.models import Channel
    from connectors.sandbox import sandbox_port

    demo_load()
    channel = Channel.objects.get(code="eu-woo")

    sandbox = sandbox_for(channel)

    assert sandbox_port(channel) == 8702
    assert sandbox.secret == WOOCOMMERCE_SANDBOX_WEBHOOK_SECRET
    assert sandbox.store.consumer_key == channel.credentials["consumer_key"]
    assert len(sandbox.products) == 6
