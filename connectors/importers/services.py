"""Running a history import: file → canonical orders → the one order upsert → month check.

Every order goes through the one order upsert (`order_ingest_many(source=IMPORT)`, a
page at a time: the page's new orders in one transaction, redone order by order when
it fails), so a bad order never blocks the good ones and an interrupted import keeps
what it finished; running the same file again changes nothing (the ingest skips
identical content without a write).
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import multiprocessing
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from django.core.files.base import ContentFile
from django.db import connection, connections
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from connectors.importers.check import CheckReport, MonthTally, check_report_build
from connectors.importers.formats import parser_get, table_open
from connectors.importers.rows import ImportFileError, ParsedOrder, RowError
from connectors.models import Channel
from erp.core.db import is_postgres
from erp.core.text import Phrase
from orders.canonical import OrderSource
from orders.models import OrderImport, OrderImportStatus
from orders.services.ingest import IngestFailure, order_ingest_many

logger = logging.getLogger(__name__)

# A running job whose worker has said nothing for this long is taken to be dead; a
# redelivered task may then take it over (the import is idempotent, so it restarts).
HEARTBEAT_TIMEOUT = timedelta(minutes=5)
PROGRESS_EVERY_SECONDS = 1.0
# Orders per hand-over to a worker process in a parallel import: one page each.
PARALLEL_BATCH = 500


@dataclass(frozen=True)
class ImportProgress:
    """Where a running import stands (orders, not rows)."""

    total: int
    done: int
    failed: int
    created: int
    changed: int


@dataclass(frozen=True)
class ImportResult:
    """What an import of one file did, with every row error and the month check."""

    total: int
    created: int
    changed: int
    unchanged: int
    failed: int
    errors: tuple[RowError, ...]
    check: CheckReport
    dry_run: bool
    seconds: float

    @property
    def done(self) -> int:
        return self.created + self.changed + self.unchanged + self.failed

    @property
    def rate(self) -> float:
        """Orders per second over the whole run (parsing, upserts and check)."""
        return self.done / self.seconds if self.seconds else 0.0


def error_report_csv(errors: Iterable[RowError]) -> str:
    """The per-row error report: one line per problem (row, column, problem)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "problem"])
    for error in errors:
        writer.writerow([error.row, error.column, error.problem])
    return out.getvalue()


@contextlib.contextmanager
def _bulk_commit_mode() -> Iterator[None]:
    """Commit without waiting for the WAL flush while this import runs.

    Every page is a transaction, so each commit would wait for a disk flush.
    With synchronous_commit off a crash can lose the last few hundred milliseconds of
    commits, never consistency; the import is idempotent, so running it again brings
    those orders back. Only this session changes; other work keeps its guarantees.
    """
    if not is_postgres():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


Outcome = tuple[bool, bool, RowError | None]  # (created, changed, error)

# Orders per order_ingest_many call: the new orders of a page are written in one
# transaction with multi-row statements, so a bigger page pays fewer round trips.
# Progress moves a page at a time, so the page stays small enough for the bar to
# move about every second.
INGEST_BATCH = 500


def _ingest(channel_id: int, batch: list[ParsedOrder]) -> list[Outcome]:
    """(created, changed, error) of upserting each parsed order of a batch."""
    results = order_ingest_many(
        channel_id=channel_id,
        orders=[parsed.order for parsed in batch if parsed.order is not None],
        source=OrderSource.IMPORT,
    )
    outcomes: list[Outcome] = []
    for parsed, result in zip(batch, results, strict=True):
        if isinstance(result, IngestFailure):
            # The parsers check lengths and shapes, so a database refusal is a value
            # it still cannot take; the order's transaction was rolled back whole.
            outcomes.append(
                (False, False, RowError(parsed.first_row, "", result.message))
            )
        else:
            outcomes.append(
                (result.created, result.changed and not result.created, None)
            )
    return outcomes


def _ingest_serial(channel_id: int, orders: Iterable[ParsedOrder]) -> Iterator[Outcome]:
    with _bulk_commit_mode():
        for batch in _chunks(orders, INGEST_BATCH):
            yield from _ingest(channel_id, batch)


_worker_session_ready = False


def _ingest_batch(channel_id: int, batch: list[ParsedOrder]) -> list[Outcome]:
    """Worker process: upsert a page of orders (order_ingest_many)."""
    global _worker_session_ready
    if not _worker_session_ready and is_postgres():
        # Same reasoning as _bulk_commit_mode; the worker's session ends with it.
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
        _worker_session_ready = True
    return _ingest(channel_id, batch)


def _ingest_parallel(
    channel_id: int, orders: Iterable[ParsedOrder], jobs: int
) -> Iterator[Outcome]:
    """Spread the orders over `jobs` processes; results come back in file order.

    Each page is still one order_ingest_many call; two processes never hold
    the same order (one file names it once, and the ingest's advisory lock would
    serialise them anyway), and a buyer shared by two orders is matched under the
    customer lock.
    """
    if connection.in_atomic_block:
        raise ImportFileError("A parallel import cannot run inside a transaction.")
    # Forked workers must open their own connections, not share the parent's socket.
    connections.close_all()
    pool = multiprocessing.get_context("fork").Pool(jobs)
    try:
        pending: deque[Any] = deque()
        for batch in _chunks(orders, PARALLEL_BATCH):
            pending.append(pool.apply_async(_ingest_batch, (channel_id, batch)))
            # A bounded queue: parsing runs ahead of the workers by a few batches only.
            while len(pending) > 2 * jobs:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _chunks(items: Iterable[ParsedOrder], size: int) -> Iterator[list[ParsedOrder]]:
    batch: list[ParsedOrder] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class _Counts:
    total: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0

    def progress(self) -> ImportProgress:
        done = self.created + self.changed + self.unchanged + self.failed
        return ImportProgress(self.total, done, self.failed, self.created, self.changed)


def order_file_import(
    *,
    channel_id: int,
    stream: IO[bytes],
    file_format: str,
    mapping: bytes | None = None,
    timezone_name: str = "UTC",
    dry_run: bool = False,
    jobs: int = 1,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> ImportResult:
    """Import every order of a store export as history, a page per transaction.

    Not atomic as a whole on purpose: a bad order is reported and skipped, the others
    are kept, and running the file again finishes an interrupted import. A dry run
    parses and checks against the database and writes nothing. `jobs` > 1 spreads
    the upserts over that many processes (command line only: a Celery worker's
    processes cannot start their own).
    Raises: ImportFileError (the file cannot be read; nothing was imported).
    """
    started = time.monotonic()
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise ImportFileError(
            Phrase(gettext_noop("Store %(id)s does not exist."), id=channel_id)
        )
    parser = parser_get(
        file_format=file_format,
        store_currency=channel.currency,
        timezone=timezone_name,
        mapping=mapping,
    )
    table = table_open(stream, parser=parser)
    counts = _Counts()
    # A first pass only groups rows, so the progress bar knows its end.
    counts.total = sum(1 for _ in parser.groups(table))
    tally = MonthTally()
    errors: list[RowError] = []

    def report() -> None:
        if on_progress:
            on_progress(counts.progress())

    def to_ingest() -> Iterator[ParsedOrder]:
        for group in parser.groups(table):
            parsed = parser.parse_group(group)
            if parsed.order is None:
                counts.failed += 1
                errors.extend(parsed.errors)
                tally.add_refused(parsed)
                report()
                continue
            tally.add(parsed.order)
            if dry_run:
                counts.unchanged += 1
                report()
                continue
            yield parsed

    report()
    outcomes = (
        _ingest_parallel(channel_id, to_ingest(), jobs)
        if jobs > 1 and not dry_run
        else _ingest_serial(channel_id, to_ingest())
    )
    for created, changed, error in outcomes:
        if error is not None:
            counts.failed += 1
            errors.append(error)
        elif created:
            counts.created += 1
        elif changed:
            counts.changed += 1
        else:
            counts.unchanged += 1
        report()
    check = check_report_build(
        channel_id=channel_id, currency=channel.currency, file_figures=tally.figures()
    )
    result = ImportResult(
        total=counts.total,
        created=counts.created,
        changed=counts.changed,
        unchanged=counts.unchanged,
        failed=counts.failed,
        errors=tuple(sorted(errors)),
        check=check,
        dry_run=dry_run,
        seconds=time.monotonic() - started,
    )
    logger.info(
        "connectors.importers.finished",
        extra={
            "channel_id": channel_id,
            "file_format": file_format,
            "dry_run": dry_run,
            "orders_total": result.total,
            "orders_created": result.created,
            "orders_changed": result.changed,
            "orders_failed": result.failed,
            "check_matches": check.matches,
        },
    )
    return result


class _JobLost(Exception):
    """Another worker took the job over (this one was presumed dead)."""


def _job_progress_writer(
    import_id: int, token: str
) -> Callable[[ImportProgress], None]:
    last = 0.0

    def write(progress: ImportProgress) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_EVERY_SECONDS and progress.done not in (
            0,
            progress.total,
        ):
            return
        last = now
        updated = OrderImport.objects.filter(pk=import_id, run_token=token).update(
            total_count=progress.total,
            done_count=progress.done,
            failed_count=progress.failed,
            created_count=progress.created,
            changed_count=progress.changed,
            heartbeat_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not updated:
            raise _JobLost

    return write


def _job_fail(import_id: int, token: str, message: str) -> None:
    OrderImport.objects.filter(pk=import_id, run_token=token).update(
        status=OrderImportStatus.FAILED,
        error=message,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def order_import_job_run(*, import_id: int) -> None:
    """Run one queued OrderImport job to the end, writing progress as it goes.

    Leaves alone a job that is finished or that a live worker is running; takes over
    one whose worker stopped sending progress (the import is idempotent). The job
    ends finished (with error report and month check) or failed (with the reason).
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = (
        OrderImport.objects.filter(pk=import_id)
        .filter(
            Q(status=OrderImportStatus.QUEUED)
            | Q(
                status=OrderImportStatus.RUNNING,
                heartbeat_at__lt=now - HEARTBEAT_TIMEOUT,
            )
        )
        .update(
            status=OrderImportStatus.RUNNING,
            run_token=token,
            started_at=now,
            heartbeat_at=now,
            error="",
            updated_at=now,
        )
    )
    if not claimed:
        logger.info(
            "connectors.importers.job_not_claimed", extra={"import_id": import_id}
        )
        return
    job = OrderImport.objects.get(pk=import_id)
    try:
        mapping = None
        if job.mapping_file:
            with job.mapping_file.open("rb") as mapping_stream:
                mapping = mapping_stream.read()
        with job.file.open("rb") as stream:
            result = order_file_import(
                channel_id=job.channel_id,
                stream=stream,
                file_format=job.file_format,
                mapping=mapping,
                timezone_name=job.timezone,
                on_progress=_job_progress_writer(import_id, token),
            )
    except ImportFileError as exc:
        _job_fail(import_id, token, exc.message)
        return
    except FileNotFoundError:
        _job_fail(
            import_id,
            token,
            Phrase(gettext_noop("The uploaded file is no longer in storage.")),
        )
        return
    except _JobLost:
        logger.warning("connectors.importers.job_lost", extra={"import_id": import_id})
        return
    except Exception as exc:
        _job_fail(
            import_id,
            token,
            Phrase(
                gettext_noop("The import stopped: %(error)s."),
                error=exc.__class__.__name__,
            ),
        )
        raise
    report_name = ""
    if result.errors:
        report_name = job.error_report.storage.save(
            f"imports/orders/errors/{now:%Y/%m}/order-import-{import_id}-errors.csv",
            ContentFile(error_report_csv(result.errors).encode("utf-8")),
        )
    OrderImport.objects.filter(pk=import_id, run_token=token).update(
        status=OrderImportStatus.FINISHED,
        total_count=result.total,
        done_count=result.done,
        failed_count=result.failed,
        created_count=result.created,
        changed_count=result.changed,
        error_report=report_name,
        check_report=result.check.as_dict(),
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        updated_at=timezone.now(),
    )
