#!/usr/bin/env python
"""History-import benchmark: N generated orders in Shopify's export format, imported.

Writes a Shopify "Export orders" CSV (the real 79-column header, one row per line item,
order fields on the first row) with N orders over 24 months, imports it into a new
store through `order_file_import` exactly as `manage.py import_orders` does, prints the
rate and the month-by-month check, then imports the same file again (which must change
nothing). Exits 1 when a check does not match or the re-run changed anything.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_imports \\
        .venv/bin/python bench/import_orders.py --orders 100000

bench/import_orders.sh creates and migrates that database first.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER_FILE = (
    ROOT / "connectors/importers/tests/fixtures/shopify_orders_export_header.csv"
)
CENT = Decimal("0.01")

COUNTRIES = [
    # (country, province code, province name, city, zip, address, offset)
    ("US", "CA", "California", "San Francisco", "94105", "500 Market St", "-0800"),
    ("US", "NY", "New York", "New York", "10001", "350 5th Ave", "-0500"),
    ("DE", "BE", "Berlin", "Berlin", "'01067", "Hauptstraße 5", "+0100"),
    ("GB", "ENG", "England", "London", "SW1A 1AA", "10 Downing St", "+0000"),
    ("CN", "SH", "Shanghai", "上海", "200120", "浦东新区世纪大道100号", "+0800"),
    ("JP", "13", "Tokyo", "東京都", "100-0001", "千代田区千代田1-1", "+0900"),
    ("AU", "NSW", "New South Wales", "Sydney", "2000", "1 George St", "+1000"),
]
NAMES = ["Ava Miller", "Lena Schmidt", "王芳", "Sam Lee", "佐藤 花子", "Noah Brown"]
GATEWAYS = ["shopify_payments", "paypal", "manual"]


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def generate(path: Path, *, orders: int, seed: int = 20250101) -> tuple[int, float]:
    """Write the file; returns (rows, seconds)."""
    started = time.monotonic()
    rng = random.Random(seed)
    header = next(csv.reader(HEADER_FILE.open(encoding="utf-8")))
    col = {name: i for i, name in enumerate(header)}
    skus = [
        (f"SKU-{n:04d}", f"Product {n:04d}", Decimal(rng.randint(300, 25000)) / 100)
        for n in range(400)
    ]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = (datetime(2026, 1, 1, tzinfo=UTC) - start).total_seconds()
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for n in range(orders):
            country, prov, prov_name, city, zip_, street, offset = rng.choice(COUNTRIES)
            placed = start + timedelta(seconds=int(span * (n + rng.random()) / orders))
            sign = 1 if offset[0] == "+" else -1
            local = placed + sign * timedelta(
                hours=int(offset[1:3]), minutes=int(offset[3:])
            )

            def stamp(moment: datetime, local_offset: str = offset) -> str:
                return f"{moment:%Y-%m-%d %H:%M:%S} {local_offset}"

            lines = [rng.choice(skus) for _ in range(rng.choice((1, 1, 2, 2, 3, 4)))]
            quantities = [rng.choice((1, 1, 1, 2, 3)) for _ in lines]
            subtotal = sum(
                (price * q for (_, _, price), q in zip(lines, quantities, strict=True)),
                Decimal(0),
            )
            shipping = Decimal(rng.choice((0, 0, 499, 999, 1500))) / 100
            taxes = (subtotal * Decimal("0.08")).quantize(CENT)
            total = subtotal + shipping + taxes
            roll = rng.random()
            cancelled = roll < 0.03
            refunded = Decimal(0)
            if cancelled:
                financial = "voided"
            elif roll < 0.08:
                financial, refunded = "refunded", total
            elif roll < 0.15:
                financial = "partially_refunded"
                refunded = (total * Decimal(rng.randint(10, 60)) / 100).quantize(CENT)
            else:
                financial = "paid"
            fulfilled = not cancelled and rng.random() < 0.9
            name = rng.choice(NAMES)
            order_id = str(5_000_000_000_000 + n)
            first = [""] * len(header)
            values = {
                "Name": f"#{100000 + n}",
                "Email": f"buyer{rng.randint(1, orders // 3 + 1)}@example.com",
                "Financial Status": financial,
                "Paid at": "" if cancelled else stamp(local + timedelta(seconds=5)),
                "Fulfillment Status": "fulfilled" if fulfilled else "unfulfilled",
                "Fulfilled at": stamp(local + timedelta(days=2)) if fulfilled else "",
                "Accepts Marketing": "no",
                "Currency": "USD",
                "Subtotal": str(subtotal),
                "Shipping": str(shipping),
                "Taxes": str(taxes),
                "Total": str(total),
                "Discount Amount": "0.00",
                "Shipping Method": "Standard" if shipping else "Free shipping",
                "Created at": stamp(local),
                "Billing Name": name,
                "Billing Address1": street,
                "Billing City": city,
                "Billing Zip": zip_,
                "Billing Province": prov,
                "Billing Country": country,
                "Shipping Name": name,
                "Shipping Address1": street,
                "Shipping City": city,
                "Shipping Zip": zip_,
                "Shipping Province": prov,
                "Shipping Country": country,
                "Cancelled at": stamp(local + timedelta(hours=1)) if cancelled else "",
                "Payment Method": rng.choice(GATEWAYS),
                "Payment Reference": f"ref-{order_id}",
                "Refunded Amount": str(refunded),
                "Outstanding Balance": str(total) if cancelled else "0.00",
                "Id": order_id,
                "Risk Level": "Low",
                "Source": "web",
                "Billing Province Name": prov_name,
                "Shipping Province Name": prov_name,
                "Payment ID": f"pay-{order_id}",
            }
            for key, value in values.items():
                first[col[key]] = value
            for i, ((sku, title, price), qty) in enumerate(
                zip(lines, quantities, strict=True)
            ):
                row = first if i == 0 else [""] * len(header)
                if i:
                    for key in ("Name", "Email", "Created at"):
                        row[col[key]] = values[key]
                row[col["Lineitem quantity"]] = str(qty)
                row[col["Lineitem name"]] = title
                row[col["Lineitem price"]] = str(price)
                row[col["Lineitem sku"]] = sku
                row[col["Lineitem requires shipping"]] = "true"
                row[col["Lineitem taxable"]] = "true"
                row[col["Lineitem discount"]] = "0.00"
                writer.writerow(row)
                rows += 1
    return rows, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--file", type=Path, help="Keep the generated file here.")
    parser.add_argument(
        "--no-rerun", action="store_true", help="Skip the second (no-op) run."
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="Processes upserting side by side."
    )
    parser.add_argument("--profile", type=Path, help="cProfile the first run to here.")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.local")
    os.environ.setdefault(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_imports"
    )
    # DEBUG keeps every SQL statement in memory; a benchmark must not pay for that.
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()
    from django.db import connection
    from tqdm import tqdm

    from connectors.importers.services import ImportProgress, order_file_import
    from connectors.models import Channel, ChannelKind
    from orders.models import OrderImportFormat

    say(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    workdir = None
    path = args.file
    if path is None:
        workdir = tempfile.TemporaryDirectory(prefix="bench_import_")
        path = Path(workdir.name) / "orders_export.csv"
    rows, seconds = generate(path, orders=args.orders)
    size = path.stat().st_size / 1e6
    say(
        f"generated {args.orders} orders ({rows} rows, {size:.0f} MB) in {seconds:.1f} s"
    )
    code = f"bench-{datetime.now(UTC):%Y%m%d%H%M%S}"
    channel = Channel.objects.create(
        kind=ChannelKind.SHOPIFY,
        code=code,
        name=f"Benchmark {code}",
        currency="USD",
        shop_url=f"https://{code}.myshopify.com",
    )

    def run(label: str) -> object:
        bar = tqdm(unit=" orders", desc=label, dynamic_ncols=True, mininterval=1.0)

        def progress(p: ImportProgress) -> None:
            if bar.total != p.total:
                bar.reset(total=p.total)
            if p.done - bar.n >= 500 or p.done == p.total:
                bar.update(p.done - bar.n)

        with path.open("rb") as stream:
            result = order_file_import(
                channel_id=channel.pk,
                stream=stream,
                file_format=OrderImportFormat.SHOPIFY_CSV,
                jobs=args.jobs,
                on_progress=progress,
            )
        bar.close()
        say(
            f"{label}: {result.total} orders, {result.created} new, "
            f"{result.changed} changed, {result.unchanged} unchanged, "
            f"{result.failed} failed in {result.seconds:.1f} s = "
            f"{result.rate:.0f} orders/s"
        )
        return result

    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        first = profiler.runcall(run, "import")
        profiler.dump_stats(args.profile)
    else:
        first = run("import")
    say(first.check.as_text())
    ok = first.check.matches and first.created == args.orders and not first.failed
    if not args.no_rerun:
        second = run("re-run")
        say(f"re-run month check matches: {second.check.matches}")
        ok = ok and second.check.matches and second.created == second.changed == 0
    say("OK" if ok else "FAILED")
    if workdir is not None:
        workdir.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
