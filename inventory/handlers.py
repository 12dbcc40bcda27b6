"""Outbox topics that inventory itself delivers (the store stock push belongs to connectors)."""

from erp.core.models import OutboxMessage
from erp.core.outbox import outbox_handler
from inventory.services.alerts import stock_alert_notify
from inventory.services.levels import STOCK_ALERT_OPENED_TOPIC


@outbox_handler(STOCK_ALERT_OPENED_TOPIC)
def deliver_stock_alert_email(message: OutboxMessage) -> None:
    stock_alert_notify(alert_id=message.payload["alert_id"])
