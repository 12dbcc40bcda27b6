"""Shopify order → the canonical order of the orders pipeline. Pure: no I/O, no ORM."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.shopify.payloads import (
    ShopifyAddress,
    ShopifyOrder,
    parse_graphql_order,
    parse_rest_order,
)
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

# Shopify's payment words (REST financial_status, GraphQL OrderDisplayFinancialStatus
# lowercased) in our vocabulary. An authorisation that expired was never captured.
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

# REST fulfillment_status / GraphQL OrderDisplayFulfillmentStatus (normalised by the
# payload parser). Everything not yet shipped (open, in progress, on hold, scheduled,
# restocked...) is unfulfilled for the order as a whole.
FULFILLMENT_STATUS = {
    "fulfilled": FulfillmentStatus.FULFILLED,
    "partial": FulfillmentStatus.PARTIAL,
}

# RiskAssessmentResult lowercased. NONE is Shopify's "no risk found"; PENDING is not a
# verdict yet.
RISK_LEVEL = {
    "high": RiskLevel.HIGH,
    "medium": RiskLevel.MEDIUM,
    "low": RiskLevel.LOW,
    "none": RiskLevel.LOW,
}


# OrderTransactionKind lowercased. A suggested refund is a proposal, not money moved;
# EMV (card-present) authorisations are authorisations; CHANGE is cash handed back at a
# point of sale, a refund of the over-payment.
TRANSACTION_KIND = {
    "authorization": TransactionKind.AUTHORIZATION,
    "emv_authorization": TransactionKind.AUTHORIZATION,
    "capture": TransactionKind.CAPTURE,
    "sale": TransactionKind.SALE,
    "refund": TransactionKind.REFUND,
    "change": TransactionKind.REFUND,
    "void": TransactionKind.VOID,
}


def _transactions(order: ShopifyOrder) -> tuple[CanonicalTransaction, ...]:
    return tuple(
        CanonicalTransaction(
            external_id=t.id,
            kind=TRANSACTION_KIND[t.kind],
            gateway=t.gateway,
            amount=t.amount,
            currency=t.currency,
            processed_at=t.processed_at,
            succeeded=t.status == "success",
            fee=t.fee,
            fee_currency=t.fee_currency,
            gateway_reference=t.authorization_code,
            parent_external_id=t.parent_id,
            # Kept only when the customer paid in another currency than the store's.
            presentment_amount=(
                t.presentment_amount if t.presentment_currency != t.currency else None
            ),
            presentment_currency=(
                t.presentment_currency if t.presentment_currency != t.currency else ""
            ),
        )
        for t in order.transactions
        if t.kind in TRANSACTION_KIND
    )


def _address(address: ShopifyAddress | None) -> CanonicalAddress:
    if address is None:
        return CanonicalAddress()
    return CanonicalAddress(
        name=address.name,
        company=address.company,
        line1=address.address1,
        line2=address.address2,
        city=address.city,
        province=address.province,
        province_code=address.province_code,
        postal_code=address.zip,
        country_code=address.country_code.upper(),
        phone=address.phone,
    )


def order_to_canonical(
    order: ShopifyOrder, *, sku_by_variant: Mapping[str, str] | None = None
) -> CanonicalOrder:
    """A typed Shopify order as the canonical order; amounts in shop currency.

    `sku_by_variant` (store variant id → our SKU, from the store's listing map) wins
    over the SKU typed in the store, which may be empty or differ from ours.
    """
    skus = sku_by_variant or {}
    customer = order.customer
    return CanonicalOrder(
        external_id=order.id,
        number=order.name,
        currency=order.currency,
        presentment_currency=order.presentment_currency,
        placed_at=order.created_at,
        store_updated_at=order.updated_at,
        lines=tuple(
            CanonicalLine(
                external_id=line.id,
                sku=skus.get(line.variant_id) or line.sku.strip(),
                title=line.title,
                variant_title=line.variant_title,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_total=line.discount,
                tax_total=line.tax,
                requires_shipping=line.requires_shipping,
            )
            for line in order.line_items
        ),
        total=order.total.shop,
        subtotal=order.subtotal.shop,
        discount_total=order.discounts.shop,
        shipping_total=order.shipping.shop,
        tax_total=order.tax.shop,
        financial_status=FINANCIAL_STATUS.get(
            order.financial_status, FinancialStatus.UNKNOWN
        ),
        fulfillment_status=FULFILLMENT_STATUS.get(
            order.fulfillment_status, FulfillmentStatus.UNFULFILLED
        ),
        cancelled_at=order.cancelled_at,
        cancel_reason=order.cancel_reason,
        risk_level=RISK_LEVEL.get(order.risk_level, RiskLevel.UNKNOWN),
        email=order.email,
        customer=(
            CanonicalCustomer(
                external_id=customer.id,
                email=order.email,
                phone=customer.phone,
                first_name=customer.first_name,
                last_name=customer.last_name,
            )
            if customer is not None
            else CanonicalCustomer(email=order.email, phone=order.phone)
        ),
        shipping_address=_address(order.shipping_address),
        billing_address=_address(order.billing_address),
        shipping_lines=tuple(
            CanonicalShippingLine(
                title=line.title, price=line.discounted_price, code=line.code
            )
            for line in order.shipping_lines
        ),
        refunds=tuple(
            CanonicalRefund(
                external_id=refund.id,
                amount=refund.amount,
                created_at=refund.created_at,
                note=refund.note,
                lines=tuple(
                    (line.line_item_id, line.quantity, line.restocked)
                    for line in refund.lines
                ),
                presentment_amount=(
                    refund.presentment_amount
                    if refund.presentment_currency == order.presentment_currency
                    and order.presentment_currency != order.currency
                    else None
                ),
            )
            for refund in order.refunds
        ),
        transactions=_transactions(order),
        note=order.note,
        tags=order.tags,
        payment_gateways=order.payment_gateways,
    )


def canonical_order_from_graphql(
    node: Any, *, sku_by_variant: Mapping[str, str] | None = None
) -> CanonicalOrder:
    """A GraphQL Admin API Order object (queries.ORDER fields) as the canonical order."""
    return order_to_canonical(parse_graphql_order(node), sku_by_variant=sku_by_variant)


def canonical_order_from_rest(
    data: Any, *, sku_by_variant: Mapping[str, str] | None = None
) -> CanonicalOrder:
    """An order webhook body (REST shape) as the canonical order."""
    return order_to_canonical(parse_rest_order(data), sku_by_variant=sku_by_variant)
