"""Long jobs started from a page: a worker runs them, the page follows their progress.

A kind of job is a function registered with @job_runner(kind) by the app that owns the
work (connectors for store backfills, logistics for batch labels), the way outbox
handlers are registered, so erp.core never imports them. The runner reports what it did
through JobProgress; each report is its own short write, so the progress page (which
reloads every REFRESH_SECONDS) sees it at once. progress_figures() is what every
progress page shows, the history import's included.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from erp.core.exceptions import ApplicationError
from erp.core.models import Job, JobItem, JobStatus
from erp.core.text import Phrase, phrase_render, text_say_again

logger = logging.getLogger(__name__)

# Seconds between reloads of a progress page while its job runs.
REFRESH_SECONDS = 2
# A running job with no progress for this long lost its worker; a redelivered task
# takes it over (the runners are idempotent: a label is never bought twice).
STALE_AFTER = timedelta(minutes=10)

Runner = Callable[[Job, "JobProgress"], None]
_RUNNERS: dict[str, Runner] = {}


def job_runner(kind: str) -> Callable[[Runner], Runner]:
    """Register the function that runs jobs of `kind` in the worker."""

    def register(runner: Runner) -> Runner:
        _RUNNERS[kind] = runner
        return runner

    return register


def progress_figures(
    *,
    done: int,
    total: int,
    running: bool,
    started_at: datetime | None,
    finished_at: datetime | None,
    heartbeat_at: datetime | None,
) -> dict[str, Any]:
    """What a progress page shows: done of total, percent, items per second, reloads."""
    end = finished_at or heartbeat_at
    seconds = (end - started_at).total_seconds() if end and started_at else 0
    return {
        "done": done,
        "total": total,
        "running": running,
        "refresh_seconds": REFRESH_SECONDS,
        "percent": min(round(100 * done / total), 100) if total else 0,
        "rate": round(done / seconds) if seconds >= 1 else None,
    }


def job_progress_figures(job: Job) -> dict[str, Any]:
    """progress_figures() of a Job row."""
    return progress_figures(
        done=job.done_count,
        total=job.total_count,
        running=job.is_running,
        started_at=job.started_at,
        finished_at=job.finished_at,
        heartbeat_at=job.heartbeat_at,
    )


def _stored(message: str | Phrase) -> dict[str, Any]:
    if isinstance(message, Phrase):
        return message.as_dict()
    return {"message": str(message)} if message else {}


def job_message(entry: Mapping[str, Any]) -> str:
    """A stored job or item message said in the active language."""
    if entry.get("template"):
        return phrase_render(entry)
    return text_say_again(str(entry.get("message") or ""))


@dataclass(frozen=True)
class JobItemResult:
    """One item's outcome as a runner reports it."""

    label: str
    is_success: bool
    message: str | Phrase = ""
    url: str = ""


class JobProgress:
    """What a runner reports while it works; each call is one short write."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id

    def total(self, count: int) -> None:
        """How many items the job expects (may grow as the job learns more)."""
        Job.objects.filter(pk=self.job_id).update(
            total_count=count, heartbeat_at=timezone.now()
        )

    def advance(self, *, done: int, items: Iterable[JobItemResult] = ()) -> None:
        """`done` more items handled; `items` are the ones to list on the result page."""
        rows = [
            JobItem(
                job_id=self.job_id,
                label=item.label[:200],
                is_success=item.is_success,
                message=_stored(item.message),
                url=item.url[:300],
            )
            for item in items
        ]
        failed = sum(not row.is_success for row in rows)
        with transaction.atomic():
            JobItem.objects.bulk_create(rows)
            Job.objects.filter(pk=self.job_id).update(
                done_count=F("done_count") + done,
                failed_count=F("failed_count") + failed,
                heartbeat_at=timezone.now(),
            )

    def item(
        self, *, label: str, is_success: bool, message: str | Phrase = "", url: str = ""
    ) -> None:
        """One item handled, listed on the result page."""
        self.advance(
            done=1,
            items=[
                JobItemResult(
                    label=label, is_success=is_success, message=message, url=url
                )
            ],
        )


def job_request(
    *,
    kind: str,
    title: Phrase,
    params: Mapping[str, Any],
    total: int = 0,
    requested_by_id: int | None = None,
    queue: str = "default",
) -> Job:
    """Record a job and have a worker run it once the caller's transaction commits.

    `queue`: the Celery queue of that kind of work (a store backfill waits with the
    other store calls, so it cannot hold up order processing).
    """
    if kind not in _RUNNERS:
        raise ApplicationError(
            Phrase(gettext_noop("No runner for jobs of kind %(kind)s."), kind=kind),
            kind=kind,
        )
    job = Job.objects.create(
        kind=kind,
        title=title.as_dict(),
        params=dict(params),
        total_count=total,
        requested_by_id=requested_by_id,
    )
    transaction.on_commit(partial(_enqueue, job.pk, queue))
    return job


def _enqueue(job_id: int, queue: str) -> None:
    from erp.core.tasks import job_run_task

    job_run_task.apply_async(args=[job_id], queue=queue)


def _claim(job_id: int) -> bool:
    now = timezone.now()
    return bool(
        Job.objects.filter(pk=job_id)
        .filter(
            Q(status=JobStatus.QUEUED)
            | Q(status=JobStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        )
        .update(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now)
    )


def job_run(*, job_id: int) -> Job | None:
    """Run one job (the worker's task): claim it, run its kind's runner, end it.

    A job already running elsewhere or finished is left alone, so a redelivered task
    does nothing twice. Any failure ends the job as failed with its reason shown.
    """
    if not _claim(job_id):
        return Job.objects.filter(pk=job_id).first()
    job = Job.objects.get(pk=job_id)
    error: dict[str, Any] = {}
    try:
        runner = _RUNNERS.get(job.kind)
        if runner is None:
            raise ApplicationError(
                Phrase(
                    gettext_noop("No runner for jobs of kind %(kind)s."), kind=job.kind
                )
            )
        runner(job, JobProgress(job.pk))
    except ApplicationError as exc:
        error = _stored(exc.message)
    except Exception as exc:
        # The page must end on a result, not spin forever on a bug.
        logger.exception("core.job.crashed", extra={"job_id": job_id})
        error = _stored(
            Phrase(
                gettext_noop("Unexpected error %(error)s: %(detail)s"),
                error=exc.__class__.__name__,
                detail=str(exc),
            )
        )
    job.refresh_from_db()
    if error:
        status = JobStatus.FAILED
    elif job.failed_count:
        status = JobStatus.PARTIAL
    else:
        status = JobStatus.SUCCEEDED
    Job.objects.filter(pk=job_id).update(
        status=status, error=error, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job
