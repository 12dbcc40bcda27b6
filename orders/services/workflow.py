"""Review, allocation, hold/approve and cancellation: moving an order through its life."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from erp.core.db import set_local_lock_timeout
from erp.core.exceptions import ApplicationError
from erp.core.outbox import outbox_enqueue
from erp.core.text import Join, Phrase
from inventory.choices import AllocationStatus
from inventory.exceptions import InsufficientStockError
from inventory.models import Allocation, Warehouse
from inventory.planning import AllocationRequest
from inventory.services.allocation import stock_allocate, stock_release
from orders.choices import (
    PRE_SHIPMENT_STATUSES,
    OrderEventType,
    OrderStatus,
)
from orders.exceptions import OrderNotFoundError, OrderVersionConflictError
from orders.locks import order_lock, orders_lock
from orders.models import Order, ReviewRule
from orders.review import ReviewFacts, ReviewOutcome, review_evaluate
from orders.services.events import order_can_move, order_event_record, order_status_set

ORDER_CANCELLED_TOPIC = "orders.cancelled"

# Statuses review may (re)decide; later ones are past review.
REVIEWABLE = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.AWAITING_REVIEW,
        OrderStatus.ON_HOLD,
        OrderStatus.APPROVED,
    }
)


@dataclass(frozen=True)
class AllocationDecision:
    """Where an order's stock came from (or why it waits), as ops read it."""

    allocated: bool
    warehouse_codes: tuple[str, ...]
    reason: str


def _active_allocation_ids(order: Order) -> list[int]:
    return list(
        Allocation.objects.filter(
            order_line__order=order, status=AllocationStatus.ALLOCATED
        ).values_list("pk", flat=True)
    )


@transaction.atomic(savepoint=False)
def order_allocation_release(*, order: Order, reason: str, actor: Any = None) -> int:
    """Give the order's reserved stock back (cancel, hold, edit); returns units released."""
    allocation_ids = _active_allocation_ids(order)
    if not allocation_ids:
        return 0
    released = stock_release(
        allocation_ids=allocation_ids,
        reason=reason,
        reference=f"order:{order.pk}",
        actor=actor,
    )
    units = sum(a.quantity for a in released)
    order_event_record(
        order=order,
        type=OrderEventType.ALLOCATION_RELEASED,
        message=Phrase(
            gettext_noop("%(units)s unit(s) returned to available stock: %(reason)s"),
            units=units,
            reason=reason,
        ),
        data={"allocation_ids": allocation_ids},
        actor=actor,
    )
    return units


def _split_plan(
    *,
    requests: Sequence[AllocationRequest],
    warehouses: list[Warehouse],
    sellable: dict[int, dict[int, int]],
) -> dict[int, list[AllocationRequest]] | None:
    """Assign whole lines to as few serving warehouses as possible, or None if impossible."""
    sellable = {w.pk: dict(sellable.get(w.pk, {})) for w in warehouses}
    remaining = list(requests)
    plan: dict[int, list[AllocationRequest]] = {}
    while remaining:
        best: tuple[int, list[AllocationRequest]] | None = None
        for warehouse in warehouses:
            figures = dict(sellable[warehouse.pk])
            fits = []
            for request in remaining:
                if figures.get(request.product_id, 0) >= request.quantity:
                    figures[request.product_id] -= request.quantity
                    fits.append(request)
            if fits and (best is None or len(fits) > len(best[1])):
                best = (warehouse.pk, fits)
        if best is None:
            return None
        warehouse_id, fits = best
        plan[warehouse_id] = fits
        for request in fits:
            sellable[warehouse_id][request.product_id] -= request.quantity
            remaining.remove(request)
    return plan


# No savepoint: the ingest and the ops actions call this inside their own transaction
# and never go on after it raised, so a savepoint would only cost two round trips.
@transaction.atomic(savepoint=False)
def order_allocate_stock(
    *,
    order: Order,
    actor: Any = None,
    facts: ReviewFacts | None = None,
    pending_fields: tuple[str, ...] = (),
) -> AllocationDecision:
    """Reserve stock for an approved order in the best warehouse (or split, or wait).

    One warehouse that serves the destination and has every line wins, by priority;
    a split happens only when none can and the store allows it. Otherwise the order
    waits as awaiting stock and is retried when stock arrives. `facts` are review's,
    so the lines and stock figures it read are not read again; `pending_fields` are
    fields review changed but left to this status write.
    Locks: the caller holds the Order lock; StockItem rows via inventory.
    """
    facts = facts or ReviewFacts(order)
    requests = facts.allocation_requests()
    address = order.shipping_address or {}
    country = (address.get("country_code") or "").upper()
    reference = f"order:{order.pk}"
    if not requests:
        decision = AllocationDecision(
            True, (), Phrase(gettext_noop("Nothing to ship from stock."))
        )
        order_status_set(
            order=order,
            to=OrderStatus.ALLOCATED,
            event_type=OrderEventType.ALLOCATED,
            message=decision.reason,
            actor=actor,
            extra_fields=pending_fields,
        )
        return decision
    for candidate in facts.allocation_candidates():
        try:
            stock_allocate(
                requests=requests,
                warehouse_id=candidate.warehouse_id,
                reference=reference,
                actor=actor,
            )
        except InsufficientStockError:
            continue  # taken by a concurrent order since the figures were read
        decision = AllocationDecision(
            True,
            (candidate.code,),
            Phrase(
                gettext_noop(
                    "%(warehouse)s: all lines in stock, serves %(place)s (priority "
                    "%(priority)s)."
                ),
                warehouse=candidate.code,
                place=country or gettext_lazy("the destination"),
                priority=candidate.priority,
            ),
        )
        order_status_set(
            order=order,
            to=OrderStatus.ALLOCATED,
            event_type=OrderEventType.ALLOCATED,
            message=decision.reason,
            data={"warehouses": [candidate.code]},
            actor=actor,
            extra_fields=pending_fields,
        )
        return decision

    serving = facts.serving_warehouses
    if order.channel.allow_split_shipments and len(serving) > 1:
        plan = _split_plan(
            requests=requests, warehouses=serving, sellable=facts.sellable
        )
        if plan is not None:
            for warehouse_id, part in plan.items():
                stock_allocate(
                    requests=part,
                    warehouse_id=warehouse_id,
                    reference=reference,
                    actor=actor,
                )
            codes = tuple(w.code for w in serving if w.pk in plan)
            lines = {w.code: len(plan[w.pk]) for w in serving if w.pk in plan}
            decision = AllocationDecision(
                True,
                codes,
                Phrase(
                    gettext_noop(
                        "Split: no single warehouse has every line; %(parts)s."
                    ),
                    parts=Join(
                        [
                            Phrase(
                                gettext_noop("%(warehouse)s ships %(n)s line(s)"),
                                warehouse=code,
                                n=n,
                            )
                            for code, n in lines.items()
                        ]
                    ),
                ),
            )
            order_status_set(
                order=order,
                to=OrderStatus.ALLOCATED,
                event_type=OrderEventType.ALLOCATED,
                message=decision.reason,
                data={"warehouses": list(codes), "split": True},
                actor=actor,
                extra_fields=pending_fields,
            )
            return decision

    shortages = facts.stock_shortages
    if shortages:
        reason = Phrase(
            gettext_noop("Waiting for stock: %(parts)s."),
            parts=Join(
                [
                    Phrase(
                        gettext_noop("%(sku)s needs %(need)s, %(have)s available"),
                        sku=sku,
                        need=need,
                        have=have,
                    )
                    for sku, need, have in shortages
                ],
                "; ",
            ),
        )
    elif not serving:
        reason = Phrase(
            gettext_noop("Waiting: no active warehouse ships to %(place)s."),
            place=country or gettext_lazy("the destination"),
        )
    else:
        reason = Phrase(
            gettext_noop("Waiting for stock: no single warehouse has every line.")
            if order.channel.allow_split_shipments
            else gettext_noop(
                "Waiting for stock: no single warehouse has every line and this store "
                "does not allow split shipments."
            )
        )
    order_status_set(
        order=order,
        to=OrderStatus.AWAITING_STOCK,
        event_type=OrderEventType.AWAITING_STOCK,
        message=reason,
        data={"shortages": [list(s) for s in shortages]},
        actor=actor,
        extra_fields=pending_fields,
    )
    return AllocationDecision(False, (), reason)


@transaction.atomic(savepoint=False)
def order_review_apply(
    *,
    order: Order,
    actor: Any = None,
    facts: ReviewFacts | None = None,
    rules: list[ReviewRule] | None = None,
) -> ReviewOutcome | None:
    """Review an order that may be (re)decided, then allocate it if it passes.

    Staff approval by hand stands until the store changes the order. `facts` and
    `rules` may come from the caller (a new order's lines, a batch's rule set).
    Returns None when the order is past review.
    """
    if order.status not in REVIEWABLE or order.is_historical:
        return None
    facts = facts or ReviewFacts(order)
    outcome = review_evaluate(order=order, rules=rules, facts=facts)
    order.review_flags = [f.as_dict() for f in outcome.flags]
    if outcome.holds and order.approved_override_at is None:
        order.set_hold_reasons([f.as_dict() for f in outcome.holds])
        message = Phrase(
            gettext_noop("%(reasons)s"),
            reasons=Join([f.message for f in outcome.holds], " "),
        )
        if order.status == OrderStatus.ON_HOLD:
            order.save(
                update_fields=[
                    "hold_reasons",
                    "hold_codes",
                    "review_flags",
                    "updated_at",
                ]
            )
        else:
            order_status_set(
                order=order,
                to=OrderStatus.ON_HOLD,
                event_type=OrderEventType.HELD,
                message=message,
                data={"reasons": order.hold_reasons},
                actor=actor,
                extra_fields=("hold_reasons", "hold_codes", "review_flags"),
            )
        return outcome
    order.set_hold_reasons([])
    review_fields = ("hold_reasons", "hold_codes", "review_flags")
    if order.status != OrderStatus.APPROVED:
        verdict = (
            gettext_noop("Passed review.")
            if not outcome.holds
            else gettext_noop("Approved by hand earlier.")
        )
        message = Phrase(verdict)
        if outcome.flags:
            message = Phrase(
                gettext_noop("%(verdict)s Flags: %(flags)s"),
                verdict=message,
                flags=Join([f.message for f in outcome.flags], " "),
            )
        # Allocation follows at once and writes the row for both steps.
        order_status_set(
            order=order,
            to=OrderStatus.APPROVED,
            event_type=OrderEventType.APPROVED,
            message=message,
            actor=actor,
            save=False,
        )
    order_allocate_stock(
        order=order, actor=actor, facts=facts, pending_fields=review_fields
    )
    return outcome


def _locked(order_id: int, expected_version: int | None) -> Order:
    order = order_lock(order_id=order_id)
    if order is None:
        raise OrderNotFoundError(
            gettext("That order does not exist."), order_id=order_id
        )
    if expected_version is not None and order.version != expected_version:
        raise OrderVersionConflictError(
            gettext(
                "Order %(number)s changed since you opened it (version %(version)s, yours %(expected_version)s); reload and try again."
            )
            % {
                "number": order.number,
                "version": order.version,
                "expected_version": expected_version,
            },
            order_id=order_id,
            version=order.version,
        )
    return order


@transaction.atomic(durable=True)
def order_approve(
    *, order_id: int, actor: Any, reason: str, expected_version: int | None = None
) -> Order:
    """Approve a held order by hand (overriding its holds) and allocate it."""
    set_local_lock_timeout("5s")
    order = _locked(order_id, expected_version)
    if order.status not in (
        OrderStatus.ON_HOLD,
        OrderStatus.AWAITING_REVIEW,
        OrderStatus.NEW,
    ):
        raise ApplicationError(
            gettext(
                "Order %(number)s is %(status)s; only held or new orders can be approved."
            )
            % {"number": order.number, "status": order.get_status_display().lower()},
            code="order_not_held",
            order_id=order_id,
            status=order.status,
        )
    order.approved_override_at = timezone.now()
    held_for = [r["message"] for r in order.hold_reasons]
    order.set_hold_reasons([])
    order_status_set(
        order=order,
        to=OrderStatus.APPROVED,
        event_type=OrderEventType.APPROVED,
        message=Phrase(gettext_noop("Approved by hand: %(reason)s"), reason=reason),
        data={"overrode": held_for},
        actor=actor,
        extra_fields=("approved_override_at", "hold_reasons", "hold_codes"),
    )
    order_allocate_stock(order=order, actor=actor)
    return order


@transaction.atomic(durable=True)
def order_hold(
    *, order_id: int, actor: Any, reason: str, expected_version: int | None = None
) -> Order:
    """Hold an order by hand with a reason, releasing any stock it had reserved."""
    set_local_lock_timeout("5s")
    order = _locked(order_id, expected_version)
    if not order_can_move(order, OrderStatus.ON_HOLD):
        raise ApplicationError(
            gettext("Order %(number)s is %(status)s and cannot be held.")
            % {"number": order.number, "status": order.get_status_display().lower()},
            code="order_not_holdable",
            order_id=order_id,
            status=order.status,
        )
    order_allocation_release(order=order, reason=f"held by hand: {reason}", actor=actor)
    held = Phrase(gettext_noop("Held by hand: %(reason)s"), reason=reason)
    order.set_hold_reasons(
        [{"code": "manual", "message": held, "rule_id": None, **held.as_dict()}]
    )
    order.approved_override_at = None
    order_status_set(
        order=order,
        to=OrderStatus.ON_HOLD,
        event_type=OrderEventType.HELD,
        message=held,
        actor=actor,
        extra_fields=("hold_reasons", "hold_codes", "approved_override_at"),
    )
    return order


@transaction.atomic(savepoint=False)
def order_cancel_apply(
    *, order: Order, reason: str, actor: Any = None, notify_store: bool
) -> bool:
    """Cancel a locked order that has not shipped, releasing its stock.

    notify_store: True when the cancellation started here and the store must learn it.
    Returns False (with an event) when the order has already shipped.
    """
    if order.status == OrderStatus.CANCELLED:
        return False
    if order.status not in PRE_SHIPMENT_STATUSES:
        order_event_record(
            order=order,
            type=OrderEventType.NOTE_ADDED,
            actor=actor,
            message=Phrase(
                gettext_noop(
                    "Cancellation not applied: the order is already %(status)s. %(reason)s"
                ),
                status=OrderStatus(order.status).label,
                reason=reason,
            ),
        )
        return False
    order_allocation_release(order=order, reason=f"cancelled: {reason}", actor=actor)
    order.cancelled_at = order.cancelled_at or timezone.now()
    order.cancel_reason = reason[:255]
    order_status_set(
        order=order,
        to=OrderStatus.CANCELLED,
        event_type=OrderEventType.CANCELLED,
        message=reason,
        actor=actor,
        extra_fields=("cancelled_at", "cancel_reason"),
    )
    if notify_store and not order.is_historical:
        outbox_enqueue(
            topic=ORDER_CANCELLED_TOPIC,
            key=str(order.pk),
            payload={
                "order_id": order.pk,
                "channel_id": order.channel_id,
                "reason": reason,
            },
        )
    return True


@transaction.atomic(durable=True)
def order_cancel(
    *, order_id: int, actor: Any, reason: str, expected_version: int | None = None
) -> Order:
    """Cancel an order here (ops) and tell the store through the outbox.

    Raises: ApplicationError when it has already shipped.
    """
    set_local_lock_timeout("5s")
    order = _locked(order_id, expected_version)
    if order.status not in PRE_SHIPMENT_STATUSES:
        raise ApplicationError(
            gettext("Order %(number)s is %(status)s and can no longer be cancelled.")
            % {"number": order.number, "status": order.get_status_display().lower()},
            code="order_not_cancellable",
            order_id=order_id,
            status=order.status,
        )
    order_cancel_apply(order=order, reason=reason, actor=actor, notify_store=True)
    return order


@transaction.atomic(durable=True)
def order_allocate(*, order_id: int, actor: Any = None) -> AllocationDecision:
    """Try again to allocate an approved or waiting order (ops button, stock arrival)."""
    set_local_lock_timeout("5s")
    order = _locked(order_id, None)
    if order.status not in (OrderStatus.APPROVED, OrderStatus.AWAITING_STOCK):
        raise ApplicationError(
            gettext(
                "Order %(number)s is %(status)s; only approved orders waiting for stock can be allocated."
            )
            % {"number": order.number, "status": order.get_status_display().lower()},
            code="order_not_allocatable",
            order_id=order_id,
            status=order.status,
        )
    return order_allocate_stock(order=order, actor=actor)


def orders_awaiting_stock_allocate(*, limit: int = 200) -> int:
    """Allocate waiting orders, oldest first, each in its own transaction; returns how many.

    Run by beat and after stock arrives: an order whose stock came in leaves the queue.
    """
    allocated = 0
    order_ids = list(
        Order.objects.filter(status=OrderStatus.AWAITING_STOCK)
        .order_by("placed_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for order_id in order_ids:
        with transaction.atomic(durable=True):
            set_local_lock_timeout("5s")
            locked = orders_lock(order_ids=[order_id])
            if not locked or locked[0].status != OrderStatus.AWAITING_STOCK:
                continue
            if order_allocate_stock(order=locked[0]).allocated:
                allocated += 1
    return allocated
