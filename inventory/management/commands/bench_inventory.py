"""Allocations per second on one hot SKU and on many SKUs, next to raw PostgreSQL.

Runs in a scratch database (created and dropped here; your data is never touched):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        python manage.py bench_inventory --workers 1,8 --seconds 5

Three figures per scenario, each with N worker processes for the same wall time:
- service: `stock_allocate()` through the ORM, exactly as the orders app calls it;
- raw SQL: the same statements the service sends, from psycopg2 with no ORM;
- lock+update: the least any allocation must do (lock the row, update it, commit),
  the ceiling this machine's PostgreSQL allows for the scenario.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import time
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections

from inventory.models import Product, StockItem, Warehouse
from inventory.planning import AllocationRequest
from inventory.selectors import stock_ledger_mismatches
from inventory.services.allocation import stock_allocate
from inventory.services.channels import channel_stock_policy_set
from inventory.services.stock import stock_receive

BENCH_DATABASE = "bench_inventory"
PLENTY = 1_000_000_000

# The statements stock_allocate sends for one unit of one SKU (see the service):
# reads first, then the locked part.
RAW_BEFORE_LOCK = [
    # bundle_map
    (
        "SELECT bundle_id, component_id, quantity FROM inventory_bundlecomponent "
        "WHERE bundle_id IN (%(product)s) ORDER BY bundle_id, component_id"
    ),
    # stock_levels_prepare: store feeds, bundles containing the SKU, safety rules
    (
        "SELECT t.warehouse_id, p.channel_id FROM "
        "inventory_channelstockpolicy_warehouses t JOIN inventory_channelstockpolicy p "
        "ON p.id = t.channelstockpolicy_id WHERE t.warehouse_id IN (%(warehouse)s)"
    ),
    (
        "SELECT bundle_id, component_id FROM inventory_bundlecomponent "
        "WHERE component_id IN (%(product)s)"
    ),
    (
        "SELECT id FROM inventory_safetystockrule WHERE product_id = %(product)s "
        "AND warehouse_id = %(warehouse)s AND is_active ORDER BY product_id"
    ),
]
RAW_LOCKED = [
    "SELECT set_config('lock_timeout', '5s', true)",
    (
        "SELECT s.id, s.quantity_on_hand, s.quantity_allocated, b.expires_on "
        "FROM inventory_stockitem s JOIN inventory_warehouse w ON w.id = s.warehouse_id "
        "LEFT JOIN inventory_batch b ON b.id = s.batch_id "
        "WHERE s.warehouse_id = %(warehouse)s AND w.is_active "
        "AND s.product_id IN (%(product)s) ORDER BY s.id FOR NO KEY UPDATE OF s"
    ),
    (
        "INSERT INTO inventory_allocation (created_at, updated_at, stock_item_id, "
        "order_line_id, bundle_id, quantity, quantity_returned, status, reference) "
        "VALUES (now(), now(), %(item)s, NULL, NULL, 1, 0, 'allocated', 'bench') "
        "RETURNING id"
    ),
    (
        "UPDATE inventory_stockitem SET quantity_allocated = quantity_allocated + 1, "
        "updated_at = now() WHERE id = %(item)s"
    ),
    (
        "INSERT INTO inventory_stockmovement (stock_item_id, type, "
        "quantity_on_hand_delta, quantity_allocated_delta, quantity_on_hand_after, "
        "quantity_allocated_after, unit_cost, reason, reference, actor_id, "
        "allocation_id, transfer_id, created_at) VALUES (%(item)s, 'allocation', 0, 1, "
        "0, 0, NULL, 'Allocated', 'bench', NULL, NULL, NULL, now())"
    ),
]
RAW_FED = [
    # the coalesced outbox message of the (store, SKU)
    (
        "INSERT INTO core_outboxmessage (topic, key, payload, is_coalesced, status, "
        "attempts, max_attempts, available_at, leased_until, last_error, created_at, "
        "delivered_at) VALUES ('inventory.available_changed', %(key)s, %(payload)s, "
        "true, 'pending', 0, 8, now(), NULL, '', now(), NULL) ON CONFLICT DO NOTHING"
    ),
]
BARE = [
    ("SELECT id FROM inventory_stockitem WHERE id = %(item)s FOR NO KEY UPDATE"),
    (
        "UPDATE inventory_stockitem SET quantity_allocated = quantity_allocated + 1 "
        "WHERE id = %(item)s"
    ),
]


def _worker(
    mode: str,
    targets: list[tuple[int, int]],
    warehouse_id: int,
    channel_id: int | None,
    start_at: float,
    seconds: float,
    seed: int,
    results: Any,
) -> None:
    # A forked child must open its own connection; the parent's was closed before fork.
    rng = random.Random(seed)  # noqa: S311 - load spreading, not security
    connections["default"].close()
    done = 0
    if mode == "service":
        connection.ensure_connection()
        while time.time() < start_at:
            time.sleep(0.001)
        end = start_at + seconds
        while time.time() < end:
            product_id, _ = targets[rng.randrange(len(targets))]
            stock_allocate(
                requests=[AllocationRequest(None, product_id, 1)],
                warehouse_id=warehouse_id,
                reference="bench",
            )
            done += 1
    else:
        connection.ensure_connection()
        raw = connection.connection  # psycopg2 connection, no ORM from here on
        raw.autocommit = False
        cursor = raw.cursor()
        statements = (
            BARE
            if mode == "bare"
            else RAW_BEFORE_LOCK + RAW_LOCKED + (RAW_FED if channel_id else [])
        )
        while time.time() < start_at:
            time.sleep(0.001)
        end = start_at + seconds
        while time.time() < end:
            product_id, item_id = targets[rng.randrange(len(targets))]
            params = {
                "product": product_id,
                "warehouse": warehouse_id,
                "item": item_id,
                "key": f"{channel_id}:{product_id}",
                "payload": f'{{"channel_id": {channel_id}, "product_id": {product_id}}}',
            }
            for sql in statements:
                cursor.execute(sql, params)
                if cursor.description:
                    cursor.fetchall()
            raw.commit()
            done += 1
    connections["default"].close()
    results.put(done)


def _run(
    mode: str,
    *,
    workers: int,
    seconds: float,
    targets: list[tuple[int, int]],
    warehouse_id: int,
    channel_id: int | None,
) -> float:
    ctx = mp.get_context("fork")
    results = ctx.Queue()
    connections.close_all()
    start_at = time.time() + 1.0 + 0.05 * workers
    processes = [
        ctx.Process(
            target=_worker,
            args=(
                mode,
                targets,
                warehouse_id,
                channel_id,
                start_at,
                seconds,
                i,
                results,
            ),
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    total = sum(results.get(timeout=seconds + 120) for _ in processes)
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise CommandError(f"a {mode} worker failed (exit {process.exitcode})")
    return total / seconds


class Command(BaseCommand):
    help = "Benchmark stock allocation (hot SKU and many SKUs) against raw PostgreSQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers", default="8", help="Comma-separated worker counts (processes)."
        )
        parser.add_argument("--seconds", type=float, default=5.0)
        parser.add_argument("--skus", type=int, default=1000)
        parser.add_argument(
            "--keepdb", action="store_true", help="Keep the scratch database."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_inventory measures PostgreSQL row locking; set DATABASE_URL to a "
                "PostgreSQL server (a scratch database is created there and dropped)."
            )
        workers_list = [int(w) for w in str(options["workers"]).split(",") if w]
        seconds: float = options["seconds"]
        settings_dict = connection.settings_dict
        settings_dict.setdefault("TEST", {})["NAME"] = BENCH_DATABASE
        self.stdout.write(f"Creating scratch database {BENCH_DATABASE}…")
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=options["keepdb"]
        )
        try:
            self._bench(workers_list, seconds, options["skus"])
        finally:
            connections.close_all()
            if not options["keepdb"]:
                connection.creation.destroy_test_db(
                    BENCH_DATABASE, verbosity=0, keepdb=False
                )

    def _setup(self, skus: int) -> tuple[Warehouse, int | None, list[tuple[int, int]]]:
        warehouse = Warehouse.objects.create(code="bench", name="Bench", country="CN")
        products = Product.objects.bulk_create(
            [Product(sku=f"BENCH-{i:05d}", title=f"Bench {i}") for i in range(skus + 1)]
        )
        for product in products:
            stock_receive(
                product_id=product.pk, warehouse_id=warehouse.pk, quantity=PLENTY
            )
        channel_id = None
        try:
            channel_model = apps.get_model("connectors", "Channel")
            channel = channel_model.objects.create(
                kind="shopify",
                code="bench",
                name="Bench store",
                currency="USD",
                shop_url="https://bench.myshopify.com",
            )
            channel_stock_policy_set(
                channel_id=channel.pk, warehouse_ids=[warehouse.pk]
            )
            channel_id = channel.pk
        except Exception as exc:  # the store is optional scenery; say so and go on
            self.stdout.write(f"(no store feed in this run: {exc})")
        items = dict(
            StockItem.objects.filter(warehouse=warehouse).values_list(
                "product_id", "pk"
            )
        )
        return warehouse, channel_id, [(p.pk, items[p.pk]) for p in products]

    def _bench(self, workers_list: list[int], seconds: float, skus: int) -> None:
        warehouse, channel_id, targets = self._setup(skus)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        self.stdout.write(
            f"\nPostgreSQL {version}, {os.cpu_count()} CPUs, {seconds:g} s per run, "
            f"store feed {'on' if channel_id else 'off'} (one outbox write per allocation)\n"
        )
        header = (
            f"{'scenario':<16}{'workers':>8}{'service/s':>12}{'raw SQL/s':>12}"
            f"{'lock+update/s':>15}{'service/raw':>13}"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        scenarios: list[tuple[str, list[tuple[int, int]]]] = [
            ("hot SKU", targets[:1]),
            (f"{skus:,} SKUs", targets[1:]),
        ]
        run: Callable[..., float] = _run
        for label, chosen in scenarios:
            for workers in workers_list:
                kwargs = {
                    "workers": workers,
                    "seconds": seconds,
                    "targets": chosen,
                    "warehouse_id": warehouse.pk,
                    "channel_id": channel_id,
                }
                service = run("service", **kwargs)
                raw = run("raw", **kwargs)
                bare = run("bare", **kwargs)
                self.stdout.write(
                    f"{label:<16}{workers:>8}{service:>12,.0f}{raw:>12,.0f}"
                    f"{bare:>15,.0f}{service / raw:>12.0%}"
                )
        # The raw runs bypass the ledger on purpose; check the service's own rows.
        mismatches = stock_ledger_mismatches()
        service_rows = [
            m for m in mismatches if m["quantity_on_hand"] != m["ledger_on_hand"]
        ]
        violations = StockItem.objects.filter(quantity_allocated__gt=PLENTY).count()
        self.stdout.write(
            f"\non-hand equals ledger sum on every row: "
            f"{'yes' if not service_rows else f'NO ({len(service_rows)} rows)'}; "
            f"rows over-allocated: {violations}"
        )
