"""Operator commands against the fake store."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from connectors.models import Channel, SyncRun, SyncRunStatus
from connectors.shopify.testing.fake_server import official_order
from orders.models import Order

pytestmark = pytest.mark.django_db


def test_channel_add_takes_credentials_from_the_environment(monkeypatch):
    monkeypatch.setenv("CHANNEL_ACCESS_TOKEN", "shpat_from_env_123456")
    monkeypatch.setenv("CHANNEL_WEBHOOK_SECRET", "whsec_from_env")
    out = io.StringIO()

    call_command(
        "channel_add",
        "--kind=shopify",
        "--code=us-shop",
        "--name=US shop",
        "--shop-url=https://us-shop.myshopify.com",
        "--currency=usd",
        stdout=out,
    )

    channel = Channel.objects.get(code="us-shop")
    assert channel.credentials == {
        "access_token": "shpat_from_env_123456",
        "webhook_secret": "whsec_from_env",
    }
    assert channel.currency == "USD"
    assert "/webhooks/shopify/us-shop/" in out.getvalue()
    assert "shpat_from_env_123456" not in out.getvalue()


def test_channel_add_refuses_without_a_token_and_twice(monkeypatch):
    args = [
        "channel_add",
        "--kind=shopify",
        "--code=us-shop",
        "--shop-url=https://us-shop.myshopify.com",
        "--currency=USD",
    ]
    monkeypatch.delenv("CHANNEL_ACCESS_TOKEN", raising=False)
    with pytest.raises(CommandError, match="CHANNEL_ACCESS_TOKEN"):
        call_command(*args)

    monkeypatch.setenv("CHANNEL_ACCESS_TOKEN", "shpat_x")
    call_command(*args, stdout=io.StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command(*args)
    assert Channel.objects.count() == 1


def test_channel_sync_polls_and_reports(fake_store, store_channel):
    fake_store.add_orders_like(
        official_order(),
        count=3,
        updated_from=(timezone.now() - timedelta(minutes=20)).replace(microsecond=0),
    )
    out = io.StringIO()

    call_command("channel_sync", store_channel.code, stdout=out)

    assert "fetched 3, created 3" in out.getvalue()
    assert Order.objects.count() == 3


def test_channel_sync_since_reads_from_that_day(fake_store, store_channel):
    fake_store.add_orders_like(
        official_order(),
        count=2,
        updated_from=datetime(2026, 1, 10, 12, tzinfo=UTC),
    )

    call_command(
        "channel_sync", store_channel.code, "--since=2026-01-10", stdout=io.StringIO()
    )

    run = SyncRun.objects.get()
    assert run.params["updated_since"] == "2026-01-10T00:00:00+00:00"
    assert Order.objects.count() == 2


def test_channel_sync_of_an_unknown_store_or_a_failed_poll_is_an_error(
    fake_store, store_channel
):
    with pytest.raises(CommandError, match="No store with code 'nope'"):
        call_command("channel_sync", "nope")

    fake_store.fail_next(503, times=50)
    with pytest.raises(CommandError, match="failed"):
        call_command("channel_sync", store_channel.code, stdout=io.StringIO())
    assert SyncRun.objects.get().status == SyncRunStatus.FAILED


def test_channel_backfill_shows_progress_and_the_rate(fake_store, store_channel):
    fake_store.add_orders_like(
        official_order(),
        count=12,
        updated_from=datetime(2025, 6, 1, 12, tzinfo=UTC),
        step_seconds=3600,
    )
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "channel_backfill",
        store_channel.code,
        "--from=2025-06-01",
        "--to=2025-06-01",
        stdout=out,
        stderr=err,
    )

    # created_at is five minutes before updated_at: 12:00 → 23:00 updates, all on 1 June
    assert "fetched 12, created 12" in out.getvalue()
    assert "orders/s" in out.getvalue()
    assert "12/12" in err.getvalue()  # the tqdm bar, its total from ordersCount
    assert Order.objects.count() == 12


def test_channel_backfill_refuses_a_range_that_ends_before_it_starts(store_channel):
    with pytest.raises(CommandError, match="--to is before --from"):
        call_command(
            "channel_backfill",
            store_channel.code,
            "--from=2025-06-02",
            "--to=2025-06-01",
        )
