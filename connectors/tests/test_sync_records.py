import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from connectors.exceptions import SyncLeaseLostError
from connectors.models import SyncCursor, SyncRun, SyncRunKind, SyncRunStatus
from connectors.services import (
    SYNC_RUN_ERRORS_LIMIT,
    SyncCounts,
    sync_cursor_acquire,
    sync_cursor_advance,
    sync_cursor_release,
    sync_run_add,
    sync_run_finish,
    sync_run_start,
)
from connectors.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_only_one_worker_holds_a_channels_lease():
    channel = ChannelFactory()

    first = sync_cursor_acquire(channel_id=channel.pk)
    second = sync_cursor_acquire(channel_id=channel.pk)

    assert first is not None
    assert second is None
    cursor = SyncCursor.objects.get()
    assert cursor.lease_token == first.token
    assert cursor.last_attempt_at is not None


def test_leases_of_two_channels_are_independent():
    assert sync_cursor_acquire(channel_id=ChannelFactory(code="us").pk) is not None
    assert sync_cursor_acquire(channel_id=ChannelFactory(code="eu").pk) is not None


def test_expired_lease_is_taken_over_and_the_old_owner_cannot_save():
    # given: a worker whose lease ran out (it died or hung)
    channel = ChannelFactory()
    stale = sync_cursor_acquire(channel_id=channel.pk)
    SyncCursor.objects.update(leased_until=timezone.now() - timedelta(seconds=1))

    # when
    fresh = sync_cursor_acquire(channel_id=channel.pk)

    # then
    assert fresh is not None
    assert fresh.token != stale.token
    with pytest.raises(SyncLeaseLostError):
        sync_cursor_advance(lease=stale, value="2026-01-01T00:00:00Z")
    sync_cursor_advance(lease=fresh, value="2026-01-02T00:00:00Z")
    assert SyncCursor.objects.get().value == "2026-01-02T00:00:00Z"


def test_lease_carries_the_saved_cursor():
    channel = ChannelFactory()
    lease = sync_cursor_acquire(channel_id=channel.pk)
    sync_cursor_advance(lease=lease, value="2026-03-01T10:00:00Z")
    sync_cursor_release(lease=lease, succeeded=True)

    again = sync_cursor_acquire(channel_id=channel.pk)

    assert again.value == "2026-03-01T10:00:00Z"


def test_release_records_success_and_failures_in_a_row():
    channel = ChannelFactory()
    for _ in range(2):
        lease = sync_cursor_acquire(channel_id=channel.pk)
        sync_cursor_release(lease=lease, succeeded=False, error="Shopify answered 503")
    cursor = SyncCursor.objects.get()
    assert (cursor.consecutive_failures, cursor.last_error) == (
        2,
        "Shopify answered 503",
    )
    assert cursor.lease_token is None
    assert cursor.last_success_at is None

    lease = sync_cursor_acquire(channel_id=channel.pk)
    sync_cursor_release(lease=lease, succeeded=True)
    cursor.refresh_from_db()
    assert (cursor.consecutive_failures, cursor.last_error) == (0, "")
    assert cursor.last_success_at is not None


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_get_exactly_one_lease():
    # given
    channel = ChannelFactory()
    sync_cursor_acquire(channel_id=channel.pk)  # create the cursor row
    SyncCursor.objects.update(lease_token=None, leased_until=None)
    barrier = threading.Barrier(8)
    wins: list[bool] = []

    def worker() -> None:
        try:
            barrier.wait()
            wins.append(sync_cursor_acquire(channel_id=channel.pk) is not None)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert sorted(wins) == [False] * 7 + [True]


def test_run_counts_add_up_page_by_page_and_status_follows_failures():
    channel = ChannelFactory()
    run = sync_run_start(
        channel_id=channel.pk, kind=SyncRunKind.POLL, params={"since": "x"}
    )
    assert run.status == SyncRunStatus.RUNNING

    sync_run_add(run_id=run.pk, counts=SyncCounts(fetched=50, created=40, updated=10))
    sync_run_add(
        run_id=run.pk,
        counts=SyncCounts(
            fetched=20,
            unchanged=19,
            failed=1,
            errors=[{"external_id": "7", "error": "bad currency"}],
        ),
    )
    finished = sync_run_finish(run_id=run.pk)

    assert (
        finished.fetched,
        finished.created,
        finished.updated,
        finished.unchanged,
        finished.failed,
    ) == (70, 40, 10, 19, 1)
    assert finished.errors == [{"external_id": "7", "error": "bad currency"}]
    assert finished.status == SyncRunStatus.PARTIAL
    assert finished.finished_at is not None
    assert finished.params == {"since": "x"}


def test_run_keeps_only_the_first_errors():
    run = sync_run_start(channel_id=ChannelFactory().pk, kind=SyncRunKind.BACKFILL)
    errors = [{"external_id": str(i), "error": "x"} for i in range(150)]

    sync_run_add(run_id=run.pk, counts=SyncCounts(failed=150, errors=errors[:80]))
    sync_run_add(run_id=run.pk, counts=SyncCounts(errors=errors[80:]))

    run.refresh_from_db()
    assert len(run.errors) == SYNC_RUN_ERRORS_LIMIT
    assert run.errors[-1] == {"external_id": "99", "error": "x"}
    assert run.failed == 150


def test_run_that_stopped_early_is_failed_with_its_reason():
    run = sync_run_start(channel_id=ChannelFactory().pk, kind=SyncRunKind.POLL)
    finished = sync_run_finish(
        run_id=run.pk, failed=True, message="Shopify answered 401"
    )
    assert (finished.status, finished.message) == (
        SyncRunStatus.FAILED,
        "Shopify answered 401",
    )
    assert SyncRun.objects.get().status == SyncRunStatus.FAILED
