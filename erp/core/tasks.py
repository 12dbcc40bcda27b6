"""Background jobs of erp.core: outbox delivery and the worker heartbeat."""

from celery import shared_task

from erp.core.outbox import outbox_drain
from erp.core.services import heartbeat_enqueue


@shared_task(acks_late=True, ignore_result=True)
def outbox_drain_task() -> dict[str, int]:
    """Deliver due outbox messages (after each commit and from the periodic sweep)."""
    result = outbox_drain()
    return {
        "delivered": result.delivered,
        "retried": result.retried,
        "dead": result.dead,
    }


@shared_task(ignore_result=True)
def heartbeat_enqueue_task() -> None:
    """Send a heartbeat through the outbox so the dashboard can tell workers are alive."""
    heartbeat_enqueue()


@shared_task(ignore_result=True)
def ping_task() -> str:
    """Do nothing and answer: the bare round trip of one task, for benchmarks and probes."""
    return "pong"
