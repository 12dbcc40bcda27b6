"""Backfill through a Shopify bulk operation (JSONL), over real HTTP against the fake store."""

import copy
import io
import math
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from connectors.exceptions import PayloadError
from connectors.models import SyncRunStatus
from connectors.providers import OrdersWindow
from connectors.shopify import queries
from connectors.shopify.bulk import bulk_orders, shopify_orders_bulk_pages
from connectors.shopify.services import shopify_orders_pages
from connectors.shopify.testing.fake_server import (
    official_order,
    official_transactions,
)
from connectors.sync import channel_backfill
from orders.canonical import OrderSource
from orders.models import Order

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, tzinfo=UTC)
DAY_TWO = OrdersWindow(
    created_from=datetime(2026, 3, 2, tzinfo=UTC),
    created_to=datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC),
)


def _history(store, count=30):
    """`count` official orders (with their refund and transactions), one every 2 h."""
    return store.add_orders_like(
        official_order(),
        count=count,
        first_id=100_000,
        updated_from=START + timedelta(hours=1, minutes=5),
        step_seconds=2 * 3600,
        transactions=official_transactions(),
    )


def _orders(pages):
    return [item.order for page in pages for item in page.items]


def test_bulk_export_maps_every_order_exactly_as_the_paged_api_does(
    fake_store, store_channel
):
    # given: 30 orders over three days, each with lines, a shipping line, a refund
    # with two lines, and four transactions
    _history(fake_store)

    # when
    bulk = _orders(shopify_orders_bulk_pages(channel=store_channel, window=DAY_TWO))
    paged = _orders(shopify_orders_pages(channel=store_channel, window=DAY_TWO))

    # then: the same twelve canonical orders, field for field
    assert len(bulk) == 12
    assert bulk == paged
    assert {len(o.lines) for o in bulk} == {3}
    assert {len(o.refunds[0].lines) for o in bulk} == {2}
    assert {len(o.transactions) for o in bulk} == {len(official_transactions())}
    assert len(fake_store.calls_of("BulkOperationRunQuery")) == 1
    assert len(fake_store.calls_of("RefundsLines")) == math.ceil(
        12 / queries.REFUNDS_LINES_BATCH
    )
    # The file comes from storage, and the store's token is not sent there.
    assert [d["access_token"] for d in fake_store.bulk.downloads] == [""]


def test_bulk_backfill_polls_until_completed_and_imports_the_range_as_history(
    fake_store, store_channel
):
    _history(fake_store)
    fake_store.bulk.running_polls = 3
    seen = []

    run = channel_backfill(
        channel_id=store_channel.pk,
        created_from=DAY_TWO.created_from,
        created_to=DAY_TWO.created_to,
        bulk=True,
        progress=lambda counts: seen.append((counts.fetched, counts.note)),
    )

    assert (run.status, run.fetched, run.created, run.failed) == (
        SyncRunStatus.SUCCEEDED,
        12,
        12,
        0,
    )
    assert run.params["mode"] == "bulk"
    assert set(Order.objects.values_list("source", flat=True)) == {OrderSource.IMPORT}
    assert Order.objects.count() == 12
    polls = fake_store.calls_of("BulkOperationGet")
    assert len(polls) == 4  # three answered RUNNING, then COMPLETED
    assert fake_store.calls_of("OrdersPage") == []
    assert [n for _f, n in seen if "running" in n] != []
    assert sum(f for f, _n in seen) == 12


def test_backfill_picks_bulk_above_the_threshold_and_pages_below(
    fake_store, store_channel, settings
):
    _history(fake_store)
    settings.BACKFILL_BULK_THRESHOLD = 10

    big = channel_backfill(
        channel_id=store_channel.pk,
        created_from=DAY_TWO.created_from,
        created_to=DAY_TWO.created_to,
    )
    small = channel_backfill(
        channel_id=store_channel.pk,
        created_from=datetime(2026, 3, 3, tzinfo=UTC),
        created_to=datetime(2026, 3, 3, 5, 59, 59, tzinfo=UTC),
    )

    assert (big.params["mode"], big.params["expected"], big.created) == (
        "bulk",
        12,
        12,
    )
    assert (small.params["mode"], small.params["expected"], small.created) == (
        "pages",
        3,
        3,
    )
    assert len(fake_store.calls_of("BulkOperationRunQuery")) == 1
    assert len(fake_store.calls_of("OrdersPage")) == 1


def test_failed_bulk_operation_fails_the_run_and_imports_nothing(
    fake_store, store_channel
):
    _history(fake_store)
    fake_store.bulk.fail_next("INTERNAL_SERVER_ERROR")

    run = channel_backfill(
        channel_id=store_channel.pk,
        created_from=DAY_TWO.created_from,
        created_to=DAY_TWO.created_to,
        bulk=True,
    )

    assert run.status == SyncRunStatus.FAILED
    assert "ended FAILED (INTERNAL_SERVER_ERROR)" in run.message
    assert Order.objects.count() == 0


def test_bulk_operation_already_running_fails_the_run_with_its_id(
    fake_store, store_channel
):
    _history(fake_store, count=3)
    running = fake_store.bulk.start_elsewhere()

    run = channel_backfill(
        channel_id=store_channel.pk,
        created_from=START,
        created_to=START + timedelta(days=1),
        bulk=True,
    )

    assert run.status == SyncRunStatus.FAILED
    assert "Another bulk operation" in run.message
    assert running in run.message


def test_big_order_in_the_bulk_file_keeps_every_line_and_refund_line(
    fake_store, store_channel
):
    # given: 12 lines, one refund of 12 lines (more than a refund batch carries)
    base = copy.deepcopy(official_order())
    lines = []
    for i in range(12):
        line = copy.deepcopy(base["line_items"][i % 3])
        line["id"] = 900_000 + i
        line["sku"] = f"SKU-{i:02d}"
        lines.append(line)
    base["line_items"] = lines
    refund = base["refunds"][0]
    item = refund["refund_line_items"][0]
    refund["refund_line_items"] = [
        dict(item, id=950_000 + i, line_item_id=900_000 + i) for i in range(12)
    ]
    base.update(
        id=4242,
        admin_graphql_api_id="gid://shopify/Order/4242",
        created_at=(START + timedelta(days=1, hours=3)).isoformat(),
        updated_at=(START + timedelta(days=1, hours=4)).isoformat(),
    )
    fake_store.add_rest_order(base, transactions=official_transactions())

    orders = _orders(shopify_orders_bulk_pages(channel=store_channel, window=DAY_TWO))

    assert len(orders) == 1
    assert [line.sku for line in orders[0].lines] == [f"SKU-{i:02d}" for i in range(12)]
    assert [line[0] for line in orders[0].refunds[0].lines] == [
        str(900_000 + i) for i in range(12)
    ]
    assert len(fake_store.calls_of("RefundLinesPage")) == 1


def test_empty_range_finishes_without_a_file(fake_store, store_channel):
    _history(fake_store, count=3)

    run = channel_backfill(
        channel_id=store_channel.pk,
        created_from=datetime(2027, 1, 1, tzinfo=UTC),
        created_to=datetime(2027, 1, 2, tzinfo=UTC),
        bulk=True,
    )

    assert (run.status, run.fetched) == (SyncRunStatus.SUCCEEDED, 0)
    assert fake_store.bulk.downloads == []


def test_a_row_that_does_not_follow_its_order_is_a_payload_error():
    rows = [
        {"id": "gid://shopify/Order/1"},
        {
            "id": "gid://shopify/LineItem/11",
            "quantity": 1,
            "__parentId": "gid://shopify/Order/1",
        },
        {"id": "gid://shopify/Order/2"},
        {
            "id": "gid://shopify/LineItem/12",
            "quantity": 1,
            "__parentId": "gid://shopify/Order/1",
        },
    ]

    orders = bulk_orders(rows)

    first = next(orders)
    assert [n["id"] for n in first["lineItems"]["nodes"]] == [
        "gid://shopify/LineItem/11"
    ]
    with pytest.raises(PayloadError, match="does not follow its order"):
        next(orders)


def test_channel_backfill_command_with_bulk_shows_the_operation_and_the_rate(
    fake_store, store_channel
):
    _history(fake_store)
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "channel_backfill",
        store_channel.code,
        "--from=2026-03-02",
        "--to=2026-03-02",
        "--bulk",
        stdout=out,
        stderr=err,
    )

    assert "fetched 12, created 12" in out.getvalue()
    assert "by bulk" in out.getvalue()
    assert "12/12" in err.getvalue()  # the tqdm bar knows the total from the file
    assert Order.objects.count() == 12


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_big_pages_are_ingested_by_threads_each_order_once(fake_store, store_channel):
    # given: 60 orders in one page of the export (threads start at PARALLEL_PAGE_MIN)
    fake_store.add_orders_like(
        official_order(),
        count=60,
        first_id=300_000,
        updated_from=START + timedelta(minutes=5),
        step_seconds=600,
        transactions=official_transactions(),
    )

    run = channel_backfill(
        channel_id=store_channel.pk,
        created_from=START,
        created_to=START + timedelta(days=1),
        bulk=True,
        threads=3,
    )

    assert (run.status, run.fetched, run.created, run.failed) == (
        SyncRunStatus.SUCCEEDED,
        60,
        60,
        0,
    )
    assert sorted(
        int(x) for x in Order.objects.values_list("external_id", flat=True)
    ) == list(range(300_000, 300_060))
