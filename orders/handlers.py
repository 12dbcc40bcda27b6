"""Outbox topics orders reacts to (registered from OrdersConfig.ready())."""

from erp.core.models import OutboxMessage
from erp.core.outbox import outbox_handler
from logistics.services.tracking import TRACKING_UPDATED_TOPIC
from orders.services.shipping import order_tracking_apply


@outbox_handler(TRACKING_UPDATED_TOPIC)
def apply_tracking_update(message: OutboxMessage) -> None:
    order_tracking_apply(payload=message.payload)
