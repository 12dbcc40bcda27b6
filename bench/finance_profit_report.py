"""Benchmark: the profit report grouped by country and month over N orders (PostgreSQL).

    DATABASE_URL=postgres://.../bench python bench/finance_profit_report.py [N]

Seeds N orders and their profit rows with INSERT ... SELECT generate_series (into
the database DATABASE_URL names: use a scratch one), then times
profit_aggregate(group_by="country_period") three times and prints each run.
Goal: under 2 s for 1,000,000 orders.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.local")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402

from finance.models import OrderProfit  # noqa: E402
from finance.selectors.profit import ProfitFilters, profit_aggregate  # noqa: E402

COUNTRIES = ["US", "GB", "DE", "FR", "CA", "AU", "JP", "CN", "NL", "SE", "ES", "IT"]


def _literal(field: models.Field) -> tuple[str, list[object]]:
    """SQL for a column the bench does not care about: the field's Python default."""
    value = field.get_default()
    if isinstance(field, models.JSONField):
        return "%s::jsonb", [json.dumps(value if value is not None else None)]
    if value is None and field.null:
        return "NULL", []
    if value is None:
        value = "" if isinstance(field, models.CharField | models.TextField) else 0
    return "%s", [value]


def seed(first: int, n: int) -> None:
    """n more orders (numbered from `first`) over 2024-2025 in 12 countries, with profit rows."""
    if connection.vendor != "postgresql":
        raise SystemExit("The benchmark needs PostgreSQL.")
    channel_model = apps.get_model("connectors", "Channel")
    order_model = apps.get_model("orders", "Order")
    channel, _ = channel_model.objects.get_or_create(
        code="bench",
        defaults={
            "kind": "shopify",
            "name": "Bench",
            "currency": "USD",
            "shop_url": "https://bench.example",
        },
    )
    generated = {
        "channel_id": ("%s", [channel.pk]),
        "external_id": ("'bench-' || g", []),
        "number": ("'#B' || g", []),
        "currency": ("'USD'", []),
        "total": ("(g %% 200) + 9.99", []),
        "placed_at": ("timestamptz '2024-01-01' + (g %% 730) * interval '1 day'", []),
        "created_at": ("now()", []),
        "updated_at": ("now()", []),
        "shipping_address": (
            f"jsonb_build_object('country_code', (ARRAY{COUNTRIES})[1 + g %% 12])",
            [],
        ),
    }
    columns, expressions, params = [], [], []
    for field in order_model._meta.concrete_fields:
        if field.primary_key:
            continue
        sql, values = generated.get(field.attname) or _literal(field)
        columns.append(f'"{field.column}"')
        expressions.append(sql)
        params.extend(values)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{order_model._meta.db_table}" ({", ".join(columns)}) '  # noqa: S608 - names from the model
            f"SELECT {', '.join(expressions)} FROM generate_series(%s, %s) AS g",
            [*params, first, first + n - 1],
        )
        cursor.execute(
            f'INSERT INTO "{OrderProfit._meta.db_table}" (order_id, channel_id, placed_at, country, '  # noqa: S608
            "customer_type, order_currency, base_currency, revenue, discounts, refunds, cogs, "
            "shipping_cost, fees, other_costs, profit, fx_status, fx_note, computed_at) "
            "SELECT o.id, o.channel_id, o.placed_at, o.shipping_address->>'country_code', "
            "CASE WHEN o.id %% 3 = 0 THEN 'returning' ELSE 'new' END, 'USD', 'USD', "
            "o.total, 0, 0, o.total * 0.4, 4.50, o.total * 0.03, 0, o.total * 0.57 - 4.50, "
            f"'exact', '', now() FROM \"{order_model._meta.db_table}\" o "
            "WHERE o.channel_id = %s AND NOT EXISTS "
            f'(SELECT 1 FROM "{OrderProfit._meta.db_table}" p WHERE p.order_id = o.id)',
            [channel.pk],
        )
        cursor.execute(f'ANALYZE "{OrderProfit._meta.db_table}"')


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    call_command("migrate", verbosity=0)
    existing = OrderProfit.objects.count()
    if existing < n:
        started = time.perf_counter()
        seed(existing + 1, n - existing)
        print(  # noqa: T201 - a benchmark reports on stdout
            f"seeded {n - existing:,} orders in {time.perf_counter() - started:.1f} s"
        )
    total = OrderProfit.objects.count()
    for attempt in range(1, 4):
        started = time.perf_counter()
        table = profit_aggregate(
            filters=ProfitFilters(), group_by="country_period", period="month"
        )
        elapsed = time.perf_counter() - started
        print(  # noqa: T201 - a benchmark reports on stdout
            f"run {attempt}: profit by country x month over {total:,} orders: "
            f"{len(table.rows)} rows in {elapsed:.3f} s (goal < 2 s)"
        )


if __name__ == "__main__":
    main()
