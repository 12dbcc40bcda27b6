"""Allocating stock to order lines, releasing it, and shipping it.

The building blocks the orders app calls inside its own transaction (after taking
its Order/OrderLine locks, per the global lock order in inventory/locks.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from erp.core.text import Phrase
from inventory.choices import AllocationStatus, StockMovementType
from inventory.exceptions import (
    AllocationStateError,
    InsufficientStockError,
    StockObjectNotFoundError,
)
from inventory.locks import (
    allocations_lock,
    stock_items_lock,
    stock_items_lock_for_pool,
    stock_items_lock_for_products,
)
from inventory.models import Allocation, Product, StockItem
from inventory.planning import (
    AllocationRequest,
    BundleMap,
    Lot,
    bundle_sellable,
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
        reason=Phrase(gettext_noop("Allocated")),
        reference=reference,
        actor=actor,
        context=context,
    )
    return allocations


class StockPool:
    """The locked stock rows of a page of orders, that their allocations are taken from.

    Built by stock_pool_lock; `take` plans against what earlier takes left, so the
    orders of a page are served one after another as if each had its own
    transaction, and `save` writes every allocation, stock row and ledger line of
    the page in one statement each.
    """

    def __init__(
        self,
        *,
        items: Sequence[StockItem],
        bundles: BundleMap,
        context: LevelsContext,
    ) -> None:
        self.today = timezone.localdate()
        self.bundles = bundles
        self._context = context
        self._items = {item.pk: item for item in items}
        self._rows: dict[tuple[int, int], list[StockItem]] = {}
        self._warehouses_of: dict[int, list[int]] = {}
        for item in items:
            rows = self._rows.setdefault((item.warehouse_id, item.product_id), [])
            if not rows:
                self._warehouses_of.setdefault(item.product_id, []).append(
                    item.warehouse_id
                )
            rows.append(item)
        self._remaining = {
            item.pk: item.quantity_on_hand - item.quantity_allocated for item in items
        }
        self._allocations: list[Allocation] = []
        self._changes: list[StockChange] = []

    def _expired(self, item: StockItem) -> bool:
        return item.batch_id is not None and item.batch.is_expired(today=self.today)

    def sellable(self, *, product_ids: Collection[int]) -> dict[int, dict[int, int]]:
        """Units left to allocate, warehouse -> product -> units (bundles as wholes).

        The figures of inventory.selectors.stock_available_by_warehouse for these
        products (and their bundles' components), less what this page took so far.
        """
        wanted = set(product_ids)
        bundles = wanted & self.bundles.keys()
        stocked = (wanted - bundles).union(
            component_id
            for bundle_id in bundles
            for component_id, _ in self.bundles[bundle_id]
        )
        rows: dict[int, dict[int, int]] = {}
        for product_id in stocked:
            for warehouse_id in self._warehouses_of.get(product_id, ()):
                live = [
                    item
                    for item in self._rows[(warehouse_id, product_id)]
                    if not self._expired(item)
                ]
                if live:
                    rows.setdefault(warehouse_id, {})[product_id] = sum(
                        self._remaining[item.pk] for item in live
                    )
        for figures in rows.values():
            units = dict(figures)
            for bundle_id in bundles:
                figures[bundle_id] = bundle_sellable(
                    components=self.bundles[bundle_id], sellable=units
                )
        return rows

    def take(
        self,
        *,
        parts: Sequence[tuple[int, Sequence[AllocationRequest]]],
        reference: str,
    ) -> list[Allocation] | None:
        """Reserve (warehouse id, requests) parts all together, or none (None).

        Lots are picked as stock_allocate picks them (FEFO, then FIFO, never expired).
        """
        remaining = dict(self._remaining)
        taken: list[tuple[int, int, int | None, int | None]] = []
        for warehouse_id, requests in parts:
            demands = expand_bundles(requests=requests, bundles=self.bundles)
            wanted = {d.product_id for d in demands}
            lots = [
                Lot(
                    stock_item_id=item.pk,
                    product_id=item.product_id,
                    available=remaining[item.pk],
                    expires_on=item.batch.expires_on if item.batch else None,
                    received_on=item.batch.received_on if item.batch else None,
                )
                for product_id in wanted
                for item in self._rows.get((warehouse_id, product_id), ())
            ]
            plan = plan_allocations(demands=demands, lots=lots, today=self.today)
            if not plan.is_possible:
                return None
            for planned in plan.allocations:
                remaining[planned.stock_item_id] -= planned.quantity
                taken.append(
                    (
                        planned.stock_item_id,
                        planned.quantity,
                        planned.order_line_id,
                        planned.bundle_id,
                    )
                )
        self._remaining = remaining
        allocations = []
        for stock_item_id, quantity, order_line_id, bundle_id in taken:
            allocation = Allocation(
                stock_item=self._items[stock_item_id],
                order_line_id=order_line_id,
                bundle_id=bundle_id,
                quantity=quantity,
                reference=reference[:100],
            )
            allocations.append(allocation)
            self._changes.append(
                StockChange(
                    stock_item=allocation.stock_item,
                    type=StockMovementType.ALLOCATION,
                    on_hand_delta=0,
                    allocated_delta=quantity,
                    allocation=allocation,
                    reference=reference,
                )
            )
        self._allocations.extend(allocations)
        return allocations

    def save(self, *, actor: AbstractBaseUser | None = None) -> list[Allocation]:
        """Write what the page took: allocations, stock rows, ledger, store pushes."""
        if not self._allocations:
            return []
        Allocation.objects.bulk_create(self._allocations)
        stock_changes_apply(
            changes=self._changes,
            reason=Phrase(gettext_noop("Allocated")),
            actor=actor,
            context=self._context,
        )
        saved, self._allocations, self._changes = self._allocations, [], []
        return saved


def stock_pool_lock(
    *, product_ids: Collection[int], warehouse_ids: Collection[int]
) -> StockPool:
    """Lock every stock row of these SKUs (bundles: their components) in these warehouses.

    Store feeds, bundles and safety-stock rules are read first, so the rows are held
    for the writes alone.
    Locks: the StockItem rows, pk ascending, in one statement.
    """
    bundles = bundle_map(product_ids=product_ids) if product_ids else {}
    stocked = set(product_ids) - set(bundles)
    for components in bundles.values():
        stocked.update(component_id for component_id, _ in components)
    context = stock_levels_prepare(
        pairs={(p, w) for p in stocked for w in warehouse_ids}
    )
    items = stock_items_lock_for_pool(warehouse_ids=warehouse_ids, product_ids=stocked)
    return StockPool(items=items, bundles=bundles, context=context)


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
    reason: str = "",
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
        reason=reason or Phrase(gettext_noop("Released")),
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
        reason=Phrase(gettext_noop("Shipped")),
        reference=reference,
        actor=actor,
    )
