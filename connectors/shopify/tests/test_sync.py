"""Polls and backfills of a Shopify store, over real HTTP against the fake store."""

import copy
import math
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from connectors.models import Channel, SyncCursor, SyncKind, SyncRunStatus
from connectors.services import sync_cursor_acquire
from connectors.shopify import queries
from connectors.shopify.services import shopify_client_for, shopify_order_fetch
from connectors.shopify.testing.fake_server import (
    official_order,
    official_transactions,
)
from connectors.sync import channel_backfill, channel_sync, channels_due_for_sync
from connectors.tests.factories import ChannelFactory
from orders.canonical import OrderSource
from orders.models import Order

pytestmark = pytest.mark.django_db


def _recent(minutes: float) -> datetime:
    # Shopify keeps whole seconds.
    return (timezone.now() - timedelta(minutes=minutes)).replace(microsecond=0)


def _seed(store, count, *, minutes_ago=30, step_seconds=10, first_id=7_000_000_000):
    return store.add_orders_like(
        official_order(),
        count=count,
        first_id=first_id,
        updated_from=_recent(minutes_ago),
        step_seconds=step_seconds,
        transactions=official_transactions(),
    )


def test_first_poll_ingests_the_recent_orders_page_by_page(fake_store, store_channel):
    # given
    orders = _seed(fake_store, 12)

    # when
    run = channel_sync(channel_id=store_channel.pk)

    # then
    assert (run.status, run.fetched, run.created, run.updated, run.failed) == (
        SyncRunStatus.SUCCEEDED,
        12,
        12,
        0,
        0,
    )
    assert Order.objects.filter(channel=store_channel).count() == 12
    assert set(Order.objects.values_list("source", flat=True)) == {OrderSource.POLL}
    pages = fake_store.calls_of("OrdersPage")
    assert len(pages) == math.ceil(12 / queries.ORDERS_PAGE_SIZE)
    assert pages[0].variables["query"].startswith("updated_at:>='")
    assert pages[0].variables["sortKey"] == "UPDATED_AT"
    cursor = SyncCursor.objects.get(channel=store_channel, kind=SyncKind.ORDERS)
    assert datetime.fromisoformat(cursor.value) == orders[-1].updated_at
    assert cursor.lease_token is None
    assert cursor.last_success_at is not None


def test_second_poll_re_reads_the_look_back_and_changes_nothing(
    fake_store, store_channel
):
    _seed(fake_store, 7)
    channel_sync(channel_id=store_channel.pk)

    run = channel_sync(channel_id=store_channel.pk)

    assert (run.fetched, run.created, run.updated, run.unchanged) == (7, 0, 0, 7)
    assert Order.objects.count() == 7


def test_poll_picks_up_an_order_changed_in_the_store(fake_store, store_channel):
    orders = _seed(fake_store, 3)
    channel_sync(channel_id=store_channel.pk)
    changed = orders[1].rest["id"]

    fake_store.change_order(changed, financial_status="refunded")
    run = channel_sync(channel_id=store_channel.pk)

    assert (run.updated, run.unchanged) == (1, 2)
    order = Order.objects.get(external_id=str(changed))
    assert order.financial_status == "refunded"


def test_poll_window_is_the_cursor_minus_the_look_back(fake_store, store_channel):
    # given: a cursor at noon and a 60-minute look-back
    Channel.objects.filter(pk=store_channel.pk).update(sync_lookback_minutes=60)
    noon = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    lease = sync_cursor_acquire(channel_id=store_channel.pk)
    SyncCursor.objects.filter(pk=lease.cursor_id).update(
        value=noon.isoformat(), lease_token=None, leased_until=None
    )
    fake_store.add_orders_like(
        official_order(), count=1, first_id=1, updated_from=noon - timedelta(hours=2)
    )
    fake_store.add_orders_like(
        official_order(), count=1, first_id=2, updated_from=noon - timedelta(minutes=30)
    )

    # when
    run = channel_sync(channel_id=store_channel.pk)

    # then
    assert run.params["updated_since"] == "2026-05-01T11:00:00+00:00"
    assert list(Order.objects.values_list("external_id", flat=True)) == ["2"]


def test_big_order_is_completed_beyond_what_a_page_carries(fake_store, store_channel):
    # given: 12 lines, 3 refunds and 6 transactions, more than a page carries of each
    base = copy.deepcopy(official_order())
    lines = []
    for i in range(12):
        line = copy.deepcopy(base["line_items"][i % 3])
        line["id"] = 900_000 + i
        line["sku"] = f"SKU-{i:02d}"
        lines.append(line)
    base["line_items"] = lines
    refund = base["refunds"][0]
    base["refunds"] = []
    for i in range(3):
        r = copy.deepcopy(refund)
        r["id"] = 800_000 + i
        r["refund_line_items"] = [
            dict(item, line_item_id=900_000 + i) for item in r["refund_line_items"][:1]
        ]
        base["refunds"].append(r)
    base["id"] = 4242
    base["admin_graphql_api_id"] = "gid://shopify/Order/4242"
    base["updated_at"] = _recent(5).isoformat()
    transactions = [
        dict(t, id=700_000 + i, parent_id=None)
        for i, t in enumerate(official_transactions() * 2)
    ]
    fake_store.add_rest_order(base, transactions=transactions)

    # when
    node = shopify_order_fetch(shopify_client_for(store_channel), "4242")
    run = channel_sync(channel_id=store_channel.pk)

    # then
    assert len(node["lineItems"]["nodes"]) == 12
    assert [r["id"].rsplit("/", 1)[-1] for r in node["refunds"]] == [
        "800000",
        "800001",
        "800002",
    ]
    assert len(node["transactions"]) == 6
    assert run.created == 1
    order = Order.objects.get(external_id="4242")
    assert sorted(order.lines.values_list("sku", flat=True)) == [
        f"SKU-{i:02d}" for i in range(12)
    ]
    assert len(fake_store.calls_of("OrderLinesPage")) == 2
    assert len(fake_store.calls_of("OrderRefundIds")) == 2
    assert len(fake_store.calls_of("RefundGet")) == 2


def test_order_the_pipeline_refuses_is_counted_and_the_others_go_through(
    fake_store, store_channel
):
    # given: one order whose two lines carry the same id
    orders = _seed(fake_store, 4)
    broken = copy.deepcopy(orders[2].rest)
    broken["line_items"][1]["id"] = broken["line_items"][0]["id"]
    fake_store.add_rest_order(broken)

    # when
    run = channel_sync(channel_id=store_channel.pk)

    # then
    assert (run.status, run.created, run.failed) == (SyncRunStatus.PARTIAL, 3, 1)
    assert run.errors[0]["external_id"] == str(broken["id"])
    assert "appears twice" in run.errors[0]["error"]
    assert Order.objects.count() == 3


def test_revoked_token_fails_the_poll_flags_the_store_and_stops_further_calls(
    fake_store, store_channel
):
    _seed(fake_store, 2)
    fake_store.revoke_token()

    run = channel_sync(channel_id=store_channel.pk)
    again = channel_sync(channel_id=store_channel.pk)

    assert run.status == SyncRunStatus.FAILED
    assert "401" in run.message
    assert Channel.objects.get(pk=store_channel.pk).requires_reauthorization is True
    assert again.status == SyncRunStatus.SKIPPED
    assert "needs reconnecting" in again.message
    assert len(fake_store.calls) == 1
    cursor = SyncCursor.objects.get(channel=store_channel, kind=SyncKind.ORDERS)
    assert (cursor.consecutive_failures, cursor.lease_token) == (1, None)


def test_store_down_fails_the_poll_and_keeps_the_cursor(fake_store, store_channel):
    _seed(fake_store, 2)
    fake_store.fail_next(503, times=100)

    run = channel_sync(channel_id=store_channel.pk)

    assert run.status == SyncRunStatus.FAILED
    assert "HTTP 503" in run.message
    cursor = SyncCursor.objects.get(channel=store_channel, kind=SyncKind.ORDERS)
    assert cursor.value == ""
    assert cursor.lease_token is None
    assert Order.objects.exists() is False


def test_page_ingested_before_the_store_went_down_moves_the_cursor(
    fake_store, store_channel
):
    # given: the store fails for good after the first page
    orders = _seed(fake_store, 7)
    client_calls = []

    original = fake_store.handle

    def handle(**kwargs):
        client_calls.append(1)
        if len(client_calls) > 1:
            return 503, {"errors": "down"}, {}
        return original(**kwargs)

    fake_store.handle = handle

    # when
    run = channel_sync(channel_id=store_channel.pk)

    # then
    assert (run.status, run.created) == (SyncRunStatus.FAILED, 5)
    cursor = SyncCursor.objects.get(channel=store_channel, kind=SyncKind.ORDERS)
    assert datetime.fromisoformat(cursor.value) == orders[4].updated_at


def test_second_poll_while_one_runs_is_skipped(fake_store, store_channel):
    sync_cursor_acquire(channel_id=store_channel.pk)

    run = channel_sync(channel_id=store_channel.pk)

    assert (run.status, run.message) == (
        SyncRunStatus.SKIPPED,
        "Another sync of this store is running.",
    )
    assert fake_store.calls == []


def test_backfill_imports_the_date_range_as_history(fake_store, store_channel):
    # given: 30 orders created over three days
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(30):
        created = start + timedelta(hours=2 * i + 1)
        order = copy.deepcopy(official_order())
        order.update(
            id=100 + i,
            created_at=created.isoformat(),
            updated_at=created.isoformat(),
            name=f"#H{i}",
        )
        for j, line in enumerate(order["line_items"]):
            line["id"] = (100 + i) * 10 + j
        order["refunds"] = []
        fake_store.add_rest_order(order)

    # when: the second day only
    run = channel_backfill(
        channel_id=store_channel.pk,
        created_from=datetime(2026, 3, 2, tzinfo=UTC),
        created_to=datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC),
    )

    # then
    assert (run.status, run.fetched, run.created) == (SyncRunStatus.SUCCEEDED, 12, 12)
    assert run.kind == "backfill"
    assert set(Order.objects.values_list("source", flat=True)) == {OrderSource.IMPORT}
    assert sorted(
        int(x) for x in Order.objects.values_list("external_id", flat=True)
    ) == list(range(112, 124))
    assert fake_store.calls_of("OrdersPage")[0].variables["sortKey"] == "CREATED_AT"
    assert not SyncCursor.objects.filter(kind=SyncKind.ORDERS).exists()


def test_stores_due_for_a_poll(store_channel):
    waiting = ChannelFactory(code="waiting", poll_interval_minutes=5)
    ChannelFactory(code="off", is_active=False)
    ChannelFactory(code="revoked", requires_reauthorization=True)
    fresh = ChannelFactory(code="fresh", poll_interval_minutes=5)
    lease = sync_cursor_acquire(channel_id=fresh.pk)
    SyncCursor.objects.filter(pk=lease.cursor_id).update(lease_token=None)
    lease = sync_cursor_acquire(channel_id=waiting.pk)
    SyncCursor.objects.filter(pk=lease.cursor_id).update(
        lease_token=None, last_attempt_at=timezone.now() - timedelta(minutes=6)
    )

    assert sorted(channels_due_for_sync()) == sorted([store_channel.pk, waiting.pk])
