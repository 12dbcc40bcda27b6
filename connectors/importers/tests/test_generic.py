"""Any CSV/XLSX of orders with a column mapping → canonical orders (pure)."""

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from openpyxl import Workbook

from connectors.importers.generic import GenericParser, mapping_load
from connectors.importers.rows import ImportFileError, RowError, Table
from orders.choices import FinancialStatus, FulfillmentStatus

UTC = dt.UTC


@pytest.fixture
def mapping(fixture_path):
    return mapping_load(fixture_path("generic_mapping.json").read_bytes())


def parse(stream, mapping, currency="USD"):
    parser = GenericParser(store_currency=currency, mapping=mapping)
    return list(
        parser.parse(Table(stream, sheet=mapping.sheet, delimiter=mapping.delimiter))
    )


def test_a_chinese_sheet_is_read_through_its_mapping(fixture_path, mapping):
    with fixture_path("generic_orders.csv").open("rb") as stream:
        parsed = parse(stream, mapping)

    assert [(p.key, p.errors) for p in parsed] == [("A1001", ()), ("A1002", ())]
    beijing, refunded = (p.order for p in parsed)
    # Asia/Shanghai 23:30 on 31 December is 15:30 UTC, still December.
    assert beijing.placed_at == dt.datetime(2025, 12, 31, 15, 30, tzinfo=UTC)
    assert beijing.financial_status == FinancialStatus.PAID
    assert beijing.fulfillment_status == FulfillmentStatus.FULFILLED
    # Rows 2 and 4 are one order although another order sits between them.
    assert [
        (ln.external_id, ln.sku, ln.title, ln.quantity, ln.unit_price)
        for ln in beijing.lines
    ] == [
        ("A1001:1", "TEA-GRN-100", "西湖龙井 100g", 2, Decimal("20.00")),
        ("A1001:2", "CUP-CER-01", "青瓷茶杯", 1, Decimal("15.00")),
    ]
    assert (beijing.subtotal, beijing.shipping_total, beijing.total) == (
        Decimal("55.00"),
        Decimal("5.00"),
        Decimal("60.00"),
    )
    assert beijing.shipping_address.name == "李雷"
    assert beijing.shipping_address.province == "北京市"
    assert beijing.shipping_address.country_code == "CN"
    [payment] = beijing.transactions
    assert (payment.gateway, payment.amount, payment.processed_at) == (
        "alipay",
        Decimal("60.00"),
        dt.datetime(2025, 12, 31, 15, 31, tzinfo=UTC),
    )

    assert refunded.financial_status == FinancialStatus.REFUNDED
    assert [(r.external_id, r.amount) for r in refunded.refunds] == [
        ("A1002:refund", Decimal("18.00"))
    ]
    assert refunded.lines[0].title == "Oolong, 50g"


def test_an_xlsx_of_the_same_rows_gives_the_same_orders(fixture_path, mapping):
    rows = list(csv.reader(fixture_path("generic_orders.csv").open(encoding="utf-8")))
    book = Workbook()
    sheet = book.active
    for i, row in enumerate(rows):
        if i == 0:
            sheet.append(row)
            continue
        cells: list[object] = list(row)
        # As spreadsheet programs store them: numbers as numbers.
        for column in ("订单金额", "运费", "退款金额", "数量", "单价"):
            index = rows[0].index(column)
            cells[index] = float(row[index])
        sheet.append(cells)
    content = io.BytesIO()
    book.save(content)

    with fixture_path("generic_orders.csv").open("rb") as stream:
        from_csv = [p.order for p in parse(stream, mapping)]
    from_xlsx = [p.order for p in parse(content, mapping)]

    assert from_xlsx == from_csv


def test_semicolons_decimal_commas_and_value_words_from_the_mapping():
    mapping = mapping_load(
        json.dumps(
            {
                "columns": {
                    "order_id": "Nr",
                    "placed_at": "Datum",
                    "total": "Summe",
                    "financial_status": "Zahlung",
                    "line_title": "Artikel",
                    "line_quantity": "Menge",
                    "line_unit_price": "Preis",
                },
                "decimal_comma": True,
                "delimiter": ";",
                "currency": "EUR",
                "date_formats": ["%d.%m.%Y %H:%M"],
                "timezone": "Europe/Berlin",
                "values": {"financial_status": {"Bezahlt": "paid"}},
            }
        ).encode()
    )
    # As Excel saves "CSV" where the comma is the decimal mark.
    stream = io.BytesIO(
        b"Nr;Datum;Summe;Zahlung;Artikel;Menge;Preis\r\n"
        b"7;15.07.2025 09:00;1.234,50;Bezahlt;Tisch;1;1.234,50\r\n"
    )

    [parsed] = parse(stream, mapping, currency="EUR")

    assert parsed.errors == ()
    assert parsed.order.total == Decimal("1234.50")
    assert parsed.order.placed_at == dt.datetime(2025, 7, 15, 7, 0, tzinfo=UTC)
    assert parsed.order.financial_status == FinancialStatus.PAID
    assert parsed.order.currency == "EUR"


def test_bad_cells_are_reported_by_row_and_mapped_column(fixture_path, mapping):
    text = fixture_path("generic_orders.csv").read_text(encoding="utf-8")
    text = text.replace("已退款", "退了一半").replace(
        "A1001,2025/12/31 23:30,USD,60.00", "A1001,2025/12/31 23:30,USD,六十"
    )

    parsed = parse(io.BytesIO(text.encode()), mapping)

    assert [(p.key, p.order is None, p.errors) for p in parsed] == [
        ("A1001", True, (RowError(2, "订单金额", "'六十' is not an amount (write it like 1234.50)."),)),
        ("A1002", True, (RowError(3, "付款状态", "Unknown financial status '退了一半'."),)),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{", "it is not JSON"),
        (b'{"columns": []}', 'it needs a "columns" object'),
        (
            b'{"columns": {"order_id": "A", "placed_at": "B", "total": "C", '
            b'"line_quantity": "D", "line_unit_price": "E", "colour": "F"}}',
            "unknown field(s) colour.",
        ),
        (
            b'{"columns": {"order_id": "A", "total": "C"}}',
            "it does not map placed_at, line_quantity, line_unit_price, "
            "line_title or line_sku.",
        ),
        (
            b'{"columns": {"order_id": "A", "placed_at": "B", "total": "C", '
            b'"line_sku": "S", "line_quantity": "D", "line_unit_price": "E"}, '
            b'"timezone": "Mars/Olympus"}',
            "Unknown time zone 'Mars/Olympus'",
        ),
    ],
)
def test_a_wrong_mapping_is_refused_before_any_row(content, message):
    with pytest.raises(ImportFileError) as info:
        mapping_load(content)

    assert message in info.value.message


def test_a_mapped_column_missing_from_the_file_is_refused(fixture_path, mapping):
    text = fixture_path("generic_orders.csv").read_text(encoding="utf-8")
    stream = io.BytesIO(text.replace("单价", "价格", 1).encode())

    with pytest.raises(ImportFileError) as info:
        parse(stream, mapping)

    assert info.value.extra["missing"] == ["单价"]
