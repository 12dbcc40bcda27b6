"""What the layers above hand to finance: typed figures, never their own models.

orders (and connectors through orders) map their canonical objects to these; finance
never imports them. TransactionInput has the same fields as
orders.canonical.CanonicalTransaction, so `TransactionInput(**asdict(t))` maps one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class TransactionInput:
    """One payment movement of an order as the store reports it (shop currency)."""

    external_id: str
    kind: str  # finance.choices.PaymentKind value
    gateway: str
    amount: Decimal
    currency: str
    processed_at: datetime.datetime
    succeeded: bool = True
    fee: Decimal | None = None
    fee_currency: str = ""
    gateway_reference: str = ""
    parent_external_id: str = ""
    # The same movement in the currency the customer saw, when the store reports it.
    presentment_amount: Decimal | None = None
    presentment_currency: str = ""


@dataclass(frozen=True)
class RefundLineInput:
    """One order line given back: the store's line id, how many, and whether restocked."""

    line_external_id: str
    quantity: int
    restock: bool


@dataclass(frozen=True)
class RefundInput:
    """A refund made in the store, with the lines it gave back."""

    external_id: str
    amount: Decimal
    currency: str
    created_at: datetime.datetime
    note: str = ""
    lines: tuple[RefundLineInput, ...] = ()
    presentment_amount: Decimal | None = None
    presentment_currency: str = ""


@dataclass(frozen=True)
class PayoutInput:
    """One payout (settlement batch) of a gateway to the seller's bank."""

    gateway: str
    external_id: str
    currency: str
    amount: Decimal  # net paid to the bank
    paid_on: datetime.date
    status: str = "paid"


@dataclass(frozen=True)
class PayoutLineInput:
    """One balance movement settled by a payout (a charge, refund, fee, adjustment...).

    `gross` is signed (refunds negative), `fee` is what the gateway kept (positive) and
    `net` = gross - fee. `transaction_reference` is the gateway's id of the payment or
    refund (Shopify transaction id, Stripe charge id, PayPal transaction id);
    `order_reference` is the store's order id or number when the gateway knows it.
    """

    external_id: str
    kind: str  # finance.choices.PayoutLineKind value
    gross: Decimal
    fee: Decimal
    net: Decimal
    currency: str
    occurred_at: datetime.datetime | None = None
    transaction_reference: str = ""
    related_reference: str = ""  # refunds and disputes: the original payment's id
    order_reference: str = ""
    description: str = ""
