"""Building blocks every order service uses: the event log and status moves."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from erp.core.text import Phrase
from orders.choices import ORDER_TRANSITIONS, OrderEventType, OrderStatus
from orders.exceptions import IllegalOrderTransitionError
from orders.models import Order, OrderEvent


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
    return OrderEvent.objects.create(
        order=order,
        type=type,
        message=message,
        data=data,
        actor=actor if getattr(actor, "pk", None) else None,
    )


def order_can_move(order: Order, to: str) -> bool:
    return OrderStatus(to) in ORDER_TRANSITIONS[OrderStatus(order.status)]


@transaction.atomic
def order_status_set(
    *,
    order: Order,
    to: str,
    event_type: str = OrderEventType.STATUS_CHANGED,
    message: str = "",
    data: dict[str, Any] | None = None,
    actor: Any = None,
    extra_fields: tuple[str, ...] = (),
) -> Order:
    """Move the order to `to` if the state machine allows it, with an event.

    The caller holds the order lock. Raises: IllegalOrderTransitionError.
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
    order.save(update_fields=["status", "version", "updated_at", *extra_fields])
    order_event_record(
        order=order,
        type=event_type,
        message=message,
        data={"from": previous, "to": to, **(data or {})},
        actor=actor,
    )
    return order
