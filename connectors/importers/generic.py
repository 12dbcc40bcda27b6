"""Any CSV/XLSX of orders → canonical orders, with a JSON file naming the columns.

One row per line item; the order fields are read from the first row of each order
(later rows may repeat them or leave them empty), and the rows of one order may be
anywhere in the sheet. The mapping file:

    {
      "columns": {"order_id": "Order No", "placed_at": "Date", "total": "Total",
                  "line_sku": "SKU", "line_quantity": "Qty", "line_unit_price": "Price"},
      "timezone": "Asia/Shanghai",          # times written without an offset
      "date_formats": ["%d/%m/%Y %H:%M"],   # besides ISO 8601
      "decimal_comma": false,               # true for 1.234,50
      "currency": "EUR",                    # when there is no currency column
      "sheet": "Orders",                    # XLSX: the sheet (default: the first)
      "delimiter": ";",                     # CSV: what separates cells (default ,)
      "values": {"financial_status": {"Bezahlt": "paid"},
                 "fulfillment_status": {"Versendet": "fulfilled"}}
    }

Only "columns" is required; its keys are the canonical fields below, its values the
file's headers. Without line ids, lines get "<order id>:<position>".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_noop

from connectors.importers.rows import (
    ID_MAX_LENGTH,
    SKU_MAX_LENGTH,
    Cells,
    ImportFileError,
    ParsedOrder,
    RowError,
    RowGroup,
    Table,
    currency_check,
    latest,
    rows_group_all,
    timezone_get,
)
from erp.core.text import Phrase
from orders.canonical import (
    CanonicalAddress,
    CanonicalCustomer,
    CanonicalLine,
    CanonicalOrder,
    CanonicalRefund,
    CanonicalShippingLine,
    CanonicalTransaction,
    TransactionKind,
)
from orders.choices import FinancialStatus, FulfillmentStatus

_ADDRESS_PARTS = (
    "name",
    "company",
    "address1",
    "address2",
    "city",
    "province",
    "province_code",
    "postal_code",
    "country_code",
    "phone",
)
ORDER_FIELDS = (
    "order_id",
    "number",
    "placed_at",
    "updated_at",
    "currency",
    "total",
    "subtotal",
    "shipping_total",
    "tax_total",
    "discount_total",
    "financial_status",
    "fulfillment_status",
    "cancelled_at",
    "email",
    "phone",
    "first_name",
    "last_name",
    "note",
    "tags",
    "paid_at",
    "payment_gateway",
    "payment_reference",
    "refunded_amount",
    "refunded_at",
    "shipping_method",
    *(f"shipping_{p}" for p in _ADDRESS_PARTS),
    *(f"billing_{p}" for p in _ADDRESS_PARTS),
)
LINE_FIELDS = (
    "line_id",
    "line_sku",
    "line_title",
    "line_variant_title",
    "line_quantity",
    "line_unit_price",
    "line_discount",
    "line_tax",
    "line_requires_shipping",
)
REQUIRED_FIELDS = ("order_id", "placed_at", "total", "line_quantity", "line_unit_price")

# Our words, plus the ones stores and spreadsheets commonly use.
FINANCIAL_WORDS: dict[str, str] = {
    **{v: v for v in FinancialStatus.values},
    "paid": FinancialStatus.PAID,
    "unpaid": FinancialStatus.PENDING,
    "expired": FinancialStatus.VOIDED,
    "void": FinancialStatus.VOIDED,
}
FULFILLMENT_WORDS: dict[str, str] = {
    **{v: v for v in FulfillmentStatus.values},
    "shipped": FulfillmentStatus.FULFILLED,
    "unshipped": FulfillmentStatus.UNFULFILLED,
    "partially_fulfilled": FulfillmentStatus.PARTIAL,
    "partially_shipped": FulfillmentStatus.PARTIAL,
}
_PAID_STATUSES = frozenset(
    {
        FinancialStatus.PAID,
        FinancialStatus.PARTIALLY_PAID,
        FinancialStatus.PARTIALLY_REFUNDED,
        FinancialStatus.REFUNDED,
    }
)


@dataclass(frozen=True)
class ColumnMapping:
    """A validated mapping file: canonical field → file column, plus reading options."""

    columns: dict[str, str]
    tz: dt.tzinfo = dt.UTC
    date_formats: tuple[str, ...] = ()
    decimal_comma: bool = False
    currency: str = ""
    sheet: str = ""
    delimiter: str = ","
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    def column(self, name: str) -> str | None:
        return self.columns.get(name)


def _fail(message: str, **extra: Any) -> ImportFileError:
    return ImportFileError(
        Phrase(
            gettext_noop("The column mapping is wrong: %(problem)s"), problem=message
        ),
        **extra,
    )


def mapping_load(content: bytes) -> ColumnMapping:
    """Read and check a mapping file.

    Raises: ImportFileError naming what is wrong.
    """
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(
            Phrase(gettext_noop("it is not JSON (%(error)s)."), error=exc)
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise _fail(
            Phrase(
                gettext_noop('it needs a "columns" object of field → column header.')
            )
        )
    columns = data["columns"]
    known = set(ORDER_FIELDS) | set(LINE_FIELDS)
    unknown = sorted(k for k in columns if k not in known)
    if unknown:
        raise _fail(
            Phrase(
                gettext_noop("unknown field(s) %(fields)s."), fields=", ".join(unknown)
            ),
            unknown=unknown,
            allowed=sorted(known),
        )
    if not all(isinstance(v, str) and v.strip() for v in columns.values()):
        raise _fail(
            Phrase(gettext_noop("every field must name a column header (text)."))
        )
    missing = [f for f in REQUIRED_FIELDS if f not in columns]
    if "line_title" not in columns and "line_sku" not in columns:
        missing.append("line_title or line_sku")
    if missing:
        raise _fail(
            Phrase(
                gettext_noop("it does not map %(fields)s."), fields=", ".join(missing)
            ),
            missing=missing,
        )
    values = data.get("values") or {}
    if not isinstance(values, dict) or not all(
        isinstance(m, dict) for m in values.values()
    ):
        raise _fail(
            Phrase(gettext_noop('"values" must map a field to {file word: our word}.'))
        )
    formats = data.get("date_formats") or []
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        raise _fail(
            Phrase(gettext_noop('"date_formats" must be a list of strptime formats.'))
        )
    delimiter = str(data.get("delimiter") or ",")
    if len(delimiter) != 1:
        raise _fail(
            Phrase(
                gettext_noop('"delimiter" must be one character, such as ; or a tab.')
            )
        )
    currency = str(data.get("currency") or "").upper()
    if currency and not (len(currency) == 3 and currency.isalpha()):
        raise _fail(
            Phrase(
                gettext_noop('"currency" %(currency)r is not a three-letter code.'),
                currency=currency,
            )
        )
    return ColumnMapping(
        columns={k: v.strip() for k, v in columns.items()},
        tz=timezone_get(str(data.get("timezone") or "UTC")),
        date_formats=tuple(formats),
        decimal_comma=bool(data.get("decimal_comma", False)),
        currency=currency,
        sheet=str(data.get("sheet") or ""),
        delimiter=delimiter,
        values={
            k: {str(a).strip().lower(): str(b) for a, b in m.items()}
            for k, m in values.items()
        },
    )


class GenericParser:
    """Reads any orders sheet through a ColumnMapping into canonical orders."""

    def __init__(self, *, store_currency: str, mapping: ColumnMapping) -> None:
        self.store_currency = store_currency
        self.mapping = mapping

    def groups(self, table: Table) -> Iterator[RowGroup]:
        table.require(dict.fromkeys(self.mapping.columns.values()))
        order_id = self.mapping.columns["order_id"]
        return rows_group_all(table.rows(), key=lambda row: row.get(order_id, ""))

    def parse(self, table: Table) -> Iterator[ParsedOrder]:
        for group in self.groups(table):
            yield self.parse_group(group)

    def _cells(
        self, number: int, row: Mapping[str, str], errors: list[RowError]
    ) -> Cells:
        return Cells(
            number,
            row,
            errors,
            tz=self.mapping.tz,
            date_formats=self.mapping.date_formats,
            decimal_comma=self.mapping.decimal_comma,
        )

    def _word(
        self, cells: Cells, name: str, vocabulary: Mapping[str, str], default: str
    ) -> str:
        column = self.mapping.column(name)
        text = cells.text(column)
        if not text:
            return default
        key = text.lower()
        word = self.mapping.values.get(name, {}).get(key, key)
        normal = word.lower().replace(" ", "_").replace("-", "_")
        if normal not in vocabulary:
            cells.fail(
                column,
                Phrase(
                    gettext_noop("Unknown %(field)s %(value)r."),
                    field=name.replace("_", " "),
                    value=text,
                ),
            )
            return default
        return vocabulary[normal]

    def _address(self, cells: Cells, prefix: str) -> CanonicalAddress:
        def text(part: str) -> str:
            return cells.text(self.mapping.column(f"{prefix}_{part}"), truncate_at=255)

        return CanonicalAddress(
            name=text("name"),
            company=text("company"),
            line1=text("address1"),
            line2=text("address2"),
            city=text("city"),
            province=text("province"),
            province_code=text("province_code"),
            postal_code=text("postal_code"),
            country_code=text("country_code").upper(),
            phone=text("phone"),
        )

    def parse_group(self, group: RowGroup) -> ParsedOrder:
        col = self.mapping.column
        errors: list[RowError] = []
        first_number, first = group.rows[0]
        last_number = group.rows[-1][0]
        head = self._cells(first_number, first, errors)
        if not group.key:
            head.fail(col("order_id"), Phrase(gettext_noop("The order id is empty.")))
            return ParsedOrder("", first_number, last_number, None, tuple(errors))

        order_id = head.text(col("order_id"), max_length=ID_MAX_LENGTH)
        number = head.text(col("number"), max_length=ID_MAX_LENGTH) or order_id
        currency = currency_check(
            head,
            col("currency"),
            head.text(col("currency")) or self.mapping.currency or self.store_currency,
            store_currency=self.store_currency,
        )
        placed_at = head.moment(col("placed_at"), required=True)
        updated_at = head.moment(col("updated_at"))
        paid_at = head.moment(col("paid_at"))
        cancelled_at = head.moment(col("cancelled_at"))
        refunded_at = head.moment(col("refunded_at"))
        total = head.money(col("total"), required=True)
        refunded = head.money(col("refunded_amount"))
        financial_status = self._word(
            head, "financial_status", FINANCIAL_WORDS, FinancialStatus.UNKNOWN
        )
        fulfillment_status = self._word(
            head, "fulfillment_status", FULFILLMENT_WORDS, FulfillmentStatus.UNFULFILLED
        )

        lines: list[CanonicalLine] = []
        for position, (number_, row) in enumerate(group.rows, start=1):
            cells = (
                head if number_ == first_number else self._cells(number_, row, errors)
            )
            sku = cells.text(col("line_sku"), max_length=SKU_MAX_LENGTH)
            title = cells.text(col("line_title"), truncate_at=255) or sku
            if not title:
                cells.fail(
                    col("line_title") or col("line_sku"),
                    Phrase(gettext_noop("The line has neither a title nor a SKU.")),
                )
            lines.append(
                CanonicalLine(
                    external_id=cells.text(col("line_id"), max_length=ID_MAX_LENGTH)
                    or f"{order_id}:{position}",
                    sku=sku,
                    title=title,
                    variant_title=cells.text(
                        col("line_variant_title"), truncate_at=255
                    ),
                    quantity=cells.quantity(col("line_quantity")),
                    unit_price=cells.money(col("line_unit_price"), required=True),
                    discount_total=cells.money(col("line_discount")),
                    tax_total=cells.money(col("line_tax")),
                    requires_shipping=cells.boolean(
                        col("line_requires_shipping"), default=True
                    ),
                )
            )
        if errors or placed_at is None:
            return ParsedOrder(
                group.key,
                first_number,
                last_number,
                None,
                tuple(errors),
                placed_at=placed_at,
                total=total,
            )

        subtotal_default = sum(
            (ln.unit_price * ln.quantity for ln in lines), Decimal(0)
        )
        store_updated_at = updated_at or latest(
            placed_at, paid_at, cancelled_at, refunded_at
        )
        assert store_updated_at is not None  # placed_at is known
        shipping = head.money(col("shipping_total"))
        shipping_method = head.text(col("shipping_method"), truncate_at=255)
        gateway = head.text(col("payment_gateway"), truncate_at=100)
        email = head.text(col("email"), truncate_at=254)
        order = CanonicalOrder(
            external_id=order_id,
            number=number,
            currency=currency,
            presentment_currency=currency,
            placed_at=placed_at,
            store_updated_at=store_updated_at,
            lines=tuple(lines),
            total=total,
            subtotal=head.money(col("subtotal"), default=subtotal_default),
            discount_total=head.money(col("discount_total")),
            shipping_total=shipping,
            tax_total=head.money(col("tax_total")),
            financial_status=financial_status,
            fulfillment_status=fulfillment_status,
            cancelled_at=cancelled_at,
            email=email,
            customer=CanonicalCustomer(
                email=email,
                phone=head.text(col("phone")),
                first_name=head.text(col("first_name"), truncate_at=150),
                last_name=head.text(col("last_name"), truncate_at=150),
            ),
            shipping_address=self._address(head, "shipping"),
            billing_address=self._address(head, "billing"),
            shipping_lines=(
                (CanonicalShippingLine(title=shipping_method, price=shipping),)
                if shipping_method or shipping
                else ()
            ),
            refunds=(
                (
                    CanonicalRefund(
                        external_id=f"{order_id}:refund",
                        amount=refunded,
                        created_at=refunded_at or store_updated_at,
                    ),
                )
                if refunded > 0
                else ()
            ),
            transactions=(
                (
                    CanonicalTransaction(
                        external_id=(
                            head.text(col("payment_reference")) or f"{order_id}:payment"
                        )[:100],
                        kind=TransactionKind.SALE,
                        gateway=gateway,
                        amount=total,
                        currency=currency,
                        processed_at=paid_at,
                        gateway_reference=head.text(col("payment_reference"))[:100],
                    ),
                )
                if paid_at
                and gateway
                and total > 0
                and financial_status in _PAID_STATUSES
                else ()
            ),
            note=head.text(col("note")),
            tags=tuple(
                t.strip() for t in head.text(col("tags")).split(",") if t.strip()
            ),
            payment_gateways=(gateway,) if gateway else (),
        )
        # Money errors found while building (subtotal, discount, tax) refuse the order.
        if errors:
            return ParsedOrder(
                group.key,
                first_number,
                last_number,
                None,
                tuple(errors),
                placed_at=placed_at,
                total=total,
            )
        return ParsedOrder(group.key, first_number, last_number, order)
