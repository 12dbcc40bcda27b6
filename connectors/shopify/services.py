"""Shopify-specific services: a client for a store, reading orders, ingesting them.

Never called while a database lock is held: store calls happen first, then short
transactions (order_ingest, cursor saves) record what came back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_noop

from connectors.exceptions import ChannelUnauthorizedError, PayloadError
from connectors.models import Channel
from connectors.providers import OrdersPage, OrdersWindow, PageItem
from connectors.selectors import listing_skus
from connectors.services import channel_mark_unauthorized
from connectors.shopify import queries
from connectors.shopify.client import (
    DEFAULT_BACKOFF_SECONDS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ShopifyClient,
)
from connectors.shopify.mappers import canonical_order_from_graphql
from connectors.shopify.payloads import parse_graphql_order
from erp.core.text import Phrase
from orders.canonical import CanonicalOrder

# Sizes of the sub-lists a page of orders carries (queries.py keeps the cost in budget).
ORDER_SIZES = {
    "lines": queries.ORDER_LINES_FIRST,
    "shippingLines": queries.ORDER_SHIPPING_LINES_FIRST,
    "refunds": queries.ORDER_REFUNDS_FIRST,
    "refundLines": queries.REFUND_LINES_FIRST,
    "transactions": queries.ORDER_TRANSACTIONS_FIRST,
}


def shopify_client_for(channel: Channel, **options: Any) -> ShopifyClient:
    """A client for this store; a 401 from Shopify flags the store for reconnection.

    Raises: ChannelUnauthorizedError when the store is already flagged or has no access
    token, so a revoked store costs no HTTP call at all.
    """
    if channel.requires_reauthorization:
        raise ChannelUnauthorizedError(
            Phrase(
                gettext_noop("Store %(code)s needs reconnecting: %(error)s"),
                code=channel.code,
                error=channel.auth_error,
            ),
            channel_id=channel.pk,
        )
    token = (channel.credentials or {}).get("access_token")
    if not token:
        raise ChannelUnauthorizedError(
            Phrase(
                gettext_noop("Store %(code)s has no Admin API access token."),
                code=channel.code,
            ),
            channel_id=channel.pk,
        )
    channel_id = channel.pk

    def flag(reason: str) -> None:
        channel_mark_unauthorized(channel_id=channel_id, reason=reason)

    # Read at call time (never at import) so tests and ops can tune them.
    options.setdefault(
        "max_retries", getattr(settings, "SHOPIFY_MAX_RETRIES", DEFAULT_MAX_RETRIES)
    )
    options.setdefault(
        "backoff_base",
        getattr(settings, "SHOPIFY_RETRY_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS),
    )
    options.setdefault(
        "timeout", getattr(settings, "SHOPIFY_TIMEOUT_SECONDS", DEFAULT_TIMEOUT)
    )
    return ShopifyClient(
        shop_url=channel.shop_url,
        access_token=str(token),
        on_unauthorized=flag,
        **options,
    )


def order_gid(order_id: str | int) -> str:
    return f"gid://shopify/Order/{order_id}"


def search_time(moment: datetime) -> str:
    """A moment in Shopify search syntax (UTC, quoted)."""
    return "'" + moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") + "'"


# --- completing an order the page could not carry in full -------------------------------


def _page_through(
    client: ShopifyClient,
    document: str,
    *,
    root: str,
    field: str,
    object_id: str,
    first: int,
    after: str | None,
) -> list[dict[str, Any]]:
    """The remaining nodes of a connection of one object, page by page."""
    nodes: list[dict[str, Any]] = []
    while after:
        data = client.execute(
            document, {"id": object_id, "first": first, "after": after}
        )
        parent = data.get(root)
        if parent is None:
            raise PayloadError(
                Phrase(
                    gettext_noop("%(object)s vanished while it was being read"),
                    object=object_id,
                )
            )
        connection = parent[field]
        nodes.extend(connection["nodes"])
        page_info = connection["pageInfo"]
        after = page_info["endCursor"] if page_info["hasNextPage"] else None
    return nodes


def _complete_connection(
    client: ShopifyClient, node: dict[str, Any], *, field: str, document: str
) -> None:
    connection = node.get(field)
    if not connection or not connection["pageInfo"]["hasNextPage"]:
        return
    connection["nodes"].extend(
        _page_through(
            client,
            document,
            root="order",
            field=field,
            object_id=node["id"],
            first=queries.LINES_PAGE_SIZE,
            after=connection["pageInfo"]["endCursor"],
        )
    )
    connection["pageInfo"] = {"hasNextPage": False, "endCursor": None}


def refund_lines_complete(
    client: ShopifyClient, refund: dict[str, Any]
) -> dict[str, Any]:
    """Fetch the lines of a refund beyond the first page it came with."""
    items = refund["refundLineItems"]
    if items["pageInfo"]["hasNextPage"]:
        items["nodes"].extend(
            _page_through(
                client,
                queries.REFUND_LINES_PAGE,
                root="refund",
                field="refundLineItems",
                object_id=refund["id"],
                first=queries.REFUND_LINES_PAGE_SIZE,
                after=items["pageInfo"]["endCursor"],
            )
        )
        items["pageInfo"] = {"hasNextPage": False, "endCursor": None}
    return refund


def shopify_order_complete(
    client: ShopifyClient, node: dict[str, Any]
) -> dict[str, Any]:
    """Fetch what a page left out of an order: more lines, refunds, transactions.

    A page carries a few of each so its cost stays under Shopify's single-query limit;
    the rare big order costs a few more calls instead of every page costing more.
    """
    _complete_connection(
        client, node, field="lineItems", document=queries.ORDER_LINES_PAGE
    )
    _complete_connection(
        client, node, field="shippingLines", document=queries.ORDER_SHIPPING_LINES_PAGE
    )
    refunds = node.get("refunds") or []
    if len(refunds) >= queries.ORDER_REFUNDS_FIRST:
        data = client.execute(queries.ORDER_REFUND_IDS, {"id": node["id"]})
        known = {refund["id"]: refund for refund in refunds}
        refunds = []
        for ref in (data.get("order") or {}).get("refunds") or []:
            refund = known.get(ref["id"])
            if refund is None:
                fetched = client.execute(
                    queries.REFUND_GET,
                    {"id": ref["id"], "refundLines": queries.REFUND_LINES_PAGE_SIZE},
                )
                refund = fetched.get("refund")
            if refund is not None:
                refunds.append(refund)
    node["refunds"] = [refund_lines_complete(client, refund) for refund in refunds]
    if len(node.get("transactions") or []) >= queries.ORDER_TRANSACTIONS_FIRST:
        data = client.execute(
            queries.ORDER_TRANSACTIONS,
            {"id": node["id"], "first": queries.TRANSACTIONS_PAGE_SIZE},
        )
        node["transactions"] = (data.get("order") or {}).get("transactions") or []
    return node


def shopify_order_fetch(client: ShopifyClient, order_id: str) -> dict[str, Any] | None:
    """One order, complete, as the GraphQL Admin API has it now (None if deleted)."""
    data = client.execute(queries.ORDER_GET, {"id": order_gid(order_id), **ORDER_SIZES})
    node = data.get("order")
    return shopify_order_complete(client, node) if node is not None else None


def canonical_order_for(*, channel_id: int, node: dict[str, Any]) -> CanonicalOrder:
    """A complete GraphQL order as the canonical order, SKUs through the listing map."""
    variants = [line.variant_id for line in parse_graphql_order(node).line_items]
    return canonical_order_from_graphql(
        node, sku_by_variant=listing_skus(channel_id=channel_id, variant_ids=variants)
    )


# --- pages of orders --------------------------------------------------------------------


def orders_search(window: OrdersWindow) -> tuple[str, str]:
    """The window in Shopify search syntax, and the sort key to read it by."""
    terms = []
    if window.updated_since is not None:
        terms.append(f"updated_at:>={search_time(window.updated_since)}")
    if window.created_from is not None:
        terms.append(f"created_at:>={search_time(window.created_from)}")
    if window.created_to is not None:
        terms.append(f"created_at:<={search_time(window.created_to)}")
    sort_key = "UPDATED_AT" if window.updated_since is not None else "CREATED_AT"
    return " ".join(terms), sort_key


def shopify_orders_pages(
    *, channel: Channel, window: OrdersWindow, client: ShopifyClient | None = None
) -> Iterator[OrdersPage]:
    """The store's orders in the window, page by page, each order complete and mapped.

    Sorted by updated_at for a poll (so the cursor can move after each page) and by
    created_at for a backfill. An order that cannot be read is reported, not raised.
    """
    client = client or shopify_client_for(channel)
    query, sort_key = orders_search(window)
    after: str | None = None
    while True:
        data = client.execute(
            queries.ORDERS_PAGE,
            {
                "first": queries.ORDERS_PAGE_SIZE,
                "after": after,
                "query": query,
                "sortKey": sort_key,
                **ORDER_SIZES,
            },
        )
        connection = data["orders"]
        items = []
        newest: datetime | None = None
        for node in connection["nodes"]:
            external_id = str(node.get("legacyResourceId") or node.get("id") or "?")
            try:
                order = canonical_order_for(
                    channel_id=channel.pk, node=shopify_order_complete(client, node)
                )
            except PayloadError as exc:
                items.append(PageItem(external_id=external_id, error=exc.message))
                continue
            items.append(PageItem(external_id=order.external_id, order=order))
            if newest is None or order.store_updated_at > newest:
                newest = order.store_updated_at
        yield OrdersPage(items=tuple(items), updated_until=newest)
        page_info = connection["pageInfo"]
        if not page_info["hasNextPage"]:
            return
        after = page_info["endCursor"]
