"""WooCommerce "Default - One Row per Item" order export → canonical orders (pure)."""

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from connectors.importers.rows import RowError, Table
from connectors.importers.woocommerce_csv import (
    WooCommerceCsvParser,
    shipping_items_parse,
)
from orders.canonical import CanonicalAddress, CanonicalShippingLine
from orders.choices import FinancialStatus, FulfillmentStatus

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")


def parse_file(path, *, currency="EUR", tz=PARIS):
    with open(path, "rb") as stream:
        parser = WooCommerceCsvParser(store_currency=currency, tz=tz)
        return list(parser.parse(Table(stream)))


def test_export_becomes_orders_in_utc_with_lines_and_shipping(fixture_path):
    parsed = parse_file(fixture_path("woocommerce_orders_one_row_per_item.csv"))

    assert [(p.key, p.first_row, p.last_row, p.errors) for p in parsed] == [
        ("1201", 2, 3, ()),
        ("1202", 4, 5, ()),
        ("1203", 6, 6, ()),
        ("1204", 7, 7, ()),
    ]
    completed = parsed[0].order
    # 00:30 on 1 November in Paris is 23:30 on 31 October in UTC.
    assert completed.placed_at == dt.datetime(2025, 10, 31, 23, 30, tzinfo=UTC)
    assert completed.financial_status == FinancialStatus.PAID
    assert completed.fulfillment_status == FulfillmentStatus.FULFILLED
    assert (
        completed.subtotal,
        completed.discount_total,
        completed.shipping_total,
        completed.tax_total,
        completed.total,
    ) == (
        Decimal("82.00"),
        Decimal("8.20"),
        Decimal("4.90"),
        Decimal("15.74"),
        Decimal("94.44"),
    )
    assert [
        (ln.external_id, ln.sku, ln.quantity, ln.unit_price, ln.discount_total, ln.tax_total)
        for ln in completed.lines
    ] == [
        ("501", "HOOD-NVY-L", 2, Decimal("35.00"), Decimal("7.00"), Decimal("12.60")),
        ("502", "MUG-ENM-01", 1, Decimal("12.00"), Decimal("1.20"), Decimal("2.16")),
    ]  # fmt: skip
    assert completed.shipping_lines == (
        CanonicalShippingLine(
            title="Flat rate", price=Decimal("4.90"), code="flat_rate"
        ),
    )
    assert completed.shipping_address == CanonicalAddress(
        name="Camille Durand",
        line1="12 rue de la Paix",
        line2="Bât. B",
        city="Paris",
        postal_code="75002",
        country_code="FR",
    )
    assert completed.customer.external_id == "17"
    [payment] = completed.transactions
    assert (payment.external_id, payment.gateway, payment.amount) == (
        "1201:payment",
        "stripe",
        Decimal("94.44"),
    )


def test_refunds_cancellations_and_unpaid_orders(fixture_path):
    orders = {
        p.key: p.order
        for p in parse_file(fixture_path("woocommerce_orders_one_row_per_item.csv"))
    }

    refunded = orders["1202"]
    assert refunded.financial_status == FinancialStatus.PARTIALLY_REFUNDED
    [refund] = refunded.refunds
    assert (refund.external_id, refund.amount, refund.lines) == (
        "1202:refund",
        Decimal("14.40"),
        (("512", 1, False),),
    )
    assert refunded.customer.external_id == ""  # customer_id 0: a guest
    assert refunded.shipping_address.company == "Weber & Söhne"

    cancelled = orders["1203"]
    assert cancelled.cancelled_at == dt.datetime(2025, 11, 20, 8, 0, tzinfo=UTC)
    assert cancelled.financial_status == FinancialStatus.VOIDED
    assert cancelled.transactions == ()
    assert cancelled.shipping_address.province_code == "MI"

    on_hold = orders["1204"]
    assert on_hold.financial_status == FinancialStatus.PENDING
    assert on_hold.transactions == ()
    assert on_hold.note == "Please gift-wrap"
    # A deleted product is written as "unknown_product": no SKU, the title stays.
    assert [(ln.sku, ln.title) for ln in on_hold.lines] == [("", "Retired print")]


def test_unit_price_comes_from_the_subtotal_when_the_export_has_no_item_price(
    fixture_path,
):
    rows = list(
        csv.DictReader(
            fixture_path("woocommerce_orders_one_row_per_item.csv").open(
                encoding="utf-8", newline=""
            )
        )
    )
    out = io.StringIO()
    columns = [c for c in rows[0] if c != "item_price"]  # a v4 export
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows[:2])
    rows_v4 = io.BytesIO(out.getvalue().encode())

    [parsed] = WooCommerceCsvParser(store_currency="EUR", tz=PARIS).parse(
        Table(rows_v4)
    )

    assert [ln.unit_price for ln in parsed.order.lines] == [
        Decimal("35.0000"),
        Decimal("12.0000"),
    ]


def test_unknown_status_and_bad_amounts_are_reported_per_cell(fixture_path):
    text = fixture_path("woocommerce_orders_one_row_per_item.csv").read_text(
        encoding="utf-8"
    )
    lines = text.splitlines()
    broken = lines[1].replace('"completed"', '"shipped-ish"', 1)
    broken = broken.replace('"63.00"', '"63,00"', 1)
    stream = io.BytesIO("\r\n".join([lines[0], broken, lines[2]]).encode())

    [parsed] = WooCommerceCsvParser(store_currency="EUR", tz=PARIS).parse(Table(stream))

    assert parsed.order is None
    assert sorted(parsed.errors) == [
        RowError(2, "item_total", "'63,00' is not an amount (write it like 1234.50)."),
        RowError(2, "status", "Unknown order status 'shipped-ish'."),
    ]


def test_shipping_items_honour_escaped_separators():
    assert shipping_items_parse(
        r"id:1|method_id:flat_rate|method_title:Express\: 1\|2 days|total:9.50;"
        "id:2|method_id:local_pickup|method_title:Pickup|total:0.00"
    ) == [
        CanonicalShippingLine(
            title="Express: 1|2 days", price=Decimal("9.50"), code="flat_rate"
        ),
        CanonicalShippingLine(
            title="Pickup", price=Decimal("0.00"), code="local_pickup"
        ),
    ]
    assert shipping_items_parse("Flat rate") is None
