"""Shopify Payments payouts through the GraphQL Admin API, handed to finance.

`shopifyPaymentsAccount.payouts` lists the payouts issued in a window; each payout's
balance transactions (`balanceTransactions(query: "payments_transfer_id:<payout>")`)
are its lines. They map onto finance's payout inputs and go through one finance
service, which upserts by Shopify's ids: fetching the same window again changes
nothing, and a payout that moved from scheduled to paid is updated in place.

Store calls happen first and no database lock is held meanwhile; the write is one
short transaction per fetch. The app needs the `read_shopify_payments_payouts` scope.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone
from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError, ConnectorTransientError, PayloadError
from connectors.models import Channel, ChannelKind
from connectors.shopify.client import ShopifyClient
from connectors.shopify.payloads import graphql_node
from connectors.shopify.services import search_time, shopify_client_for
from erp.core.text import Phrase
from finance.choices import PayoutLineKind
from finance.inputs import PayoutInput, PayoutLineInput
from finance.selectors.payouts import payout_latest_paid_on
from finance.services.payouts import FetchedPayout, payouts_api_import

logger = logging.getLogger(__name__)

GATEWAY = "shopify_payments"
PAYOUTS_PAGE_SIZE = 50
BALANCE_TRANSACTIONS_PAGE_SIZE = 100
# First fetch of a store: this far back. Later fetches start this many days before the
# newest payout already imported, so a scheduled payout is read again once it is paid.
FIRST_FETCH_DAYS = 90
REFETCH_OVERLAP_DAYS = 14

# Both documents are validated against the official 2025-01 schema and priced by the
# fake store's cost rules in connectors/shopify/tests/test_payouts.py.
PAYOUTS_PAGE = """
query ShopifyPaymentsPayouts($first: Int!, $after: String, $query: String) {
  shopifyPaymentsAccount {
    id
    defaultCurrency
    payouts(first: $first, after: $after, query: $query, sortKey: ISSUED_AT) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id legacyResourceId issuedAt status transactionType
        net { amount currencyCode }
      }
    }
  }
}
"""

BALANCE_TRANSACTIONS_PAGE = """
query ShopifyPaymentsBalanceTransactions(
  $first: Int!, $after: String, $query: String!
) {
  shopifyPaymentsAccount {
    balanceTransactions(first: $first, after: $after, query: $query) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id type test transactionDate sourceType sourceOrderTransactionId
        adjustmentReason
        amount { amount currencyCode }
        fee { amount currencyCode }
        net { amount currencyCode }
        associatedOrder { id name }
        associatedPayout { id status }
      }
    }
  }
}
"""

DOCUMENTS = {
    "PAYOUTS_PAGE": PAYOUTS_PAGE,
    "BALANCE_TRANSACTIONS_PAGE": BALANCE_TRANSACTIONS_PAGE,
}

# ShopifyPaymentsTransactionType → what the line is to finance. Only charges and
# refunds are matched to orders; the rest is kept so the payout adds up.
_KIND_BY_TYPE = {
    "CHARGE": PayoutLineKind.CHARGE,
    "REFUND": PayoutLineKind.REFUND,
    "TRANSFER": PayoutLineKind.TRANSFER,
    "TRANSFER_FAILURE": PayoutLineKind.TRANSFER,
    "TRANSFER_CANCEL": PayoutLineKind.TRANSFER,
    "TRANSFER_REFUND": PayoutLineKind.TRANSFER,
    "DISPUTE_WITHDRAWAL": PayoutLineKind.DISPUTE,
    "DISPUTE_REVERSAL": PayoutLineKind.DISPUTE,
    "CHARGEBACK_FEE": PayoutLineKind.DISPUTE,
    "CHARGEBACK_FEE_REFUND": PayoutLineKind.DISPUTE,
    "CHARGEBACK_HOLD": PayoutLineKind.DISPUTE,
    "CHARGEBACK_HOLD_RELEASE": PayoutLineKind.DISPUTE,
    "SHIPPING_LABEL": PayoutLineKind.FEE,
    "STRIPE_FEE": PayoutLineKind.FEE,
    "BILLING_DEBIT": PayoutLineKind.FEE,
    "BILLING_DEBIT_REVERSAL": PayoutLineKind.FEE,
    "APPLICATION_FEE_REFUND": PayoutLineKind.FEE,
    "ADJUSTMENT": PayoutLineKind.ADJUSTMENT,
    "REFUND_FAILURE": PayoutLineKind.ADJUSTMENT,
}


def line_kind(transaction_type: str) -> str:
    """The finance kind of a Shopify balance transaction type."""
    kind = _KIND_BY_TYPE.get(transaction_type)
    if kind is not None:
        return kind
    if transaction_type.endswith(("_ADJUSTMENT", "_ADJUSTMENT_BASE")) or (
        "ADJUSTMENT" in transaction_type
    ):
        return PayoutLineKind.ADJUSTMENT
    return PayoutLineKind.OTHER


def payout_from_graphql(
    payout: Any, transactions: list[Any]
) -> tuple[PayoutInput, tuple[PayoutLineInput, ...]]:
    """A ShopifyPaymentsPayout and its balance transactions as finance's inputs. Pure.

    Raises: PayloadError naming the field that cannot be read.
    """
    node = graphql_node(payout, "payout")
    payout_gid = node.text("id", required=True)
    net = node.node("net")
    if net is None:
        raise PayloadError(gettext_noop("is missing"), path="payout.net")
    amount = net.money("amount")
    if node.text("transactionType").upper() == "WITHDRAWAL":
        amount = -abs(amount)  # money taken back from the bank account
    issued_at = node.required_moment("issuedAt")
    lines = []
    for index, data in enumerate(transactions):
        line = graphql_node(data, f"balanceTransactions[{index}]")
        associated = line.node("associatedPayout")
        if associated is not None and associated.text("id") not in ("", payout_gid):
            continue  # the store's search matched a line of another payout
        gross, fee, line_net = (
            _money(line, "amount"),
            _money(line, "fee"),
            _money(line, "net"),
        )
        currency = line.node("amount")
        order = line.node("associatedOrder")
        transaction_type = line.text("type", required=True).upper()
        reason = line.text("adjustmentReason")
        lines.append(
            PayoutLineInput(
                external_id=line.ident("id"),
                kind=line_kind(transaction_type),
                gross=gross,
                fee=fee,
                net=line_net,
                currency=currency.text("currencyCode", required=True).upper()
                if currency is not None
                else "",
                occurred_at=line.required_moment("transactionDate"),
                transaction_reference=line.optional_ident("sourceOrderTransactionId"),
                order_reference=order.ident("id") if order is not None else "",
                description=" ".join(
                    part
                    for part in (
                        transaction_type.lower(),
                        order.text("name") if order is not None else "",
                        reason,
                    )
                    if part
                ),
            )
        )
    return (
        PayoutInput(
            gateway=GATEWAY,
            external_id=node.ident("legacyResourceId"),
            currency=net.text("currencyCode", required=True).upper(),
            amount=amount,
            paid_on=issued_at.date(),
            status=node.text("status").lower() or "paid",
        ),
        tuple(lines),
    )


def _money(node: Any, key: str) -> Decimal:
    money = node.node(key)
    if money is None:
        raise PayloadError(gettext_noop("is missing"), path=f"{node.path}.{key}")
    return money.money("amount")


# --- reading the store ----------------------------------------------------------------


def _account(data: dict[str, Any]) -> dict[str, Any] | None:
    account = data.get("shopifyPaymentsAccount")
    return account if isinstance(account, dict) else None


def _payouts(client: ShopifyClient, query: str) -> Iterator[dict[str, Any]] | None:
    """Every payout the search matches, or None when the store has no Payments account."""
    data = client.execute(
        PAYOUTS_PAGE, {"first": PAYOUTS_PAGE_SIZE, "after": None, "query": query}
    )
    account = _account(data)
    if account is None:
        return None

    def pages(account: dict[str, Any]) -> Iterator[dict[str, Any]]:
        while True:
            connection = account["payouts"]
            yield from connection["nodes"]
            info = connection["pageInfo"]
            if not info["hasNextPage"]:
                return
            next_page = _account(
                client.execute(
                    PAYOUTS_PAGE,
                    {
                        "first": PAYOUTS_PAGE_SIZE,
                        "after": info["endCursor"],
                        "query": query,
                    },
                )
            )
            if next_page is None:
                raise PayloadError(
                    gettext_noop("the Shopify Payments account vanished mid-read")
                )
            account = next_page

    return pages(account)


def _balance_transactions(
    client: ShopifyClient, payout_legacy_id: str
) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after: str | None = None
    query = f"payments_transfer_id:{payout_legacy_id}"
    while True:
        account = _account(
            client.execute(
                BALANCE_TRANSACTIONS_PAGE,
                {
                    "first": BALANCE_TRANSACTIONS_PAGE_SIZE,
                    "after": after,
                    "query": query,
                },
            )
        )
        if account is None:
            raise PayloadError(
                gettext_noop("the Shopify Payments account vanished mid-read")
            )
        connection = account["balanceTransactions"]
        nodes.extend(connection["nodes"])
        info = connection["pageInfo"]
        if not info["hasNextPage"]:
            return nodes
        after = info["endCursor"]


@dataclass(frozen=True)
class PayoutsFetchResult:
    """What one fetch read from a store and what finance made of it."""

    channel_id: int
    since: datetime.date
    until: datetime.date | None
    has_payments_account: bool
    payouts_read: int = 0
    import_id: int | None = None
    payouts_created: int = 0
    payouts_updated: int = 0
    lines_created: int = 0
    lines_updated: int = 0
    lines_unchanged: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        if not self.has_payments_account:
            return f"store {self.channel_id}: Shopify Payments is not set up"
        return (
            f"{self.payouts_read} payout(s) since {self.since}: "
            f"{self.payouts_created} new, {self.payouts_updated} changed; lines "
            f"{self.lines_created} new, {self.lines_updated} changed, "
            f"{self.lines_unchanged} unchanged; {len(self.errors)} error(s)"
        )


def _window_start(channel: Channel) -> datetime.date:
    latest = payout_latest_paid_on(gateway=GATEWAY, channel_id=channel.pk)
    if latest is None:
        return timezone.now().date() - datetime.timedelta(days=FIRST_FETCH_DAYS)
    return latest - datetime.timedelta(days=REFETCH_OVERLAP_DAYS)


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def shopify_payouts_fetch(
    *,
    channel_id: int,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    client: ShopifyClient | None = None,
) -> PayoutsFetchResult:
    """Read a store's Shopify Payments payouts issued in a window and import them.

    Without `since`, the window starts a little before the newest payout imported
    (or FIRST_FETCH_DAYS back for a new store). A payout that cannot be read is listed
    on the import record; the others are imported.
    Raises: ChannelUnauthorizedError, ShopifyQueryError (e.g. the app lacks the
    read_shopify_payments_payouts scope), ConnectorTransientError (store unreachable).
    """
    channel = Channel.objects.get(pk=channel_id)
    if channel.kind != ChannelKind.SHOPIFY:
        raise ConnectorError(
            Phrase(
                gettext_noop("Store %(code)s is not a Shopify store."),
                code=channel.code,
            ),
            channel_id=channel_id,
        )
    client = client or shopify_client_for(channel)
    start = since or _window_start(channel)
    terms = [f"issued_at:>={search_time(_day_start(start))}"]
    if until is not None:
        end = _day_start(until + datetime.timedelta(days=1))
        terms.append(f"issued_at:<{search_time(end)}")
    payouts = _payouts(client, " ".join(terms))
    if payouts is None:
        return PayoutsFetchResult(
            channel_id=channel_id, since=start, until=until, has_payments_account=False
        )
    fetched: list[FetchedPayout] = []
    errors: list[str] = []
    read = 0
    for payout in payouts:
        read += 1
        payout_id = str(payout.get("legacyResourceId") or payout.get("id") or "?")
        try:
            transactions = _balance_transactions(client, payout_id)
            mapped, lines = payout_from_graphql(payout, transactions)
        except PayloadError as exc:
            errors.append(
                Phrase(
                    gettext_noop("payout %(payout)s: %(error)s"),
                    payout=payout_id,
                    error=exc.message,
                )
            )
            continue
        fetched.append(FetchedPayout(payout=mapped, lines=lines))
    report = payouts_api_import(
        channel_id=channel_id,
        gateway=GATEWAY,
        payouts=fetched,
        errors=errors,
        reference=f"Shopify Payments API, {channel.code}, issued since {start}"
        + (f" until {until}" if until else ""),
    )
    return PayoutsFetchResult(
        channel_id=channel_id,
        since=start,
        until=until,
        has_payments_account=True,
        payouts_read=read,
        import_id=report.import_id,
        payouts_created=report.payouts_created,
        payouts_updated=report.payouts_updated,
        lines_created=report.lines_created,
        lines_updated=report.lines_updated,
        lines_unchanged=report.lines_unchanged,
        errors=tuple(e.message for e in report.errors),
    )


def shopify_channels_for_payouts() -> list[int]:
    """Active Shopify stores that can be asked (not waiting to be reconnected)."""
    return list(
        Channel.objects.filter(
            kind=ChannelKind.SHOPIFY, is_active=True, requires_reauthorization=False
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- background jobs (discovered by erp/celery.py) -------------------------------------


@shared_task(
    acks_late=True,
    autoretry_for=(ConnectorTransientError, OperationalError),
    retry_backoff=60,
    retry_jitter=True,
    max_retries=6,
    ignore_result=True,
)
def shopify_payouts_fetch_task(channel_id: int) -> None:
    """Fetch one store's new and changed Shopify Payments payouts."""
    try:
        shopify_payouts_fetch(channel_id=channel_id)
    except ConnectorError as exc:
        # Terminal (revoked token, missing scope): retrying cannot help; the store's
        # flag or the log says what to fix.
        logger.warning(
            "connectors.shopify.payouts.refused",
            extra={"channel_id": channel_id, "error": exc.message},
        )


@shared_task(ignore_result=True)
def shopify_payouts_fetch_all_task() -> int:
    """Beat (daily): fetch payouts of every active Shopify store, one task each."""
    channel_ids = shopify_channels_for_payouts()
    for channel_id in channel_ids:
        shopify_payouts_fetch_task.delay(channel_id)
    return len(channel_ids)
