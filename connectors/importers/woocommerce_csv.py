"""WooCommerce order export CSV → canonical orders. Pure: no I/O beyond the file.

The layout is the "Default - One Row per Item" format of WooCommerce's Customer /
Order / Coupon Export extension (SkyVerge): one row per line item, every row repeating
the order columns; columns are found by their documented names (the extension's
developer docs promise the keys never change, the order may). Version 5 added
`item_price`; without it the unit price is item_subtotal / item_quantity.

The export has no times but the order date (in the site's time zone, without offset),
no refund ids or dates and no cancel time: the refunded total becomes one refund
"<order id>:refund" dated with the order, a cancelled order is cancelled at its date,
and a paid order gets one sale "<order id>:payment" of its total at its date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_noop

from connectors.importers.rows import (
    ID_MAX_LENGTH,
    SKU_MAX_LENGTH,
    Cells,
    ParsedOrder,
    RowError,
    RowGroup,
    Table,
    currency_check,
    rows_group,
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

REQUIRED_COLUMNS = (
    "order_id",
    "date",
    "status",
    "order_total",
    "order_currency",
    "item_name",
    "item_quantity",
    "item_subtotal",
    "item_total",
)

# WooCommerce order status → (payment, fulfilment). "failed" and "on-hold" orders were
# never paid (on-hold waits for a bank transfer); "completed" means shipped.
STATUS = {
    "pending": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED),
    "checkout-draft": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED),
    "failed": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED),
    "on-hold": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED),
    "processing": (FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED),
    "completed": (FinancialStatus.PAID, FulfillmentStatus.FULFILLED),
    "cancelled": (FinancialStatus.VOIDED, FulfillmentStatus.UNFULFILLED),
    "refunded": (FinancialStatus.REFUNDED, FulfillmentStatus.UNFULFILLED),
}
_PAID = frozenset({"processing", "completed", "refunded"})
# The extension writes deleted products' SKU as this placeholder.
_UNKNOWN_SKU = "unknown_product"
_UNIT = Decimal("0.0001")


def _split_escaped(text: str, separator: str) -> list[str]:
    """Split on `separator` unless backslash-escaped (the extension escapes | ; :)."""
    parts = re.split(rf"(?<!\\){re.escape(separator)}", text)
    return [p for p in parts if p != ""]


def _unescape(text: str) -> str:
    return re.sub(r"\\([|;:])", r"\1", text)


def shipping_items_parse(text: str) -> list[CanonicalShippingLine] | None:
    """ "method_id:flat_rate|method_title:Flat rate|total:10.00;..." → shipping lines.

    None when the cell is not in that shape (the caller falls back to the totals).
    """
    lines: list[CanonicalShippingLine] = []
    for item in _split_escaped(text, ";"):
        fields: dict[str, str] = {}
        for pair in _split_escaped(item, "|"):
            key, sep, value = pair.partition(":")
            if not sep:
                return None
            fields[_unescape(key).strip()] = _unescape(value).strip()
        try:
            price = Decimal(fields.get("total", "0") or "0")
        except ArithmeticError:
            return None
        lines.append(
            CanonicalShippingLine(
                title=fields.get("method_title", "")[:255],
                code=fields.get("method_id", "")[:100],
                price=price,
            )
        )
    return lines


def _address(cells: Cells, prefix: str) -> CanonicalAddress:
    def text(name: str) -> str:
        return cells.text(f"{prefix}_{name}", truncate_at=255)

    state_code = text("state_code")
    return CanonicalAddress(
        name=f"{text('first_name')} {text('last_name')}".strip(),
        company=text("company"),
        line1=text("address_1"),
        line2=text("address_2"),
        city=text("city"),
        province=text("state") or state_code,
        province_code=state_code or text("state"),
        postal_code=text("postcode"),
        country_code=text("country").upper(),
        phone=text("phone"),
    )


class WooCommerceCsvParser:
    """Reads a Customer/Order/Coupon Export "one row per item" CSV into canonical orders."""

    required_columns = REQUIRED_COLUMNS

    def __init__(self, *, store_currency: str, tz: dt.tzinfo = dt.UTC) -> None:
        self.store_currency = store_currency
        self.tz = tz

    def groups(self, table: Table) -> Iterator[RowGroup]:
        table.require(self.required_columns)
        return rows_group(table.rows(), key=lambda row: row.get("order_id", ""))

    def parse(self, table: Table) -> Iterator[ParsedOrder]:
        for group in self.groups(table):
            yield self.parse_group(group)

    def parse_group(self, group: RowGroup) -> ParsedOrder:
        errors: list[RowError] = []
        first_number, first = group.rows[0]
        last_number = group.rows[-1][0]

        def refuse(
            placed_at: dt.datetime | None = None, total: Decimal | None = None
        ) -> ParsedOrder:
            return ParsedOrder(
                group.key,
                first_number,
                last_number,
                None,
                tuple(errors),
                placed_at=placed_at,
                total=total,
                is_repeat=group.seen_at is not None,
            )

        head = Cells(first_number, first, errors, tz=self.tz)
        if not group.key:
            head.fail("order_id", Phrase(gettext_noop("The order id is empty.")))
            return refuse()
        if group.seen_at is not None:
            head.fail(
                "order_id",
                Phrase(
                    gettext_noop(
                        "Order %(order)s already appeared at row %(row)s; the rows of "
                        "one order must be together."
                    ),
                    order=group.key,
                    row=group.seen_at,
                ),
            )
            return refuse()
        order_id = head.text("order_id", max_length=ID_MAX_LENGTH)
        number = head.text("order_number", max_length=ID_MAX_LENGTH) or order_id
        currency = currency_check(
            head,
            "order_currency",
            head.text("order_currency", required=True),
            store_currency=self.store_currency,
        )
        placed_at = head.moment("date", required=True)
        status = head.text("status", required=True).lower().removeprefix("wc-")
        if status and status not in STATUS:
            head.fail(
                "status",
                Phrase(gettext_noop("Unknown order status %(value)r."), value=status),
            )
        financial_status, fulfillment_status = STATUS.get(
            status, (FinancialStatus.UNKNOWN, FulfillmentStatus.UNFULFILLED)
        )
        total = head.money("order_total", required=True)
        shipping = head.money("shipping_total")
        tax = head.money("tax_total")
        discount = head.money("discount_total")
        refunded = head.money("refunded_total")
        gateway = head.text("payment_method", truncate_at=100)
        has_item_price = "item_price" in first

        lines: list[CanonicalLine] = []
        refund_lines: list[tuple[str, int, bool]] = []
        subtotal = Decimal(0)
        for position, (number_, row) in enumerate(group.rows, start=1):
            cells = head if number_ == first_number else Cells(number_, row, errors)
            line_id = cells.text("item_id", max_length=ID_MAX_LENGTH) or (
                f"{order_id}:{position}"
            )
            quantity = cells.quantity("item_quantity")
            line_subtotal = cells.money("item_subtotal", required=True)
            line_total = cells.money("item_total", required=True)
            if has_item_price and cells.raw("item_price"):
                unit_price = cells.money("item_price")
            elif quantity:
                unit_price = (line_subtotal / quantity).quantize(
                    _UNIT, rounding=ROUND_HALF_UP
                )
            else:
                unit_price = line_subtotal
            sku = cells.text("item_sku", max_length=SKU_MAX_LENGTH)
            lines.append(
                CanonicalLine(
                    external_id=line_id,
                    sku="" if sku == _UNKNOWN_SKU else sku,
                    title=cells.text("item_name", required=True, truncate_at=255),
                    quantity=quantity,
                    unit_price=unit_price,
                    discount_total=max(line_subtotal - line_total, Decimal(0)),
                    tax_total=cells.money("item_total_tax"),
                )
            )
            subtotal += line_subtotal
            # WooCommerce reports refunded quantities as negative numbers.
            if cells.raw("item_refunded_qty"):
                refunded_qty = cells.quantity("item_refunded_qty", absolute=True)
                if refunded_qty:
                    refund_lines.append((line_id, refunded_qty, False))
        if errors or placed_at is None:
            return refuse(placed_at, total)

        if refunded > 0 and financial_status != FinancialStatus.REFUNDED:
            financial_status = FinancialStatus.PARTIALLY_REFUNDED
        shipping_text = head.text("shipping_items")
        shipping_lines = shipping_items_parse(shipping_text) if shipping_text else []
        if shipping_lines is None or (not shipping_lines and shipping):
            title = head.text("shipping_method", truncate_at=255)
            shipping_lines = [CanonicalShippingLine(title=title, price=shipping)]
        email = head.text("billing_email", truncate_at=254)
        customer_id = head.text("customer_id")
        order = CanonicalOrder(
            external_id=order_id,
            number=number,
            currency=currency,
            presentment_currency=currency,
            placed_at=placed_at,
            store_updated_at=placed_at,
            lines=tuple(lines),
            total=total,
            subtotal=subtotal,
            discount_total=discount,
            shipping_total=shipping,
            tax_total=tax,
            financial_status=financial_status,
            fulfillment_status=fulfillment_status,
            cancelled_at=placed_at if status == "cancelled" else None,
            cancel_reason="Cancelled in WooCommerce" if status == "cancelled" else "",
            email=email,
            customer=CanonicalCustomer(
                external_id="" if customer_id in ("", "0") else customer_id,
                email=email,
                phone=head.text("billing_phone"),
                first_name=head.text("billing_first_name", truncate_at=150),
                last_name=head.text("billing_last_name", truncate_at=150),
            ),
            shipping_address=_address(head, "shipping"),
            billing_address=_address(head, "billing"),
            shipping_lines=tuple(shipping_lines),
            refunds=(
                (
                    CanonicalRefund(
                        external_id=f"{order_id}:refund",
                        amount=refunded,
                        created_at=placed_at,
                        note="Refunded total from the WooCommerce order export.",
                        lines=tuple(refund_lines),
                    ),
                )
                if refunded > 0
                else ()
            ),
            transactions=(
                (
                    CanonicalTransaction(
                        external_id=f"{order_id}:payment",
                        kind=TransactionKind.SALE,
                        gateway=gateway,
                        amount=total,
                        currency=currency,
                        processed_at=placed_at,
                    ),
                )
                if status in _PAID and gateway and total > 0
                else ()
            ),
            note=head.text("customer_note"),
            payment_gateways=(gateway,) if gateway else (),
        )
        return ParsedOrder(group.key, first_number, last_number, order)
