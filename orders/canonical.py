"""The canonical order: what every connector (webhook, poll, import) turns a store order into.

Typed and validated at the boundary, so the order pipeline never reads a raw payload.
Money is Decimal in the order's shop currency (presentment amounts are kept alongside
where the store sends them).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.choices import FinancialStatus, FulfillmentStatus


class RiskLevel(models.TextChoices):
    """The store's fraud verdict, in one vocabulary."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    UNKNOWN = "unknown", _("Unknown")


class OrderSource(models.TextChoices):
    """How an order reached us; historical imports never reserve stock or push back."""

    WEBHOOK = "webhook", _("Webhook")
    POLL = "poll", _("API poll")
    IMPORT = "import", _("History import")
    MANUAL = "manual", _("Entered by staff")


@dataclass(frozen=True)
class CanonicalAddress:
    """A postal address in any script; empty strings for what the store did not send."""

    name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    province: str = ""
    province_code: str = ""
    postal_code: str = ""
    country_code: str = ""
    phone: str = ""

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CanonicalCustomer:
    """The buyer as the store knows them."""

    external_id: str = ""
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True)
class CanonicalLine:
    """One order line; `external_id` is the store's line id, stable across edits."""

    external_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Decimal
    variant_title: str = ""
    discount_total: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    requires_shipping: bool = True


@dataclass(frozen=True)
class CanonicalShippingLine:
    """A shipping charge the customer paid, with the method they chose."""

    title: str
    price: Decimal
    code: str = ""


@dataclass(frozen=True)
class CanonicalRefund:
    """A refund made in the store: amount, when, and which lines went back to stock."""

    external_id: str
    amount: Decimal
    created_at: datetime
    note: str = ""
    # (store line id, quantity, restock?)
    lines: tuple[tuple[str, int, bool], ...] = ()
    # In the order's presentment currency, when the store reports it.
    presentment_amount: Decimal | None = None


class TransactionKind(models.TextChoices):
    """What a payment transaction did, in one vocabulary for every gateway."""

    AUTHORIZATION = "authorization", _("Authorization")
    CAPTURE = "capture", _("Capture")
    SALE = "sale", _("Sale (authorise and capture)")
    REFUND = "refund", _("Refund")
    VOID = "void", _("Void")


@dataclass(frozen=True)
class CanonicalTransaction:
    """A payment movement the store reports: gateway, amount, fee and when.

    Only successful transactions count as money moved; failed ones are kept so
    finance can see attempts. `fee` is the gateway's fee when the store knows it.
    """

    external_id: str
    kind: str
    gateway: str
    amount: Decimal
    currency: str
    processed_at: datetime
    succeeded: bool = True
    fee: Decimal | None = None
    fee_currency: str = ""
    gateway_reference: str = ""
    parent_external_id: str = ""
    # What the customer was charged in the currency they saw (Shopify presentment
    # money), when the store reports it.
    presentment_amount: Decimal | None = None
    presentment_currency: str = ""


@dataclass(frozen=True)
class CanonicalOrder:
    """A store order in our vocabulary, ready for `orders.services.order_ingest`."""

    external_id: str
    number: str
    currency: str
    placed_at: datetime
    store_updated_at: datetime
    lines: tuple[CanonicalLine, ...]
    total: Decimal
    subtotal: Decimal = Decimal(0)
    discount_total: Decimal = Decimal(0)
    shipping_total: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    presentment_currency: str = ""
    financial_status: str = FinancialStatus.UNKNOWN
    fulfillment_status: str = FulfillmentStatus.UNFULFILLED
    cancelled_at: datetime | None = None
    cancel_reason: str = ""
    risk_level: str = RiskLevel.UNKNOWN
    email: str = ""
    customer: CanonicalCustomer = field(default_factory=CanonicalCustomer)
    shipping_address: CanonicalAddress = field(default_factory=CanonicalAddress)
    billing_address: CanonicalAddress = field(default_factory=CanonicalAddress)
    shipping_lines: tuple[CanonicalShippingLine, ...] = ()
    refunds: tuple[CanonicalRefund, ...] = ()
    transactions: tuple[CanonicalTransaction, ...] = ()
    note: str = ""
    tags: tuple[str, ...] = ()
    payment_gateways: tuple[str, ...] = ()

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None
