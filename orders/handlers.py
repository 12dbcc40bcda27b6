"""Outbox topics orders reacts to (registered from OrdersConfig.ready())."""

from erp.core.models import OutboxMessage
from erp.core.outbox import outbox_handler
from inventory.services.levels import STOCK_ARRIVED_TOPIC
from logistics.services.tracking import TRACKING_UPDATED_TOPIC
from orders.services.shipping import order_tracking_apply
from orders.services.workflow import orders_awaiting_stock_allocate


@outbox_handler(TRACKING_UPDATED_TOPIC)
def apply_tracking_update(message: OutboxMessage) -> None:
    order_tracking_apply(payload=message.payload)


@outbox_handler(STOCK_ARRIVED_TOPIC)
def allocate_orders_waiting_for_stock(message: OutboxMessage) -> None:
    orders_awaiting_stock_allocate(product_ids=message.payload.get("product_ids", []))
