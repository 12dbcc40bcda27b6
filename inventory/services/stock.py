"""Receiving, counting and returning stock."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from erp.core.text import Phrase
from inventory.choices import AllocationStatus, StockMovementType
from inventory.exceptions import (
    AllocationStateError,
    StockObjectNotFoundError,
    StockRuleError,
)
from inventory.locks import allocations_lock, stock_items_lock
from inventory.models import (
    Allocation,
    Batch,
    Product,
    StockItem,
    StockMovement,
    Warehouse,
)
from inventory.services.ledger import StockChange, stock_changes_apply

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def product_get_stockable(*, product_id: int) -> Product:
    """The product, refusing bundles (they have no stock of their own)."""
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise StockObjectNotFoundError(
            gettext("That product does not exist."), product_id=product_id
        )
    if product.is_bundle:
        raise StockRuleError(
            gettext("%(sku)s is a bundle; stock is kept for its components.")
            % {"sku": product.sku},
            product_id=product_id,
        )
    return product


def warehouse_get_active(*, warehouse_id: int) -> Warehouse:
    """The warehouse, refusing inactive ones."""
    warehouse = Warehouse.objects.filter(pk=warehouse_id).first()
    if warehouse is None:
        raise StockObjectNotFoundError(
            gettext("That warehouse does not exist."), warehouse_id=warehouse_id
        )
    if not warehouse.is_active:
        raise StockRuleError(
            gettext("Warehouse %(code)s is not active.") % {"code": warehouse.code},
            warehouse_id=warehouse_id,
        )
    return warehouse


def batch_get(*, product: Product, batch_id: int | None) -> Batch | None:
    """The lot of a lot-tracked product (required), or None for one that is not."""
    if not product.is_lot_tracked:
        if batch_id is not None:
            raise StockRuleError(
                gettext("%(sku)s is not lot-tracked; give no lot.")
                % {"sku": product.sku},
                product_id=product.pk,
            )
        return None
    if batch_id is None:
        raise StockRuleError(
            gettext("%(sku)s is lot-tracked; say which lot.") % {"sku": product.sku},
            product_id=product.pk,
        )
    batch = Batch.objects.filter(pk=batch_id, product=product).first()
    if batch is None:
        raise StockObjectNotFoundError(
            gettext("Lot %(batch_id)s of %(sku)s does not exist.")
            % {"batch_id": batch_id, "sku": product.sku},
            batch_id=batch_id,
        )
    return batch


def stock_item_id_get_or_create(
    *, product_id: int, warehouse_id: int, batch_id: int | None
) -> int:
    """The id of the stock row for (SKU, warehouse, lot), creating an empty one if new.

    Creation is not a quantity change (the row starts at zero), so it writes no ledger
    line; a concurrent creator is absorbed by the unique constraint.
    """
    item, _ = StockItem.objects.get_or_create(
        product_id=product_id, warehouse_id=warehouse_id, batch_id=batch_id
    )
    return item.pk


def _batch_for_receipt(
    *,
    product: Product,
    lot_code: str,
    expires_on: datetime.date | None,
    unit_cost: Decimal | None,
    cost_currency: str,
) -> Batch | None:
    lot_code = lot_code.strip()
    if not product.is_lot_tracked:
        if lot_code:
            raise StockRuleError(
                gettext("%(sku)s is not lot-tracked; receive it without a lot.")
                % {"sku": product.sku},
                product_id=product.pk,
            )
        return None
    if not lot_code:
        raise StockRuleError(
            gettext("%(sku)s is lot-tracked; give the lot code.")
            % {"sku": product.sku},
            product_id=product.pk,
        )
    today = timezone.localdate()
    if expires_on is None and product.shelf_life_days:
        expires_on = today + datetime.timedelta(days=product.shelf_life_days)
    batch, created = Batch.objects.get_or_create(
        product=product,
        code=lot_code,
        defaults={
            "expires_on": expires_on,
            "received_on": today,
            "unit_cost": unit_cost,
            "cost_currency": cost_currency if unit_cost is not None else "",
        },
    )
    if not created and expires_on is not None and batch.expires_on != expires_on:
        raise StockRuleError(
            gettext(
                "Lot %(lot_code)s of %(sku)s expires on %(expires_on)s, not %(expires_on2)s."
            )
            % {
                "lot_code": lot_code,
                "sku": product.sku,
                "expires_on": batch.expires_on,
                "expires_on2": expires_on,
            },
            batch_id=batch.pk,
            expires_on=str(batch.expires_on),
        )
    return batch


@transaction.atomic
def stock_receive(
    *,
    product_id: int,
    warehouse_id: int,
    quantity: int,
    lot_code: str = "",
    expires_on: datetime.date | None = None,
    unit_cost: Decimal | None = None,
    cost_currency: str = "",
    reference: str = "",
    reason: str = "",
    actor: AbstractBaseUser | None = None,
) -> StockMovement:
    """Put received goods on hand (into a lot for lot-tracked SKUs) at a unit cost.

    A lot without an expiry date gets one from the product's shelf life.
    Locks: the one StockItem row received into.
    Raises: StockRuleError (bundle, lot missing or unexpected, expiry differs),
    StockObjectNotFoundError.
    """
    if quantity <= 0:
        raise StockRuleError(gettext("Receive a positive quantity."), quantity=quantity)
    if unit_cost is not None and unit_cost < 0:
        raise StockRuleError(
            gettext("A unit cost cannot be negative."), unit_cost=str(unit_cost)
        )
    product = product_get_stockable(product_id=product_id)
    warehouse_get_active(warehouse_id=warehouse_id)
    currency = (cost_currency or product.cost_currency).upper()
    batch = _batch_for_receipt(
        product=product,
        lot_code=lot_code,
        expires_on=expires_on,
        unit_cost=unit_cost,
        cost_currency=currency,
    )
    item_id = stock_item_id_get_or_create(
        product_id=product.pk,
        warehouse_id=warehouse_id,
        batch_id=batch.pk if batch else None,
    )
    [item] = stock_items_lock(stock_item_ids=[item_id])
    [movement] = stock_changes_apply(
        changes=[
            StockChange(
                stock_item=item,
                type=StockMovementType.RECEIPT,
                on_hand_delta=quantity,
                unit_cost=unit_cost,
            )
        ],
        reason=reason or Phrase(gettext_noop("Received")),
        reference=reference,
        actor=actor,
    )
    return movement


@transaction.atomic
def stock_adjust(
    *,
    product_id: int,
    warehouse_id: int,
    counted_quantity: int,
    batch_id: int | None = None,
    reason: str,
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> StockMovement:
    """Set on-hand stock to a counted quantity; the difference goes to the ledger.

    A count equal to what is on hand still writes a zero line as proof of the count.
    Locks: the one StockItem row counted.
    Raises: StockRuleError if the count is below what is allocated (release first).
    """
    if counted_quantity < 0:
        raise StockRuleError(
            gettext("A counted quantity cannot be negative."),
            counted_quantity=counted_quantity,
        )
    if not reason.strip():
        raise StockRuleError(gettext("Say why stock is adjusted."))
    product = product_get_stockable(product_id=product_id)
    warehouse_get_active(warehouse_id=warehouse_id)
    batch = batch_get(product=product, batch_id=batch_id)
    item_id = stock_item_id_get_or_create(
        product_id=product.pk,
        warehouse_id=warehouse_id,
        batch_id=batch.pk if batch else None,
    )
    [item] = stock_items_lock(stock_item_ids=[item_id])
    if counted_quantity < item.quantity_allocated:
        raise StockRuleError(
            gettext(
                "%(quantity_allocated)s units of %(sku)s are allocated; release or ship them before counting %(counted_quantity)s."
            )
            % {
                "quantity_allocated": item.quantity_allocated,
                "sku": product.sku,
                "counted_quantity": counted_quantity,
            },
            stock_item_id=item.pk,
            quantity_allocated=item.quantity_allocated,
            counted_quantity=counted_quantity,
        )
    [movement] = stock_changes_apply(
        changes=[
            StockChange(
                stock_item=item,
                type=StockMovementType.ADJUSTMENT,
                on_hand_delta=counted_quantity - item.quantity_on_hand,
            )
        ],
        reason=reason,
        reference=reference,
        actor=actor,
    )
    return movement


@transaction.atomic
def stock_return(
    *,
    quantity: int,
    allocation_id: int | None = None,
    product_id: int | None = None,
    warehouse_id: int | None = None,
    batch_id: int | None = None,
    reason: str = "",
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> StockMovement:
    """Put returned goods back on hand.

    Against a shipped allocation (same stock row and lot, at most what it shipped
    less earlier returns), or to a given SKU/warehouse/lot when the origin is unknown.
    Locks: the StockItem row, then the Allocation.
    Raises: AllocationStateError, StockRuleError, StockObjectNotFoundError.
    """
    if quantity <= 0:
        raise StockRuleError(gettext("Return a positive quantity."), quantity=quantity)
    if allocation_id is not None:
        stock_item_id = (
            Allocation.objects.filter(pk=allocation_id)
            .values_list("stock_item_id", flat=True)
            .first()
        )
        if stock_item_id is None:
            raise StockObjectNotFoundError(
                gettext("That allocation does not exist."), allocation_id=allocation_id
            )
        [item] = stock_items_lock(stock_item_ids=[stock_item_id])
        [allocation] = allocations_lock(allocation_ids=[allocation_id])
        if allocation.status != AllocationStatus.SHIPPED:
            raise AllocationStateError(
                gettext("Only shipped goods can be returned."),
                allocation_id=allocation_id,
                status=allocation.status,
            )
        returnable = allocation.quantity - allocation.quantity_returned
        if quantity > returnable:
            raise StockRuleError(
                gettext(
                    "Only %(returnable)s units of this allocation can still be returned."
                )
                % {"returnable": returnable},
                allocation_id=allocation_id,
                returnable=returnable,
            )
        allocation.quantity_returned += quantity
        allocation.save(update_fields=["quantity_returned", "updated_at"])
        reference = reference or allocation.reference
    else:
        if product_id is None or warehouse_id is None:
            raise StockRuleError(
                gettext("Say which allocation, or which SKU and warehouse.")
            )
        product = product_get_stockable(product_id=product_id)
        warehouse_get_active(warehouse_id=warehouse_id)
        batch = batch_get(product=product, batch_id=batch_id)
        item_id = stock_item_id_get_or_create(
            product_id=product.pk,
            warehouse_id=warehouse_id,
            batch_id=batch.pk if batch else None,
        )
        [item] = stock_items_lock(stock_item_ids=[item_id])
        allocation = None
    [movement] = stock_changes_apply(
        changes=[
            StockChange(
                stock_item=item,
                type=StockMovementType.RETURN,
                on_hand_delta=quantity,
                allocation=allocation,
            )
        ],
        reason=reason or Phrase(gettext_noop("Returned to stock")),
        reference=reference,
        actor=actor,
    )
    return movement
