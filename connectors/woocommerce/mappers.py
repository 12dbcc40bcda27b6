"""WooCommerce REST v3 order → the canonical order of the orders pipeline. Pure: no I/O.

Field names and shapes are those of the official docs' examples
(connectors/woocommerce/tests/fixtures/rest_v3/). Woo sends every date twice, site-local
without an offset and `*_gmt` in UTC without one; only the GMT ones are read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_noop

from connectors.exceptions import PayloadError
from connectors.importers.woocommerce_csv import STATUS as EXPORT_STATUS
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

# The order statuses of the v3 docs in our vocabulary: the export's table (same words),
# plus "trash", an order deleted in the admin (restorable for 30 days).
STATUS: dict[str, tuple[str, str]] = {
    **EXPORT_STATUS,
    "trash": (FinancialStatus.VOIDED, FulfillmentStatus.UNFULFILLED),
}
CANCELLED_STATUSES = frozenset({"cancelled", "trash"})
# The ingest says "Cancelled in the store"; only a deletion needs saying more.
CANCEL_REASONS = {"trash": "moved to the trash in WooCommerce"}
_UNIT = Decimal("0.0001")


def _field(data: Mapping[str, Any], key: str, path: str) -> Any:
    if not isinstance(data, Mapping):
        raise PayloadError(gettext_noop("expected an object"), path=path)
    if key not in data:
        raise PayloadError(
            gettext_noop("is missing"), path=f"{path}.{key}" if path else key
        )
    return data[key]


def _text(data: Mapping[str, Any], key: str, *, limit: int = 255) -> str:
    value = data.get(key) if isinstance(data, Mapping) else None
    return "" if value is None else str(value).strip()[:limit]


def _money(value: Any, path: str) -> Decimal:
    if value in (None, ""):
        return Decimal(0)
    try:
        # str() first: the docs' examples send some amounts as JSON numbers.
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PayloadError(
            Phrase(gettext_noop("%(value)r is not an amount"), value=value), path=path
        ) from None
    if not amount.is_finite():
        raise PayloadError(
            Phrase(gettext_noop("%(value)r is not an amount"), value=value), path=path
        )
    return amount


def gmt_moment(value: Any, path: str) -> datetime:
    """A `*_gmt` date ("2017-03-22T19:28:02", no offset) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        raise PayloadError(gettext_noop("is not a date"), path=path)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(
            Phrase(gettext_noop("%(value)r is not a date"), value=value), path=path
        ) from None
    return (
        moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    )


def _optional_moment(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    return gmt_moment(value, key) if value else None


def _address(data: Any, *, phone: str = "") -> CanonicalAddress:
    """An address; `phone` stands in when it has none (Woo's shipping address had no
    phone before 5.6, and carriers want one)."""
    if not isinstance(data, Mapping):
        return CanonicalAddress()
    state = _text(data, "state")
    return CanonicalAddress(
        name=f"{_text(data, 'first_name')} {_text(data, 'last_name')}".strip(),
        company=_text(data, "company"),
        line1=_text(data, "address_1"),
        line2=_text(data, "address_2"),
        city=_text(data, "city"),
        province=state,
        province_code=state,
        postal_code=_text(data, "postcode", limit=32),
        country_code=_text(data, "country", limit=2).upper(),
        phone=_text(data, "phone", limit=64) or phone,
    )


def _variant_title(item: Mapping[str, Any]) -> str:
    """The chosen attributes (meta_data without the hidden "_" keys): "black / M Test"."""
    values = [
        str(meta.get("display_value") or meta.get("value"))
        for meta in item.get("meta_data") or []
        if isinstance(meta, Mapping)
        and not str(meta.get("key", "")).startswith("_")
        and isinstance(meta.get("display_value", meta.get("value")), str | int)
    ]
    return " / ".join(values)[:255]


def store_variant_id(item: Mapping[str, Any]) -> str:
    """The store's id of what was sold: the variation, else the product ("" if gone)."""
    for key in ("variation_id", "product_id"):
        value = item.get(key)
        if value not in (None, "", 0, "0"):
            return str(value)
    return ""


def _line(item: Any, index: int, skus: Mapping[str, str]) -> CanonicalLine:
    path = f"line_items[{index}]"
    line_id = _field(item, "id", path)
    quantity = _field(item, "quantity", path)
    if not isinstance(quantity, int):
        raise PayloadError(
            Phrase(gettext_noop("%(value)r is not a whole number"), value=quantity),
            path=f"{path}.quantity",
        )
    subtotal = _money(item.get("subtotal"), f"{path}.subtotal")
    total = _money(item.get("total"), f"{path}.total")
    unit_price = (
        (subtotal / quantity).quantize(_UNIT, rounding=ROUND_HALF_UP)
        if quantity
        else subtotal
    )
    return CanonicalLine(
        external_id=str(line_id),
        sku=skus.get(store_variant_id(item)) or _text(item, "sku", limit=100),
        title=_text(item, "name") or f"Product {store_variant_id(item)}",
        variant_title=_variant_title(item),
        quantity=quantity,
        unit_price=unit_price,
        # subtotal is before coupons, total after: the difference is the line's share.
        discount_total=max(subtotal - total, Decimal(0)),
        tax_total=_money(item.get("total_tax"), f"{path}.total_tax"),
    )


def _fee_lines(data: Mapping[str, Any]) -> tuple[list[CanonicalLine], Decimal]:
    """Fees the customer paid (gift wrap, COD) as lines that do not ship; negative fees
    (a discount added as a fee) as discount."""
    lines, discount = [], Decimal(0)
    for index, fee in enumerate(data.get("fee_lines") or []):
        path = f"fee_lines[{index}]"
        amount = _money(_field(fee, "total", path), f"{path}.total")
        if amount < 0:
            discount += -amount
            continue
        lines.append(
            CanonicalLine(
                external_id=f"fee-{_field(fee, 'id', path)}",
                sku="",
                title=_text(fee, "name") or "Fee",
                quantity=1,
                unit_price=amount,
                tax_total=_money(fee.get("total_tax"), f"{path}.total_tax"),
                requires_shipping=False,
            )
        )
    return lines, discount


def _refunds(
    data: Mapping[str, Any], details: Sequence[Mapping[str, Any]] | None
) -> tuple[CanonicalRefund, ...]:
    """Refunds from /orders/<id>/refunds when read, else from the order's summary.

    The summary ({id, reason, total: "-10.00"}) has no date: it is dated with the
    order's last change, which is when Woo last saw it.
    """
    if details is not None:
        refunds = []
        for index, refund in enumerate(details):
            path = f"refunds[{index}]"
            lines = []
            for item in refund.get("line_items") or []:
                refunded_item = next(
                    (
                        str(meta.get("value"))
                        for meta in item.get("meta_data") or []
                        if meta.get("key") == "_refunded_item_id"
                    ),
                    "",
                )
                quantity = abs(int(item.get("quantity") or 0))
                if refunded_item and quantity:
                    lines.append((refunded_item, quantity, False))
            refunds.append(
                CanonicalRefund(
                    external_id=str(_field(refund, "id", path)),
                    amount=abs(_money(refund.get("amount"), f"{path}.amount")),
                    created_at=gmt_moment(
                        _field(refund, "date_created_gmt", path),
                        f"{path}.date_created_gmt",
                    ),
                    note=_text(refund, "reason"),
                    lines=tuple(lines),
                )
            )
        return tuple(refunds)
    modified = gmt_moment(data.get("date_modified_gmt"), "date_modified_gmt")
    return tuple(
        CanonicalRefund(
            external_id=str(_field(refund, "id", f"refunds[{index}]")),
            amount=abs(_money(refund.get("total"), f"refunds[{index}].total")),
            created_at=modified,
            note=_text(refund, "reason"),
        )
        for index, refund in enumerate(data.get("refunds") or [])
    )


def _payment(
    data: Mapping[str, Any], order_id: str, currency: str, total: Decimal
) -> tuple[CanonicalTransaction, ...]:
    """The payment as one sale, when Woo recorded it as paid (date_paid)."""
    paid_at = _optional_moment(data, "date_paid_gmt")
    if paid_at is None or total <= 0:
        return ()
    return (
        CanonicalTransaction(
            external_id=f"{order_id}:payment",
            kind=TransactionKind.SALE,
            gateway=_text(data, "payment_method", limit=100),
            amount=total,
            currency=currency,
            processed_at=paid_at,
            gateway_reference=_text(data, "transaction_id"),
        ),
    )


def order_to_canonical(
    data: Any,
    *,
    refunds: Sequence[Mapping[str, Any]] | None = None,
    sku_by_variant: Mapping[str, str] | None = None,
) -> CanonicalOrder:
    """A WooCommerce order (REST body or webhook payload) as the canonical order.

    `refunds` are the order's refunds as /orders/<id>/refunds returns them (with dates
    and lines); `sku_by_variant` (store product or variation id → our SKU) wins over the
    SKU typed in the store. Raises: PayloadError naming the field.
    """
    if not isinstance(data, Mapping):
        raise PayloadError(gettext_noop("the order is not a JSON object"))
    order_id = str(_field(data, "id", ""))
    status = str(_field(data, "status", ""))
    if status not in STATUS:
        raise PayloadError(
            Phrase(gettext_noop("unknown order status %(status)r"), status=status),
            path="status",
        )
    currency = str(_field(data, "currency", "")).upper()
    placed_at = gmt_moment(_field(data, "date_created_gmt", ""), "date_created_gmt")
    modified_at = gmt_moment(_field(data, "date_modified_gmt", ""), "date_modified_gmt")
    total = _money(_field(data, "total", ""), "total")
    skus = sku_by_variant or {}
    lines = [
        _line(item, index, skus)
        for index, item in enumerate(_field(data, "line_items", "") or [])
    ]
    fees, fee_discount = _fee_lines(data)
    financial_status, fulfillment_status = STATUS[status]
    canonical_refunds = _refunds(data, refunds)
    if canonical_refunds and financial_status not in (
        FinancialStatus.REFUNDED,
        FinancialStatus.VOIDED,
    ):
        financial_status = FinancialStatus.PARTIALLY_REFUNDED
    billing = data.get("billing") if isinstance(data.get("billing"), Mapping) else {}
    email = _text(billing, "email", limit=254)
    customer_id = str(data.get("customer_id") or "")
    coupons = tuple(
        f"coupon:{_text(coupon, 'code', limit=90)}"
        for coupon in data.get("coupon_lines") or []
        if _text(coupon, "code")
    )
    gateway = _text(data, "payment_method", limit=100)
    return CanonicalOrder(
        external_id=order_id,
        number=_text(data, "number", limit=50) or order_id,
        currency=currency,
        presentment_currency=currency,
        placed_at=placed_at,
        store_updated_at=modified_at,
        lines=(*lines, *fees),
        total=total,
        subtotal=sum(
            (
                _money(item.get("subtotal"), "line_items.subtotal")
                for item in data.get("line_items") or []
            ),
            Decimal(0),
        ),
        discount_total=_money(data.get("discount_total"), "discount_total")
        + fee_discount,
        shipping_total=_money(data.get("shipping_total"), "shipping_total"),
        tax_total=_money(data.get("total_tax"), "total_tax"),
        financial_status=financial_status,
        fulfillment_status=fulfillment_status,
        cancelled_at=modified_at if status in CANCELLED_STATUSES else None,
        cancel_reason=CANCEL_REASONS.get(status, ""),
        email=email,
        customer=CanonicalCustomer(
            external_id="" if customer_id == "0" else customer_id,
            email=email,
            phone=_text(billing, "phone", limit=64),
            first_name=_text(billing, "first_name", limit=150),
            last_name=_text(billing, "last_name", limit=150),
        ),
        shipping_address=_address(
            data.get("shipping"), phone=_text(billing, "phone", limit=64)
        ),
        billing_address=_address(billing),
        shipping_lines=tuple(
            CanonicalShippingLine(
                title=_text(line, "method_title"),
                code=_text(line, "method_id", limit=100),
                price=_money(line.get("total"), f"shipping_lines[{index}].total"),
            )
            for index, line in enumerate(data.get("shipping_lines") or [])
        ),
        refunds=canonical_refunds,
        transactions=_payment(data, order_id, currency, total),
        note=_text(data, "customer_note", limit=5000),
        tags=coupons,
        payment_gateways=(gateway,) if gateway else (),
    )
