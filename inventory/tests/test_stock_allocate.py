"""Allocating, releasing, shipping and returning stock."""

import datetime

import pytest
from django.utils import timezone

from inventory.choices import AllocationStatus, StockMovementType
from inventory.exceptions import (
    AllocationStateError,
    InsufficientStockError,
    StockRuleError,
)
from inventory.models import Allocation, StockItem, StockMovement
from inventory.planning import AllocationRequest
from inventory.services.allocation import stock_allocate, stock_release, stock_ship
from inventory.services.stock import stock_receive, stock_return
from inventory.tests.factories import (
    BundleComponentFactory,
    BundleFactory,
    LotTrackedProductFactory,
    ProductFactory,
    WarehouseFactory,
)
from orders.tests.factories import OrderLineFactory

pytestmark = pytest.mark.django_db


def _receive(product, warehouse, quantity, **kwargs):
    return stock_receive(
        product_id=product.pk, warehouse_id=warehouse.pk, quantity=quantity, **kwargs
    )


def _item(product, warehouse, batch=None):
    return StockItem.objects.get(product=product, warehouse=warehouse, batch=batch)


def test_allocates_order_lines_and_keeps_line_and_reference(
    product, warehouse, assert_ledger_consistent
):
    # given
    line = OrderLineFactory(product=product, quantity=3)
    _receive(product, warehouse, 10)

    # when
    [allocation] = stock_allocate(
        requests=[AllocationRequest(line.pk, product.pk, 3)],
        warehouse_id=warehouse.pk,
        reference="order:#1001",
    )

    # then
    assert (allocation.order_line_id, allocation.quantity, allocation.reference) == (
        line.pk,
        3,
        "order:#1001",
    )
    assert allocation.status == AllocationStatus.ALLOCATED
    item = _item(product, warehouse)
    assert (item.quantity_on_hand, item.quantity_allocated) == (10, 3)
    movement = StockMovement.objects.get(type=StockMovementType.ALLOCATION)
    assert (movement.quantity_on_hand_delta, movement.quantity_allocated_delta) == (
        0,
        3,
    )
    assert movement.allocation == allocation
    assert_ledger_consistent()


def test_fefo_picks_earliest_expiring_lot_and_skips_expired(
    warehouse, assert_ledger_consistent
):
    # given
    serum = LotTrackedProductFactory()
    today = timezone.localdate()
    _receive(
        serum,
        warehouse,
        5,
        lot_code="LATE",
        expires_on=today + datetime.timedelta(days=300),
    )
    _receive(
        serum,
        warehouse,
        5,
        lot_code="SOON",
        expires_on=today + datetime.timedelta(days=30),
    )
    _receive(
        serum,
        warehouse,
        50,
        lot_code="OLD",
        expires_on=today - datetime.timedelta(days=1),
    )

    # when
    allocations = stock_allocate(
        requests=[AllocationRequest(None, serum.pk, 7)], warehouse_id=warehouse.pk
    )

    # then
    assert [(a.stock_item.batch.code, a.quantity) for a in allocations] == [
        ("SOON", 5),
        ("LATE", 2),
    ]
    assert StockItem.objects.get(batch__code="OLD").quantity_allocated == 0
    assert_ledger_consistent()


def test_expired_stock_alone_cannot_be_allocated(warehouse):
    serum = LotTrackedProductFactory()
    _receive(serum, warehouse, 50, lot_code="OLD", expires_on=timezone.localdate())

    with pytest.raises(InsufficientStockError) as exc:
        stock_allocate(
            requests=[AllocationRequest(None, serum.pk, 1)], warehouse_id=warehouse.pk
        )

    assert exc.value.extra["shortages"] == [
        {"product_id": serum.pk, "sku": serum.sku, "requested": 1, "available": 0}
    ]


def test_rejected_allocation_changes_nothing(warehouse, assert_ledger_consistent):
    # given
    tee, mug = ProductFactory(sku="TEE"), ProductFactory(sku="MUG")
    _receive(tee, warehouse, 10)
    _receive(mug, warehouse, 1)
    movements_before = StockMovement.objects.count()

    # when
    with pytest.raises(InsufficientStockError) as exc:
        stock_allocate(
            requests=[
                AllocationRequest(None, tee.pk, 2),
                AllocationRequest(None, mug.pk, 2),
            ],
            warehouse_id=warehouse.pk,
        )

    # then
    assert exc.value.code == "insufficient_stock"
    assert exc.value.extra["warehouse_id"] == warehouse.pk
    assert [s["sku"] for s in exc.value.extra["shortages"]] == ["MUG"]
    assert not Allocation.objects.exists()
    assert StockMovement.objects.count() == movements_before
    assert _item(tee, warehouse).quantity_allocated == 0
    assert_ledger_consistent()


def test_stock_in_another_warehouse_does_not_count(product, warehouse):
    _receive(product, WarehouseFactory(code="us-east"), 10)

    with pytest.raises(InsufficientStockError):
        stock_allocate(
            requests=[AllocationRequest(None, product.pk, 1)], warehouse_id=warehouse.pk
        )


def test_inactive_warehouse_allocates_nothing(product, warehouse):
    _receive(product, warehouse, 10)
    warehouse.is_active = False
    warehouse.save()

    with pytest.raises(InsufficientStockError):
        stock_allocate(
            requests=[AllocationRequest(None, product.pk, 1)], warehouse_id=warehouse.pk
        )


def test_bundle_is_allocated_as_its_components(warehouse, assert_ledger_consistent):
    # given
    kit = BundleFactory(sku="GIFT-SET")
    tee = BundleComponentFactory(bundle=kit, quantity=1).component
    mug = BundleComponentFactory(bundle=kit, quantity=2).component
    _receive(tee, warehouse, 5)
    _receive(mug, warehouse, 5)
    line = OrderLineFactory(product=kit, quantity=2)

    # when
    allocations = stock_allocate(
        requests=[AllocationRequest(line.pk, kit.pk, 2)], warehouse_id=warehouse.pk
    )

    # then
    assert {
        (a.stock_item.product_id, a.quantity, a.bundle_id, a.order_line_id)
        for a in allocations
    } == {
        (tee.pk, 2, kit.pk, line.pk),
        (mug.pk, 4, kit.pk, line.pk),
    }
    assert _item(mug, warehouse).quantity_allocated == 4
    assert_ledger_consistent()


def test_bundle_short_of_one_component_is_refused(warehouse):
    kit = BundleFactory()
    tee = BundleComponentFactory(bundle=kit, quantity=1).component
    mug = BundleComponentFactory(bundle=kit, quantity=3).component
    _receive(tee, warehouse, 5)
    _receive(mug, warehouse, 5)

    with pytest.raises(InsufficientStockError) as exc:
        stock_allocate(
            requests=[AllocationRequest(None, kit.pk, 2)], warehouse_id=warehouse.pk
        )

    assert exc.value.extra["shortages"][0]["product_id"] == mug.pk
    assert not Allocation.objects.exists()


def test_release_returns_units_to_the_pool_and_is_idempotent(
    product, warehouse, assert_ledger_consistent
):
    # given
    _receive(product, warehouse, 10)
    [allocation] = stock_allocate(
        requests=[AllocationRequest(None, product.pk, 4)], warehouse_id=warehouse.pk
    )

    # when
    stock_release(allocation_ids=[allocation.pk], reason="Order cancelled")
    stock_release(allocation_ids=[allocation.pk])

    # then
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.RELEASED
    item = _item(product, warehouse)
    assert (item.quantity_on_hand, item.quantity_allocated) == (10, 0)
    assert StockMovement.objects.filter(type=StockMovementType.RELEASE).count() == 1
    assert_ledger_consistent()


def test_ship_takes_units_off_hand(product, warehouse, assert_ledger_consistent):
    _receive(product, warehouse, 10)
    [allocation] = stock_allocate(
        requests=[AllocationRequest(None, product.pk, 4)], warehouse_id=warehouse.pk
    )

    stock_ship(allocation_ids=[allocation.pk], reference="shipment:1")

    item = _item(product, warehouse)
    assert (item.quantity_on_hand, item.quantity_allocated) == (6, 0)
    shipment = StockMovement.objects.get(type=StockMovementType.SHIPMENT)
    assert (shipment.quantity_on_hand_delta, shipment.quantity_allocated_delta) == (
        -4,
        -4,
    )
    assert_ledger_consistent()


def test_shipped_allocation_cannot_be_released(product, warehouse):
    _receive(product, warehouse, 10)
    first, second = (
        stock_allocate(
            requests=[AllocationRequest(None, product.pk, n)], warehouse_id=warehouse.pk
        )[0]
        for n in (1, 2)
    )
    stock_ship(allocation_ids=[first.pk])

    with pytest.raises(AllocationStateError):
        stock_release(allocation_ids=[first.pk, second.pk])

    second.refresh_from_db()
    assert second.status == AllocationStatus.ALLOCATED
    assert _item(product, warehouse).quantity_allocated == 2


def test_return_against_shipment_restocks_same_row_up_to_shipped(
    product, warehouse, assert_ledger_consistent
):
    # given
    _receive(product, warehouse, 10)
    [allocation] = stock_allocate(
        requests=[AllocationRequest(None, product.pk, 3)], warehouse_id=warehouse.pk
    )
    stock_ship(allocation_ids=[allocation.pk])

    # when
    stock_return(allocation_id=allocation.pk, quantity=2, reason="Wrong size")

    # then
    assert _item(product, warehouse).quantity_on_hand == 9
    allocation.refresh_from_db()
    assert allocation.quantity_returned == 2
    with pytest.raises(StockRuleError, match="Only 1"):
        stock_return(allocation_id=allocation.pk, quantity=2)
    assert_ledger_consistent()


def test_return_of_unallocated_goods_to_a_warehouse(product, warehouse):
    stock_return(product_id=product.pk, warehouse_id=warehouse.pk, quantity=2)

    assert _item(product, warehouse).quantity_on_hand == 2
    assert StockMovement.objects.get().type == StockMovementType.RETURN
