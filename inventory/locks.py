"""Row locks of inventory; the only module here that calls select_for_update.

Global lock order (docs/locking.md), pk ascending within each table:

    orders.Order -> orders.OrderLine -> logistics.Shipment -> finance.Payment
    -> inventory.Transfer -> inventory.StockItem -> inventory.Allocation

then the rows written last without an explicit lock, in sorted key order:
inventory.StockAlert by (product, warehouse) and core.OutboxMessage by (topic, key).

Every helper here sets the stock lock timeout first (a stuck lock fails fast as
StockBusyError instead of piling workers up), locks FOR NO KEY UPDATE (no key
column ever changes, so inserts of rows that reference these stay unblocked), takes
only the rows of its own table (`of=("self",)`) in pk order in one statement, and
returns an evaluated list so the lock is held when the helper returns.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import OperationalError
from django.utils.translation import gettext

from erp.core.db import set_local_lock_timeout
from inventory.exceptions import StockBusyError
from inventory.models import Allocation, StockItem, Transfer

# Long enough for any stock transaction to finish (they take milliseconds), short
# enough that a worker stuck behind a broken session gives up and retries.
STOCK_LOCK_TIMEOUT = "5s"

# PostgreSQL SQLSTATE lock_not_available, raised when lock_timeout expires.
_LOCK_NOT_AVAILABLE = "55P03"

T = TypeVar("T")


@contextmanager
def _lock_timeout() -> Iterator[None]:
    set_local_lock_timeout(STOCK_LOCK_TIMEOUT)
    try:
        yield
    except OperationalError as exc:
        if getattr(exc.__cause__, "pgcode", None) == _LOCK_NOT_AVAILABLE:
            raise StockBusyError(
                gettext("Stock is busy (a lock wait timed out); try again."),
                lock_timeout=STOCK_LOCK_TIMEOUT,
            ) from exc
        raise


def _locked(build: Callable[[], list[T]]) -> list[T]:
    with _lock_timeout():
        return build()


def stock_items_lock(*, stock_item_ids: Collection[int]) -> list[StockItem]:
    """Lock the given stock rows (with their lot loaded), pk ascending."""
    if not stock_item_ids:
        return []
    return _locked(
        lambda: list(
            StockItem.objects.filter(pk__in=set(stock_item_ids))
            .select_related("batch")
            .order_by("pk")
            .select_for_update(of=("self",), no_key=True)
        )
    )


def stock_items_lock_for_products(
    *, warehouse_id: int, product_ids: Collection[int]
) -> list[StockItem]:
    """Lock every stock row (all lots) of these SKUs in one warehouse, pk ascending.

    An inactive warehouse yields no rows, so nothing is allocated from it.
    """
    if not product_ids:
        return []
    return _locked(
        lambda: list(
            StockItem.objects.filter(
                warehouse_id=warehouse_id,
                warehouse__is_active=True,
                product_id__in=set(product_ids),
            )
            .select_related("batch")
            .order_by("pk")
            .select_for_update(of=("self",), no_key=True)
        )
    )


def allocations_lock(*, allocation_ids: Collection[int]) -> list[Allocation]:
    """Lock allocations, pk ascending; callers lock their stock rows first."""
    if not allocation_ids:
        return []
    return _locked(
        lambda: list(
            Allocation.objects.filter(pk__in=set(allocation_ids))
            .order_by("pk")
            .select_for_update(of=("self",), no_key=True)
        )
    )


def transfer_lock(*, transfer_id: int) -> Transfer | None:
    """Lock one transfer (before any of its stock rows); None if it does not exist."""
    rows = _locked(
        lambda: list(
            Transfer.objects.filter(pk=transfer_id).select_for_update(
                of=("self",), no_key=True
            )
        )
    )
    return rows[0] if rows else None


def stock_items_lock_for_pool(
    *, warehouse_ids: Collection[int], product_ids: Collection[int]
) -> list[StockItem]:
    """Lock every stock row of these SKUs in these active warehouses, pk ascending.

    One statement for a whole page of orders, so two pages lock in one order.
    """
    if not product_ids or not warehouse_ids:
        return []
    return _locked(
        lambda: list(
            StockItem.objects.filter(
                warehouse_id__in=set(warehouse_ids),
                warehouse__is_active=True,
                product_id__in=set(product_ids),
            )
            .select_related("batch")
            .order_by("pk")
            .select_for_update(of=("self",), no_key=True)
        )
    )
