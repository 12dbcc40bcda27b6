"""Reactions to a change of sellable stock: store stock pushes and safety-stock alerts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from erp.core.outbox import outbox_enqueue, outbox_enqueue_many
from inventory.choices import StockAlertStatus
from inventory.models import SafetyStockRule, StockAlert
from inventory.planning import suggest_reorder_quantity
from inventory.selectors import (
    bundles_containing,
    channels_fed_by,
    recent_daily_sales,
    stock_sellable_total,
)

AVAILABLE_CHANGED_TOPIC = "inventory.available_changed"
STOCK_ALERT_OPENED_TOPIC = "inventory.stock_alert_opened"
# Sellable stock of some SKUs went up (received, returned, released): orders waiting
# for them are allocated by the handler orders registers, not by a later sweep.
STOCK_ARRIVED_TOPIC = "inventory.stock_arrived"


def available_changed_key(*, channel_id: int, product_id: int) -> str:
    """Outbox key of one store's stock level of one SKU."""
    return f"{channel_id}:{product_id}"


@dataclass(frozen=True)
class LevelsContext:
    """What the reactions to a stock change need to know, read before locking.

    Reading it before the stock rows are locked keeps three queries out of the time
    the hot rows are held. A store feed changed meanwhile is safe: changing a feed
    re-pushes every SKU of the store after it commits.
    """

    pairs: frozenset[tuple[int, int]]
    channels_by_warehouse: dict[int, set[int]]
    bundles_by_component: dict[int, set[int]]
    rules: list[SafetyStockRule]


def stock_levels_prepare(*, pairs: Collection[tuple[int, int]]) -> LevelsContext:
    """Read store feeds, bundles and safety-stock rules of these (product, warehouse)."""
    pairs = frozenset(pairs)
    if not pairs:
        return LevelsContext(pairs, {}, {}, [])
    fed = channels_fed_by(warehouse_ids={warehouse_id for _, warehouse_id in pairs})
    fed_products = {p for p, w in pairs if w in fed}
    in_bundles = bundles_containing(component_ids=fed_products) if fed_products else {}
    # Two IN lists and a filter here: one OR term per pair is slow to plan for a page
    # of a hundred orders.
    rules = [
        rule
        for rule in SafetyStockRule.objects.filter(
            product_id__in={p for p, _ in pairs},
            warehouse_id__in={w for _, w in pairs},
            is_active=True,
        ).order_by("product_id", "warehouse_id")
        if (rule.product_id, rule.warehouse_id) in pairs
    ]
    return LevelsContext(pairs, fed, in_bundles, rules)


@transaction.atomic(savepoint=False)
def available_to_sell_enqueue(
    *, pairs: Collection[tuple[int, int]], context: LevelsContext | None = None
) -> int:
    """Queue one coalesced stock push per affected (store, SKU); returns how many keys.

    `pairs` are (product id, warehouse id) whose sellable stock moved. Bundles made
    of a moved product move too. Keys are written in sorted order so two
    transactions never wait on each other's pending outbox rows in opposite order.
    """
    if not pairs:
        return 0
    if context is None or not context.pairs.issuperset(pairs):
        context = stock_levels_prepare(pairs=pairs)
    fed = context.channels_by_warehouse
    if not fed:
        return 0
    keys: set[tuple[int, int]] = set()
    for product_id, warehouse_id in pairs:
        for channel_id in fed.get(warehouse_id, ()):
            keys.add((channel_id, product_id))
    in_bundles = context.bundles_by_component
    for channel_id, product_id in list(keys):
        for bundle_id in in_bundles.get(product_id, ()):
            keys.add((channel_id, bundle_id))
    outbox_enqueue_many(
        topic=AVAILABLE_CHANGED_TOPIC,
        messages=[
            (
                available_changed_key(channel_id=channel_id, product_id=product_id),
                {"channel_id": channel_id, "product_id": product_id},
            )
            for channel_id, product_id in sorted(keys)
        ],
        coalesce=True,
    )
    return len(keys)


@transaction.atomic(savepoint=False)
def safety_stock_evaluate(
    *, pairs: Collection[tuple[int, int]], context: LevelsContext | None = None
) -> list[StockAlert]:
    """Open, refresh or close the alerts of (product, warehouse) pairs with a rule.

    Returns the alerts opened now. Works pair by pair in sorted order (the lock
    order of StockAlert rows); a newly opened alert queues its e-mail to ops.
    """
    if not pairs:
        return []
    if context is None or not context.pairs.issuperset(pairs):
        context = stock_levels_prepare(pairs=pairs)
    wanted = set(pairs)
    rules = [r for r in context.rules if (r.product_id, r.warehouse_id) in wanted]
    if not rules:
        return []
    condition = Q()
    for rule in rules:
        condition |= Q(product_id=rule.product_id, warehouse_id=rule.warehouse_id)
    open_alerts = {
        (a.product_id, a.warehouse_id): a
        for a in StockAlert.objects.filter(condition, status=StockAlertStatus.OPEN)
    }
    opened: list[StockAlert] = []
    for rule in rules:
        key = (rule.product_id, rule.warehouse_id)
        available = stock_sellable_total(
            product_id=rule.product_id, warehouse_id=rule.warehouse_id
        )
        alert = open_alerts.get(key)
        if available >= rule.minimum_quantity:
            if alert is not None:
                alert.status = StockAlertStatus.CLOSED
                alert.quantity_available = available
                alert.closed_at = timezone.now()
                alert.save(
                    update_fields=[
                        "status",
                        "quantity_available",
                        "closed_at",
                        "updated_at",
                    ]
                )
            continue
        daily = recent_daily_sales(
            product_id=rule.product_id, warehouse_id=rule.warehouse_id
        )
        suggested = suggest_reorder_quantity(
            available=available,
            minimum=rule.minimum_quantity,
            reorder_quantity=rule.reorder_quantity,
            daily_sales=daily,
            lead_time_days=rule.lead_time_days,
        )
        if alert is None:
            try:
                # Two lots of one SKU are locked separately, so two transactions can
                # open the same alert at once; the one-open-alert constraint keeps
                # one, and the other goes on without failing the stock change.
                with transaction.atomic():
                    alert = StockAlert.objects.create(
                        product_id=rule.product_id,
                        warehouse_id=rule.warehouse_id,
                        quantity_available=available,
                        minimum_quantity=rule.minimum_quantity,
                        suggested_reorder_quantity=suggested,
                        recent_daily_sales=daily,
                    )
            except IntegrityError:
                continue
            outbox_enqueue(
                topic=STOCK_ALERT_OPENED_TOPIC,
                key=str(alert.pk),
                payload={"alert_id": alert.pk},
            )
            opened.append(alert)
        else:
            alert.quantity_available = available
            alert.minimum_quantity = rule.minimum_quantity
            alert.suggested_reorder_quantity = suggested
            alert.recent_daily_sales = daily
            alert.save(
                update_fields=[
                    "quantity_available",
                    "minimum_quantity",
                    "suggested_reorder_quantity",
                    "recent_daily_sales",
                    "updated_at",
                ]
            )
    return opened


@transaction.atomic(savepoint=False)
def stock_arrived_enqueue(*, product_ids: Collection[int]) -> None:
    """Queue one message naming the SKUs whose sellable stock went up in this transaction.

    Not coalesced: a pending row per key would make two stock transactions wait on
    each other; one row per transaction costs nothing to insert.
    """
    if product_ids:
        outbox_enqueue_many(
            topic=STOCK_ARRIVED_TOPIC,
            messages=[("", {"product_ids": sorted(set(product_ids))})],
        )


@transaction.atomic(savepoint=False)
def stock_levels_changed(
    *, pairs: Collection[tuple[int, int]], context: LevelsContext | None = None
) -> None:
    """Sellable stock of these (product, warehouse) pairs moved: push and re-check."""
    if not pairs:
        return
    if context is None or not context.pairs.issuperset(pairs):
        context = stock_levels_prepare(pairs=pairs)
    # StockAlert rows before OutboxMessage rows: the documented lock order.
    safety_stock_evaluate(pairs=pairs, context=context)
    available_to_sell_enqueue(pairs=pairs, context=context)
