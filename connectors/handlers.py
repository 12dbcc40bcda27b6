"""Outbox topics the connectors deliver to the stores (registered in AppConfig.ready).

Retryable store errors propagate so the outbox retries with backoff; a store that
refused (or needs reconnecting) turns into OutboxPermanentError, a dead letter with the
reason, instead of a retry storm.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError
from connectors.push import (
    channel_stock_push,
    order_cancel_push,
    order_fulfillment_push,
    order_tracking_push,
)
from erp.core.models import OutboxMessage
from erp.core.outbox import OutboxPermanentError, outbox_handler
from inventory.services.levels import AVAILABLE_CHANGED_TOPIC
from orders.services.shipping import (
    ORDER_FULFILLED_TOPIC,
    ORDER_TRACKING_UPDATED_TOPIC,
)
from orders.services.workflow import ORDER_CANCELLED_TOPIC


def _terminal_errors_are_permanent(
    func: Callable[[OutboxMessage], Any],
) -> Callable[[OutboxMessage], Any]:
    @wraps(func)
    def deliver(message: OutboxMessage) -> Any:
        try:
            return func(message)
        except ConnectorError as exc:  # includes ChannelUnauthorizedError
            raise OutboxPermanentError(exc.message, **exc.extra) from exc

    return deliver


@outbox_handler(AVAILABLE_CHANGED_TOPIC)
@_terminal_errors_are_permanent
def deliver_available_changed(message: OutboxMessage) -> None:
    """Push the SKU's stock, and every other SKU of the store waiting, in one go."""
    channel_stock_push(
        channel_id=int(message.payload["channel_id"]),
        product_ids=[int(message.payload["product_id"])],
        with_waiting=True,
    )


@outbox_handler(ORDER_CANCELLED_TOPIC)
@_terminal_errors_are_permanent
def deliver_order_cancelled(message: OutboxMessage) -> None:
    """Cancel the order in its store."""
    order_cancel_push(
        order_id=int(message.payload["order_id"]),
        reason=str(
            message.payload.get("reason") or gettext_noop("Cancelled in the ERP")
        ),
    )


@outbox_handler(ORDER_FULFILLED_TOPIC)
@_terminal_errors_are_permanent
def deliver_order_fulfilled(message: OutboxMessage) -> None:
    """Fulfil the shipped lines in the store, with tracking."""
    order_fulfillment_push(payload=dict(message.payload))


@outbox_handler(ORDER_TRACKING_UPDATED_TOPIC)
@_terminal_errors_are_permanent
def deliver_order_tracking_updated(message: OutboxMessage) -> None:
    """Send a parcel's new tracking number or status to the store."""
    order_tracking_push(payload=dict(message.payload))
