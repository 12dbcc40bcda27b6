"""Store jobs run in the background and followed on a progress page (erp.core.jobs)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_noop

from connectors.models import SyncRunStatus
from connectors.services import SyncCounts
from connectors.sync import channel_backfill
from erp.core.exceptions import ApplicationError
from erp.core.jobs import JobItemResult, JobProgress, job_runner
from erp.core.models import Job
from erp.core.text import Phrase

BACKFILL_JOB = "connectors.backfill"


@job_runner(BACKFILL_JOB)
def channel_backfill_job(job: Job, progress: JobProgress) -> None:
    """A store's order history for a window: a line per page, one per failed order."""
    params = job.params
    seen = 0
    expected = 0

    def on_page(counts: SyncCounts) -> None:
        nonlocal seen, expected
        if counts.expected_total is not None and counts.expected_total != expected:
            expected = counts.expected_total
            progress.total(expected)
        if not counts.fetched:
            return  # a note while the store prepares an export
        first, seen = seen + 1, seen + counts.fetched
        items = [
            JobItemResult(
                label=f"{first}–{seen}",
                is_success=True,
                message=Phrase(
                    gettext_noop(
                        "%(created)s new, %(updated)s changed, %(unchanged)s unchanged"
                    ),
                    created=counts.created,
                    updated=counts.updated,
                    unchanged=counts.unchanged,
                ),
            )
        ]
        items.extend(
            JobItemResult(
                label=str(error.get("external_id") or "?"),
                is_success=False,
                message=str(error.get("error") or ""),
            )
            for error in counts.errors
        )
        if seen > expected:
            expected = seen
            progress.total(expected)
        # The page line is not an item of its own: done counts orders.
        progress.advance(done=counts.fetched, items=items)

    run = channel_backfill(
        channel_id=params["channel_id"],
        created_from=datetime.fromisoformat(params["created_from"]),
        created_to=datetime.fromisoformat(params["created_to"]),
        progress=on_page,
    )
    progress.total(max(expected, seen))
    if run.status in (SyncRunStatus.FAILED, SyncRunStatus.SKIPPED):
        raise ApplicationError(run.message, sync_run_id=run.pk)
