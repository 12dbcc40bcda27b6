"""Backfill of large histories through a Shopify bulk operation (JSONL).

Paging a big history costs a call per few orders and drains the store's rate limit; a
bulk query costs one call, runs in Shopify's background, and hands back one JSONL
file. The file is downloaded to a temporary file (never held in memory whole), read a
line at a time, reassembled into the same order objects a page of the API gives, and
mapped by the same mappers. Refund lines, which Shopify's bulk rules keep out of the
file, are completed in batches.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError, PayloadError
from connectors.models import Channel
from connectors.providers import OrdersPage, OrdersWindow, PageItem
from connectors.selectors import listing_skus
from connectors.shopify import queries
from connectors.shopify.client import ShopifyClient, user_errors_raise
from connectors.shopify.mappers import order_to_canonical
from connectors.shopify.payloads import ShopifyOrder, parse_graphql_order
from connectors.shopify.services import (
    orders_search,
    refund_lines_complete,
    shopify_client_for,
)
from erp.core.text import Phrase

logger = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 2.0
# Orders mapped and ingested per page: the SyncRun and the cursor lease move this often.
BULK_PAGE_SIZE = 250
FINISHED_BADLY = {"FAILED", "CANCELED", "CANCELING", "EXPIRED"}


@dataclass(frozen=True)
class BulkOperation:
    """A bulk operation as Shopify reports it (BulkOperation object)."""

    id: str
    status: str
    error_code: str = ""
    object_count: int = 0
    root_object_count: int = 0
    url: str = ""

    @classmethod
    def parse(cls, node: Any) -> BulkOperation:
        if not isinstance(node, dict) or not node.get("id"):
            raise PayloadError(gettext_noop("is missing"), path="bulkOperation")
        return cls(
            id=str(node["id"]),
            status=str(node.get("status") or ""),
            error_code=str(node.get("errorCode") or ""),
            object_count=int(node.get("objectCount") or 0),
            root_object_count=int(node.get("rootObjectCount") or 0),
            url=str(node.get("url") or ""),
        )


def shopify_bulk_query_start(client: ShopifyClient, query: str) -> BulkOperation:
    """Start a bulk query.

    Raises: ConnectorError when another bulk query of the app runs in the store (2025-01
    allows one at a time), ShopifyQueryError when Shopify refuses the query.
    """
    data = client.execute(queries.BULK_OPERATION_RUN_QUERY, {"query": query})
    payload = data.get("bulkOperationRunQuery") or {}
    errors = payload.get("userErrors") or []
    if any(e.get("code") == "OPERATION_IN_PROGRESS" for e in errors):
        current = client.execute(queries.CURRENT_BULK_OPERATION).get(
            "currentBulkOperation"
        )
        raise ConnectorError(
            Phrase(
                gettext_noop(
                    "Another bulk operation of this app is running in the store "
                    "(%(operation)s, %(status)s); start the backfill again when it "
                    "has finished."
                ),
                operation=(current or {}).get("id", "?"),
                status=(current or {}).get("status", "?"),
            ),
            bulk_operation_id=(current or {}).get("id"),
        )
    user_errors_raise(payload)
    return BulkOperation.parse(payload.get("bulkOperation"))


def shopify_bulk_operation_get(
    client: ShopifyClient, operation_id: str
) -> BulkOperation:
    """The operation's status now."""
    data = client.execute(queries.BULK_OPERATION_GET, {"id": operation_id})
    return BulkOperation.parse(data.get("node"))


def shopify_bulk_operation_wait(
    client: ShopifyClient,
    operation: BulkOperation,
    *,
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[BulkOperation]:
    """Poll the operation until it completes, yielding each status seen.

    Raises: ConnectorError when it failed, was cancelled or expired.
    """
    while operation.status != "COMPLETED":
        sleep(poll_seconds)
        operation = shopify_bulk_operation_get(client, operation.id)
        if operation.status in FINISHED_BADLY:
            raise ConnectorError(
                Phrase(
                    gettext_noop(
                        "Shopify's bulk operation %(operation)s ended %(status)s."
                    ),
                    operation=operation.id,
                    status=f"{operation.status} ({operation.error_code})"
                    if operation.error_code
                    else operation.status,
                ),
                bulk_operation_id=operation.id,
                status=operation.status,
            )
        yield operation


# --- reading the JSONL back into orders ---------------------------------------------------


def _jsonl_rows(handle: IO[bytes]) -> Iterator[dict[str, Any]]:
    for number, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw, parse_float=Decimal)
        except ValueError as exc:
            raise PayloadError(
                Phrase(gettext_noop("is not JSON (%(error)s)"), error=str(exc)),
                path=f"line {number}",
            ) from None
        if not isinstance(row, dict):
            raise PayloadError(gettext_noop("is not an object"), path=f"line {number}")
        yield row


def _child_field(row: dict[str, Any]) -> str:
    kind = str(row.get("id") or "").split("/")[-2:-1]
    if kind == ["LineItem"] or "quantity" in row:
        return "lineItems"
    return "shippingLines"


def _connection(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": None}}


def bulk_orders(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Order objects (the shape of a page of the API) from bulk JSONL rows.

    Shopify writes each order's lines and shipping lines right after it, each with the
    order's id in `__parentId`; an order is complete when the next one starts.
    Raises: PayloadError when a row names a parent that is not the current order.
    """
    current: dict[str, Any] | None = None
    children: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        parent = row.pop("__parentId", None)
        if parent is None:
            if current is not None:
                yield _finished(current, children)
            current = row
            children = {"lineItems": [], "shippingLines": []}
            continue
        if current is None or parent != current.get("id"):
            raise PayloadError(
                Phrase(
                    gettext_noop("a row of %(parent)s does not follow its order"),
                    parent=parent,
                ),
                path="bulk file",
            )
        children[_child_field(row)].append(row)
    if current is not None:
        yield _finished(current, children)


def _finished(
    order: dict[str, Any], children: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    for name, nodes in children.items():
        order[name] = _connection(nodes)
    return order


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def shopify_refund_lines_complete(
    client: ShopifyClient, orders: list[dict[str, Any]]
) -> None:
    """Give the refunds of these orders their lines (the bulk file has none)."""
    refunds = {
        refund["id"]: refund
        for order in orders
        for refund in order.get("refunds") or []
        if "refundLineItems" not in refund
    }
    for ids in _batches(list(refunds), queries.REFUNDS_LINES_BATCH):
        data = client.execute(
            queries.REFUNDS_LINES,
            {"ids": ids, "first": queries.REFUNDS_LINES_FIRST},
        )
        for node in data.get("nodes") or []:
            if node and node.get("id") in refunds:
                refund = refunds[node["id"]]
                refund["refundLineItems"] = node["refundLineItems"]
                refund_lines_complete(client, refund)


def _mapped_page(
    *, channel_id: int, client: ShopifyClient, nodes: list[dict[str, Any]]
) -> OrdersPage:
    shopify_refund_lines_complete(client, nodes)
    items: list[PageItem] = []
    parsed: list[ShopifyOrder] = []
    for node in nodes:
        try:
            parsed.append(parse_graphql_order(node))
        except PayloadError as exc:
            external = str(node.get("legacyResourceId") or node.get("id") or "?")
            items.append(PageItem(external_id=external, error=exc.message))
    # One listing look-up for the page, not one per order.
    skus = listing_skus(
        channel_id=channel_id,
        variant_ids=[line.variant_id for order in parsed for line in order.line_items],
    )
    newest: datetime | None = None
    for order in parsed:
        canonical = order_to_canonical(order, sku_by_variant=skus)
        items.append(PageItem(external_id=canonical.external_id, order=canonical))
        if newest is None or canonical.store_updated_at > newest:
            newest = canonical.store_updated_at
    return OrdersPage(items=tuple(items), updated_until=newest)


def shopify_orders_bulk_pages(
    *,
    channel: Channel,
    window: OrdersWindow,
    client: ShopifyClient | None = None,
    page_size: int = BULK_PAGE_SIZE,
) -> Iterator[OrdersPage]:
    """The store's orders in the window through one bulk operation, page by page.

    While Shopify runs the operation, empty pages report its status (and let the sync
    extend its lease); then the file is read back BULK_PAGE_SIZE orders at a time.
    """
    client = client or shopify_client_for(channel)
    poll_seconds = float(
        getattr(settings, "SHOPIFY_BULK_POLL_SECONDS", DEFAULT_POLL_SECONDS)
    )
    search, _sort_key = orders_search(window)
    operation = shopify_bulk_query_start(client, queries.bulk_orders_query(search))
    logger.info(
        "connectors.shopify.bulk.started",
        extra={"channel_id": channel.pk, "bulk_operation_id": operation.id},
    )
    yield OrdersPage(items=(), updated_until=None, note=_status(operation))
    for seen in shopify_bulk_operation_wait(
        client, operation, poll_seconds=poll_seconds
    ):
        operation = seen
        yield OrdersPage(items=(), updated_until=None, note=_status(operation))
    if not operation.url:
        return  # nothing matched: Shopify gives no file
    with tempfile.TemporaryFile(prefix="shopify-bulk-") as handle:
        size = client.download(operation.url, handle)
        yield OrdersPage(
            items=(),
            updated_until=None,
            note=f"downloaded {size:,} bytes",
            expected_total=operation.root_object_count,
        )
        batch: list[dict[str, Any]] = []
        for node in bulk_orders(_jsonl_rows(handle)):
            batch.append(node)
            if len(batch) >= page_size:
                yield _mapped_page(channel_id=channel.pk, client=client, nodes=batch)
                batch = []
        if batch:
            yield _mapped_page(channel_id=channel.pk, client=client, nodes=batch)


def _status(operation: BulkOperation) -> str:
    return f"Shopify bulk operation {operation.status.lower()}" + (
        f", {operation.object_count:,} objects" if operation.object_count else ""
    )


def shopify_orders_count(*, channel: Channel, window: OrdersWindow) -> int:
    """How many orders the store has in the window (ordersCount, uncapped)."""
    search, _sort_key = orders_search(window)
    data = shopify_client_for(channel).execute(queries.ORDERS_COUNT, {"query": search})
    return int((data.get("ordersCount") or {}).get("count") or 0)
