"""Stock, shipments and cancellations pushed to WooCommerce through the outbox."""

import pytest

from connectors.handlers import deliver_available_changed
from connectors.models import ChannelListing, SyncRun, WebhookReceipt
from connectors.push import order_fulfillment_push, order_tracking_push
from connectors.services import webhook_receipt_process
from connectors.tests.factories import WebhookReceiptFactory
from connectors.woocommerce.fulfillment import TRACKING_META_KEY, tracking_id_for
from connectors.woocommerce.mappers import order_to_canonical
from connectors.woocommerce.testing.webhooks import webhook_body
from erp.core.models import OutboxMessage, OutboxStatus
from erp.core.outbox import outbox_drain
from inventory.models import Product, StockItem, Warehouse
from inventory.services.channels import channel_stock_policy_set
from logistics.models import Shipment
from orders.canonical import OrderSource
from orders.choices import OrderStatus
from orders.models import Order
from orders.services.ingest import order_ingest
from orders.services.workflow import order_cancel

pytestmark = pytest.mark.django_db


def _bulk_stock(channel, products_in_store, *, quantity_of, parent_of=None):
    """Our stock of each store product in one warehouse, and its listing, bulk-created
    (receipts one by one through the stock service would be most of the test's time;
    the ledger is not what these tests measure)."""
    warehouse = Warehouse.objects.create(code="sz", name="Shenzhen", country="CN")
    products = Product.objects.bulk_create(
        [Product(sku=p["sku"], title=p["sku"]) for p in products_in_store]
    )
    StockItem.objects.bulk_create(
        [
            StockItem(product=p, warehouse=warehouse, quantity_on_hand=quantity_of(i))
            for i, p in enumerate(products)
        ]
    )
    ChannelListing.objects.bulk_create(
        [
            ChannelListing(
                channel=channel,
                product=product,
                external_variant_id=str(stored["id"]),
                external_inventory_item_id=str(
                    parent_of(stored) if parent_of else stored["id"]
                ),
                external_sku=stored["sku"],
                pushed_quantity=0,
            )
            for product, stored in zip(products, products_in_store, strict=True)
        ]
    )
    return warehouse


def test_1000_changed_skus_reach_the_store_in_10_batch_calls(woo_store, woo_channel):
    """Issue 6 "must show": 1,000 SKUs, 100 a call."""
    # given: 1,000 simple products at 0 in the store, in stock here
    in_store = woo_store.add_simple_products(1000, quantity=0)
    warehouse = _bulk_stock(woo_channel, in_store, quantity_of=lambda i: 1 + i % 7)

    # when: the warehouse starts feeding the store (1,000 outbox messages); the
    # first one delivered pushes every SKU waiting
    channel_stock_policy_set(channel_id=woo_channel.pk, warehouse_ids=[warehouse.pk])
    messages = OutboxMessage.objects.order_by("pk")
    assert messages.count() == 1000
    deliver_available_changed(messages.first())
    # a sample of the other messages: their SKUs are already right in the store
    for message in messages[1:51]:
        deliver_available_changed(message)

    # then
    batches = woo_store.calls_to("POST", "products/batch")
    assert len(batches) == 10
    assert [len(call.body["update"]) for call in batches] == [100] * 10
    assert woo_store.calls_to("POST", r"products/\d+/variations/batch") == []
    assert [woo_store.stock(p["id"]) for p in in_store] == [
        1 + i % 7 for i in range(1000)
    ]
    run = SyncRun.objects.get(kind="push")
    assert (run.updated, run.failed) == (1000, 0)
    assert not ChannelListing.objects.exclude(pushed_quantity__gt=0).exists()


def test_variations_are_set_through_their_parent_s_variations_batch(
    woo_store, woo_channel
):
    parent, variations = woo_store.add_variable_product(
        skus=["TEE-S", "TEE-M", "TEE-L"], quantity=0
    )
    simple = woo_store.add_simple_products(1, sku_prefix="MUG", quantity=0)
    warehouse = _bulk_stock(
        woo_channel,
        [*variations, *simple],
        quantity_of=lambda i: 4 + i,
        parent_of=lambda p: parent["id"] if p in variations else p["id"],
    )

    channel_stock_policy_set(channel_id=woo_channel.pk, warehouse_ids=[warehouse.pk])
    outbox_drain()

    (call,) = woo_store.calls_to("POST", rf"products/{parent['id']}/variations/batch")
    assert [(u["id"], u["stock_quantity"]) for u in call.body["update"]] == [
        (variations[0]["id"], 4),
        (variations[1]["id"], 5),
        (variations[2]["id"], 6),
    ]
    assert woo_store.stock(variations[2]["id"], parent_id=parent["id"]) == 6
    assert woo_store.stock(simple[0]["id"]) == 7
    assert len(woo_store.calls_to("POST", "products/batch")) == 1


def test_a_product_deleted_in_the_store_fails_alone(woo_store, woo_channel):
    in_store = woo_store.add_simple_products(3, quantity=0)
    warehouse = _bulk_stock(woo_channel, in_store, quantity_of=lambda i: 2)
    del woo_store.state.products[in_store[1]["id"]]

    channel_stock_policy_set(channel_id=woo_channel.pk, warehouse_ids=[warehouse.pk])
    outbox_drain()

    # The failed SKU's own message tries again (and fails again) after the first run.
    first, retry = SyncRun.objects.filter(kind="push").order_by("pk")
    assert ((first.updated, first.failed), (retry.updated, retry.failed)) == (
        (2, 1),
        (0, 1),
    )
    assert first.errors == [
        {
            "external_id": str(in_store[1]["id"]),
            "error": "woocommerce_rest_product_invalid_id: Invalid ID.",
        }
    ]


def test_store_that_is_down_gets_the_stock_push_again_later(
    woo_store, woo_channel, settings
):
    settings.WOOCOMMERCE_MAX_RETRIES = 1
    in_store = woo_store.add_simple_products(1, quantity=0)
    warehouse = _bulk_stock(woo_channel, in_store, quantity_of=lambda i: 3)
    woo_store.fail_next(503, times=2)

    channel_stock_policy_set(channel_id=woo_channel.pk, warehouse_ids=[warehouse.pk])
    result = outbox_drain()

    assert result.retried == 1
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert "HTTP 503" in message.last_error


def test_stock_changed_by_hand_in_the_store_is_recorded_as_drift(
    woo_store, woo_channel
):
    # given: we set 5 on a simple product and a variation
    parent, variations = woo_store.add_variable_product(skus=["V-1"], quantity=5)
    simple = woo_store.add_simple_products(1, quantity=5)
    _bulk_stock(
        woo_channel,
        [*variations, *simple],
        quantity_of=lambda i: 5,
        parent_of=lambda p: parent["id"] if p in variations else p["id"],
    )
    ChannelListing.objects.update(pushed_quantity=5)
    # when: staff edit both by hand in wp-admin; product.updated arrives for each
    results = {}
    for product_id, parent_id, quantity in (
        (simple[0]["id"], None, 2),
        (variations[0]["id"], parent["id"], 9),
    ):
        payload = woo_store.set_stock(product_id, quantity, parent_id=parent_id)
        receipt = WebhookReceiptFactory(
            channel=woo_channel,
            topic="product.updated",
            body=webhook_body(payload).decode(),
        )
        webhook_receipt_process(receipt_id=receipt.pk)
        receipt.refresh_from_db()
        results[product_id] = receipt.result

    # then
    simple_listing = ChannelListing.objects.get(
        external_variant_id=str(simple[0]["id"])
    )
    variation_listing = ChannelListing.objects.get(
        external_variant_id=str(variations[0]["id"])
    )
    assert (simple_listing.store_quantity, simple_listing.has_drift) == (2, True)
    assert (variation_listing.store_quantity, variation_listing.has_drift) == (9, True)
    assert results[variations[0]["id"]]["drift"] == {
        str(variations[0]["id"]): {"store": 9, "pushed": 5}
    }
    assert WebhookReceipt.objects.filter(status="processed").count() == 2


def _woo_order_here(woo_store, woo_channel, **fields):
    stored = woo_store.add_order(**fields)
    result = order_ingest(
        channel_id=woo_channel.pk,
        data=order_to_canonical(stored),
        source=OrderSource.WEBHOOK,
    )
    return stored, Order.objects.get(pk=result.order_id)


def _shipment(order, number="1Z999AA10123456784") -> Shipment:
    warehouse, _ = Warehouse.objects.get_or_create(
        code="sz", defaults={"name": "Shenzhen", "country": "CN"}
    )
    return Shipment.objects.create(
        order=order, warehouse=warehouse, currency="USD", tracking_number=number
    )


def _fulfilled(order, number="1Z999AA10123456784"):
    """An orders.fulfilled payload, shaped as orders.services.shipping writes it."""
    shipment = Shipment.objects.filter(order=order).first() or _shipment(order, number)
    return {
        "order_id": order.pk,
        "channel_id": order.channel_id,
        "shipment_id": shipment.pk,
        "tracking_number": number,
        "carrier": "ups",
        "carrier_name": "UPS",
        "tracking_url": f"https://www.ups.com/track?tracknum={number}",
        "lines": [],
    }


def test_shipment_completes_the_order_with_tracking_meta_and_a_note(
    woo_store, woo_channel
):
    stored, order = _woo_order_here(woo_store, woo_channel)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)

    done = order_fulfillment_push(payload=_fulfilled(order))
    again = order_fulfillment_push(payload=_fulfilled(order))

    in_store = woo_store.order(stored["id"])
    assert in_store["status"] == "completed"
    (meta,) = [m for m in in_store["meta_data"] if m["key"] == TRACKING_META_KEY]
    assert meta["value"] == [
        {
            "tracking_provider": "",
            "custom_tracking_provider": "UPS",
            "custom_tracking_link": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
            "tracking_number": "1Z999AA10123456784",
            "date_shipped": meta["value"][0]["date_shipped"],
            "tracking_id": tracking_id_for("1Z999AA10123456784"),
        }
    ]
    assert [n["note"] for n in woo_store.state.notes[stored["id"]]] == [
        "Shipped with UPS, tracking number 1Z999AA10123456784: "
        "https://www.ups.com/track?tracknum=1Z999AA10123456784."
    ]
    assert (
        done["fulfillment"] == f"{stored['id']}:{tracking_id_for('1Z999AA10123456784')}"
    )
    assert again == {"fulfillment": done["fulfillment"], "already_pushed": True}
    assert len(woo_store.calls_to("PUT", rf"orders/{stored['id']}")) == 1


def test_partial_shipment_adds_tracking_but_leaves_the_order_processing(
    woo_store, woo_channel
):
    stored, order = _woo_order_here(woo_store, woo_channel)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PARTIALLY_SHIPPED)

    order_fulfillment_push(payload=_fulfilled(order))

    in_store = woo_store.order(stored["id"])
    assert in_store["status"] == "processing"
    assert [m["key"] for m in in_store["meta_data"]].count(TRACKING_META_KEY) == 1


def test_new_tracking_number_replaces_the_shipment_s_tracking(woo_store, woo_channel):
    stored, order = _woo_order_here(woo_store, woo_channel)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    order_fulfillment_push(payload=_fulfilled(order))

    order_tracking_push(payload=_fulfilled(order, number="1ZNEW"))

    (meta,) = [
        m
        for m in woo_store.order(stored["id"])["meta_data"]
        if m["key"] == TRACKING_META_KEY
    ]
    assert [(i["tracking_number"], i["tracking_id"]) for i in meta["value"]] == [
        ("1ZNEW", tracking_id_for("1Z999AA10123456784"))
    ]
    assert woo_store.state.notes[stored["id"]][-1]["note"].startswith(
        "Tracking changed: shipped with UPS, tracking number 1ZNEW"
    )


def test_cancellation_made_here_cancels_the_order_in_the_store(
    woo_store, woo_channel, admin_user
):
    stored, order = _woo_order_here(woo_store, woo_channel)

    order_cancel(order_id=order.pk, actor=admin_user, reason="customer asked")
    result = outbox_drain()

    assert result.delivered >= 1
    assert woo_store.order(stored["id"])["status"] == "cancelled"
    assert woo_store.state.notes[stored["id"]][-1]["note"] == (
        "Cancelled in the ERP: customer asked"
    )
    message = OutboxMessage.objects.get(topic="orders.cancelled")
    assert message.status == OutboxStatus.DELIVERED


def test_order_already_cancelled_in_the_store_counts_as_done(
    woo_store, woo_channel, admin_user
):
    stored, order = _woo_order_here(woo_store, woo_channel)
    woo_store.change_order(stored["id"], status="cancelled")

    order_cancel(order_id=order.pk, actor=admin_user, reason="stock short")
    outbox_drain()

    assert OutboxMessage.objects.get(topic="orders.cancelled").status == (
        OutboxStatus.DELIVERED
    )
    assert woo_store.calls_to("PUT", rf"orders/{stored['id']}") == []


def test_revoked_keys_dead_letter_the_push_and_flag_the_store(woo_store, woo_channel):
    in_store = woo_store.add_simple_products(1, quantity=0)
    warehouse = _bulk_stock(woo_channel, in_store, quantity_of=lambda i: 3)
    woo_store.revoke_keys()

    channel_stock_policy_set(channel_id=woo_channel.pk, warehouse_ids=[warehouse.pk])
    deliver = OutboxMessage.objects.get()
    outbox_drain()

    deliver.refresh_from_db()
    assert deliver.status == OutboxStatus.DEAD
    woo_channel.refresh_from_db()
    assert woo_channel.requires_reauthorization is True
