"""Shopify "Export orders" CSV → canonical orders (pure, no database)."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from connectors.importers.rows import ImportFileError, RowError, Table
from connectors.importers.shopify_csv import ShopifyCsvParser
from orders.canonical import CanonicalAddress, RiskLevel, TransactionKind
from orders.choices import FinancialStatus, FulfillmentStatus

UTC = dt.UTC


def parse(path, currency="INR"):
    with open(path, "rb") as stream:
        return list(ShopifyCsvParser(store_currency=currency).parse(Table(stream)))


def csv_bytes(header: str, *rows: str) -> io.BytesIO:
    return io.BytesIO(("\n".join([header, *rows]) + "\n").encode())


def test_real_export_sample_becomes_two_orders_with_every_line(fixture_path):
    parsed = parse(fixture_path("shopify_orders_export_sample.csv"))

    assert [(p.key, p.first_row, p.last_row, p.errors) for p in parsed] == [
        ("#1050", 2, 5, ()),
        ("#1044", 6, 10, ()),
    ]
    first, second = (p.order for p in parsed)
    assert first.external_id == "6798481490219"
    assert first.number == "#1050"
    assert first.currency == "INR"
    assert first.placed_at == dt.datetime(2025, 12, 6, 15, 37, 30, tzinfo=UTC)
    assert first.store_updated_at == first.placed_at
    assert (first.subtotal, first.shipping_total, first.tax_total, first.total) == (
        Decimal("11594.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("11594.00"),
    )
    assert first.financial_status == FinancialStatus.PAID
    assert first.fulfillment_status == FulfillmentStatus.UNFULFILLED
    assert first.risk_level == RiskLevel.LOW
    assert [
        (ln.external_id, ln.sku, ln.title, ln.quantity, ln.unit_price)
        for ln in first.lines
    ] == [
        ("6798481490219:1", "LW-MIN-BRN", "Minimalist Leather Wallet", 1, Decimal("3499.00")),
        ("6798481490219:2", "YM-ECO-001", "Premium Eco-Friendly Yoga Mat", 2, Decimal("2499.00")),
        ("6798481490219:3", "SC-LAV-VAN", "Lavender & Vanilla Soy Candle", 2, Decimal("899.00")),
        ("6798481490219:4", "CB-ETH-500", "Organic Ethiopian Coffee Beans", 1, Decimal("1299.00")),
    ]  # fmt: skip
    # Paid, but the export has no "Paid at": no payment is made up.
    assert first.transactions == ()
    assert first.billing_address == CanonicalAddress(name="REDACTED")

    assert second.external_id == "6798479098155"
    assert (second.subtotal, second.tax_total, second.total) == (
        Decimal("16292.00"),
        Decimal("1466.28"),
        Decimal("17758.28"),
    )
    assert sum(ln.unit_price * ln.quantity for ln in second.lines) == second.subtotal
    assert len(second.lines) == 5
    assert second.store_updated_at == dt.datetime(2025, 12, 6, 15, 36, 17, tzinfo=UTC)
    assert second.shipping_address == CanonicalAddress(
        name="REDACTED", country_code="IN"
    )
    [payment] = second.transactions
    assert (payment.external_id, payment.kind, payment.gateway, payment.amount) == (
        "rGwene7p4S12XQB1nu5iSBNG8",
        TransactionKind.SALE,
        "manual",
        Decimal("17758.28"),
    )
    assert payment.processed_at == dt.datetime(2025, 12, 6, 15, 36, 17, tzinfo=UTC)


def test_addresses_refunds_and_cancellations_are_read(fixture_path):
    orders = {
        p.key: p.order
        for p in parse(fixture_path("shopify_orders_export_full.csv"), "USD")
    }

    berlin = orders["#2001"]
    assert berlin.shipping_address == CanonicalAddress(
        name="Lena Schmidt",
        company="Schmidt GmbH",
        line1="Hauptstraße 5",
        line2="Hinterhaus",
        city="Berlin",
        province="Berlin",
        province_code="BE",
        postal_code="01067",  # Shopify's "'01067" without the apostrophe
        country_code="DE",
        phone="+49 30 1234567",
    )
    assert berlin.placed_at == dt.datetime(2025, 11, 30, 22, 9, 41, tzinfo=UTC)
    assert berlin.store_updated_at == dt.datetime(2025, 12, 2, 8, 0, tzinfo=UTC)
    assert berlin.fulfillment_status == FulfillmentStatus.FULFILLED
    assert berlin.discount_total == Decimal("10.00")
    assert [(s.title, s.price) for s in berlin.shipping_lines] == [
        ("DHL Express", Decimal("12.50"))
    ]
    assert berlin.tags == ("VIP", "wholesale")
    assert berlin.note == "Bitte klingeln"
    assert [(ln.discount_total, ln.requires_shipping) for ln in berlin.lines] == [
        (Decimal("5.00"), True),
        (Decimal("5.00"), False),
    ]
    assert (berlin.customer.first_name, berlin.customer.last_name) == (
        "Lena",
        "Schmidt",
    )

    shanghai = orders["#2002"]
    assert shanghai.shipping_address.line1 == "浦东新区世纪大道100号"
    assert shanghai.shipping_address.city == "上海"
    assert shanghai.financial_status == FinancialStatus.PARTIALLY_REFUNDED
    [refund] = shanghai.refunds
    assert (refund.external_id, refund.amount, refund.created_at) == (
        "5860012345002:refund",
        Decimal("29.90"),
        dt.datetime(2025, 12, 16, 10, 30, tzinfo=UTC),
    )
    assert shanghai.risk_level == RiskLevel.MEDIUM

    cancelled = orders["#2003"]
    assert cancelled.cancelled_at == dt.datetime(2026, 1, 3, 15, 30, tzinfo=UTC)
    assert cancelled.financial_status == FinancialStatus.VOIDED
    assert cancelled.transactions == ()


def test_a_broken_row_refuses_its_whole_order_and_names_row_and_column(fixture_path):
    parsed = parse(fixture_path("shopify_orders_export_broken.csv"))

    good, broken = parsed
    assert good.order is not None
    assert good.errors == ()
    assert broken.order is None
    assert broken.errors == (
        RowError(8, "Lineitem quantity", "'two' is not a whole number of 0 or more."),
    )
    # The check still counts the refused order in its month.
    assert broken.placed_at == dt.datetime(2025, 12, 6, 15, 36, 16, tzinfo=UTC)
    assert broken.total == Decimal("17758.28")


def test_an_order_in_another_currency_than_the_store_is_refused(fixture_path):
    parsed = parse(fixture_path("shopify_orders_export_sample.csv"), currency="USD")

    assert [p.order for p in parsed] == [None, None]
    assert parsed[0].errors == (
        RowError(
            2,
            "Currency",
            "The order is in INR but the store's currency is USD; is this the right store?",
        ),
    )


def test_every_bad_cell_of_an_order_is_reported(fixture_path):
    header = (fixture_path("shopify_orders_export_header.csv")).read_text().strip()
    columns = header.split(",")

    def row(**values):
        return ",".join(values.get(c, "") for c in columns)

    stream = csv_bytes(
        header,
        row(**{"Name": "#1", "Id": "1", "Currency": "USD", "Total": "1O.00",
               "Created at": "yesterday", "Lineitem quantity": "1",
               "Lineitem name": "A", "Lineitem price": "10.00"}),
        row(**{"Name": "#1", "Lineitem quantity": "-1", "Lineitem name": "",
               "Lineitem price": "x"}),
    )  # fmt: skip

    [parsed] = ShopifyCsvParser(store_currency="USD").parse(Table(stream))

    assert parsed.order is None
    assert sorted(parsed.errors) == [
        RowError(2, "Created at", "'yesterday' is not a date and time."),
        RowError(2, "Total", "'1O.00' is not an amount (write it like 1234.50)."),
        RowError(3, "Lineitem name", "This cell is empty; it is required."),
        RowError(3, "Lineitem price", "'x' is not an amount (write it like 1234.50)."),
        RowError(3, "Lineitem quantity", "'-1' is not a whole number of 0 or more."),
    ]


def test_rows_of_one_order_must_be_together(fixture_path):
    lines = fixture_path("shopify_orders_export_sample.csv").read_text().splitlines()
    # #1050's last line moved after #1044.
    stream = csv_bytes(lines[0], *lines[1:4], *lines[5:10], lines[4])

    parsed = list(ShopifyCsvParser(store_currency="INR").parse(Table(stream)))

    assert [(p.key, p.first_row, p.order is not None) for p in parsed] == [
        ("#1050", 2, True),
        ("#1044", 5, True),
        ("#1050", 10, False),
    ]
    assert parsed[2].errors == (
        RowError(
            10,
            "Name",
            "Order #1050 already appeared at row 2; the rows of one order must be together.",
        ),
    )
    assert parsed[2].is_repeat is True


def test_a_file_without_the_order_id_column_is_refused_whole():
    stream = csv_bytes(
        "Name,Email,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price",
        "#1,a@example.com,USD,10.00,2025-01-01 10:00:00 +0000,1,A,10.00",
    )

    with pytest.raises(ImportFileError) as info:
        list(ShopifyCsvParser(store_currency="USD").parse(Table(stream)))

    assert info.value.extra["missing"] == ["Id"]


def test_the_bare_header_is_a_file_without_orders(fixture_path):
    assert parse(fixture_path("shopify_orders_export_header.csv")) == []
