"""Transfers between warehouses: out, in transit, in (or back)."""

import datetime

import pytest
from django.db.models import Sum
from django.utils import timezone

from inventory.choices import StockMovementType, TransferStatus
from inventory.exceptions import InsufficientStockError, TransferStateError
from inventory.models import StockItem, StockMovement, Transfer
from inventory.planning import AllocationRequest
from inventory.selectors import stock_in_transit
from inventory.services.allocation import stock_allocate
from inventory.services.stock import stock_receive
from inventory.services.transfers import (
    TransferLineInput,
    transfer_cancel,
    transfer_create,
    transfer_receive,
)
from inventory.tests.factories import LotTrackedProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def us_warehouse():
    return WarehouseFactory(code="us-la", country="US")


def _total(product) -> int:
    on_hand = (
        StockItem.objects.filter(product=product).aggregate(n=Sum("quantity_on_hand"))[
            "n"
        ]
        or 0
    )
    return on_hand + stock_in_transit(product_ids=[product.pk]).get(product.pk, 0)


def _on_hand(product, warehouse) -> int:
    return (
        StockItem.objects.filter(product=product, warehouse=warehouse).aggregate(
            n=Sum("quantity_on_hand")
        )["n"]
        or 0
    )


def test_transfer_never_creates_or_loses_stock(
    product, warehouse, us_warehouse, assert_ledger_consistent
):
    # given
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=20)

    # when: dispatched
    transfer = transfer_create(
        source_warehouse_id=warehouse.pk,
        destination_warehouse_id=us_warehouse.pk,
        lines=[TransferLineInput(product.pk, 8)],
        reference="TR-1",
    )

    # then: in transit, in neither warehouse, total unchanged
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert (_on_hand(product, warehouse), _on_hand(product, us_warehouse)) == (12, 0)
    assert stock_in_transit() == {product.pk: 8}
    assert _total(product) == 20

    # when: received
    transfer_receive(transfer_id=transfer.pk)

    # then
    assert (_on_hand(product, warehouse), _on_hand(product, us_warehouse)) == (12, 8)
    assert stock_in_transit() == {}
    assert _total(product) == 20
    assert list(
        StockMovement.objects.filter(transfer=transfer)
        .order_by("pk")
        .values_list("type", "quantity_on_hand_delta")
    ) == [(StockMovementType.TRANSFER_OUT, -8), (StockMovementType.TRANSFER_IN, 8)]
    assert_ledger_consistent()


def test_cancelled_transfer_goes_back_to_source(product, warehouse, us_warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)
    transfer = transfer_create(
        source_warehouse_id=warehouse.pk,
        destination_warehouse_id=us_warehouse.pk,
        lines=[TransferLineInput(product.pk, 5)],
    )

    transfer_cancel(transfer_id=transfer.pk)

    assert (_on_hand(product, warehouse), _on_hand(product, us_warehouse)) == (5, 0)
    assert Transfer.objects.get().status == TransferStatus.CANCELLED
    with pytest.raises(TransferStateError):
        transfer_receive(transfer_id=transfer.pk)
    assert _on_hand(product, us_warehouse) == 0


def test_allocated_units_do_not_move(product, warehouse, us_warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)
    stock_allocate(
        requests=[AllocationRequest(None, product.pk, 4)], warehouse_id=warehouse.pk
    )

    with pytest.raises(InsufficientStockError) as exc:
        transfer_create(
            source_warehouse_id=warehouse.pk,
            destination_warehouse_id=us_warehouse.pk,
            lines=[TransferLineInput(product.pk, 2)],
        )

    assert exc.value.extra["shortages"][0]["available"] == 1
    assert not Transfer.objects.exists()
    assert _on_hand(product, warehouse) == 5


def test_lots_travel_fefo_and_keep_their_identity(warehouse, us_warehouse):
    serum = LotTrackedProductFactory()
    today = timezone.localdate()
    stock_receive(
        product_id=serum.pk,
        warehouse_id=warehouse.pk,
        quantity=3,
        lot_code="B",
        expires_on=today + datetime.timedelta(days=90),
    )
    stock_receive(
        product_id=serum.pk,
        warehouse_id=warehouse.pk,
        quantity=3,
        lot_code="A",
        expires_on=today + datetime.timedelta(days=30),
    )

    transfer = transfer_create(
        source_warehouse_id=warehouse.pk,
        destination_warehouse_id=us_warehouse.pk,
        lines=[TransferLineInput(serum.pk, 4)],
    )
    transfer_receive(transfer_id=transfer.pk)

    assert sorted(
        StockItem.objects.filter(warehouse=us_warehouse).values_list(
            "batch__code", "quantity_on_hand"
        )
    ) == [("A", 3), ("B", 1)]
