"""Shopify Payments of the fake store: payouts and the balance transactions they settle.

Answers `shopifyPaymentsAccount { payouts, balanceTransactions }` with the objects of
the official 2025-01 schema, filtered by the search terms our connector sends
(`issued_at` on payouts, `payments_transfer_id` on balance transactions) and paged
with first/after. Like Shopify, every payout carries a TRANSFER transaction of its
own amount, so its balance transactions add up to zero.

    store.payments_account.add_payout(
        issued_at=datetime(2025, 5, 20, tzinfo=UTC),
        lines=[charge(order, transaction_id=801038806, amount="250.94", fee="7.58")],
    )
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.shopify.testing.orders import connection, gid, gql_decimal

_TERM = re.compile(r"^(\w+):(>=|<=|>|<)?['\"]?([^'\"]+)['\"]?$")


@dataclass(frozen=True)
class FakeBalanceLine:
    """One balance transaction to put in a payout (amounts as Shopify signs them)."""

    type: str
    amount: Decimal
    fee: Decimal = Decimal("0.00")
    order_id: int | None = None
    order_name: str = ""
    source_order_transaction_id: int | None = None
    processed_at: datetime | None = None
    adjustment_reason: str | None = None


def charge(
    *,
    order_id: int,
    order_name: str,
    transaction_id: int,
    amount: str,
    fee: str = "0.00",
) -> FakeBalanceLine:
    """A card charge of an order settled by a payout."""
    return FakeBalanceLine(
        type="CHARGE",
        amount=Decimal(amount),
        fee=Decimal(fee),
        order_id=order_id,
        order_name=order_name,
        source_order_transaction_id=transaction_id,
    )


def refund(
    *, order_id: int, order_name: str, transaction_id: int, amount: str
) -> FakeBalanceLine:
    """A refund to the buyer taken back by a payout (`amount` positive, as refunded)."""
    return FakeBalanceLine(
        type="REFUND",
        amount=-Decimal(amount),
        order_id=order_id,
        order_name=order_name,
        source_order_transaction_id=transaction_id,
    )


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": gql_decimal(amount), "currencyCode": currency}


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _terms(query: str | None) -> list[tuple[str, str, str]]:
    terms = []
    for word in (query or "").split():
        match = _TERM.match(word)
        if match:
            terms.append((match[1], match[2] or "=", match[3]))
    return terms


def _compare(value: str, op: str, wanted: str) -> bool:
    return {
        "=": value == wanted,
        ">=": value >= wanted,
        "<=": value <= wanted,
        ">": value > wanted,
        "<": value < wanted,
    }[op]


class FakePaymentsAccount:
    """The store's Shopify Payments account: payouts, their lines, and whether it exists."""

    def __init__(self, *, currency: str = "USD") -> None:
        self.currency = currency
        self.is_enabled = True
        self.payouts: list[dict[str, Any]] = []
        self.balance_transactions: list[dict[str, Any]] = []
        self._next_id = 91_000_000
        self._lock = threading.RLock()

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_payout(
        self,
        *,
        issued_at: datetime,
        lines: list[FakeBalanceLine],
        status: str = "PAID",
        payout_id: int | None = None,
        currency: str | None = None,
    ) -> dict[str, Any]:
        """Issue a payout settling `lines` (plus its TRANSFER line); returns it."""
        currency = currency or self.currency
        with self._lock:
            payout_id = payout_id or self._id()
            payout_gid = gid("ShopifyPaymentsPayout", payout_id)
            net = sum((ln.amount - ln.fee for ln in lines), Decimal("0.00"))
            payout = {
                "id": payout_gid,
                "legacyResourceId": str(payout_id),
                "issuedAt": _moment(issued_at),
                "status": status,
                "transactionType": "DEPOSIT" if net >= 0 else "WITHDRAWAL",
                "net": _money(abs(net), currency),
            }
            self.payouts.append(payout)
            transfer = FakeBalanceLine(
                type="TRANSFER", amount=-net, processed_at=issued_at
            )
            for line in [*lines, transfer]:
                self._add_line(line, payout_id, status, currency, issued_at)
            return payout

    def set_status(self, payout_id: int, status: str) -> None:
        """The bank confirmed (PAID) or bounced (FAILED) a payout."""
        with self._lock:
            for payout in self.payouts:
                if payout["legacyResourceId"] == str(payout_id):
                    payout["status"] = status
            for line in self.balance_transactions:
                if line["_payout_id"] == payout_id:
                    line["associatedPayout"]["status"] = status

    def _add_line(
        self,
        line: FakeBalanceLine,
        payout_id: int,
        status: str,
        currency: str,
        issued_at: datetime,
    ) -> None:
        self.balance_transactions.append(
            {
                "_payout_id": payout_id,
                "id": gid("ShopifyPaymentsBalanceTransaction", self._id()),
                "type": line.type,
                "test": False,
                "transactionDate": _moment(line.processed_at or issued_at),
                "sourceType": line.type if line.type in _SOURCE_TYPES else None,
                "sourceId": None,
                "sourceOrderTransactionId": line.source_order_transaction_id,
                "adjustmentReason": line.adjustment_reason,
                "adjustmentsOrders": [],
                "amount": _money(line.amount, currency),
                "fee": _money(line.fee, currency),
                "net": _money(line.amount - line.fee, currency),
                "associatedOrder": (
                    {"id": gid("Order", line.order_id), "name": line.order_name}
                    if line.order_id is not None
                    else None
                ),
                "associatedPayout": {
                    "id": gid("ShopifyPaymentsPayout", payout_id),
                    "status": status,
                },
            }
        )

    # --- GraphQL -------------------------------------------------------------------------

    def graphql(self) -> dict[str, Any] | None:
        """The ShopifyPaymentsAccount object (None: Shopify Payments is not set up)."""
        if not self.is_enabled:
            return None
        return {
            "id": gid("ShopifyPaymentsAccount", 1),
            "activated": True,
            "country": "US",
            "defaultCurrency": self.currency,
            "onboardable": False,
            "payouts": self._payouts,
            "balanceTransactions": self._balance_transactions,
        }

    def _payouts(
        self, info: Any, query: str | None = None, reverse: bool = False, **page: Any
    ) -> Any:
        matches = list(self.payouts)
        for name, op, value in _terms(query):
            if name == "issued_at":
                matches = [p for p in matches if _compare(p["issuedAt"], op, value)]
        matches.sort(key=lambda p: (p["issuedAt"], int(p["legacyResourceId"])))
        if reverse:
            matches.reverse()
        return connection(matches)(info, **page)

    def _balance_transactions(
        self, info: Any, query: str | None = None, **page: Any
    ) -> Any:
        matches = list(self.balance_transactions)
        for name, op, value in _terms(query):
            if name == "payments_transfer_id":
                matches = [
                    t for t in matches if _compare(str(t["_payout_id"]), op, value)
                ]
        return connection(matches)(info, **page)


_SOURCE_TYPES = {"CHARGE", "REFUND", "DISPUTE", "ADJUSTMENT", "TRANSFER"}
