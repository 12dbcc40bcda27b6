"""Webhook intake benchmark: signed deliveries per second through gunicorn, vs a trivial view.

    DATABASE_URL=postgres://... manage.py bench_webhooks --seconds 10 --clients 8

Starts gunicorn on 127.0.0.1 with the project (connectors.bench.wsgi adds
/bench/trivial/), loads it from client processes over loopback, and prints the rate
and p50/p99 latency of the trivial view and of POST /webhooks/shopify/<bench store>/,
then checks that every acknowledged delivery is a committed receipt.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.models import Channel, ChannelKind, WebhookReceipt
from connectors.services import channel_create
from connectors.shopify.testing.fake_server import official_order
from connectors.shopify.testing.webhooks import webhook_body, webhook_headers

BENCH_CODE = "bench-webhooks"
BENCH_SECRET = "bench-webhook-secret"  # noqa: S105 (a benchmark store's, not a real one)
GOAL_RATIO = 0.4
GOAL_P99_MS = 100.0
# Time the load processes get to start and sign their deliveries before the clock runs.
PREPARE_SECONDS = 0.5


@dataclass(frozen=True)
class RunResult:
    """One endpoint's run: what was sent, acknowledged, and how fast."""

    name: str
    seconds: float
    latencies_ms: list[float]
    ok: int
    errors: int
    server_cpu_s: float | None = None

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def server_cpu_ms(self) -> float | None:
        """gunicorn workers' CPU per answered request: load-independent, unlike rates."""
        if self.server_cpu_s is None or not (self.ok + self.errors):
            return None
        return self.server_cpu_s * 1000 / (self.ok + self.errors)

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(int(len(ordered) * p), len(ordered) - 1)]


# A placeholder order id, replaced in the serialised body: one json.dumps per client,
# not per request, so the load processes leave the CPU to the server.
_ID_MARK = "918273645546372819"


def _requests(kind: str, count: int, seed: int) -> list[tuple[bytes, dict[str, str]]]:
    """The deliveries one load process sends, signed in advance."""
    if kind != "webhook":
        return [(b'{"ping":1}', {"Content-Type": "application/json"})] * count
    template = webhook_body(dict(official_order(), id=int(_ID_MARK)))
    assert template.count(_ID_MARK.encode()) == 1  # the mark is unique
    prepared = []
    for n in range(1, count + 1):
        # A new order each time: a real first delivery, not a duplicate.
        body = template.replace(_ID_MARK.encode(), b"%d" % (seed * 10_000_000 + n))
        headers = webhook_headers(
            secret=BENCH_SECRET,
            body=body,
            topic="orders/create",
            webhook_id=str(uuid.uuid4()),
        )
        prepared.append((body, headers))
    return prepared


def _client(
    args: tuple[str, str, float, float, int, int],
) -> tuple[list[float], int, int, float, float]:
    """One load process: POST from start_at for `seconds`.

    Returns (latencies ms, 200s, others, window start, window end).
    """
    url, kind, start_at, seconds, seed, prepared_count = args
    session = requests.Session()
    prepared = _requests(kind, prepared_count, seed)
    latencies: list[float] = []
    ok = errors = 0
    # Every process starts together, after its deliveries are signed.
    time.sleep(max(0.0, start_at - time.time()))
    window_start = time.time()
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:
        if n < len(prepared):
            body, headers = prepared[n]
        else:
            body, headers = _requests(kind, 1, seed * 1000 + n)[0]
        n += 1
        started = time.perf_counter()
        try:
            response = session.post(url, data=body, headers=headers, timeout=10)
        except requests.RequestException:
            errors += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code == 200:
            ok += 1
        else:
            errors += 1
    return latencies, ok, errors, window_start, time.time()


def _merged(parts: list[RunResult]) -> RunResult:
    """The rounds of one endpoint as one run."""
    return RunResult(
        name=parts[0].name,
        seconds=sum(p.seconds for p in parts),
        latencies_ms=[x for p in parts for x in p.latencies_ms],
        ok=sum(p.ok for p in parts),
        errors=sum(p.errors for p in parts),
        server_cpu_s=(
            None
            if any(p.server_cpu_s is None for p in parts)
            else sum(p.server_cpu_s or 0.0 for p in parts)
        ),
    )


def _server_cpu_seconds(master_pid: int) -> float | None:
    """CPU time (user + system) of the gunicorn workers so far; None off Linux."""
    total = 0.0
    try:
        tick = os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text()
        for pid in children.split():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            # utime and stime are fields 14 and 15 of /proc/<pid>/stat.
            total += (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError, IndexError):
        return None
    return total


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=10.0)
        parser.add_argument("--clients", type=int, default=8, help="load processes")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
        parser.add_argument(
            "--rounds",
            type=int,
            default=4,
            help="alternate the two endpoints this many times (the machine's other "
            "load then weighs on both alike)",
        )
        parser.add_argument("--json", dest="json_path", help="also write the results")

    def handle(self, *args: Any, **options: Any) -> None:
        channel = self._bench_channel()
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = self._start_server(port=port, workers=options["workers"])
        try:
            self._wait_until_up(base)
            before = WebhookReceipt.objects.filter(channel=channel).count()
            trivial_parts, webhook_parts = [], []
            rounds = max(1, options["rounds"])
            seconds = options["seconds"] / rounds
            # One pool of load processes for every round: forking 8 of them per
            # round would cost the server CPU in the middle of the measurement.
            with ProcessPoolExecutor(max_workers=options["clients"]) as pool:
                for _ in range(rounds):
                    trivial_parts.append(
                        self._run(
                            pool,
                            server.pid,
                            "trivial view",
                            f"{base}/bench/trivial/",
                            "trivial",
                            options["clients"],
                            seconds,
                        )
                    )
                    webhook_parts.append(
                        self._run(
                            pool,
                            server.pid,
                            "webhook intake",
                            f"{base}/webhooks/shopify/{channel.code}/",
                            "webhook",
                            options["clients"],
                            seconds,
                        )
                    )
            self.stdout.write(
                "webhook / trivial per round: "
                + " ".join(
                    f"{w.rate / t.rate:.2f}" if t.rate else "-"
                    for t, w in zip(trivial_parts, webhook_parts, strict=True)
                )
            )
            trivial, webhook = _merged(trivial_parts), _merged(webhook_parts)
            stored = WebhookReceipt.objects.filter(channel=channel).count() - before
        finally:
            server.terminate()
            server.wait(timeout=15)
        self._report(trivial, webhook, stored, options.get("json_path"))

    def _bench_channel(self) -> Channel:
        channel = Channel.objects.filter(code=BENCH_CODE).first()
        if channel is None:
            channel = channel_create(
                kind=ChannelKind.SHOPIFY,
                code=BENCH_CODE,
                name="Webhook benchmark",
                shop_url="https://bench-webhooks.myshopify.com",
                currency="USD",
                credentials={"access_token": "unused", "webhook_secret": BENCH_SECRET},
            )
        return channel

    def _start_server(self, *, port: int, workers: int) -> subprocess.Popen[bytes]:
        # The server runs on this command's database and broker (DATABASE_URL,
        # REDIS_URL from the environment), without DEBUG's query log.
        env = dict(os.environ)
        env["DJANGO_DEBUG"] = "false"
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        return subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
            [
                gunicorn,
                # Not the project's gunicorn.conf.py: no access log in the measurement.
                "--config",
                "python:connectors.bench.gunicorn_conf",
                "connectors.bench.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=str(settings.BASE_DIR),
        )

    def _wait_until_up(self, base: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.post(f"{base}/bench/trivial/", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise CommandError("gunicorn did not start within 30 s.")

    def _run(
        self,
        pool: ProcessPoolExecutor,
        server_pid: int,
        name: str,
        url: str,
        kind: str,
        clients: int,
        seconds: float,
    ) -> RunResult:
        self.stdout.write(f"{name}: {clients} clients for {seconds:.1f} s ...")
        # Enough signed deliveries for 1,000/s in all; more are signed on the fly.
        per_client = int(seconds * 1000 / clients) + 1
        start_at = time.time() + PREPARE_SECONDS
        # New order ids on every run and round: each delivery is a first one.
        seed = secrets.randbelow(1_000_000) * 100
        cpu_before = _server_cpu_seconds(server_pid)
        parts = list(
            pool.map(
                _client,
                [
                    (url, kind, start_at, seconds, seed + i + 1, per_client)
                    for i in range(clients)
                ],
            )
        )
        cpu_after = _server_cpu_seconds(server_pid)
        window = max(p[4] for p in parts) - min(p[3] for p in parts)
        return RunResult(
            name=name,
            seconds=window,
            latencies_ms=[x for part in parts for x in part[0]],
            ok=sum(part[1] for part in parts),
            errors=sum(part[2] for part in parts),
            server_cpu_s=None
            if cpu_after is None or cpu_before is None
            else cpu_after - cpu_before,
        )

    def _report(
        self,
        trivial: RunResult,
        webhook: RunResult,
        stored: int,
        json_path: str | None,
    ) -> None:
        ratio = webhook.rate / trivial.rate if trivial.rate else 0.0
        rows = [trivial, webhook]
        self.stdout.write(
            f"{'':16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
            f"{'server CPU ms/req':>18}"
        )
        for row in rows:
            cpu = row.server_cpu_ms
            self.stdout.write(
                f"{row.name:16} {row.rate:8.0f} {row.percentile(0.5):8.1f} "
                f"{row.percentile(0.99):8.1f} {row.errors:7d} "
                f"{'-' if cpu is None else f'{cpu:.2f}':>18}"
            )
        self.stdout.write(
            f"webhook / trivial: {ratio:.2f}x (goal ≥ {GOAL_RATIO}x); "
            f"p99 {webhook.percentile(0.99):.1f} ms (goal < {GOAL_P99_MS:.0f} ms)"
        )
        self.stdout.write(
            f"acknowledged {webhook.ok}, committed receipts {stored}: "
            + (
                "every acknowledged delivery is stored"
                if stored >= webhook.ok
                else "MISSING"
            )
        )
        if json_path:
            with open(json_path, "w") as handle:
                json.dump(
                    {
                        row.name: {
                            "rate": row.rate,
                            "p50_ms": row.percentile(0.5),
                            "p99_ms": row.percentile(0.99),
                            "ok": row.ok,
                            "errors": row.errors,
                            "server_cpu_ms": row.server_cpu_ms,
                        }
                        for row in rows
                    }
                    | {"ratio": ratio, "acknowledged": webhook.ok, "stored": stored},
                    handle,
                    indent=2,
                )
        if stored < webhook.ok:
            raise CommandError("Some acknowledged deliveries were not stored.")
