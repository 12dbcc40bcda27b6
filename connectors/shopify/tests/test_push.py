"""Stock levels and cancellations pushed to Shopify through the outbox (fake store)."""

import pytest
from django.db import transaction

from connectors.handlers import deliver_available_changed
from connectors.models import Channel, ChannelListing, SyncRun, SyncRunStatus
from connectors.push import channel_stock_push
from connectors.shopify.mappers import canonical_order_from_rest
from connectors.shopify.testing.fake_server import FakeShopifyStore, official_order
from connectors.tests.factories import ChannelFactory
from erp.core.models import OutboxMessage, OutboxStatus
from erp.core.outbox import outbox_drain
from inventory.models import ChannelStockPolicy, Product, StockItem, Warehouse
from inventory.services.channels import channel_stock_policy_set
from inventory.services.levels import AVAILABLE_CHANGED_TOPIC
from inventory.services.stock import stock_receive
from orders.canonical import OrderSource
from orders.models import Order
from orders.services.ingest import order_ingest
from orders.services.workflow import order_cancel

pytestmark = pytest.mark.django_db

LOCATION = "655441491"


def _stock_up(channel, store, skus: dict[str, int], *, store_quantity=0, known=False):
    """Our stock of each SKU in one warehouse feeding the store, and its listing."""
    warehouse = Warehouse.objects.create(code="sz", name="Shenzhen", country="CN")
    listings = {}
    for index, (sku, quantity) in enumerate(sorted(skus.items())):
        product = Product.objects.create(sku=sku, title=sku)
        if quantity:
            stock_receive(
                product_id=product.pk, warehouse_id=warehouse.pk, quantity=quantity
            )
        item_id = 808_950_000 + index
        listings[sku] = ChannelListing.objects.create(
            channel=channel,
            product=product,
            external_variant_id=str(39_072_000 + index),
            external_inventory_item_id=str(item_id),
            pushed_quantity=store_quantity if known else None,
        )
        store.set_inventory(
            inventory_item_id=item_id, location_id=LOCATION, available=store_quantity
        )
    return warehouse, listings


@pytest.fixture
def stock_channel(fake_store):
    return ChannelFactory(
        code="stock-shop",
        shop_url=fake_store.url,
        stock_location_id=LOCATION,
        credentials={"access_token": fake_store.access_token},
    )


def _drain():
    return outbox_drain()


def test_store_feed_change_pushes_every_sku_through_the_outbox(
    fake_store, stock_channel
):
    # given: two SKUs in stock, unknown to us in the store (3 units each there)
    warehouse, listings = _stock_up(
        stock_channel, fake_store, {"A-1": 7, "B-2": 1}, store_quantity=3
    )

    # when: the warehouse starts feeding the store
    channel_stock_policy_set(channel_id=stock_channel.pk, warehouse_ids=[warehouse.pk])
    result = _drain()

    # then: both pushes (and the two stock arrivals, which no order waited for)
    assert result.delivered == 4
    assert (
        OutboxMessage.objects.filter(
            topic=AVAILABLE_CHANGED_TOPIC, status=OutboxStatus.DELIVERED
        ).count()
        == 2
    )
    assert (
        fake_store.available(inventory_item_id=808_950_000, location_id=LOCATION) == 7
    )
    assert (
        fake_store.available(inventory_item_id=808_950_001, location_id=LOCATION) == 1
    )
    assert [c.operation for c in fake_store.calls] == [
        "InventoryLevels",
        "InventorySetQuantities",
    ]
    mutation = fake_store.inventory_mutations[0]
    assert mutation["name"] == "available"
    assert mutation["reason"] == "correction"
    assert mutation["referenceDocumentUri"].startswith("gid://dtc-erp/StockPush/")
    assert sorted(
        (q["inventoryItemId"], q["quantity"], q["compareQuantity"])
        for q in mutation["quantities"]
    ) == [
        ("gid://shopify/InventoryItem/808950000", 7, 3),
        ("gid://shopify/InventoryItem/808950001", 1, 3),
    ]
    listing = ChannelListing.objects.get(pk=listings["A-1"].pk)
    assert (listing.pushed_quantity, listing.store_quantity) == (7, 7)
    run = SyncRun.objects.get(kind="push")
    assert (run.status, run.fetched, run.updated, run.failed) == (
        SyncRunStatus.SUCCEEDED,
        2,
        2,
        0,
    )
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {
        OutboxStatus.DELIVERED
    }


def test_nothing_is_sent_when_the_store_already_shows_our_figure(
    fake_store, stock_channel
):
    warehouse, _listings = _stock_up(
        stock_channel, fake_store, {"A-1": 4}, store_quantity=4, known=True
    )
    ChannelStockPolicy.objects.create(channel=stock_channel).warehouses.add(warehouse)
    product = Product.objects.get(sku="A-1")

    run = channel_stock_push(channel_id=stock_channel.pk, product_ids=[product.pk])

    assert run is None
    assert fake_store.calls == []


def test_stock_change_reaches_the_store_with_the_last_set_quantity_as_compare(
    fake_store, stock_channel
):
    # given: the store shows the 4 we last set
    warehouse, _ = _stock_up(
        stock_channel, fake_store, {"A-1": 4}, store_quantity=4, known=True
    )
    ChannelStockPolicy.objects.create(channel=stock_channel).warehouses.add(warehouse)
    product = Product.objects.get(sku="A-1")

    # when: 6 more arrive (a stock service enqueues the push in its transaction)
    with transaction.atomic():
        stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=6)
    _drain()

    # then: one call, no read, compare-and-set from 4 to 10
    assert [c.operation for c in fake_store.calls] == ["InventorySetQuantities"]
    quantity = fake_store.inventory_mutations[0]["quantities"][0]
    assert (quantity["quantity"], quantity["compareQuantity"]) == (10, 4)
    assert (
        fake_store.available(inventory_item_id=808_950_000, location_id=LOCATION) == 10
    )


def test_quantity_changed_in_the_store_meanwhile_is_read_and_set_over(
    fake_store, stock_channel
):
    # given: we set 5; since then a sale in the store made it 4 (no webhook yet)
    warehouse, _ = _stock_up(
        stock_channel, fake_store, {"A-1": 9}, store_quantity=5, known=True
    )
    ChannelStockPolicy.objects.create(channel=stock_channel).warehouses.add(warehouse)
    fake_store.set_inventory(
        inventory_item_id=808_950_000, location_id=LOCATION, available=4
    )

    # when
    run = channel_stock_push(
        channel_id=stock_channel.pk, product_ids=[Product.objects.get().pk]
    )

    # then
    assert [c.operation for c in fake_store.calls] == [
        "InventorySetQuantities",
        "InventoryLevels",
        "InventorySetQuantities",
    ]
    assert (
        fake_store.available(inventory_item_id=808_950_000, location_id=LOCATION) == 9
    )
    assert (run.updated, run.failed) == (1, 0)


def test_item_the_store_does_not_stock_fails_alone(fake_store, stock_channel):
    warehouse, listings = _stock_up(
        stock_channel, fake_store, {"A-1": 2, "B-2": 3}, store_quantity=0, known=True
    )
    ChannelStockPolicy.objects.create(channel=stock_channel).warehouses.add(warehouse)
    fake_store.inventory.pop(
        ("gid://shopify/InventoryItem/808950001", f"gid://shopify/Location/{LOCATION}")
    )

    run = channel_stock_push(
        channel_id=stock_channel.pk,
        product_ids=list(Product.objects.values_list("pk", flat=True)),
    )

    assert (run.status, run.updated, run.failed) == (SyncRunStatus.PARTIAL, 1, 1)
    assert run.errors == [
        {
            "external_id": listings["B-2"].external_variant_id,
            "error": "ITEM_NOT_STOCKED_AT_LOCATION: The item is not stocked at the location.",
        }
    ]
    assert (
        fake_store.available(inventory_item_id=808_950_000, location_id=LOCATION) == 2
    )


def test_store_without_a_stock_location_dead_letters_the_push_with_the_reason(
    fake_store, stock_channel
):
    Channel.objects.filter(pk=stock_channel.pk).update(stock_location_id="")
    warehouse, _ = _stock_up(stock_channel, fake_store, {"A-1": 2})

    channel_stock_policy_set(channel_id=stock_channel.pk, warehouse_ids=[warehouse.pk])
    result = _drain()

    assert result.dead == 1
    message = OutboxMessage.objects.get(topic=AVAILABLE_CHANGED_TOPIC)
    assert message.status == OutboxStatus.DEAD
    assert "has no stock location set" in message.last_error
    assert fake_store.calls == []


def test_revoked_store_dead_letters_the_push_and_is_flagged(fake_store, stock_channel):
    warehouse, _ = _stock_up(stock_channel, fake_store, {"A-1": 2})
    fake_store.revoke_token()

    channel_stock_policy_set(channel_id=stock_channel.pk, warehouse_ids=[warehouse.pk])
    result = _drain()

    assert result.dead == 1
    assert Channel.objects.get(pk=stock_channel.pk).requires_reauthorization is True
    assert len(fake_store.calls) == 1


def test_store_that_is_down_gets_the_push_again_later(fake_store, stock_channel):
    warehouse, _ = _stock_up(stock_channel, fake_store, {"A-1": 2})
    fake_store.fail_next(503, times=50)

    channel_stock_policy_set(channel_id=stock_channel.pk, warehouse_ids=[warehouse.pk])
    result = _drain()

    assert result.retried == 1
    message = OutboxMessage.objects.get(topic=AVAILABLE_CHANGED_TOPIC)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert "HTTP 503" in message.last_error


def _bulk_stock(channel, store, count, *, prefix, quantity_of):
    """`count` SKUs with stock and known store figures, bulk-created.

    Bulk-created: receipts through the stock service one by one would take most of
    the test's time; the ledger is not what these tests measure.
    """
    warehouse = Warehouse.objects.create(
        code=f"wh-{prefix.lower()}", name=prefix, country="CN"
    )
    products = Product.objects.bulk_create(
        [Product(sku=f"{prefix}-{i:05d}", title=f"{prefix} {i}") for i in range(count)]
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
                product=p,
                external_variant_id=str(50_000_000 + i),
                external_inventory_item_id=str(60_000_000 + i),
                pushed_quantity=0,
            )
            for i, p in enumerate(products)
        ]
    )
    for i in range(count):
        store.set_inventory(
            inventory_item_id=60_000_000 + i, location_id=LOCATION, available=0
        )
    return warehouse


def test_waiting_skus_of_the_store_go_in_the_same_calls(fake_store, stock_channel):
    # given: 260 SKUs whose store quantities we know
    warehouse = _bulk_stock(
        stock_channel, fake_store, 260, prefix="SKU", quantity_of=lambda i: 1 + i % 5
    )

    # when
    channel_stock_policy_set(channel_id=stock_channel.pk, warehouse_ids=[warehouse.pk])
    result = outbox_drain()

    # then: 260 messages delivered, two calls of at most 250
    assert result.delivered == 260
    assert [len(m["quantities"]) for m in fake_store.inventory_mutations] == [250, 10]
    assert len(fake_store.calls_of("InventorySetQuantities")) == 2
    assert fake_store.calls_of("InventoryLevels") == []
    assert fake_store.available(inventory_item_id=60_000_259, location_id=LOCATION) == (
        1 + 259 % 5
    )


@pytest.mark.slow
def test_10000_changed_skus_reach_the_store_in_40_calls_within_the_throttle():
    """Issue 5 "must show": ceil(10,000 / 250) = 40 calls, never throttled."""
    # given: a store with a small bucket (4 mutations' worth, 100 points/s)
    with FakeShopifyStore(bucket_maximum=40, restore_rate=100) as store:
        channel = ChannelFactory(
            code="big-shop",
            shop_url=store.url,
            stock_location_id=LOCATION,
            credentials={"access_token": store.access_token},
        )
        warehouse = _bulk_stock(
            channel, store, 10_000, prefix="BIG", quantity_of=lambda i: 1 + i % 7
        )

        # when: the warehouse starts feeding the store (10,000 messages)
        channel_stock_policy_set(channel_id=channel.pk, warehouse_ids=[warehouse.pk])
        first = OutboxMessage.objects.order_by("pk").first()
        deliver_available_changed(first)
        # a sample of the other messages: their SKUs are already right in the store
        for message in OutboxMessage.objects.order_by("pk")[1:51]:
            deliver_available_changed(message)

    # then
    sets = store.calls_of("InventorySetQuantities")
    assert len(sets) == 40
    assert [c.throttled for c in store.calls] == [False] * len(store.calls)
    assert store.available(inventory_item_id=60_009_999, location_id=LOCATION) == (
        1 + 9_999 % 7
    )
    run = SyncRun.objects.get(kind="push")
    assert (run.updated, run.failed) == (10_000, 0)


def test_cancellation_made_here_cancels_the_order_in_the_store(
    fake_store, stock_channel
):
    # given: an order we received from the store
    fake_store.seed_official_orders()
    data = canonical_order_from_rest(official_order())
    result = order_ingest(
        channel_id=stock_channel.pk, data=data, source=OrderSource.POLL
    )

    # when: ops cancel it here
    order_cancel(order_id=result.order_id, actor=None, reason="Out of stock")
    _drain()
    _drain()  # a second delivery (a retry) is harmless

    # then
    assert fake_store.cancellations == [
        {
            "orderId": "gid://shopify/Order/450789469",
            "reason": "OTHER",
            "refund": False,
            "restock": False,
            "notifyCustomer": False,
            "staffNote": "Out of stock",
        }
    ]
    assert fake_store.orders["450789469"].rest["cancelled_at"] is not None
    message = OutboxMessage.objects.get(topic="orders.cancelled")
    assert message.status == OutboxStatus.DELIVERED
    assert Order.objects.get().status == "cancelled"


def test_order_already_cancelled_in_the_store_counts_as_done(fake_store, stock_channel):
    fake_store.seed_official_orders()
    fake_store.change_order("450789469", cancelled_at="2026-01-01T00:00:00Z")
    data = canonical_order_from_rest(official_order())
    result = order_ingest(
        channel_id=stock_channel.pk, data=data, source=OrderSource.POLL
    )

    order_cancel(order_id=result.order_id, actor=None, reason="Duplicate")
    drained = _drain()

    assert drained.delivered >= 1
    assert fake_store.cancellations == []
    assert OutboxMessage.objects.get(topic="orders.cancelled").status == (
        OutboxStatus.DELIVERED
    )
