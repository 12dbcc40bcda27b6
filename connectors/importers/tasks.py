"""Background job of the history import: thin, id-only, idempotent."""

from __future__ import annotations

from celery import shared_task

from connectors.importers.services import order_import_job_run


# acks_late: a worker that dies mid-import leaves the message to be redelivered, and
# the job is taken over once its heartbeat is old. No autoretry: file problems end the
# job as failed with the reason, and ops can run it again from the admin.
@shared_task(acks_late=True, ignore_result=True)
def order_import_run_task(import_id: int) -> None:
    """Run one uploaded order-history import."""
    order_import_job_run(import_id=import_id)
