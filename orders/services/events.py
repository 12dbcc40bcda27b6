"""Building blocks every order service uses: the event log and status moves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from erp.core.text import Phrase
from orders.choices import ORDER_TRANSITIONS, OrderEventType, OrderStatus
from orders.exceptions import IllegalOrderTransitionError
from orders.models import Order, OrderEvent

# Events recorded inside order_events_deferred(), inserted together when it ends.
_deferred: ContextVar[list[OrderEvent] | None] = ContextVar(
    "order_events_deferred", default=None
)


@contextmanager
def order_events_deferred() -> Iterator[None]:
    """Insert the events recorded inside in one statement when the block succeeds.

    The ingest records three or four events per new order (created, approved,
    allocated); one INSERT instead of one each. Used inside the caller's transaction,
    so an error drops them with everything else.
    """
    if _deferred.get() is not None:
        # Nested (a page's review inside the ingest's block): the outer block inserts
        # them all, so the timeline's ids follow the order things happened in.
        yield
        return
    pending: list[OrderEvent] = []
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    OrderEvent.objects.bulk_create(pending)


def order_event_record(
    *,
    order: Order,
    type: str,
    message: str = "",
    data: dict[str, Any] | None = None,
    actor: Any = None,
) -> OrderEvent:
    """Append one event to the order's history (the caller's transaction)."""
    data = dict(data or {})
    if isinstance(message, Phrase):
        # Kept so the timeline reads in each viewer's language.
        data["phrase"] = message.as_dict()
    event = OrderEvent(
        order=order,
        type=type,
        message=message,
        data=data,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    pending = _deferred.get()
    if pending is not None:
        pending.append(event)
    else:
        event.save()
    return event


def order_can_move(order: Order, to: str) -> bool:
    return OrderStatus(to) in ORDER_TRANSITIONS[OrderStatus(order.status)]


def order_status_set(
    *,
    order: Order,
    to: str,
    event_type: str = OrderEventType.STATUS_CHANGED,
    message: str = "",
    data: dict[str, Any] | None = None,
    actor: Any = None,
    extra_fields: tuple[str, ...] = (),
    save: bool = True,
) -> Order:
    """Move the order to `to` if the state machine allows it, with an event.

    save=False leaves the row write to the caller's next save (which must include
    "status", "version" and `extra_fields`): review then allocation write once.
    The caller holds the order lock. Raises: IllegalOrderTransitionError (nothing
    written, and the caller's transaction can go on).
    """
    if order.status == to:
        if extra_fields:
            order.version += 1
            order.save(update_fields=[*extra_fields, "version", "updated_at"])
        return order
    if not order_can_move(order, to):
        raise IllegalOrderTransitionError(
            gettext("Order %(number)s is %(status)s and cannot become %(label)s.")
            % {
                "number": order.number,
                "status": order.get_status_display().lower(),
                "label": OrderStatus(to).label.lower(),
            },
            order_id=order.pk,
            status=order.status,
            to=to,
        )
    previous = order.status
    order.status = to
    order.version += 1
    # The order and its event are written together; the checks above raise before
    # any write, so no savepoint is needed inside the caller's transaction.
    with transaction.atomic(savepoint=False):
        if save:
            order.save(update_fields=["status", "version", "updated_at", *extra_fields])
        order_event_record(
            order=order,
            type=event_type,
            message=message,
            data={"from": previous, "to": to, **(data or {})},
            actor=actor,
        )
    return order
