"""Stock pushed per store location: each location shows its own warehouses' stock."""

import math

import pytest

from connectors.models import ChannelListing, ChannelLocation
from connectors.push import channel_stock_push
from connectors.shopify import queries
from connectors.tests.factories import ChannelFactory
from inventory.models import Product, Warehouse
from inventory.services.channels import channel_stock_policy_set
from inventory.services.stock import stock_adjust, stock_receive

pytestmark = pytest.mark.django_db

LA, NJ = "gid://shopify/Location/1001", "gid://shopify/Location/1002"


@pytest.fixture
def two_locations(fake_store):
    """A store with two locations: Los Angeles shows the LA warehouse, New Jersey the
    two east-coast warehouses together."""
    channel = ChannelFactory(
        code="two-locations",
        shop_url=fake_store.url,
        credentials={"access_token": fake_store.access_token},
    )
    warehouses = {
        code: Warehouse.objects.create(code=code, name=code, country="US")
        for code in ("la", "nj", "ny")
    }
    channel_stock_policy_set(
        channel_id=channel.pk, warehouse_ids=[w.pk for w in warehouses.values()]
    )
    ChannelLocation.objects.create(
        channel=channel, external_location_id=LA, name="Los Angeles"
    ).warehouses.set([warehouses["la"]])
    ChannelLocation.objects.create(
        channel=channel, external_location_id="1002", name="New Jersey"
    ).warehouses.set([warehouses["nj"], warehouses["ny"]])
    return channel, warehouses


def _products(channel, store, warehouses, stock):
    """Products with their stock per warehouse, listed and stocked at both locations."""
    products = {}
    for index, (sku, per_warehouse) in enumerate(sorted(stock.items())):
        product = Product.objects.create(sku=sku, title=sku)
        for code, quantity in per_warehouse.items():
            stock_receive(
                product_id=product.pk,
                warehouse_id=warehouses[code].pk,
                quantity=quantity,
            )
        item_id = 700_000 + index
        ChannelListing.objects.create(
            channel=channel,
            product=product,
            external_variant_id=str(600_000 + index),
            external_inventory_item_id=str(item_id),
        )
        for location in (LA, NJ):
            store.set_inventory(
                inventory_item_id=item_id, location_id=location, available=0
            )
        products[sku] = product
    return products


def test_each_location_gets_its_own_warehouses_stock(fake_store, two_locations):
    # given
    channel, warehouses = two_locations
    products = _products(
        channel,
        fake_store,
        warehouses,
        {"TEE": {"la": 5, "nj": 2, "ny": 3}, "MUG": {"ny": 4}},
    )

    # when
    run = channel_stock_push(
        channel_id=channel.pk, product_ids=[p.pk for p in products.values()]
    )

    # then
    assert {
        (sku, location): fake_store.available(
            inventory_item_id=700_000 + index, location_id=location
        )
        for index, sku in enumerate(sorted(products))
        for location in (LA, NJ)
    } == {
        ("MUG", LA): 0,
        ("MUG", NJ): 4,
        ("TEE", LA): 5,
        ("TEE", NJ): 5,
    }
    assert (run.updated, run.unchanged, run.failed) == (3, 1, 0)
    (mutation,) = fake_store.inventory_mutations
    assert {q["locationId"] for q in mutation["quantities"]} == {LA, NJ}
    assert all(q["compareQuantity"] == 0 for q in mutation["quantities"])
    assert mutation["referenceDocumentUri"].startswith("gid://dtc-erp/StockPush/")
    tee = ChannelListing.objects.get(product=products["TEE"])
    assert (tee.location_quantities, tee.pushed_quantity) == ({LA: 5, NJ: 5}, 10)


def test_second_push_sends_nothing_and_a_move_between_locations_is_sent(
    fake_store, two_locations
):
    channel, warehouses = two_locations
    products = _products(channel, fake_store, warehouses, {"TEE": {"la": 4}})
    ids = [products["TEE"].pk]
    channel_stock_push(channel_id=channel.pk, product_ids=ids)
    calls = len(fake_store.calls)

    again = channel_stock_push(channel_id=channel.pk, product_ids=ids)
    assert again is None
    assert len(fake_store.calls) == calls

    # when: the same total, now two in LA and two in New York
    stock_receive(product_id=ids[0], warehouse_id=warehouses["ny"].pk, quantity=2)
    stock_adjust(
        product_id=ids[0],
        warehouse_id=warehouses["la"].pk,
        counted_quantity=2,
        reason="moved to New York",
    )
    channel_stock_push(channel_id=channel.pk, product_ids=ids)

    assert fake_store.available(inventory_item_id=700_000, location_id=LA) == 2
    assert fake_store.available(inventory_item_id=700_000, location_id=NJ) == 2
    last = fake_store.inventory_mutations[-1]["quantities"]
    assert sorted(
        (q["locationId"], q["compareQuantity"], q["quantity"]) for q in last
    ) == [
        (LA, 4, 2),
        (NJ, 0, 2),
    ]


def test_300_skus_at_two_locations_go_250_quantities_a_call(fake_store, two_locations):
    channel, warehouses = two_locations
    products = _products(
        channel,
        fake_store,
        warehouses,
        {f"SKU-{n:03d}": {"la": 1 + n % 3, "nj": 1} for n in range(300)},
    )

    run = channel_stock_push(
        channel_id=channel.pk, product_ids=[p.pk for p in products.values()]
    )

    sets = fake_store.calls_of("InventorySetQuantities")
    assert len(sets) == math.ceil(600 / queries.INVENTORY_BATCH_SIZE) == 3
    assert [len(m["quantities"]) for m in fake_store.inventory_mutations] == [
        250,
        250,
        100,
    ]
    assert (run.updated, run.failed) == (600, 0)
    assert fake_store.available(inventory_item_id=700_299, location_id=NJ) == 1
