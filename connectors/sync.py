"""Polls and backfills of store orders, provider-agnostic: lease, pages, ingest, counts.

The store is read a page at a time with no lock held; a page is ingested by one
set-based call (orders.services.ingest.order_ingest_many: one transaction for the page,
a bad order failing alone), and the cursor moves after each page, so a worker that dies mid-way loses at most one page of work and another worker
carries on from the cursor once the lease runs out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from typing import cast

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_noop

from connectors.exceptions import (
    ChannelUnauthorizedError,
    ConnectorError,
    ConnectorTransientError,
    SyncLeaseLostError,
)
from connectors.models import Channel, SyncCursor, SyncKind, SyncRun, SyncRunKind
from connectors.providers import (
    BulkOrdersProvider,
    OrdersPage,
    OrdersWindow,
    PageItem,
    provider_get,
)
from connectors.services import (
    SyncCounts,
    SyncLease,
    channel_mark_unauthorized,
    sync_cursor_acquire,
    sync_cursor_advance,
    sync_cursor_release,
    sync_run_add,
    sync_run_finish,
    sync_run_skipped,
    sync_run_start,
)
from erp.core.text import Phrase
from orders.canonical import OrderSource
from orders.services.ingest import IngestFailure, order_ingest_many

logger = logging.getLogger(__name__)

# Called after each page with its counts (which carry the page's note and total).
Progress = Callable[[SyncCounts], None]
# A window with at least this many orders is backfilled by a bulk export when the
# provider offers one (settings.BACKFILL_BULK_THRESHOLD overrides).
BACKFILL_BULK_THRESHOLD = 1000


# A page this big is ingested by `threads` threads at once (a bulk export's pages of
# 250); a poll's pages of a few orders are not worth the threads.
PARALLEL_PAGE_MIN = 50


def _ingest_page(
    *, channel_id: int, page: OrdersPage, source: str, threads: int = 1
) -> SyncCounts:
    if threads <= 1 or len(page.items) < PARALLEL_PAGE_MIN:
        counts = _ingest_items(channel_id=channel_id, items=page.items, source=source)
        counts.fetched = len(page.items)
        return counts
    # order_ingest_many is safe to run concurrently (webhook drains do): each order
    # and each buyer is serialised by its own advisory lock. Each thread has its own
    # database connection, closed when its share is done.
    shares = [page.items[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(
            pool.map(
                partial(_ingest_items_closing, channel_id=channel_id, source=source),
                shares,
            )
        )
    counts = SyncCounts(fetched=len(page.items))
    for part in parts:
        counts.add(part)
    return counts


def _ingest_items_closing(
    items: Sequence[PageItem], *, channel_id: int, source: str
) -> SyncCounts:
    try:
        return _ingest_items(channel_id=channel_id, items=items, source=source)
    finally:
        connection.close()


def _ingest_items(
    *, channel_id: int, items: Sequence[PageItem], source: str
) -> SyncCounts:
    counts = SyncCounts()
    mapped = []
    for item in items:
        if item.order is None:
            counts.failed += 1
            counts.errors.append({"external_id": item.external_id, "error": item.error})
        else:
            mapped.append(item.order)
    if not mapped:
        return counts
    # One set-based call per page: a bad or locked order comes back as a failure with
    # nothing of it written, the others are kept, and the look-back reads the failed
    # one again next poll.
    results = order_ingest_many(channel_id=channel_id, orders=mapped, source=source)
    for result in results:
        if isinstance(result, IngestFailure):
            counts.failed += 1
            counts.errors.append(
                {"external_id": result.external_id, "error": result.message}
            )
        elif result.created:
            counts.created += 1
        elif result.changed:
            counts.updated += 1
        else:
            counts.unchanged += 1
    return counts


def _cursor_value(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _run_pages(
    *,
    channel: Channel,
    run: SyncRun,
    lease: SyncLease,
    pages: Callable[[], Iterator[OrdersPage]],
    source: str,
    move_cursor: bool,
    progress: Progress | None,
    threads: int = 1,
) -> SyncRun:
    cursor = _cursor_value(lease.value)
    try:
        for page in pages():
            counts = _ingest_page(
                channel_id=channel.pk, page=page, source=source, threads=threads
            )
            if page.items:
                sync_run_add(run_id=run.pk, counts=counts)
            if (
                move_cursor
                and page.updated_until is not None
                and (cursor is None or page.updated_until > cursor)
            ):
                cursor = page.updated_until
            sync_cursor_advance(
                lease=lease, value=cursor.isoformat() if cursor else lease.value
            )
            if progress is not None:
                counts.note = page.note
                counts.expected_total = page.expected_total
                progress(counts)
    except ChannelUnauthorizedError as exc:
        channel_mark_unauthorized(channel_id=channel.pk, reason=exc.message)
        return _stop(run=run, lease=lease, message=exc.message)
    except SyncLeaseLostError as exc:
        # Another worker owns the store's sync now; it carries on from the cursor.
        return sync_run_finish(run_id=run.pk, failed=True, message=exc.message)
    except (ConnectorTransientError, ConnectorError) as exc:
        return _stop(run=run, lease=lease, message=exc.message)
    sync_cursor_release(lease=lease, succeeded=True)
    return sync_run_finish(run_id=run.pk)


def _stop(*, run: SyncRun, lease: SyncLease, message: str) -> SyncRun:
    sync_cursor_release(lease=lease, succeeded=False, error=message)
    logger.warning(
        "connectors.sync.failed",
        extra={"run_id": run.pk, "channel_id": lease.channel_id, "reason": message},
    )
    return sync_run_finish(run_id=run.pk, failed=True, message=message)


def _not_runnable(channel: Channel) -> str:
    if not channel.is_active:
        return gettext_noop("The store is not active.")
    if channel.requires_reauthorization:
        return Phrase(
            gettext_noop("The store needs reconnecting: %(error)s"),
            error=channel.auth_error,
        )
    return ""


def channel_sync(
    *,
    channel_id: int,
    since: datetime | None = None,
    progress: Progress | None = None,
) -> SyncRun:
    """Poll one store: ingest every order updated since the cursor minus the look-back.

    `since` reads from that moment instead (a manual catch-up); the cursor only ever
    moves forward. One poll per store at a time: a second one is recorded as skipped.
    """
    channel = Channel.objects.get(pk=channel_id)
    reason = _not_runnable(channel)
    if reason:
        return sync_run_skipped(
            channel_id=channel_id, kind=SyncRunKind.POLL, reason=reason
        )
    lease = sync_cursor_acquire(channel_id=channel_id, kind=SyncKind.ORDERS)
    if lease is None:
        return sync_run_skipped(
            channel_id=channel_id,
            kind=SyncRunKind.POLL,
            reason=gettext_noop("Another sync of this store is running."),
        )
    lookback = timedelta(minutes=channel.sync_lookback_minutes)
    cursor = _cursor_value(lease.value)
    start = since or (cursor - lookback if cursor else timezone.now() - lookback)
    run = sync_run_start(
        channel_id=channel_id,
        kind=SyncRunKind.POLL,
        params={"updated_since": start.isoformat(), "cursor": lease.value},
    )
    window = OrdersWindow(updated_since=start)
    return _run_pages(
        channel=channel,
        run=run,
        lease=lease,
        pages=partial(
            provider_get(channel.kind).orders_pages, channel=channel, window=window
        ),
        source=OrderSource.POLL,
        move_cursor=True,
        progress=progress,
    )


def channel_backfill(
    *,
    channel_id: int,
    created_from: datetime,
    created_to: datetime,
    progress: Progress | None = None,
    bulk: bool | None = None,
    threads: int = 1,
) -> SyncRun:
    """Import a store's order history created in [from, to], as history.

    Imported orders never reserve stock or push back (OrderSource.IMPORT); an order the
    live sync already has keeps its live copy. Use channel_sync with `since` to heal a
    gap in recent orders instead. One backfill per store at a time.
    `bulk`: True reads the window with one bulk export, False page by page, None
    decides by the number of orders in the window (BACKFILL_BULK_THRESHOLD).
    `threads` > 1 ingests big pages with that many threads (PostgreSQL only).
    """
    channel = Channel.objects.get(pk=channel_id)
    reason = _not_runnable(channel)
    if reason:
        return sync_run_skipped(
            channel_id=channel_id, kind=SyncRunKind.BACKFILL, reason=reason
        )
    lease = sync_cursor_acquire(
        channel_id=channel_id, kind=SyncKind.ORDERS_BACKFILL, lease=timedelta(hours=1)
    )
    if lease is None:
        return sync_run_skipped(
            channel_id=channel_id,
            kind=SyncRunKind.BACKFILL,
            reason=gettext_noop("Another backfill of this store is running."),
        )
    run = sync_run_start(
        channel_id=channel_id,
        kind=SyncRunKind.BACKFILL,
        params={
            "created_from": created_from.isoformat(),
            "created_to": created_to.isoformat(),
        },
    )
    window = OrdersWindow(created_from=created_from, created_to=created_to)
    return _run_pages(
        channel=channel,
        run=run,
        lease=lease,
        pages=partial(
            _backfill_pages, channel=channel, window=window, bulk=bulk, run=run
        ),
        source=OrderSource.IMPORT,
        move_cursor=False,
        progress=progress,
        threads=threads if connection.vendor == "postgresql" else 1,
    )


def _backfill_pages(
    *, channel: Channel, window: OrdersWindow, bulk: bool | None, run: SyncRun
) -> Iterator[OrdersPage]:
    """The backfill's pages: by a bulk export or page by page, as decided here."""
    provider = provider_get(channel.kind)
    exporter = cast("BulkOrdersProvider", provider)
    can_export = hasattr(provider, "orders_bulk_pages")
    expected: int | None = None
    if bulk is None and can_export:
        expected = exporter.orders_count(channel=channel, window=window)
        threshold = getattr(
            settings, "BACKFILL_BULK_THRESHOLD", BACKFILL_BULK_THRESHOLD
        )
        bulk = expected >= threshold
    use_bulk = bool(bulk and can_export)
    mode = "bulk" if use_bulk else "pages"
    SyncRun.objects.filter(pk=run.pk).update(
        params={**run.params, "mode": mode, "expected": expected}
    )
    if can_export:
        yield OrdersPage(
            items=(),
            updated_until=None,
            note=f"reading by {mode}",
            expected_total=expected,
        )
    if use_bulk:
        yield from exporter.orders_bulk_pages(channel=channel, window=window)
    else:
        yield from provider.orders_pages(channel=channel, window=window)


def channels_due_for_sync(*, now: datetime | None = None) -> list[int]:
    """Active, connected stores whose last poll attempt is older than their interval."""
    now = now or timezone.now()
    attempts = dict(
        SyncCursor.objects.filter(kind=SyncKind.ORDERS).values_list(
            "channel_id", "last_attempt_at"
        )
    )
    due = []
    for channel_id, interval in Channel.objects.filter(
        is_active=True, requires_reauthorization=False
    ).values_list("pk", "poll_interval_minutes"):
        last = attempts.get(channel_id)
        if last is None or last <= now - timedelta(minutes=interval):
            due.append(channel_id)
    return due
