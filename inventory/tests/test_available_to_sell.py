"""Available-to-sell per store and the coalesced outbox pushes that announce it."""

import datetime

import pytest
from django.utils import timezone

from connectors.tests.factories import ChannelFactory
from erp.core.models import OutboxMessage, OutboxStatus
from erp.core.outbox import outbox_drain
from inventory.choices import BufferKind
from inventory.planning import AllocationRequest
from inventory.selectors import channel_available_to_sell
from inventory.services.alerts import stock_expiry_sweep
from inventory.services.allocation import stock_allocate, stock_release, stock_ship
from inventory.services.channels import channel_stock_policy_set
from inventory.services.levels import AVAILABLE_CHANGED_TOPIC
from inventory.services.stock import stock_receive
from inventory.tests.factories import (
    BundleComponentFactory,
    BundleFactory,
    ChannelStockPolicyFactory,
    LotTrackedProductFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db


def _pending_keys() -> list[str]:
    return sorted(
        OutboxMessage.objects.filter(
            topic=AVAILABLE_CHANGED_TOPIC, status=OutboxStatus.PENDING
        ).values_list("key", flat=True)
    )


@pytest.fixture
def us_store(warehouse):
    return ChannelStockPolicyFactory(
        channel=ChannelFactory(code="us-shop"), warehouses=[warehouse]
    ).channel


def test_ats_sums_feeding_warehouses_minus_allocations_and_buffer(product, warehouse):
    # given
    other = WarehouseFactory(code="us-la")
    not_feeding = WarehouseFactory(code="eu-ams")
    channel = ChannelFactory()
    channel_stock_policy_set(
        channel_id=channel.pk,
        warehouse_ids=[warehouse.pk, other.pk],
        buffer_kind=BufferKind.PERCENT,
        buffer_value=10,
    )
    for wh, qty in ((warehouse, 60), (other, 40), (not_feeding, 500)):
        stock_receive(product_id=product.pk, warehouse_id=wh.pk, quantity=qty)
    stock_allocate(
        requests=[AllocationRequest(None, product.pk, 10)], warehouse_id=other.pk
    )

    # when
    ats = channel_available_to_sell(channel_id=channel.pk, product_ids=[product.pk])

    # then: (60 + 40 - 10) = 90, minus 10 % -> 81
    assert ats == {product.pk: 81}


def test_ats_of_a_bundle_and_an_absolute_buffer(warehouse, us_store):
    kit = BundleFactory()
    tee = BundleComponentFactory(bundle=kit, quantity=1).component
    mug = BundleComponentFactory(bundle=kit, quantity=2).component
    stock_receive(product_id=tee.pk, warehouse_id=warehouse.pk, quantity=10)
    stock_receive(product_id=mug.pk, warehouse_id=warehouse.pk, quantity=9)
    channel_stock_policy_set(
        channel_id=us_store.pk, warehouse_ids=[warehouse.pk], buffer_value=1
    )

    ats = channel_available_to_sell(
        channel_id=us_store.pk, product_ids=[kit.pk, tee.pk]
    )

    assert ats == {kit.pk: 3, tee.pk: 9}


def test_store_without_policy_sells_nothing(product, warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)

    assert channel_available_to_sell(
        channel_id=ChannelFactory().pk, product_ids=[product.pk]
    ) == {product.pk: 0}


def test_expired_lots_do_not_count(warehouse, us_store):
    serum = LotTrackedProductFactory()
    today = timezone.localdate()
    stock_receive(
        product_id=serum.pk,
        warehouse_id=warehouse.pk,
        quantity=5,
        lot_code="OLD",
        expires_on=today,
    )
    stock_receive(
        product_id=serum.pk,
        warehouse_id=warehouse.pk,
        quantity=2,
        lot_code="NEW",
        expires_on=today + datetime.timedelta(days=9),
    )

    assert channel_available_to_sell(
        channel_id=us_store.pk, product_ids=[serum.pk]
    ) == {serum.pk: 2}


def test_a_hundred_changes_to_one_sku_make_one_pending_push(
    product, warehouse, us_store
):
    # given
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=1000)

    # when
    for _ in range(100):
        stock_allocate(
            requests=[AllocationRequest(None, product.pk, 1)], warehouse_id=warehouse.pk
        )

    # then
    message = OutboxMessage.objects.get(topic=AVAILABLE_CHANGED_TOPIC)
    assert message.key == f"{us_store.pk}:{product.pk}"
    assert message.payload == {"channel_id": us_store.pk, "product_id": product.pk}
    assert message.is_coalesced


def test_one_push_per_affected_store_and_sku_including_bundles(product, warehouse):
    # given
    first, second = ChannelFactory(), ChannelFactory()
    for channel in (first, second):
        ChannelStockPolicyFactory(channel=channel, warehouses=[warehouse])
    kit = BundleComponentFactory(component=product).bundle

    # when
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)

    # then
    assert _pending_keys() == sorted(
        f"{c.pk}:{p.pk}" for c in (first, second) for p in (product, kit)
    )


def test_no_push_for_a_warehouse_no_store_sells_from(product, us_store):
    stock_receive(product_id=product.pk, warehouse_id=WarehouseFactory().pk, quantity=3)

    assert _pending_keys() == []


def test_shipping_an_allocation_does_not_move_ats(product, warehouse, us_store):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)
    [allocation] = stock_allocate(
        requests=[AllocationRequest(None, product.pk, 1)], warehouse_id=warehouse.pk
    )
    OutboxMessage.objects.all().delete()

    stock_ship(allocation_ids=[allocation.pk])

    assert _pending_keys() == []


def test_release_moves_ats(product, warehouse, us_store):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)
    [allocation] = stock_allocate(
        requests=[AllocationRequest(None, product.pk, 1)], warehouse_id=warehouse.pk
    )
    OutboxMessage.objects.all().delete()

    stock_release(allocation_ids=[allocation.pk])

    assert _pending_keys() == [f"{us_store.pk}:{product.pk}"]


def test_changing_the_feed_re_pushes_every_sku_of_the_store(product, warehouse):
    channel = ChannelFactory()
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)

    channel_stock_policy_set(
        channel_id=channel.pk, warehouse_ids=[warehouse.pk], buffer_value=2
    )

    assert _pending_keys() == [f"{channel.pk}:{product.pk}"]


def test_expiry_sweep_pushes_lots_that_just_expired(warehouse, us_store):
    serum = LotTrackedProductFactory()
    today = timezone.localdate()
    stock_receive(
        product_id=serum.pk,
        warehouse_id=warehouse.pk,
        quantity=5,
        lot_code="L1",
        expires_on=today,
    )
    OutboxMessage.objects.all().delete()

    assert stock_expiry_sweep(today=today) == 1

    assert _pending_keys() == [f"{us_store.pk}:{serum.pk}"]


def test_push_handler_reads_current_ats(product, warehouse, us_store, outbox_handlers):
    # given: the connectors app will register the real handler; this one records
    seen = []
    outbox_handlers(
        AVAILABLE_CHANGED_TOPIC,
        lambda m: seen.append(
            channel_available_to_sell(
                channel_id=m.payload["channel_id"],
                product_ids=[m.payload["product_id"]],
            )
        ),
    )
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=7)
    stock_allocate(
        requests=[AllocationRequest(None, product.pk, 2)], warehouse_id=warehouse.pk
    )

    # when
    result = outbox_drain()

    # then: one push (and the stock arrival, which no waiting order needed)
    assert result.delivered == 2
    assert seen == [{product.pk: 5}]
