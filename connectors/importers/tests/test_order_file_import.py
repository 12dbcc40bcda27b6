"""Importing files through the one order upsert: rows, money, re-runs, bad rows, the check."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db.models import Max

from connectors.importers.rows import ImportFileError, RowError, Table
from connectors.importers.services import ImportProgress, order_file_import
from connectors.importers.shopify_csv import ShopifyCsvParser
from erp.core.models import OutboxMessage
from finance.models import Payment, Refund, RefundLine
from inventory.models import Allocation
from orders.canonical import OrderSource
from orders.choices import OrderStatus
from orders.models import Order, OrderEvent, OrderImportFormat, OrderLine
from orders.services.ingest import order_ingest

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def run(path, store, file_format=OrderImportFormat.SHOPIFY_CSV, **kwargs):
    with open(path, "rb") as stream:
        return order_file_import(
            channel_id=store.pk, stream=stream, file_format=file_format, **kwargs
        )


def snapshot():
    """Every row the import can touch, with its last change."""
    return {
        model.__name__: (
            model.objects.count(),
            model.objects.aggregate(m=Max("updated_at"))["m"]
            if hasattr(model, "updated_at")
            else None,
        )
        for model in (Order, OrderLine, OrderEvent, Payment, Refund)
    }


def test_shopify_sample_imports_the_right_orders_lines_and_money(
    fixture_path, inr_store
):
    result = run(fixture_path("shopify_orders_export_sample.csv"), inr_store)

    assert (result.total, result.created, result.failed, result.errors) == (2, 2, 0, ())
    orders = {o.number: o for o in Order.objects.filter(channel=inr_store)}
    assert set(orders) == {"#1050", "#1044"}
    first = orders["#1050"]
    assert (first.external_id, first.currency, first.total, first.subtotal) == (
        "6798481490219",
        "INR",
        Decimal("11594.0000"),
        Decimal("11594.0000"),
    )
    assert first.placed_at == dt.datetime(2025, 12, 6, 15, 37, 30, tzinfo=UTC)
    assert first.source == OrderSource.IMPORT
    assert first.status == OrderStatus.NEW  # unfulfilled in the store, not reviewed
    assert list(first.lines.values_list("external_id", "sku", "quantity", "unit_price")) == [
        ("6798481490219:1", "LW-MIN-BRN", 1, Decimal("3499.0000")),
        ("6798481490219:2", "YM-ECO-001", 2, Decimal("2499.0000")),
        ("6798481490219:3", "SC-LAV-VAN", 2, Decimal("899.0000")),
        ("6798481490219:4", "CB-ETH-500", 1, Decimal("1299.0000")),
    ]  # fmt: skip
    assert first.billing_address["name"] == "REDACTED"
    second = orders["#1044"]
    assert (second.tax_total, second.total) == (
        Decimal("1466.2800"),
        Decimal("17758.2800"),
    )
    assert second.lines.count() == 5
    assert second.shipping_address["country_code"] == "IN"
    assert list(Payment.objects.values_list("order__number", "gateway", "amount")) == [
        ("#1044", "manual", Decimal("17758.2800"))
    ]
    # History: nothing reserved, nothing for the store.
    assert Allocation.objects.exists() is False
    assert (
        OutboxMessage.objects.exclude(topic="inventory.available_changed").exists()
        is False
    )
    assert result.check.matches is True
    assert result.check.as_dict()["months"] == [
        {
            "month": "2025-12",
            "file": {"orders": 2, "gross": "29352.28", "refunds": "0.00"},
            "database": {"orders": 2, "gross": "29352.28", "refunds": "0.00"},
            "matches": True,
        }
    ]


def test_addresses_refunds_and_statuses_land_in_orders_and_finance(
    fixture_path, usd_store
):
    result = run(fixture_path("shopify_orders_export_full.csv"), usd_store)

    assert (result.created, result.failed) == (3, 0)
    berlin = Order.objects.get(number="#2001")
    assert berlin.shipping_address == {
        "name": "Lena Schmidt",
        "company": "Schmidt GmbH",
        "line1": "Hauptstraße 5",
        "line2": "Hinterhaus",
        "city": "Berlin",
        "province": "Berlin",
        "province_code": "BE",
        "postal_code": "01067",
        "country_code": "DE",
        "phone": "+49 30 1234567",
    }
    assert berlin.status == OrderStatus.SHIPPED
    assert berlin.shipping_lines == [
        {"title": "DHL Express", "code": "", "price": "12.50"}
    ]
    assert berlin.customer.email == "lena.schmidt@example.de"
    shanghai = Order.objects.get(number="#2002")
    assert shanghai.shipping_address["line1"] == "浦东新区世纪大道100号"
    assert list(
        Refund.objects.values_list("order__number", "external_id", "amount")
    ) == [("#2002", "5860012345002:refund", Decimal("29.9000"))]
    assert Order.objects.get(number="#2003").status == OrderStatus.CANCELLED
    assert [
        (m["month"], m["file"], m["matches"]) for m in result.check.as_dict()["months"]
    ] == [
        ("2025-11", {"orders": 1, "gross": "102.50", "refunds": "0.00"}, True),
        ("2025-12", {"orders": 1, "gross": "59.80", "refunds": "29.90"}, True),
        ("2026-01", {"orders": 1, "gross": "21.20", "refunds": "0.00"}, True),
    ]


def test_the_second_run_changes_nothing(fixture_path, usd_store):
    run(fixture_path("shopify_orders_export_full.csv"), usd_store)
    before = snapshot()

    again = run(fixture_path("shopify_orders_export_full.csv"), usd_store)

    assert (again.created, again.changed, again.unchanged, again.failed) == (0, 0, 3, 0)
    assert snapshot() == before
    assert again.check.matches is True


def test_a_broken_row_imports_the_good_orders_and_reports_the_broken_one(
    fixture_path, inr_store
):
    result = run(fixture_path("shopify_orders_export_broken.csv"), inr_store)

    assert (result.total, result.created, result.failed) == (2, 1, 1)
    assert result.errors == (
        RowError(8, "Lineitem quantity", "'two' is not a whole number of 0 or more."),
    )
    assert list(Order.objects.values_list("number", flat=True)) == ["#1050"]
    # Nothing of the broken order was written: no order, no lines, no payment.
    assert (
        OrderLine.objects.filter(external_id__startswith="6798479098155").exists()
        is False
    )
    assert Payment.objects.exists() is False
    # The check shows the order that did not make it.
    [month] = result.check.months
    assert (month.file.orders, month.database.orders, month.matches) == (2, 1, False)
    assert month.file.gross == Decimal("29352.2800")
    assert month.database.gross == Decimal("11594.0000")


def test_dry_run_reads_and_checks_but_writes_nothing(fixture_path, inr_store):
    result = run(
        fixture_path("shopify_orders_export_sample.csv"), inr_store, dry_run=True
    )

    assert (result.total, result.created, result.failed, result.dry_run) == (
        2,
        0,
        0,
        True,
    )
    assert Order.objects.exists() is False
    assert OrderEvent.objects.exists() is False
    [month] = result.check.months
    assert (month.file.orders, month.database.orders) == (2, 0)


def test_an_order_the_live_sync_stored_is_left_as_it_is(fixture_path, inr_store):
    with open(fixture_path("shopify_orders_export_sample.csv"), "rb") as stream:
        live = next(ShopifyCsvParser(store_currency="INR").parse(Table(stream))).order
    order_ingest(channel_id=inr_store.pk, data=live, source=OrderSource.WEBHOOK)
    live_row = Order.objects.values().get(external_id=live.external_id)

    result = run(fixture_path("shopify_orders_export_sample.csv"), inr_store)

    assert (result.created, result.unchanged) == (1, 1)
    assert Order.objects.values().get(external_id=live.external_id) == live_row
    assert Order.objects.count() == 2
    assert result.check.matches is True


def test_an_order_the_ingest_refuses_is_reported_at_its_first_row(usd_store):
    mapping = (
        b'{"columns": {"order_id": "id", "placed_at": "at", "total": "total",'
        b' "line_id": "line", "line_sku": "sku", "line_quantity": "qty",'
        b' "line_unit_price": "price"}}'
    )
    stream = io.BytesIO(
        b"id,at,total,line,sku,qty,price\n"
        b"1,2025-03-01T10:00:00Z,5.00,L1,A,1,5.00\n"
        b"2,2025-03-02T10:00:00Z,9.00,L1,B,1,4.50\n"
        b"2,2025-03-02T10:00:00Z,9.00,L1,C,1,4.50\n"
    )

    result = order_file_import(
        channel_id=usd_store.pk,
        stream=stream,
        file_format=OrderImportFormat.GENERIC,
        mapping=mapping,
    )

    assert (result.created, result.failed) == (1, 1)
    [error] = result.errors
    assert (error.row, error.column) == (3, "")
    assert "line id L1 appears twice" in error.problem
    assert list(Order.objects.values_list("external_id", flat=True)) == ["1"]


def test_woocommerce_and_generic_files_import_and_check(
    fixture_path, eur_store, usd_store
):
    woo = run(
        fixture_path("woocommerce_orders_one_row_per_item.csv"),
        eur_store,
        OrderImportFormat.WOOCOMMERCE_CSV,
        timezone_name="Europe/Paris",
    )
    generic = run(
        fixture_path("generic_orders.csv"),
        usd_store,
        OrderImportFormat.GENERIC,
        mapping=fixture_path("generic_mapping.json").read_bytes(),
    )

    assert (woo.created, woo.failed, woo.check.matches) == (4, 0, True)
    assert [(m.month, m.file.orders) for m in woo.check.months] == [
        ("2025-10", 1),
        ("2025-11", 2),
        ("2025-12", 1),
    ]
    assert list(
        RefundLine.objects.values_list(
            "line_external_id", "order_line__sku", "quantity"
        )
    ) == [("512", "MUG-ENM-01", 1)]
    assert (generic.created, generic.failed, generic.check.matches) == (2, 0, True)
    assert Order.objects.get(channel=usd_store, external_id="A1002").status == (
        OrderStatus.REFUNDED
    )


def test_progress_is_reported_per_order(fixture_path, inr_store):
    seen: list[ImportProgress] = []

    run(
        fixture_path("shopify_orders_export_sample.csv"),
        inr_store,
        on_progress=seen.append,
    )

    assert seen == [
        ImportProgress(total=2, done=0, failed=0, created=0, changed=0),
        ImportProgress(total=2, done=1, failed=0, created=1, changed=0),
        ImportProgress(total=2, done=2, failed=0, created=2, changed=0),
    ]


def test_an_unreadable_file_is_refused_before_anything_is_written(inr_store):
    with pytest.raises(ImportFileError) as info:
        order_file_import(
            channel_id=inr_store.pk,
            stream=io.BytesIO(b"PK\x03\x04not really a workbook"),
            file_format=OrderImportFormat.GENERIC,
            mapping=b'{"columns": {"order_id": "a", "placed_at": "b", "total": "c",'
            b' "line_sku": "d", "line_quantity": "e", "line_unit_price": "f"}}',
        )

    assert "could not be read as XLSX" in info.value.message
    assert Order.objects.exists() is False


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_parallel_import_gives_the_same_orders_as_a_serial_one(
    fixture_path, usd_store
):
    result = run(fixture_path("shopify_orders_export_full.csv"), usd_store, jobs=2)
    again = run(fixture_path("shopify_orders_export_full.csv"), usd_store, jobs=2)

    assert (result.created, result.failed, result.check.matches) == (3, 0, True)
    assert (again.created, again.changed, again.unchanged) == (0, 0, 3)
    assert set(Order.objects.values_list("number", "status")) == {
        ("#2001", OrderStatus.SHIPPED),
        ("#2002", OrderStatus.SHIPPED),
        ("#2003", OrderStatus.CANCELLED),
    }
    assert OrderLine.objects.count() == 4
    assert Refund.objects.get().amount == Decimal("29.9000")
