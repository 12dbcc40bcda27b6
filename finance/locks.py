"""Row locks of finance; the only module here that calls select_for_update.

Global lock order (docs/locking.md): orders.Order -> orders.OrderLine ->
logistics.Shipment -> finance.Payment -> inventory.* . Finance writes about one order
(payments, refunds, costs, its profit row) only while holding that order's row, the
parent of all of them, so two writers of the same order queue there instead of
deadlocking on the children. The order model is reached by name, not imported, since
orders sits above finance.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

from erp.core.db import set_local_lock_timeout

# Finance writes take milliseconds; a writer stuck longer than this behind a broken
# session fails fast and its caller (a task) retries.
FINANCE_LOCK_TIMEOUT = "5s"


def order_lock(*, order_id: int) -> Any | None:
    """Lock one order row FOR NO KEY UPDATE (no key changes); None if it does not exist.

    Re-locking the row the orders ingest already holds in the same transaction is free.
    """
    set_local_lock_timeout(FINANCE_LOCK_TIMEOUT)
    order_model = apps.get_model("orders", "Order")
    return (
        order_model.objects.filter(pk=order_id)
        .only("pk", "channel_id", "currency")
        .select_for_update(no_key=True, of=("self",))
        .first()
    )


def payout_lock(*, payout_id: int) -> Any:
    """Lock one payout row while its lines are written (payouts are locked alone)."""
    from finance.models import Payout

    set_local_lock_timeout(FINANCE_LOCK_TIMEOUT)
    return Payout.objects.select_for_update(no_key=True).get(pk=payout_id)


def difference_lock(*, difference_id: int) -> Any | None:
    """Lock one reconciliation difference while finance notes or resolves it."""
    from finance.models import ReconciliationDifference

    set_local_lock_timeout(FINANCE_LOCK_TIMEOUT)
    return (
        ReconciliationDifference.objects.select_for_update(no_key=True)
        .filter(pk=difference_id)
        .first()
    )


def orders_lock(*, order_ids: list[int]) -> list[Any]:
    """Lock several orders FOR NO KEY UPDATE in pk order, with their buyers (a page)."""
    set_local_lock_timeout(FINANCE_LOCK_TIMEOUT)
    order_model = apps.get_model("orders", "Order")
    return list(
        order_model.objects.select_for_update(no_key=True, of=("self",))
        .select_related("customer")
        .filter(pk__in=order_ids)
        .order_by("pk")
    )
