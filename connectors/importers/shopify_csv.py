"""Shopify admin "Export orders" CSV → canonical orders. Pure: no I/O beyond the file.

One row per line item. The first row of an order carries the order fields; the rows
after it repeat only Name, Email, Created at and the Lineitem columns. Columns are
found by name, not position: the export has grown columns over the years. The order id
(`Id`) is required because it is the id the live sync stores, so an import that
overlaps the live sync finds the same orders instead of adding copies.

The export has no line ids, no refund ids or dates and no "updated at": line ids are
"<order id>:<position>", the refunded total becomes one refund "<order id>:refund", and
the latest known time of the order (created, paid, fulfilled, cancelled) stands for
both the refund time and the store's update time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

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
    latest,
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
    RiskLevel,
    TransactionKind,
)
from orders.choices import FinancialStatus, FulfillmentStatus

REQUIRED_COLUMNS = (
    "Name",
    "Id",
    "Created at",
    "Currency",
    "Total",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
)

FINANCIAL_STATUS = {
    "pending": FinancialStatus.PENDING,
    "authorized": FinancialStatus.AUTHORIZED,
    "partially_paid": FinancialStatus.PARTIALLY_PAID,
    "paid": FinancialStatus.PAID,
    "partially_refunded": FinancialStatus.PARTIALLY_REFUNDED,
    "refunded": FinancialStatus.REFUNDED,
    "voided": FinancialStatus.VOIDED,
    "expired": FinancialStatus.VOIDED,
}
# Anything else (unfulfilled, restocked, scheduled, on hold...) has not shipped.
FULFILLMENT_STATUS = {
    "fulfilled": FulfillmentStatus.FULFILLED,
    "partial": FulfillmentStatus.PARTIAL,
}
RISK_LEVEL = {
    "low": RiskLevel.LOW,
    "medium": RiskLevel.MEDIUM,
    "high": RiskLevel.HIGH,
}
_PAID_STATUSES = frozenset(
    {
        FinancialStatus.PAID,
        FinancialStatus.PARTIALLY_PAID,
        FinancialStatus.PARTIALLY_REFUNDED,
        FinancialStatus.REFUNDED,
    }
)


def _address(cells: Cells, prefix: str) -> CanonicalAddress:
    def text(name: str) -> str:
        return cells.text(f"{prefix} {name}", truncate_at=255)

    province_code = text("Province")
    return CanonicalAddress(
        name=text("Name"),
        company=text("Company"),
        line1=text("Address1") or text("Street"),
        line2=text("Address2"),
        city=text("City"),
        province=text("Province Name") or province_code,
        province_code=province_code,
        # Shopify writes "'02134" so spreadsheet programs keep the leading zero.
        postal_code=text("Zip").lstrip("'"),
        country_code=text("Country").upper(),
        phone=text("Phone"),
    )


def _customer(cells: Cells, email: str) -> CanonicalCustomer:
    name = cells.text("Billing Name") or cells.text("Shipping Name")
    first, _, last = name.partition(" ")
    return CanonicalCustomer(
        email=email,
        phone=cells.text("Phone"),
        first_name=first[:150],
        last_name=last[:150],
    )


class ShopifyCsvParser:
    """Reads a Shopify "Export orders" CSV into canonical orders and row errors."""

    required_columns = REQUIRED_COLUMNS

    def __init__(self, *, store_currency: str) -> None:
        self.store_currency = store_currency

    def groups(self, table: Table) -> Iterator[RowGroup]:
        table.require(self.required_columns)
        return rows_group(table.rows(), key=lambda row: row.get("Name", ""))

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

        head = Cells(first_number, first, errors)
        if not group.key:
            head.fail("Name", Phrase(gettext_noop("The order name is empty.")))
            return refuse()
        if group.seen_at is not None:
            head.fail(
                "Name",
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

        order_id = head.text("Id", required=True, max_length=ID_MAX_LENGTH)
        number = head.text("Name", max_length=ID_MAX_LENGTH)
        currency = currency_check(
            head,
            "Currency",
            head.text("Currency", required=True),
            store_currency=self.store_currency,
        )
        placed_at = head.moment("Created at", required=True)
        paid_at = head.moment("Paid at")
        fulfilled_at = head.moment("Fulfilled at")
        cancelled_at = head.moment("Cancelled at")
        total = head.money("Total", required=True)
        subtotal = head.money("Subtotal")
        shipping = head.money("Shipping")
        taxes = head.money("Taxes")
        discount = head.money("Discount Amount")
        refunded = head.money("Refunded Amount")
        outstanding = head.money("Outstanding Balance", allow_negative=True)
        status_word = head.text("Financial Status").lower()
        financial_status = FINANCIAL_STATUS.get(status_word, FinancialStatus.UNKNOWN)
        if status_word and status_word not in FINANCIAL_STATUS:
            head.fail(
                "Financial Status",
                Phrase(
                    gettext_noop("Unknown payment status %(value)r."), value=status_word
                ),
            )
        fulfillment_status = FULFILLMENT_STATUS.get(
            head.text("Fulfillment Status").lower(), FulfillmentStatus.UNFULFILLED
        )
        email = head.text("Email", truncate_at=254)
        gateways = tuple(
            g.strip() for g in head.text("Payment Method").split("+") if g.strip()
        )

        lines: list[CanonicalLine] = []
        for position, (number_, row) in enumerate(group.rows, start=1):
            cells = head if number_ == first_number else Cells(number_, row, errors)
            lines.append(
                CanonicalLine(
                    external_id=f"{order_id}:{position}",
                    sku=cells.text("Lineitem sku", max_length=SKU_MAX_LENGTH),
                    title=cells.text("Lineitem name", required=True, truncate_at=255),
                    quantity=cells.quantity("Lineitem quantity"),
                    unit_price=cells.money("Lineitem price", required=True),
                    discount_total=cells.money("Lineitem discount"),
                    requires_shipping=cells.boolean(
                        "Lineitem requires shipping", default=True
                    ),
                )
            )
        if errors or placed_at is None:
            return refuse(placed_at, total)

        updated_at = latest(placed_at, paid_at, fulfilled_at, cancelled_at)
        assert updated_at is not None  # placed_at is known
        shipping_method = head.text("Shipping Method", truncate_at=255)
        paid = total - outstanding if outstanding <= total else Decimal(0)
        transactions: tuple[CanonicalTransaction, ...] = ()
        if paid_at is not None and paid > 0 and financial_status in _PAID_STATUSES:
            reference = head.text("Payment Reference")
            transactions = (
                CanonicalTransaction(
                    external_id=(head.text("Payment ID") or f"{order_id}:payment")[
                        :100
                    ],
                    kind=TransactionKind.SALE,
                    gateway=(" + ".join(gateways) or "unknown")[:100],
                    amount=paid,
                    currency=currency,
                    processed_at=paid_at,
                    gateway_reference=reference[:100],
                ),
            )
        refunds: tuple[CanonicalRefund, ...] = ()
        if refunded > 0:
            refunds = (
                CanonicalRefund(
                    external_id=f"{order_id}:refund",
                    amount=refunded,
                    created_at=updated_at,
                    note="Refunded total from the Shopify order export.",
                ),
            )
        order = CanonicalOrder(
            external_id=order_id,
            number=number,
            currency=currency,
            presentment_currency=currency,
            placed_at=placed_at,
            store_updated_at=updated_at,
            lines=tuple(lines),
            total=total,
            subtotal=subtotal,
            discount_total=discount,
            shipping_total=shipping,
            tax_total=taxes,
            financial_status=financial_status,
            fulfillment_status=fulfillment_status,
            cancelled_at=cancelled_at,
            risk_level=RISK_LEVEL.get(
                head.text("Risk Level").lower(), RiskLevel.UNKNOWN
            ),
            email=email,
            customer=_customer(head, email),
            shipping_address=_address(head, "Shipping"),
            billing_address=_address(head, "Billing"),
            shipping_lines=(
                (CanonicalShippingLine(title=shipping_method, price=shipping),)
                if shipping_method or shipping
                else ()
            ),
            refunds=refunds,
            transactions=transactions,
            note=head.text("Notes"),
            tags=tuple(t.strip() for t in head.text("Tags").split(",") if t.strip()),
            payment_gateways=gateways,
        )
        return ParsedOrder(group.key, first_number, last_number, order)
