"""The one place stock quantities change: update locked rows, write the ledger, react."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from erp.core.db import bulk_update_rows
from inventory.choices import StockMovementType
from inventory.exceptions import StockRuleError
from inventory.models import Allocation, StockItem, StockMovement, Transfer
from inventory.services.levels import (
    LevelsContext,
    stock_arrived_enqueue,
    stock_levels_changed,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@dataclass
class StockChange:
    """One change to one locked stock row, and what the ledger line should say."""

    stock_item: StockItem
    type: StockMovementType
    on_hand_delta: int
    allocated_delta: int = 0
    allocation: Allocation | None = None
    transfer: Transfer | None = None
    unit_cost: Decimal | None = None
    # Overrides the call's reference, when one call applies changes of many orders.
    reference: str | None = None


def actor_id_of(actor: AbstractBaseUser | Any | None) -> int | None:
    """The user id to stamp on a ledger line (None for system and anonymous callers)."""
    return getattr(actor, "pk", None) if actor is not None else None


# No savepoint: callers roll back as a whole, and the hot path saves two round trips.
@transaction.atomic(savepoint=False)
def stock_changes_apply(
    *,
    changes: Sequence[StockChange],
    reason: str = "",
    reference: str = "",
    actor: AbstractBaseUser | None = None,
    context: LevelsContext | None = None,
) -> list[StockMovement]:
    """Apply changes to stock rows the caller has locked and write one ledger line each.

    Then queues the store stock pushes and re-checks safety stock for what moved
    (with `context` read before the locks were taken, when the caller has one).
    Locks: none (the caller holds the StockItem locks).
    Raises: StockRuleError if a row would go negative or below what is allocated.
    """
    if not changes:
        return []
    now = timezone.now()
    actor_id = actor_id_of(actor)
    items: dict[int, StockItem] = {}
    available_deltas: dict[tuple[int, int], int] = defaultdict(int)
    movements: list[StockMovement] = []
    today = timezone.localdate()
    for change in changes:
        item = items.setdefault(change.stock_item.pk, change.stock_item)
        item.quantity_on_hand += change.on_hand_delta
        item.quantity_allocated += change.allocated_delta
        item.updated_at = now
        if (
            item.quantity_on_hand < 0
            or item.quantity_allocated < 0
            or item.quantity_allocated > item.quantity_on_hand
        ):
            raise StockRuleError(
                gettext(
                    "That would leave less stock than is allocated (on hand %(quantity_on_hand)s, allocated %(quantity_allocated)s)."
                )
                % {
                    "quantity_on_hand": item.quantity_on_hand,
                    "quantity_allocated": item.quantity_allocated,
                },
                stock_item_id=item.pk,
                quantity_on_hand=item.quantity_on_hand,
                quantity_allocated=item.quantity_allocated,
            )
        expired = item.batch_id is not None and item.batch.is_expired(today=today)
        if not expired:
            available_deltas[(item.product_id, item.warehouse_id)] += (
                change.on_hand_delta - change.allocated_delta
            )
        movements.append(
            StockMovement(
                stock_item=item,
                type=change.type,
                quantity_on_hand_delta=change.on_hand_delta,
                quantity_allocated_delta=change.allocated_delta,
                quantity_on_hand_after=item.quantity_on_hand,
                quantity_allocated_after=item.quantity_allocated,
                unit_cost=change.unit_cost,
                reason=reason[:255],
                reference=(reference if change.reference is None else change.reference)[
                    :100
                ],
                actor_id=actor_id,
                allocation=change.allocation,
                transfer=change.transfer,
                created_at=now,
            )
        )
    ordered = sorted(items.values(), key=lambda i: i.pk)
    if len(ordered) == 1:
        # A plain UPDATE is cheaper than bulk_update's CASE for the common single row.
        only = ordered[0]
        StockItem.objects.filter(pk=only.pk).update(
            quantity_on_hand=only.quantity_on_hand,
            quantity_allocated=only.quantity_allocated,
            updated_at=now,
        )
    else:
        bulk_update_rows(
            StockItem, ordered, ["quantity_on_hand", "quantity_allocated", "updated_at"]
        )
    StockMovement.objects.bulk_create(movements)
    stock_levels_changed(
        pairs={key for key, delta in available_deltas.items() if delta != 0},
        context=context,
    )
    stock_arrived_enqueue(
        product_ids={
            product_id
            for (product_id, _), delta in available_deltas.items()
            if delta > 0
        }
    )
    return movements
