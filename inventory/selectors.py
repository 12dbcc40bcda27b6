"""Reads of inventory: what is sellable where, per store, in transit, and the ledger check."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.choices import StockMovementType, TransferStatus
from inventory.models import (
    BundleComponent,
    ChannelStockPolicy,
    Product,
    StockItem,
    StockMovement,
    TransferLine,
    Warehouse,
)
from inventory.planning import (
    AllocationRequest,
    BundleMap,
    WarehouseCandidate,
    apply_buffer,
    bundle_sellable,
    expand_bundles,
    warehouses_able_to_ship,
)

# Sales over this many days drive the suggested reorder quantity.
RECENT_SALES_DAYS = 30


def bundle_map(*, product_ids: Collection[int]) -> dict[int, list[tuple[int, int]]]:
    """Components of those of `product_ids` that are bundles: bundle -> [(component, qty)]."""
    result: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for bundle_id, component_id, quantity in (
        BundleComponent.objects.filter(bundle_id__in=set(product_ids))
        .order_by("bundle_id", "component_id")
        .values_list("bundle_id", "component_id", "quantity")
    ):
        result[bundle_id].append((component_id, quantity))
    return dict(result)


def bundles_containing(*, component_ids: Collection[int]) -> dict[int, set[int]]:
    """Bundle ids per component id, for the components given."""
    result: dict[int, set[int]] = defaultdict(set)
    for bundle_id, component_id in BundleComponent.objects.filter(
        component_id__in=set(component_ids)
    ).values_list("bundle_id", "component_id"):
        result[component_id].add(bundle_id)
    return dict(result)


def _sellable_rows(
    *,
    product_ids: Collection[int],
    warehouse_ids: Collection[int] | None,
    today: datetime.date,
) -> dict[int, dict[int, int]]:
    qs = StockItem.objects.sellable(today=today).filter(
        product_id__in=set(product_ids), warehouse__is_active=True
    )
    if warehouse_ids is not None:
        qs = qs.filter(warehouse_id__in=set(warehouse_ids))
    result: dict[int, dict[int, int]] = defaultdict(dict)
    for row in (
        qs.values("warehouse_id", "product_id")
        .annotate(available=Sum(F("quantity_on_hand") - F("quantity_allocated")))
        .order_by()
    ):
        result[row["warehouse_id"]][row["product_id"]] = row["available"] or 0
    return result


def stock_available_by_warehouse(
    *,
    product_ids: Collection[int],
    warehouse_ids: Collection[int] | None = None,
    today: datetime.date | None = None,
) -> dict[int, dict[int, int]]:
    """Units that may be allocated now: warehouse id -> product id -> units.

    Only active warehouses and unexpired lots count. A bundle's figure is how many
    whole bundles its components make in that warehouse.
    """
    today = today or timezone.localdate()
    bundles = bundle_map(product_ids=product_ids)
    stocked = set(product_ids) - set(bundles)
    for components in bundles.values():
        stocked.update(component_id for component_id, _ in components)
    rows = _sellable_rows(product_ids=stocked, warehouse_ids=warehouse_ids, today=today)
    result: dict[int, dict[int, int]] = {}
    for warehouse_id, by_product in rows.items():
        figures = {pid: n for pid, n in by_product.items() if pid in product_ids}
        for bundle_id, components in bundles.items():
            figures[bundle_id] = bundle_sellable(
                components=components, sellable=by_product
            )
        result[warehouse_id] = figures
    return result


def stock_warehouses_for_requests(
    *,
    requests: Sequence[AllocationRequest],
    country: str = "",
    region: str = "",
    today: datetime.date | None = None,
) -> list[WarehouseCandidate]:
    """Active warehouses that alone can ship every request now, best first.

    Best: configured for the destination country/region, then serving anywhere,
    then lower priority, then code.
    An empty list means no single warehouse can (split, or wait for stock).
    """
    if not requests:
        return []
    today = today or timezone.localdate()
    bundles: BundleMap = bundle_map(product_ids={r.product_id for r in requests})
    demands = expand_bundles(requests=requests, bundles=bundles)
    sellable = _sellable_rows(
        product_ids={d.product_id for d in demands}, warehouse_ids=None, today=today
    )
    candidates = [
        WarehouseCandidate.for_destination(wh, country=country, region=region)
        for wh in Warehouse.objects.filter(pk__in=list(sellable), is_active=True)
    ]
    return warehouses_able_to_ship(
        demands=demands, sellable=sellable, candidates=candidates
    )


def channel_available_to_sell(
    *,
    channel_id: int,
    product_ids: Collection[int],
    today: datetime.date | None = None,
) -> dict[int, int]:
    """What a store may show as in stock per product: feeding warehouses minus buffer.

    A store without a stock policy is fed by no warehouse, so everything is 0.
    """
    policy = (
        ChannelStockPolicy.objects.filter(channel_id=channel_id)
        .prefetch_related("warehouses")
        .first()
    )
    result = dict.fromkeys(product_ids, 0)
    if policy is None:
        return result
    warehouse_ids = [wh.pk for wh in policy.warehouses.all() if wh.is_active]
    if not warehouse_ids:
        return result
    by_warehouse = stock_available_by_warehouse(
        product_ids=product_ids, warehouse_ids=warehouse_ids, today=today
    )
    for product_id in product_ids:
        total = sum(figures.get(product_id, 0) for figures in by_warehouse.values())
        result[product_id] = apply_buffer(
            total=total, kind=policy.buffer_kind, value=policy.buffer_value
        )
    return result


def channels_fed_by(*, warehouse_ids: Collection[int]) -> dict[int, set[int]]:
    """Store (channel) ids per warehouse id, for the warehouses given."""
    through = ChannelStockPolicy.warehouses.through
    result: dict[int, set[int]] = defaultdict(set)
    for warehouse_id, channel_id in through.objects.filter(
        warehouse_id__in=set(warehouse_ids)
    ).values_list("warehouse_id", "channelstockpolicy__channel_id"):
        result[warehouse_id].add(channel_id)
    return dict(result)


def stock_sellable_total(
    *, product_id: int, warehouse_id: int, today: datetime.date | None = None
) -> int:
    """Units of one SKU that may be allocated in one warehouse now."""
    today = today or timezone.localdate()
    total = (
        StockItem.objects.sellable(today=today)
        .filter(product_id=product_id, warehouse_id=warehouse_id)
        .aggregate(n=Sum(F("quantity_on_hand") - F("quantity_allocated")))["n"]
    )
    return total or 0


def recent_daily_sales(
    *, product_id: int, warehouse_id: int, days: int = RECENT_SALES_DAYS
) -> Decimal:
    """Average units shipped per day over the last `days` days."""
    since = timezone.now() - datetime.timedelta(days=days)
    shipped = StockMovement.objects.filter(
        type=StockMovementType.SHIPMENT,
        stock_item__product_id=product_id,
        stock_item__warehouse_id=warehouse_id,
        created_at__gte=since,
    ).aggregate(n=Coalesce(Sum("quantity_on_hand_delta"), 0))["n"]
    return (Decimal(-shipped) / days).quantize(Decimal("0.01"))


def stock_in_transit(*, product_ids: Collection[int] | None = None) -> dict[int, int]:
    """Units on transfers still in transit, per product."""
    qs = TransferLine.objects.filter(transfer__status=TransferStatus.IN_TRANSIT)
    if product_ids is not None:
        qs = qs.filter(product_id__in=set(product_ids))
    return {
        row["product_id"]: row["n"]
        for row in qs.values("product_id").annotate(n=Sum("quantity")).order_by()
    }


def stock_ledger_mismatches(
    *, stock_item_ids: Iterable[int] | None = None
) -> list[dict[str, int]]:
    """Stock rows whose quantities differ from the sum of their ledger; should be empty."""
    qs = StockItem.objects.all()
    if stock_item_ids is not None:
        qs = qs.filter(pk__in=list(stock_item_ids))
    rows = qs.annotate(
        ledger_on_hand=Coalesce(Sum("movements__quantity_on_hand_delta"), 0),
        ledger_allocated=Coalesce(Sum("movements__quantity_allocated_delta"), 0),
    ).filter(
        ~Q(quantity_on_hand=F("ledger_on_hand"))
        | ~Q(quantity_allocated=F("ledger_allocated"))
    )
    return list(
        rows.values(
            "pk",
            "quantity_on_hand",
            "ledger_on_hand",
            "quantity_allocated",
            "ledger_allocated",
        )
    )


def stock_item_list(*, filters: dict[str, object] | None = None) -> QuerySet[StockItem]:
    """Stock rows with product, warehouse and lot loaded, for lists and the API."""
    qs = StockItem.objects.select_related("product", "warehouse", "batch").order_by(
        "product__sku", "warehouse__code", "batch__expires_on", "pk"
    )
    if filters:
        qs = qs.filter(**filters)
    return qs


def stock_movement_list() -> QuerySet[StockMovement]:
    """The ledger, newest first, with what each line renders loaded up front."""
    return StockMovement.objects.select_related(
        "stock_item__product", "stock_item__warehouse", "stock_item__batch", "actor"
    ).order_by("-created_at", "-pk")


def product_list() -> QuerySet[Product]:
    """Products with their bundle components loaded."""
    return Product.objects.prefetch_related("components").order_by("sku")
