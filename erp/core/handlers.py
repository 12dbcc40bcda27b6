"""Outbox topics that erp.core itself delivers."""

from erp.core.models import OutboxMessage
from erp.core.outbox import outbox_handler
from erp.core.services import HEARTBEAT_TOPIC, heartbeat_record


@outbox_handler(HEARTBEAT_TOPIC)
def deliver_heartbeat(message: OutboxMessage) -> None:
    heartbeat_record(message=message)
