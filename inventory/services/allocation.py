"""Allocating stock to order lines, releasing it, and shipping it.

The building blocks the orders app calls inside its own transaction (after taking
its Order/OrderLine locks, per the global lock order in inventory/locks.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from inventory.choices import AllocationStatus, StockMovementType
from inventory.exceptions import (
    AllocationStateError,
    InsufficientStockError,
    StockObjectNotFoundError,
)
from inventory.locks import (
    allocations_lock,
    stock_items_lock,
    stock_items_lock_for_products,
)
from inventory.models import Allocation, Product, StockItem
from inventory.planning import (
    AllocationRequest,
    Lot,
    expand_bundles,
    plan_allocations,
)
from inventory.selectors import bundle_map
from inventory.services.ledger import StockChange, stock_changes_apply
from inventory.services.levels import LevelsContext, stock_levels_prepare

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def _lot(item: StockItem) -> Lot:
    batch = item.batch
    return Lot(
        stock_item_id=item.pk,
        product_id=item.product_id,
        available=item.quantity_on_hand - item.quantity_allocated,
        expires_on=batch.expires_on if batch else None,
        received_on=batch.received_on if batch else None,
    )


@transaction.atomic
def stock_allocate(
    *,
    requests: Sequence[AllocationRequest],
    warehouse_id: int,
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> list[Allocation]:
    """Reserve stock in one warehouse for every request, or for none of them.

    Bundles are allocated as their components; lots are picked first-expiry-first,
    then first-received-first, and expired lots are never picked. One Allocation per
    (request, stock row) is returned, keeping the order line and reference.
    Locks: every StockItem row of the requested SKUs in the warehouse (pk order).
    Raises: InsufficientStockError (nothing is changed; extra["shortages"]).
    """
    if not requests:
        return []
    demands = expand_bundles(
        requests=requests,
        bundles=bundle_map(product_ids={r.product_id for r in requests}),
    )
    product_ids = {d.product_id for d in demands}
    # Read before locking, so the hot rows are held for the writes alone.
    context = stock_levels_prepare(pairs={(pid, warehouse_id) for pid in product_ids})
    items = stock_items_lock_for_products(
        warehouse_id=warehouse_id, product_ids=product_ids
    )
    plan = plan_allocations(
        demands=demands, lots=[_lot(item) for item in items], today=timezone.localdate()
    )
    if not plan.is_possible:
        skus = dict(
            Product.objects.filter(
                pk__in=[s.product_id for s in plan.shortages]
            ).values_list("pk", "sku")
        )
        raise InsufficientStockError(
            warehouse_id=warehouse_id,
            shortages=[
                {
                    "product_id": s.product_id,
                    "sku": skus.get(s.product_id),
                    "requested": s.requested,
                    "available": s.available,
                }
                for s in plan.shortages
            ],
        )
    by_id = {item.pk: item for item in items}
    allocations = [
        Allocation(
            stock_item=by_id[planned.stock_item_id],
            order_line_id=planned.order_line_id,
            bundle_id=planned.bundle_id,
            quantity=planned.quantity,
            reference=reference[:100],
        )
        for planned in plan.allocations
    ]
    Allocation.objects.bulk_create(allocations)
    stock_changes_apply(
        changes=[
            StockChange(
                stock_item=allocation.stock_item,
                type=StockMovementType.ALLOCATION,
                on_hand_delta=0,
                allocated_delta=allocation.quantity,
                allocation=allocation,
            )
            for allocation in allocations
        ],
        reason="Allocated",
        reference=reference,
        actor=actor,
        context=context,
    )
    return allocations


def _lock_allocations(
    allocation_ids: Collection[int],
) -> tuple[dict[int, StockItem], list[Allocation], LevelsContext]:
    wanted = set(allocation_ids)
    rows = list(
        Allocation.objects.filter(pk__in=wanted).values_list(
            "pk",
            "stock_item_id",
            "stock_item__product_id",
            "stock_item__warehouse_id",
        )
    )
    missing = wanted - {row[0] for row in rows}
    if missing:
        raise StockObjectNotFoundError(
            gettext("Some allocations do not exist."), allocation_ids=sorted(missing)
        )
    # Read before locking, so the rows are held for the writes alone.
    context = stock_levels_prepare(pairs={(row[2], row[3]) for row in rows})
    # StockItem before Allocation: the global lock order.
    items = {
        item.pk: item
        for item in stock_items_lock(stock_item_ids={row[1] for row in rows})
    }
    return items, allocations_lock(allocation_ids=wanted), context


def _finish(
    *,
    allocation_ids: Collection[int],
    target: AllocationStatus,
    refused_from: AllocationStatus,
    movement_type: StockMovementType,
    ships: bool,
    reason: str,
    reference: str,
    actor: AbstractBaseUser | None,
) -> list[Allocation]:
    if not allocation_ids:
        return []
    items, allocations, context = _lock_allocations(allocation_ids)
    refused = [a.pk for a in allocations if a.status == refused_from]
    if refused:
        raise AllocationStateError(
            gettext("Allocations %(refused)s are already %(refused_from)s.")
            % {"refused": refused, "refused_from": refused_from},
            allocation_ids=refused,
            status=refused_from,
        )
    # Already in the target state: a retried call is a no-op for those rows.
    pending = [a for a in allocations if a.status == AllocationStatus.ALLOCATED]
    now = timezone.now()
    for allocation in pending:
        allocation.status = target
        allocation.updated_at = now
    Allocation.objects.bulk_update(pending, ["status", "updated_at"])
    stock_changes_apply(
        changes=[
            StockChange(
                stock_item=items[a.stock_item_id],
                type=movement_type,
                on_hand_delta=-a.quantity if ships else 0,
                allocated_delta=-a.quantity,
                allocation=a,
            )
            for a in pending
        ],
        reason=reason,
        reference=reference,
        actor=actor,
        context=context,
    )
    return allocations


@transaction.atomic
def stock_release(
    *,
    allocation_ids: Collection[int],
    reason: str = "Released",
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> list[Allocation]:
    """Give allocated units back to the sellable pool (order cancelled or re-routed).

    Already released allocations are left as they are, so a retry is harmless.
    Locks: their StockItem rows, then the Allocations (pk order).
    Raises: AllocationStateError if any has shipped (nothing changes),
    StockObjectNotFoundError.
    """
    return _finish(
        allocation_ids=allocation_ids,
        target=AllocationStatus.RELEASED,
        refused_from=AllocationStatus.SHIPPED,
        movement_type=StockMovementType.RELEASE,
        ships=False,
        reason=reason,
        reference=reference,
        actor=actor,
    )


@transaction.atomic
def stock_ship(
    *,
    allocation_ids: Collection[int],
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> list[Allocation]:
    """Take allocated units off hand: they left the warehouse.

    Already shipped allocations are left as they are, so a retry is harmless.
    Locks: their StockItem rows, then the Allocations (pk order).
    Raises: AllocationStateError if any was released (nothing changes),
    StockObjectNotFoundError.
    """
    return _finish(
        allocation_ids=allocation_ids,
        target=AllocationStatus.SHIPPED,
        refused_from=AllocationStatus.RELEASED,
        movement_type=StockMovementType.SHIPMENT,
        ships=True,
        reason="Shipped",
        reference=reference,
        actor=actor,
    )
