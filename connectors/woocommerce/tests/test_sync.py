"""Polls and backfills of a WooCommerce store, over real HTTP against the fake store."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from connectors.exceptions import ChannelUnauthorizedError, ConnectorTransientError
from connectors.models import Channel, SyncCursor, SyncKind, SyncRunStatus
from connectors.selectors import channel_sync_health
from connectors.sync import channel_backfill, channel_sync
from connectors.woocommerce.client import WooClient
from connectors.woocommerce.mappers import gmt_moment
from connectors.woocommerce.services import woo_store_check
from finance.models.payments import Payment, Refund
from orders.canonical import OrderSource
from orders.choices import FinancialStatus
from orders.models import Order

pytestmark = pytest.mark.django_db


def _ago(minutes: float) -> datetime:
    return (timezone.now() - timedelta(minutes=minutes)).replace(microsecond=0)


def _seed(store, count, *, minutes_ago=30):
    return [
        store.add_order(created_at=_ago(minutes_ago) + timedelta(seconds=index))
        for index in range(count)
    ]


def test_poll_reads_orders_modified_since_the_look_back_oldest_first(
    woo_store, woo_channel
):
    orders = _seed(woo_store, 12)

    run = channel_sync(channel_id=woo_channel.pk)

    assert (run.status, run.fetched, run.created, run.failed) == (
        SyncRunStatus.SUCCEEDED,
        12,
        12,
        0,
    )
    (call,) = woo_store.calls_to("GET", "orders")
    assert (
        call.params["orderby"],
        call.params["order"],
        call.params["dates_are_gmt"],
        call.params["per_page"],
    ) == ("modified", "asc", "true", "100")
    # First poll: the look-back from now.
    since = datetime.fromisoformat(call.params["modified_after"]).replace(tzinfo=UTC)
    assert timezone.now() - since >= timedelta(
        minutes=woo_channel.sync_lookback_minutes
    )
    cursor = SyncCursor.objects.get(channel=woo_channel, kind=SyncKind.ORDERS)
    assert datetime.fromisoformat(cursor.value) == gmt_moment(
        orders[-1]["date_modified_gmt"], "x"
    )
    assert set(Order.objects.values_list("source", flat=True)) == {OrderSource.POLL}


def test_pages_follow_x_wp_totalpages(woo_store):
    _seed(woo_store, 230)
    client = WooClient(
        shop_url=woo_store.url,
        consumer_key=woo_store.consumer_key,
        consumer_secret=woo_store.consumer_secret,
    )

    pages = list(client.pages("orders", {"dates_are_gmt": "true"}))

    assert [len(page.body) for page in pages] == [100, 100, 30]
    assert {(page.total, page.total_pages) for page in pages} == {(230, 3)}
    assert [c.params["page"] for c in woo_store.calls_to("GET", "orders")] == [
        "1",
        "2",
        "3",
    ]


def test_next_poll_starts_a_look_back_before_the_cursor_and_changes_nothing(
    woo_store, woo_channel
):
    _seed(woo_store, 5)
    channel_sync(channel_id=woo_channel.pk)
    cursor = datetime.fromisoformat(
        SyncCursor.objects.get(channel=woo_channel, kind=SyncKind.ORDERS).value
    )

    run = channel_sync(channel_id=woo_channel.pk)

    assert (run.fetched, run.created, run.updated, run.unchanged) == (5, 0, 0, 5)
    since = woo_store.calls_to("GET", "orders")[-1].params["modified_after"]
    assert datetime.fromisoformat(since).replace(tzinfo=UTC) == cursor - timedelta(
        minutes=woo_channel.sync_lookback_minutes
    )


def test_orders_with_refunds_are_read_with_their_refunds(woo_store, woo_channel):
    order = woo_store.add_order(created_at=_ago(10))
    woo_store.add_refund(order["id"], amount="5.00", reason="scratched")

    channel_sync(channel_id=woo_channel.pk)

    stored = Order.objects.get(external_id=str(order["id"]))
    assert stored.financial_status == FinancialStatus.PARTIALLY_REFUNDED
    assert woo_store.calls_to("GET", rf"orders/{order['id']}/refunds")
    refund = Refund.objects.get(order=stored)
    assert (refund.amount, refund.note) == (Decimal("5.00"), "scratched")
    payment = Payment.objects.get(order=stored)
    assert (payment.external_id, payment.amount) == (
        f"{order['id']}:payment",
        Decimal("29.35"),
    )


def test_5xx_html_and_timeouts_are_retried_and_the_poll_succeeds(
    woo_store, woo_channel, settings
):
    # Read timeout well above a loaded machine's answer time, below the hang.
    settings.WOOCOMMERCE_TIMEOUT_SECONDS = (2.0, 2.0)
    settings.WOOCOMMERCE_MAX_RETRIES = 8
    _seed(woo_store, 3)
    woo_store.fail_next(503, path="orders")
    woo_store.fail_next(200, html=True, path="orders")
    woo_store.fail_next(502, path="orders")
    woo_store.hang_next(3.0)

    run = channel_sync(channel_id=woo_channel.pk)

    assert (run.status, run.created) == (SyncRunStatus.SUCCEEDED, 3)
    answered = woo_store.calls_to("GET", "orders")
    assert [call.status for call in answered[:3]] == [503, 200, 502]
    # The hung request answers only after the client gave up on it and asked again.
    assert answered[3].status == 200


def test_a_store_that_keeps_failing_fails_the_run_and_shows_in_sync_health(
    woo_store, woo_channel, settings
):
    settings.WOOCOMMERCE_MAX_RETRIES = 2
    _seed(woo_store, 2)
    woo_store.fail_next(200, html=True, times=3)

    run = channel_sync(channel_id=woo_channel.pk)

    assert run.status == SyncRunStatus.FAILED
    assert run.message.startswith("WooCommerce call GET orders failed 3 times; last:")
    assert "the answer was not JSON (text/html" in run.message
    health = channel_sync_health(channel_id=woo_channel.pk)
    assert (health.consecutive_failures, health.failed_runs_24h) == (1, 1)
    assert health.last_error == run.message
    assert health.is_healthy is False
    assert Order.objects.count() == 0


def test_401_marks_the_store_as_needing_new_keys_and_stops_syncing(
    woo_store, woo_channel
):
    _seed(woo_store, 2)
    woo_store.revoke_keys()

    run = channel_sync(channel_id=woo_channel.pk)

    assert run.status == SyncRunStatus.FAILED
    channel = Channel.objects.get(pk=woo_channel.pk)
    assert channel.requires_reauthorization is True
    assert "refused the REST API keys (401)" in channel.auth_error
    calls = len(woo_store.calls)
    again = channel_sync(channel_id=woo_channel.pk)
    assert again.status == SyncRunStatus.SKIPPED
    assert len(woo_store.calls) == calls  # no request once flagged


def test_backfill_reads_a_created_date_range_as_history(woo_store, woo_channel):
    old = [
        woo_store.add_order(created_at=datetime(2026, 3, day, 12, tzinfo=UTC))
        for day in (1, 10, 20)
    ]
    _seed(woo_store, 2)
    seen = []

    run = channel_backfill(
        channel_id=woo_channel.pk,
        created_from=datetime(2026, 3, 5, tzinfo=UTC),
        created_to=datetime(2026, 3, 31, tzinfo=UTC),
        progress=lambda counts: seen.append(counts.fetched),
    )

    assert (run.status, run.created) == (SyncRunStatus.SUCCEEDED, 2)
    assert seen == [2]
    assert set(Order.objects.values_list("external_id", flat=True)) == {
        str(old[1]["id"]),
        str(old[2]["id"]),
    }
    assert set(Order.objects.values_list("source", flat=True)) == {OrderSource.IMPORT}
    params = woo_store.calls_to("GET", "orders")[0].params
    assert (params["after"], params["before"], params["orderby"]) == (
        "2026-03-05T00:00:00",
        "2026-03-31T00:00:00",
        "date",
    )


def test_connection_check_reads_the_store_currency(woo_store):
    check = woo_store_check(
        shop_url=woo_store.url,
        consumer_key=woo_store.consumer_key,
        consumer_secret=woo_store.consumer_secret,
    )

    assert check.currency == "USD"


def test_connection_check_with_wrong_keys_is_unauthorized(woo_store):
    with pytest.raises(ChannelUnauthorizedError):
        woo_store_check(
            shop_url=woo_store.url,
            consumer_key=woo_store.consumer_key,
            consumer_secret="cs_wrong",
        )
    woo_store.auth_failures.clear()


def test_client_gives_up_after_its_retries_with_a_transient_error(woo_store):
    client = WooClient(
        shop_url=woo_store.url,
        consumer_key=woo_store.consumer_key,
        consumer_secret=woo_store.consumer_secret,
        max_retries=1,
        sleep=lambda seconds: None,
    )
    woo_store.fail_next(500, times=2)

    with pytest.raises(ConnectorTransientError):
        client.get("orders")

    assert (client.calls, client.retries) == (2, 1)
