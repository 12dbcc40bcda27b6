"""Background jobs of erp.core: outbox delivery and the worker heartbeat."""

from celery import shared_task

from erp.core.jobs import job_run
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


# acks_late: a worker that dies mid-job leaves the message to be redelivered; the job is
# taken over once its progress is old (erp.core.jobs.STALE_AFTER).
@shared_task(acks_late=True, ignore_result=True)
def job_run_task(job_id: int) -> None:
    """Run one long job started from a page (backfill, batch labels)."""
    job_run(job_id=job_id)
