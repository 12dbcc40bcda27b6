from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import SyncCursor, SyncRunKind, WebhookReceiptStatus
from connectors.selectors import channel_sync_health, channel_sync_health_list
from connectors.services import (
    sync_cursor_acquire,
    sync_cursor_release,
    sync_run_finish,
    sync_run_start,
)
from connectors.tests.factories import ChannelFactory, WebhookReceiptFactory

pytestmark = pytest.mark.django_db


def test_health_of_a_store_that_synced_recently_and_has_nothing_failing():
    # given
    channel = ChannelFactory()
    lease = sync_cursor_acquire(channel_id=channel.pk)
    sync_cursor_release(lease=lease, succeeded=True)
    WebhookReceiptFactory(channel=channel, status=WebhookReceiptStatus.PROCESSED)

    # when
    health = channel_sync_health(channel_id=channel.pk)

    # then
    assert health.is_healthy is True
    assert 0 <= health.lag_seconds < 5
    assert (health.receipts_waiting, health.receipts_failed_24h) == (0, 0)


def test_health_shows_lag_failures_and_waiting_receipts():
    # given
    channel = ChannelFactory()
    lease = sync_cursor_acquire(channel_id=channel.pk)
    sync_cursor_release(lease=lease, succeeded=True)
    SyncCursor.objects.update(
        last_success_at=timezone.now() - timedelta(hours=1), consecutive_failures=3
    )
    run = sync_run_start(channel_id=channel.pk, kind=SyncRunKind.POLL)
    sync_run_finish(run_id=run.pk, failed=True, message="503")
    WebhookReceiptFactory(channel=channel)
    WebhookReceiptFactory(channel=channel, status=WebhookReceiptStatus.FAILED)
    WebhookReceiptFactory(
        channel=channel,
        status=WebhookReceiptStatus.FAILED,
        created_at=timezone.now() - timedelta(days=3),
    )
    WebhookReceiptFactory(
        channel=channel, status=WebhookReceiptStatus.REJECTED, delivery_id=None
    )

    # when
    health = channel_sync_health(channel_id=channel.pk)

    # then
    assert health.is_healthy is False
    assert 3590 <= health.lag_seconds <= 3610
    assert health.consecutive_failures == 3
    assert health.failed_runs_24h == 1
    assert (
        health.receipts_waiting,
        health.receipts_failed_24h,
        health.receipts_rejected_24h,
    ) == (1, 1, 1)


def test_store_never_synced_has_no_lag_and_is_not_healthy():
    health = channel_sync_health(channel_id=ChannelFactory().pk)
    assert health.lag_seconds is None
    assert health.is_healthy is False


def test_store_needing_reconnection_is_not_healthy():
    channel = ChannelFactory(requires_reauthorization=True, auth_error="401")
    lease = sync_cursor_acquire(channel_id=channel.pk)
    sync_cursor_release(lease=lease, succeeded=True)

    health = channel_sync_health(channel_id=channel.pk)

    assert (health.requires_reauthorization, health.is_healthy) == (True, False)


def test_health_of_all_stores_takes_a_fixed_number_of_queries(
    django_assert_num_queries,
):
    for code in ("us", "eu", "jp"):
        channel = ChannelFactory(code=code)
        WebhookReceiptFactory(channel=channel)
        lease = sync_cursor_acquire(channel_id=channel.pk)
        sync_cursor_release(lease=lease, succeeded=True)

    with django_assert_num_queries(4):
        health = channel_sync_health_list()

    assert [h.channel_code for h in health] == ["eu", "jp", "us"]
    assert [h.receipts_waiting for h in health] == [1, 1, 1]
