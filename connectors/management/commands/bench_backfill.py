"""Benchmark: a backfill of N orders from the fake Shopify store, in orders per second.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        python manage.py bench_backfill --orders 10000 [--pages 1000] [--profile]

The fake store (real HTTP on 127.0.0.1, every document validated against the official
2025-01 schema, a leaky bucket of 1000 points refilled at Shopify Standard's 100 points
a second) holds N copies of the official order sample, each with its three lines,
shipping line and transactions, one in twenty with the sample's refund, created over
the past months. The backfill runs exactly as
`manage.py channel_backfill --bulk` does: one bulk operation, polled until COMPLETED,
the JSONL file downloaded and ingested 250 orders at a time. `--pages M` also backfills
M other orders page by page (the API's orders query) for comparison.

It works in a scratch database (bench_backfill) created and dropped on the server
DATABASE_URL points at.
"""

from __future__ import annotations

import copy
import cProfile
import io
import pstats
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.test import override_settings

from connectors.models import Channel
from connectors.services import SyncCounts
from connectors.shopify.testing.fake_server import (
    FakeShopifyStore,
    official_order,
    official_transactions,
)
from connectors.sync import channel_backfill
from connectors.tests.factories import ChannelFactory
from inventory.models import Product
from orders.models import Order

BENCH_DATABASE = "bench_backfill"
START = datetime(2025, 1, 1, tzinfo=UTC)


class Command(BaseCommand):
    help = "Orders/s of a Shopify backfill by bulk operation (and by pages) from the fake store."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=10_000)
        parser.add_argument(
            "--pages", type=int, default=0, help="also backfill this many page by page"
        )
        parser.add_argument(
            "--profile", action="store_true", help="print the top functions by time"
        )
        parser.add_argument("--keepdb", action="store_true")
        parser.add_argument("--scratch-db", default=BENCH_DATABASE)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument(
            "--refunded-share",
            type=float,
            default=0.05,
            help="share of orders that keep the sample's refund (default 0.05)",
        )
        parser.add_argument(
            "--restore-rate",
            type=float,
            default=100.0,
            help="the store's points a second (Shopify Standard 100, Plus 1000)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_backfill needs PostgreSQL (DATABASE_URL).")
        settings_dict = connection.settings_dict
        scratch = options["scratch_db"]
        settings_dict.setdefault("TEST", {})["NAME"] = scratch
        self.stdout.write(f"Creating scratch database {scratch}…")
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=options["keepdb"]
        )
        try:
            # Poll the bulk operation every half second, not every 2 s: the fake store
            # finishes in seconds and the figure is about our side.
            with override_settings(SHOPIFY_BULK_POLL_SECONDS=0.5):
                self._bench(options)
        finally:
            connections.close_all()
            if not options["keepdb"]:
                connection.creation.destroy_test_db(scratch, verbosity=0, keepdb=False)

    def _seed(
        self, store: FakeShopifyStore, *, count: int, first_id: int, refunded: float
    ) -> float:
        started = time.perf_counter()
        # One order every 15 minutes from START: 10,000 orders span about 104 days.
        orders = store.add_orders_like(
            official_order(),
            count=count,
            first_id=first_id,
            first_number=first_id % 1_000_000,
            updated_from=START + timedelta(minutes=5),
            step_seconds=900,
            transactions=official_transactions(),
        )
        # Most orders of a real store were never refunded: the sample's refund stays on
        # one order in 1/refunded.
        every = round(1 / refunded) if refunded > 0 else 0
        for index, order in enumerate(orders):
            if not every or index % every:
                rest = copy.deepcopy(order.rest)
                rest["refunds"] = []
                store.add_rest_order(rest)
        return time.perf_counter() - started

    def _backfill(
        self, channel: Channel, *, bulk: bool, days: int, profile: bool, threads: int
    ) -> dict[str, Any]:
        marks: dict[str, float] = {}
        started = time.perf_counter()

        def progress(counts: SyncCounts) -> None:
            now = time.perf_counter() - started
            if counts.note.startswith("downloaded"):
                marks["downloaded"] = now
            if counts.fetched and "first_orders" not in marks:
                marks["first_orders"] = now

        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        run = channel_backfill(
            channel_id=channel.pk,
            created_from=START,
            created_to=START + timedelta(days=days),
            bulk=bulk,
            progress=progress,
            threads=threads,
        )
        if profiler:
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
            self.stdout.write(out.getvalue())
        elapsed = time.perf_counter() - started
        return {"run": run, "seconds": elapsed, "marks": marks}

    def _bench(self, options: dict[str, Any]) -> None:
        count = options["orders"]
        rate = options["restore_rate"]
        refunded = options["refunded_share"]
        threads = options["threads"]
        store = FakeShopifyStore(restore_rate=rate)
        store.start()
        try:
            seconds = self._seed(
                store, count=count, first_id=7_000_000_000, refunded=refunded
            )
            self.stdout.write(
                f"Fake store seeded with {count:,} orders ({refunded:.0%} refunded; "
                f"bucket 1000 points, {rate:g} points/s) in {seconds:.1f} s"
            )
            for sku in {line["sku"] for line in official_order()["line_items"]}:
                Product.objects.get_or_create(sku=sku, defaults={"title": sku})
            bulk_channel = ChannelFactory(
                code="bench-bulk",
                shop_url=store.url,
                credentials={"access_token": store.access_token},
            )
            bulk = self._backfill(
                bulk_channel,
                bulk=True,
                days=count // 96 + 2,
                profile=options["profile"],
                threads=threads,
            )
            self._report(f"bulk operation, {threads} thread(s)", bulk, count, store)
            imported = Order.objects.filter(channel=bulk_channel).count()
            if imported != count:
                raise CommandError(f"The bulk backfill imported {imported} of {count}.")
        finally:
            store.stop()
        if not options["pages"]:
            return
        paged_store = FakeShopifyStore(restore_rate=rate)
        paged_store.start()
        try:
            self._seed(
                paged_store,
                count=options["pages"],
                first_id=8_000_000_000,
                refunded=refunded,
            )
            paged_channel = ChannelFactory(
                code="bench-pages",
                shop_url=paged_store.url,
                credentials={"access_token": paged_store.access_token},
            )
            paged = self._backfill(
                paged_channel,
                bulk=False,
                days=options["pages"] // 96 + 2,
                profile=False,
                threads=1,
            )
            self._report("pages", paged, options["pages"], paged_store)
        finally:
            paged_store.stop()

    def _report(
        self, label: str, result: dict[str, Any], count: int, store: FakeShopifyStore
    ) -> None:
        calls = len(store.calls)
        run = result["run"]
        seconds = result["seconds"]
        marks = result["marks"]
        self.stdout.write("")
        self.stdout.write(f"Backfill by {label}: SyncRun {run.status} {run.message}")
        self.stdout.write(
            f"  orders        {run.fetched:>8,} fetched, {run.created:,} created, "
            f"{run.failed} failed"
        )
        self.stdout.write(f"  store calls   {calls:>8,}")
        if "downloaded" in marks:
            self.stdout.write(
                f"  export ready and downloaded after {marks['downloaded']:.1f} s"
            )
        self.stdout.write(f"  wall time     {seconds:>8.1f} s")
        self.stdout.write(f"  rate          {count / seconds:>8.1f} orders/s")
        if "downloaded" in marks:
            ingest = seconds - marks["downloaded"]
            self.stdout.write(
                f"  read + map + ingest after the download: {count / ingest:.1f} orders/s"
            )
