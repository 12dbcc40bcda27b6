"""Review, allocation, hold/approve and cancellation: moving an order through its life."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from erp.core.db import bulk_update_rows, set_local_lock_timeout
from erp.core.exceptions import ApplicationError
from erp.core.outbox import outbox_enqueue
from erp.core.text import Join, Phrase
from inventory.choices import AllocationStatus
from inventory.models import Allocation, Warehouse
from inventory.planning import AllocationRequest
from inventory.selectors import bundles_containing
from inventory.services.allocation import stock_pool_lock, stock_release
from orders.choices import (
    PRE_SHIPMENT_STATUSES,
    OrderEventType,
    OrderStatus,
    ReviewRuleKind,
)
from orders.exceptions import OrderNotFoundError, OrderVersionConflictError
from orders.locks import order_lock, orders_lock
from orders.models import Order, OrderLine, ReviewRule
from orders.review import (
    DuplicateIndex,
    ReviewFacts,
    ReviewOutcome,
    review_evaluate,
    review_rules_for,
    warehouses_active,
)
from orders.services.events import (
    order_can_move,
    order_event_record,
    order_events_deferred,
    order_status_set,
)

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


# Order fields review and allocation change, written for a whole page in one UPDATE.
_DECISION_FIELDS = (
    "status",
    "version",
    "hold_reasons",
    "hold_codes",
    "review_flags",
    "updated_at",
)


class _Page:
    """What the orders of one batch share, read before any stock row is locked.

    Their lines, stores, buyers, rules, warehouses, the duplicate check and then the
    locked stock pool; and the decisions, written together by `save`.
    """

    def __init__(
        self,
        *,
        orders: Sequence[Order],
        lines: Mapping[int, Sequence[OrderLine]] | None,
        rules: list[ReviewRule] | None,
        warehouses: list[Warehouse] | None,
        review: bool,
    ) -> None:
        self.orders = orders
        self.lines: dict[int, Sequence[OrderLine]] = dict(lines or {})
        missing = [o.pk for o in orders if o.pk not in self.lines]
        if missing:
            for order_id in missing:
                self.lines[order_id] = []
            for line in OrderLine.objects.filter(order_id__in=missing).order_by("pk"):
                self.lines[line.order_id].append(line)
        self.warehouses = warehouses_active() if warehouses is None else warehouses
        self.rules: dict[int, list[ReviewRule]] = {}
        self.duplicates: DuplicateIndex | None = None
        if review:
            self._read_review_facts(rules)
        product_ids = {
            line.product_id
            for order_lines in self.lines.values()
            for line in order_lines
            if line.product_id is not None
            and line.requires_shipping
            and not line.is_removed
        }
        # The last read: the stock rows stay locked until the caller commits.
        self.pool = stock_pool_lock(
            product_ids=product_ids,
            warehouse_ids=[w.pk for w in self.warehouses],
        )
        self._dirty: dict[int, Order] = {}

    def _read_review_facts(self, rules: list[ReviewRule] | None) -> None:
        for channel_id in {o.channel_id for o in self.orders}:
            self.rules[channel_id] = (
                review_rules_for(channel_id=channel_id) if rules is None else rules
            )
        every_rule = [r for group in self.rules.values() for r in group]
        if any(r.kind == ReviewRuleKind.CUSTOMER_BLOCKED for r in every_rule):
            prefetch_related_objects(list(self.orders), "customer")
        windows = [
            int(r.parameters.get("window_hours") or 24)
            for r in every_rule
            if r.kind == ReviewRuleKind.LIKELY_DUPLICATE
        ]
        if windows:
            self.duplicates = DuplicateIndex(
                orders=self.orders, lines=self.lines, window_hours=max(windows)
            )

    def facts(self, order: Order) -> ReviewFacts:
        """The facts of one order at its turn: stock figures as earlier orders left them."""
        duplicates = self.duplicates
        return ReviewFacts(
            order,
            lines=self.lines[order.pk],
            warehouses=lambda: self.warehouses,
            bundles=self.pool.bundles,
            sellable=lambda product_ids: self.pool.sellable(product_ids=product_ids),
            duplicates=(
                None
                if duplicates is None
                else lambda window: duplicates.numbers(order=order, window_hours=window)
            ),
        )

    def allows_split(self, order: Order) -> bool:
        """Whether the order's store allows split shipments (stores read once, if asked)."""
        prefetch_related_objects(list(self.orders), "channel")
        return order.channel.allow_split_shipments

    def touch(self, order: Order, *, bump: bool = True) -> None:
        """The order's decision fields changed; `bump` counts it as a new version."""
        if bump:
            order.version += 1
        self._dirty[order.pk] = order

    def move(
        self,
        order: Order,
        *,
        to: str,
        event_type: str,
        message: str,
        data: dict[str, Any] | None = None,
        actor: Any = None,
        touch_if_same: bool = True,
    ) -> None:
        """order_status_set for a page: checked and recorded now, written by `save`."""
        if order.status == to:
            if touch_if_same:
                self.touch(order)
            return
        order_status_set(
            order=order,
            to=to,
            event_type=event_type,
            message=message,
            data=data,
            actor=actor,
            save=False,
        )
        self._dirty[order.pk] = order

    def save(self, *, actor: Any = None) -> None:
        """Allocations, stock and ledger, then every changed order in one UPDATE."""
        self.pool.save(actor=actor)
        if not self._dirty:
            return
        now = timezone.now()
        changed = sorted(self._dirty.values(), key=lambda o: o.pk)
        for order in changed:
            order.updated_at = now
        if len(changed) == 1:
            changed[0].save(update_fields=list(_DECISION_FIELDS))
        else:
            bulk_update_rows(Order, changed, _DECISION_FIELDS)
        self._dirty = {}


def _allocate_one(
    *,
    page: _Page,
    order: Order,
    facts: ReviewFacts,
    actor: Any,
    touch_if_same: bool,
) -> AllocationDecision:
    """Reserve stock for one approved order of the page (or split, or wait).

    One warehouse that serves the destination and has every line wins, by priority;
    a split happens only when none can and the store allows it. Otherwise the order
    waits as awaiting stock and is retried when stock arrives.
    """
    requests = facts.allocation_requests()
    address = order.shipping_address or {}
    country = (address.get("country_code") or "").upper()
    reference = f"order:{order.pk}"
    if not requests:
        decision = AllocationDecision(
            True, (), Phrase(gettext_noop("Nothing to ship from stock."))
        )
        page.move(
            order,
            to=OrderStatus.ALLOCATED,
            event_type=OrderEventType.ALLOCATED,
            message=decision.reason,
            actor=actor,
            touch_if_same=touch_if_same,
        )
        return decision
    for candidate in facts.allocation_candidates():
        if (
            page.pool.take(
                parts=[(candidate.warehouse_id, requests)], reference=reference
            )
            is None
        ):
            continue  # a bundle's components counted twice; the next may serve
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
        page.move(
            order,
            to=OrderStatus.ALLOCATED,
            event_type=OrderEventType.ALLOCATED,
            message=decision.reason,
            data={"warehouses": [candidate.code]},
            actor=actor,
            touch_if_same=touch_if_same,
        )
        return decision

    serving = facts.serving_warehouses
    if len(serving) > 1 and page.allows_split(order):
        plan = _split_plan(
            requests=requests, warehouses=serving, sellable=facts.sellable
        )
        if (
            plan is not None
            and page.pool.take(parts=list(plan.items()), reference=reference)
            is not None
        ):
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
            page.move(
                order,
                to=OrderStatus.ALLOCATED,
                event_type=OrderEventType.ALLOCATED,
                message=decision.reason,
                data={"warehouses": list(codes), "split": True},
                actor=actor,
                touch_if_same=touch_if_same,
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
            if page.allows_split(order)
            else gettext_noop(
                "Waiting for stock: no single warehouse has every line and this store "
                "does not allow split shipments."
            )
        )
    page.move(
        order,
        to=OrderStatus.AWAITING_STOCK,
        event_type=OrderEventType.AWAITING_STOCK,
        message=reason,
        data={"shortages": [list(s) for s in shortages]},
        actor=actor,
        touch_if_same=touch_if_same,
    )
    return AllocationDecision(False, (), reason)


def _review_one(*, page: _Page, order: Order, actor: Any) -> ReviewOutcome:
    """Review one order of the page and allocate it if it passes."""
    facts = page.facts(order)
    outcome = review_evaluate(
        order=order, rules=page.rules[order.channel_id], facts=facts
    )
    order.review_flags = [f.as_dict() for f in outcome.flags]
    if outcome.holds and order.approved_override_at is None:
        order.set_hold_reasons([f.as_dict() for f in outcome.holds])
        if order.status == OrderStatus.ON_HOLD:
            # Still held: the reasons are refreshed, no new version or event.
            page.touch(order, bump=False)
        else:
            page.move(
                order,
                to=OrderStatus.ON_HOLD,
                event_type=OrderEventType.HELD,
                message=Phrase(
                    gettext_noop("%(reasons)s"),
                    reasons=Join([f.message for f in outcome.holds], " "),
                ),
                data={"reasons": order.hold_reasons},
                actor=actor,
            )
        return outcome
    order.set_hold_reasons([])
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
        page.move(
            order,
            to=OrderStatus.APPROVED,
            event_type=OrderEventType.APPROVED,
            message=message,
            actor=actor,
        )
    _allocate_one(page=page, order=order, facts=facts, actor=actor, touch_if_same=True)
    return outcome


# No savepoint: the ingest and the ops actions call these inside their own transaction
# and never go on after one raised, so a savepoint would only cost two round trips.
@transaction.atomic(savepoint=False)
def orders_review_and_allocate(
    *,
    orders: Sequence[Order],
    lines: Mapping[int, Sequence[OrderLine]] | None = None,
    rules: list[ReviewRule] | None = None,
    warehouses: list[Warehouse] | None = None,
    actor: Any = None,
) -> list[ReviewOutcome | None]:
    """Review a page of orders and allocate those that pass, as one set of writes.

    The same decisions as order_review_apply on each order in page order (an earlier
    order takes stock first; an order's duplicate check never counts a later one of
    the page). `lines` (order pk -> lines), `rules` (of the orders' store) and
    `warehouses` may come from the caller; what is missing is read once for the page.
    Returns one outcome per order, None for an order past review (left untouched).
    Locks: the caller holds the Order rows (or created them in this transaction);
    every stock row of the page's SKUs, pk order, in one statement.
    """
    todo = [o for o in orders if o.status in REVIEWABLE and not o.is_historical]
    if not todo:
        return [None] * len(orders)
    page = _Page(
        orders=todo, lines=lines, rules=rules, warehouses=warehouses, review=True
    )
    outcomes: dict[int, ReviewOutcome] = {}
    with order_events_deferred():
        for order in todo:
            outcomes[id(order)] = _review_one(page=page, order=order, actor=actor)
        page.save(actor=actor)
    return [outcomes.get(id(o)) for o in orders]


@transaction.atomic(savepoint=False)
def orders_allocate(
    *, orders: Sequence[Order], actor: Any = None
) -> list[AllocationDecision]:
    """Allocate approved or waiting orders, a page at once, in page order.

    An order still waiting keeps its status without a new version or event.
    Locks: the caller holds the Order rows; stock rows as orders_review_and_allocate.
    """
    if not orders:
        return []
    page = _Page(orders=orders, lines=None, rules=None, warehouses=None, review=False)
    with order_events_deferred():
        decisions = [
            _allocate_one(
                page=page,
                order=order,
                facts=page.facts(order),
                actor=actor,
                touch_if_same=False,
            )
            for order in orders
        ]
        page.save(actor=actor)
    return decisions


def order_allocate_stock(*, order: Order, actor: Any = None) -> AllocationDecision:
    """Reserve stock for one approved order (see orders_allocate). Caller locks it."""
    return orders_allocate(orders=[order], actor=actor)[0]


def order_review_apply(
    *,
    order: Order,
    actor: Any = None,
    facts: ReviewFacts | None = None,
    rules: list[ReviewRule] | None = None,
) -> ReviewOutcome | None:
    """Review an order that may be (re)decided, then allocate it if it passes.

    Staff approval by hand stands until the store changes the order. `facts` (its
    lines and warehouses) and `rules` may come from the caller. Returns None when
    the order is past review. The page of one of orders_review_and_allocate.
    """
    if order.status not in REVIEWABLE or order.is_historical:
        return None
    return orders_review_and_allocate(
        orders=[order],
        lines=None if facts is None else {order.pk: facts.lines},
        rules=rules,
        warehouses=None if facts is None else facts.warehouses,
        actor=actor,
    )[0]


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
    order_allocation_release(
        order=order,
        reason=Phrase(gettext_noop("held by hand: %(reason)s"), reason=reason),
        actor=actor,
    )
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
    order_allocation_release(
        order=order,
        reason=Phrase(gettext_noop("cancelled: %(reason)s"), reason=reason),
        actor=actor,
    )
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


def orders_awaiting_stock_allocate(
    *,
    limit: int = 200,
    page_size: int = 100,
    product_ids: Collection[int] | None = None,
) -> int:
    """Allocate waiting orders, oldest first, a page per transaction; returns how many.

    Run by beat, and when stock arrives (inventory's stock_arrived message) for the
    orders with a line of those SKUs, or of a bundle made of them.
    """
    allocated = 0
    waiting = Order.objects.filter(status=OrderStatus.AWAITING_STOCK)
    if product_ids is not None:
        wanted = set(product_ids)
        for bundles in bundles_containing(component_ids=wanted).values():
            wanted |= bundles
        waiting = waiting.filter(
            pk__in=OrderLine.objects.filter(product_id__in=wanted).values("order_id")
        )
    order_ids = list(
        waiting.order_by("placed_at", "pk").values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(order_ids), page_size):
        wanted = order_ids[start : start + page_size]
        with transaction.atomic(durable=True):
            set_local_lock_timeout("5s")
            locked = {
                o.pk: o
                for o in orders_lock(order_ids=wanted)
                if o.status == OrderStatus.AWAITING_STOCK
            }
            # Oldest first, as they were queued; the locks were taken in pk order.
            page = [locked[pk] for pk in wanted if pk in locked]
            decisions = orders_allocate(orders=page)
            allocated += sum(1 for d in decisions if d.allocated)
    return allocated
