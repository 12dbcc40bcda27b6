"""Benchmark: orders per second from "store payload received" to "allocated".

Signed Shopify deliveries go through our webhook view (HMAC check, receipt stored,
task queued); real Celery worker processes (prefork, on Redis) map, ingest, review
and allocate them. The no-op task rate of the same workers on the same broker is
measured in the same run, so the figure can be read against this machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/7 \\
        python manage.py bench_orders --orders 2000 --workers 2

It works in a scratch database (bench_orders) created and dropped on the server
DATABASE_URL points at.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from typing import Any

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.test import Client

from connectors.shopify.testing.fake_server import official_order
from connectors.shopify.testing.webhooks import webhook_body, webhook_headers
from connectors.tests.factories import ChannelFactory
from erp.celery import app as celery_app
from erp.core.tasks import ping_task
from inventory.models import Product, Warehouse
from inventory.services.stock import stock_receive
from orders.choices import OrderStatus
from orders.models import Order

BENCH_DATABASE = "bench_orders"
SECRET = "whsec-bench-0123456789"  # noqa: S105 - signs bench deliveries only
PRODUCTS = 200


def _payloads(count: int) -> list[bytes]:
    """Distinct orders shaped like the official REST sample, 1-3 lines each, to the US."""
    template = official_order()
    template["shipping_address"].update(
        {
            "address1": "500 Congress Ave",
            "city": "Austin",
            "province_code": "TX",
            "zip": "78701",
            "country_code": "US",
        }
    )
    template["financial_status"] = "paid"
    template["refunds"] = []
    template["cancelled_at"] = None
    bodies = []
    for n in range(count):
        order = copy.deepcopy(template)
        order["id"] = 7_000_000_000 + n
        order["name"] = f"#B{n}"
        order["order_number"] = 100_000 + n
        order["email"] = f"buyer{n}@example.com"
        order["phone"] = None
        for key in ("shipping_address", "billing_address"):
            if isinstance(order.get(key), dict):
                order[key]["phone"] = f"+1 512 555 {n % 10000:04d}"
        if isinstance(order.get("customer"), dict):
            order["customer"]["id"] = 9_000_000_000 + n
            order["customer"]["email"] = order["email"]
        lines = []
        for k in range(1 + n % 3):
            line = copy.deepcopy(template["line_items"][0])
            line["id"] = 8_000_000_000 + n * 10 + k
            line["sku"] = f"BENCH-{(n * 7 + k * 13) % PRODUCTS:04d}"
            line["quantity"] = 1
            line["variant_id"] = 5_000_000 + (n * 7 + k * 13) % PRODUCTS
            lines.append(line)
        order["line_items"] = lines
        total = sum(Decimal(str(line["price"])) for line in lines)
        order["total_price"] = str(total)
        order["subtotal_price"] = str(total)
        bodies.append(webhook_body(order))
    return bodies


def _tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children, from /proc (Linux)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending.extend(int(child) for child in children.read().split())
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _sessions_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL session on `database` but this one's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s"
            " AND pid <> pg_backend_pid()",
            [database],
        )
        pids = [row[0] for row in cursor.fetchall()]
    # The server runs on this machine in the benchmark setups; elsewhere /proc has
    # no such pid and the figure reads 0.
    return {pid: _tree_cpu_seconds(pid) for pid in pids}


def _server_cpu_seconds() -> float:
    """CPU seconds of the whole PostgreSQL server so far, closed sessions included.

    The postmaster reaps every session it forks, so its children's CPU (cutime,
    cstime) keeps what sessions that have since closed spent; the live ones are read
    from /proc as they are. Every database of the server counts, so read it on an
    otherwise idle server.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        with open(f"/proc/{backend}/stat") as stat:
            postmaster = int(stat.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{postmaster}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return reaped + _tree_cpu_seconds(postmaster)


def _own_session_cpu() -> float:
    """CPU seconds of this thread's PostgreSQL session (read before it closes)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return _tree_cpu_seconds(cursor.fetchone()[0])


def _split(bodies: list[bytes], parts: int) -> list[list[bytes]]:
    return [bodies[i::parts] for i in range(parts)]


def _post_all(channel_code: str, bodies: list[bytes]) -> tuple[str, float]:
    """Post deliveries through the webhook view (one poster thread).

    Returns ('' if all were taken, else the refusal) and the CPU seconds its
    PostgreSQL session spent.
    """
    client = Client(HTTP_HOST="127.0.0.1")
    try:
        for body in bodies:
            headers = webhook_headers(secret=SECRET, body=body, topic="orders/create")
            content_type = headers.pop("Content-Type")
            response = client.post(
                f"/webhooks/shopify/{channel_code}/",
                data=body,
                content_type=content_type,
                headers=headers,
            )
            if response.status_code != 200:
                return f"{response.status_code} {response.content!r}", 0.0
        return "", _own_session_cpu()
    finally:
        connection.close()


class Command(BaseCommand):
    help = "Orders/s from webhook received to allocated, next to the no-op task rate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=2000)
        parser.add_argument("--noop", type=int, default=5000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--posters", type=int, default=4, help="Threads posting deliveries."
        )
        parser.add_argument("--keepdb", action="store_true")
        parser.add_argument(
            "--database",
            default=BENCH_DATABASE,
            help="Scratch database to create (and drop) on the server.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError(
                "bench_orders needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)."
            )
        settings_dict = connection.settings_dict
        name = options["database"]
        settings_dict.setdefault("TEST", {})["NAME"] = name
        self.stdout.write(f"Creating scratch database {name}…")
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=options["keepdb"]
        )
        try:
            self._bench(options)
        finally:
            connections.close_all()
            if not options["keepdb"]:
                connection.creation.destroy_test_db(name, verbosity=0, keepdb=False)

    def _worker(
        self, workers: int, broker: str, backend: str
    ) -> subprocess.Popen[bytes]:
        params = connection.settings_dict
        url = (
            f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:"
            f"{params['PORT'] or 5432}/{params['NAME']}"
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": broker,
            "REDIS_URL": broker,
            "CELERY_RESULT_BACKEND": backend,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "erp.settings.local"
            ),
        }
        return subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "erp",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(workers),
                "--queues",
                "default,connectors,outbox",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def _bench(self, options: dict[str, Any]) -> None:
        broker = settings.REDIS_URL
        redis.Redis.from_url(broker).flushdb()
        backend = broker
        celery_app.conf.broker_url = broker
        celery_app.conf.result_backend = backend

        warehouse = Warehouse.objects.create(
            code="bench-us", name="Bench US", country="US", service_area=["US"]
        )
        for i in range(PRODUCTS):
            product = Product.objects.create(sku=f"BENCH-{i:04d}", title=f"Bench {i}")
            stock_receive(
                product_id=product.pk, warehouse_id=warehouse.pk, quantity=1_000_000
            )
        # No store feed: stock pushes to a store are outbound work after allocation and
        # would need a store to talk to; this measures the way in.
        channel = ChannelFactory(code="bench", credentials={"webhook_secret": SECRET})
        bodies = _payloads(options["orders"])
        connections.close_all()

        load_before = os.getloadavg()
        worker = self._worker(options["workers"], broker, backend)
        try:
            # Warm up: the pool is up and has imported Django when a ping comes back.
            ping_task.apply_async(ignore_result=False).get(timeout=60)

            started = time.perf_counter()
            results = [
                ping_task.apply_async(ignore_result=False)
                for _ in range(options["noop"])
            ]
            for result in results:
                result.get(timeout=120)
            noop_rate = options["noop"] / (time.perf_counter() - started)

            database = connection.settings_dict["NAME"]
            sessions_before = _sessions_cpu(database)
            server_before = _server_cpu_seconds()
            worker_cpu = _tree_cpu_seconds(worker.pid)
            intake_cpu = time.process_time()
            started = time.perf_counter()
            # Stores deliver webhooks side by side; one poster at a time would measure
            # the round trip of a commit, not what the intake can take.
            intake_db_cpu = 0.0
            with ThreadPoolExecutor(max_workers=options["posters"]) as pool:
                for refused, session_cpu in pool.map(
                    partial(_post_all, channel.code), _split(bodies, options["posters"])
                ):
                    if refused:
                        raise CommandError(f"webhook refused: {refused}")
                    intake_db_cpu += session_cpu
            intake = time.perf_counter() - started
            intake_cpu = time.process_time() - intake_cpu
            deadline = time.monotonic() + 600
            allocated = 0
            while time.monotonic() < deadline:
                allocated = Order.objects.filter(status=OrderStatus.ALLOCATED).count()
                if allocated >= len(bodies):
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            worker_cpu = _tree_cpu_seconds(worker.pid) - worker_cpu
            # The workers' sessions still open (a session that closed meanwhile is
            # missed, so this is a floor).
            worker_db_cpu = sum(
                cpu - sessions_before.get(pid, 0.0)
                for pid, cpu in _sessions_cpu(database).items()
            )
            server_cpu = _server_cpu_seconds() - server_before
        finally:
            worker.terminate()
            _, err = worker.communicate(timeout=60)
        not_allocated = dict(
            Order.objects.exclude(status=OrderStatus.ALLOCATED).values_list(
                "number", "status"
            )[:5]
        )
        rate = allocated / elapsed
        self.stdout.write("")
        self.stdout.write(
            f"machine: {os.cpu_count()} cores; workers: {options['workers']} (prefork);"
            f" {options['posters']} threads posting"
        )
        # Other processes share the cores; the figures read against this.
        self.stdout.write(
            "load average (1, 5, 15 min): before "
            + " ".join(f"{x:.2f}" for x in load_before)
            + ", after "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())
        )
        self.stdout.write(f"no-op Celery task:              {noop_rate:8.1f} tasks/s")
        self.stdout.write(
            f"webhook intake (HTTP, HMAC, store): {len(bodies) / intake:8.1f} deliveries/s"
        )
        self.stdout.write(
            f"received -> allocated:          {rate:8.1f} orders/s "
            f"({allocated}/{len(bodies)} in {elapsed:.1f} s)"
        )
        self.stdout.write(f"ratio to no-op:                 {rate / noop_rate:8.2f}")
        # CPU time does not depend on what else the machine runs, unlike the rates.
        self.stdout.write(
            f"CPU per order: workers {1000 * worker_cpu / max(allocated, 1):.1f} ms, "
            f"intake {1000 * intake_cpu / len(bodies):.1f} ms (our processes)"
        )
        self.stdout.write(
            "PostgreSQL CPU per order (their sessions): workers "
            f"{1000 * worker_db_cpu / max(allocated, 1):.1f} ms, "
            f"intake {1000 * intake_db_cpu / len(bodies):.1f} ms"
            " (sessions still open at the end; a floor)"
        )
        self.stdout.write(
            "PostgreSQL server CPU per order (every session, closed ones included;"
            f" the whole server): {1000 * server_cpu / max(allocated, 1):.1f} ms"
        )
        if not_allocated:
            self.stdout.write(f"not allocated (first 5): {not_allocated}")
            self.stdout.write(err.decode()[-2000:])
