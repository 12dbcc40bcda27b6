"""Receiving and counting stock."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.choices import StockMovementType
from inventory.exceptions import StockRuleError
from inventory.models import Batch, StockItem, StockMovement
from inventory.planning import AllocationRequest
from inventory.services.allocation import stock_allocate
from inventory.services.stock import stock_adjust, stock_receive
from inventory.tests.factories import BundleFactory, LotTrackedProductFactory

pytestmark = pytest.mark.django_db


def test_receive_puts_stock_on_hand_and_writes_one_ledger_line(
    product, warehouse, ops_user, assert_ledger_consistent
):
    # when
    movement = stock_receive(
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        quantity=12,
        unit_cost=Decimal("3.2000"),
        reference="PO-1",
        actor=ops_user,
    )

    # then
    item = StockItem.objects.get(product=product, warehouse=warehouse)
    assert (item.quantity_on_hand, item.quantity_allocated) == (12, 0)
    assert movement.type == StockMovementType.RECEIPT
    assert (movement.quantity_on_hand_delta, movement.quantity_on_hand_after) == (
        12,
        12,
    )
    assert (movement.reference, movement.actor, movement.unit_cost) == (
        "PO-1",
        ops_user,
        Decimal("3.2000"),
    )
    assert StockMovement.objects.count() == 1
    assert_ledger_consistent()


def test_receive_into_a_lot_creates_it_with_cost_and_derived_expiry(warehouse):
    # given
    serum = LotTrackedProductFactory(sku="SERUM-VC-30", shelf_life_days=90)

    # when
    stock_receive(
        product_id=serum.pk,
        warehouse_id=warehouse.pk,
        quantity=40,
        lot_code="L2406",
        unit_cost=Decimal("1.5"),
        cost_currency="cny",
    )
    stock_receive(
        product_id=serum.pk, warehouse_id=warehouse.pk, quantity=10, lot_code="L2406"
    )

    # then
    batch = Batch.objects.get(product=serum, code="L2406")
    assert batch.expires_on == timezone.localdate() + datetime.timedelta(days=90)
    assert (batch.unit_cost, batch.cost_currency) == (Decimal("1.5"), "CNY")
    item = StockItem.objects.get(product=serum, batch=batch)
    assert item.quantity_on_hand == 50


@pytest.mark.parametrize(
    ("lot_tracked", "lot_code", "match"),
    [(True, "", "lot-tracked"), (False, "L1", "not lot-tracked")],
)
def test_receive_refuses_wrong_lot_usage(warehouse, lot_tracked, lot_code, match):
    product = LotTrackedProductFactory(is_lot_tracked=lot_tracked)

    with pytest.raises(StockRuleError, match=match):
        stock_receive(
            product_id=product.pk,
            warehouse_id=warehouse.pk,
            quantity=1,
            lot_code=lot_code,
        )

    assert not StockItem.objects.exists()
    assert not StockMovement.objects.exists()


def test_receive_refuses_a_bundle(warehouse):
    bundle = BundleFactory()

    with pytest.raises(StockRuleError, match="bundle"):
        stock_receive(product_id=bundle.pk, warehouse_id=warehouse.pk, quantity=1)


def test_adjust_sets_the_counted_quantity_and_logs_the_difference(
    product, warehouse, assert_ledger_consistent
):
    # given
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=20)

    # when
    movement = stock_adjust(
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        counted_quantity=17,
        reason="Cycle count",
    )

    # then
    assert movement.type == StockMovementType.ADJUSTMENT
    assert movement.quantity_on_hand_delta == -3
    assert StockItem.objects.get().quantity_on_hand == 17
    assert_ledger_consistent()


def test_adjust_below_allocated_is_refused_and_changes_nothing(product, warehouse):
    # given
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=10)
    stock_allocate(
        requests=[AllocationRequest(None, product.pk, 6)], warehouse_id=warehouse.pk
    )
    before = StockMovement.objects.count()

    # when / then
    with pytest.raises(StockRuleError, match="allocated"):
        stock_adjust(
            product_id=product.pk,
            warehouse_id=warehouse.pk,
            counted_quantity=5,
            reason="Count",
        )
    item = StockItem.objects.get()
    assert (item.quantity_on_hand, item.quantity_allocated) == (10, 6)
    assert StockMovement.objects.count() == before


def test_count_of_a_sku_never_stocked_there_creates_the_row(product, warehouse):
    stock_adjust(
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        counted_quantity=4,
        reason="Found",
    )

    assert (
        StockItem.objects.get(product=product, warehouse=warehouse).quantity_on_hand
        == 4
    )


def test_database_refuses_allocated_above_on_hand(product, warehouse):
    from django.db import IntegrityError, transaction

    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        StockItem.objects.filter(product=product).update(quantity_allocated=2)


def test_ledger_is_append_only(product, warehouse):
    movement = stock_receive(
        product_id=product.pk, warehouse_id=warehouse.pk, quantity=1
    )

    with pytest.raises(TypeError):
        movement.save()
    with pytest.raises(TypeError):
        StockMovement.objects.all().update(reason="x")
    with pytest.raises(TypeError):
        StockMovement.objects.all().delete()
