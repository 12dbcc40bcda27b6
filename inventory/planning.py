"""Pure stock arithmetic: bundle expansion, FEFO/FIFO lot picking, warehouse choice,
channel buffers and reorder suggestions. No database access; plain unit tests.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from inventory.choices import BufferKind

if TYPE_CHECKING:
    from inventory.models import Warehouse


@dataclass(frozen=True)
class AllocationRequest:
    """Reserve `quantity` of a product (a bundle expands to its components)."""

    order_line_id: int | None
    product_id: int
    quantity: int

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"quantity must be positive, got {self.quantity}")


@dataclass(frozen=True)
class Demand:
    """What one request needs of one stocked product, after bundle expansion."""

    order_line_id: int | None
    product_id: int
    quantity: int
    bundle_id: int | None = None


# bundle product id -> [(component product id, units per bundle)]
BundleMap = Mapping[int, Sequence[tuple[int, int]]]


def expand_bundles(
    *, requests: Iterable[AllocationRequest], bundles: BundleMap
) -> list[Demand]:
    """Replace each bundle request by one demand per component, in request order."""
    demands: list[Demand] = []
    for request in requests:
        components = bundles.get(request.product_id)
        if components is None:
            demands.append(
                Demand(request.order_line_id, request.product_id, request.quantity)
            )
            continue
        if not components:
            raise ValueError(f"bundle {request.product_id} has no components")
        for component_id, per_bundle in components:
            demands.append(
                Demand(
                    request.order_line_id,
                    component_id,
                    request.quantity * per_bundle,
                    bundle_id=request.product_id,
                )
            )
    return demands


def demand_by_product(demands: Iterable[Demand]) -> dict[int, int]:
    """Total units needed per stocked product."""
    totals: dict[int, int] = defaultdict(int)
    for demand in demands:
        totals[demand.product_id] += demand.quantity
    return dict(totals)


@dataclass(frozen=True)
class Lot:
    """What the planner needs to know about one stock row."""

    stock_item_id: int
    product_id: int
    available: int
    expires_on: datetime.date | None = None
    received_on: datetime.date | None = None

    def is_expired(self, today: datetime.date) -> bool:
        return self.expires_on is not None and self.expires_on <= today


def fefo_key(lot: Lot) -> tuple[bool, datetime.date, datetime.date, int]:
    """First expiry first; lots without expiry last; then first received; then oldest row."""
    return (
        lot.expires_on is None,
        lot.expires_on or datetime.date.max,
        lot.received_on or datetime.date.min,
        lot.stock_item_id,
    )


@dataclass(frozen=True)
class PlannedAllocation:
    """Take `quantity` from one stock row for one demand."""

    stock_item_id: int
    product_id: int
    order_line_id: int | None
    bundle_id: int | None
    quantity: int


@dataclass(frozen=True)
class Shortage:
    """A product the request needs more of than is sellable."""

    product_id: int
    requested: int
    available: int


@dataclass(frozen=True)
class AllocationPlan:
    """The rows to take from, or the shortages that refuse the whole request."""

    allocations: list[PlannedAllocation]
    shortages: list[Shortage]

    @property
    def is_possible(self) -> bool:
        return not self.shortages


def sellable_by_product(lots: Iterable[Lot], *, today: datetime.date) -> dict[int, int]:
    """Units that may be allocated per product (expired lots count as zero)."""
    totals: dict[int, int] = defaultdict(int)
    for lot in lots:
        if not lot.is_expired(today) and lot.available > 0:
            totals[lot.product_id] += lot.available
    return dict(totals)


def plan_allocations(
    *, demands: Sequence[Demand], lots: Iterable[Lot], today: datetime.date
) -> AllocationPlan:
    """Pick lots FEFO then FIFO for every demand, or report what is short (all or nothing)."""
    lots = list(lots)
    needed = demand_by_product(demands)
    sellable = sellable_by_product(lots, today=today)
    shortages = [
        Shortage(product_id, requested, sellable.get(product_id, 0))
        for product_id, requested in sorted(needed.items())
        if sellable.get(product_id, 0) < requested
    ]
    if shortages:
        return AllocationPlan(allocations=[], shortages=shortages)

    queues: dict[int, list[Lot]] = defaultdict(list)
    for lot in sorted(lots, key=fefo_key):
        if not lot.is_expired(today) and lot.available > 0:
            queues[lot.product_id].append(lot)
    remaining = {lot.stock_item_id: lot.available for lot in lots}
    allocations: list[PlannedAllocation] = []
    for demand in demands:
        still = demand.quantity
        for lot in queues[demand.product_id]:
            take = min(still, remaining[lot.stock_item_id])
            if take <= 0:
                continue
            remaining[lot.stock_item_id] -= take
            still -= take
            allocations.append(
                PlannedAllocation(
                    stock_item_id=lot.stock_item_id,
                    product_id=demand.product_id,
                    order_line_id=demand.order_line_id,
                    bundle_id=demand.bundle_id,
                    quantity=take,
                )
            )
            if still == 0:
                break
        # The totals check above guarantees every demand is met.
        assert still == 0, demand
    return AllocationPlan(allocations=allocations, shortages=[])


@dataclass(frozen=True)
class WarehouseCandidate:
    """A warehouse as the chooser sees it."""

    warehouse_id: int
    code: str
    priority: int
    serves_destination: bool
    # Named the destination in its service area (rather than serving anywhere).
    serves_explicitly: bool = False

    @classmethod
    def for_destination(
        cls, warehouse: Warehouse, *, country: str, region: str
    ) -> WarehouseCandidate:
        """The warehouse as a candidate for shipping to country/region ("" = unknown)."""
        serves = warehouse.serves(country=country, region=region) if country else True
        return cls(
            warehouse_id=warehouse.pk,
            code=warehouse.code,
            priority=warehouse.priority,
            serves_destination=serves,
            serves_explicitly=bool(country and warehouse.service_area and serves),
        )


def warehouses_able_to_ship(
    *,
    demands: Sequence[Demand],
    sellable: Mapping[int, Mapping[int, int]],
    candidates: Iterable[WarehouseCandidate],
) -> list[WarehouseCandidate]:
    """Warehouses that alone can ship every demand now, best first.

    `sellable` maps warehouse id -> product id -> units. Best: one configured for the
    destination, then one that serves anywhere, then one that does not serve it;
    within each, lower priority number, then code.
    """
    needed = demand_by_product(demands)
    able = [
        candidate
        for candidate in candidates
        if all(
            sellable.get(candidate.warehouse_id, {}).get(product_id, 0) >= quantity
            for product_id, quantity in needed.items()
        )
    ]
    return sorted(
        able,
        key=lambda c: (
            not c.serves_destination,
            not c.serves_explicitly,
            c.priority,
            c.code,
            c.warehouse_id,
        ),
    )


def bundle_sellable(
    *, components: Sequence[tuple[int, int]], sellable: Mapping[int, int]
) -> int:
    """Whole bundles that can be built from the components in one warehouse."""
    if not components:
        return 0
    return min(sellable.get(component_id, 0) // per for component_id, per in components)


def apply_buffer(*, total: int, kind: str, value: int) -> int:
    """What a store may sell after holding back its buffer (never negative)."""
    if total <= 0:
        return 0
    # A percent buffer rounds the held-back part up (integer maths, no floats): a
    # buffer exists to avoid overselling.
    held = -(-total * value // 100) if kind == BufferKind.PERCENT else value
    return max(total - held, 0)


def suggest_reorder_quantity(
    *,
    available: int,
    minimum: int,
    reorder_quantity: int,
    daily_sales: Decimal,
    lead_time_days: int,
) -> int:
    """Units to order so stock lasts the lead time and ends above the minimum.

    Target = minimum + expected sales over the lead time; never less than the
    rule's reorder quantity (MOQ / case size).
    """
    expected = math.ceil(daily_sales * lead_time_days)
    shortfall = minimum + expected - available
    return max(shortfall, reorder_quantity, 0)
