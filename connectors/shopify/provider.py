"""What the connector core asks of Shopify: act on a webhook, read pages of orders."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError, PayloadError
from connectors.models import Channel, WebhookReceipt
from connectors.providers import OrdersPage, OrdersWindow
from connectors.selectors import (
    listing_skus,
    order_version_is_stored,
    order_versions_stored,
)
from connectors.services import channel_mark_unauthorized
from connectors.shopify import queries
from connectors.shopify.bulk import shopify_orders_bulk_pages, shopify_orders_count
from connectors.shopify.client import user_errors_raise
from connectors.shopify.fulfillment import (
    EVENT_STATUS,
    Tracking,
    shopify_fulfillment_create,
    shopify_fulfillment_event,
    shopify_tracking_update,
    tracking_company,
)
from connectors.shopify.mappers import order_to_canonical
from connectors.shopify.payloads import (
    ShopifyOrder,
    parse_order_reference,
    parse_rest_order,
)
from connectors.shopify.services import (
    canonical_order_for,
    order_gid,
    shopify_client_for,
    shopify_order_fetch,
    shopify_orders_pages,
)
from connectors.shopify.stock import (
    StockPushResult,
    inventory_level_record,
    shopify_stock_push,
)
from connectors.shopify.subscriptions import shopify_webhooks_ensure
from connectors.shopify.webhooks import business_key_for
from erp.core.text import Phrase
from orders.canonical import CanonicalOrder, OrderSource
from orders.services.ingest import (
    IngestFailure,
    IngestResult,
    order_ingest,
    order_ingest_many,
)

# Topics whose body is the whole order (REST shape): ingested as they are.
ORDER_BODY_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
    }
)
# Topics that only name an order (the key holding its id): the order is read fresh
# from the API, which also brings its refunds, fulfilment state and transactions.
ORDER_REFERENCE_TOPICS = {
    "orders/edited": "order_edit",
    "refunds/create": "order_id",
    "fulfillments/create": "order_id",
    "fulfillments/update": "order_id",
}


def _body(receipt: WebhookReceipt) -> Any:
    try:
        # Decimal: money must never pass through a float.
        return json.loads(receipt.body, parse_float=Decimal)
    except ValueError as exc:
        raise PayloadError(
            Phrase(gettext_noop("the body is not JSON (%(error)s)"), error=exc.msg)
        ) from None


def _result(result: IngestResult) -> dict[str, Any]:
    return {
        "order_id": result.order_id,
        "created": result.created,
        "changed": result.changed,
        "stale": result.stale,
        "status": result.status,
    }


def _ingest(*, channel_id: int, order: CanonicalOrder) -> dict[str, Any]:
    return _result(
        order_ingest(channel_id=channel_id, data=order, source=OrderSource.WEBHOOK)
    )


def _order_body(receipt: WebhookReceipt, body: Any) -> dict[str, Any]:
    order = parse_rest_order(body)
    if order_version_is_stored(
        channel_id=receipt.channel_id,
        external_id=order.id,
        store_updated_at=order.updated_at,
    ):
        return {"skipped": "this version of the order is already stored"}
    skus = listing_skus(
        channel_id=receipt.channel_id,
        variant_ids=[line.variant_id for line in order.line_items],
    )
    canonical = order_to_canonical(order, sku_by_variant=skus)
    return _ingest(channel_id=receipt.channel_id, order=canonical)


def _order_reference(receipt: WebhookReceipt, body: Any, key: str) -> dict[str, Any]:
    reference = parse_order_reference(body, key=key)
    client = shopify_client_for(receipt.channel)
    node = shopify_order_fetch(client, reference.order_id)
    if node is None:
        raise ConnectorError(
            Phrase(
                gettext_noop("Order %(order_id)s is no longer in the store."),
                order_id=reference.order_id,
            ),
            order_id=reference.order_id,
        )
    canonical = canonical_order_for(channel_id=receipt.channel_id, node=node)
    return _ingest(channel_id=receipt.channel_id, order=canonical)


def webhook_process(*, receipt: WebhookReceipt) -> dict[str, Any]:
    """Act on one stored Shopify delivery; returns what was done.

    Raises: PayloadError (malformed body), ConnectorError (topic we do not handle, order
    gone), ConnectorTransientError (the store did not answer), ApplicationError from the
    order ingest.
    """
    topic = receipt.topic
    if topic == "app/uninstalled":
        channel_mark_unauthorized(
            channel_id=receipt.channel_id,
            reason=gettext_noop("The app was uninstalled from the store."),
        )
        return {"channel": "needs reconnecting"}
    body = _body(receipt)
    if topic in ORDER_BODY_TOPICS:
        return _order_body(receipt, body)
    if topic in ORDER_REFERENCE_TOPICS:
        return _order_reference(receipt, body, ORDER_REFERENCE_TOPICS[topic])
    if topic == "inventory_levels/update":
        return inventory_level_record(channel_id=receipt.channel_id, body=body)
    raise ConnectorError(
        Phrase(
            gettext_noop("Webhooks of topic %(topic)r are not handled."), topic=topic
        ),
        topic=topic,
    )


def webhook_business_key(*, receipt: WebhookReceipt) -> str:
    """The change a delivery carries (see business_key_for), read from its body."""
    try:
        payload = json.loads(receipt.body)
    except ValueError:
        return ""
    return business_key_for(topic=receipt.topic, payload=payload)


def webhook_process_many(
    *, receipts: Sequence[WebhookReceipt]
) -> dict[int, dict[str, Any] | Exception]:
    """Act on a batch of one store's deliveries; each receipt's result or error.

    Order bodies are ingested together: one read of the stored versions and of the
    listing map, one order_ingest_many (each order still its own transaction, so one
    bad order fails only its receipt). Other topics are left out (no outcome): the core
    processes them one by one with webhook_process, renewing each one's lease.
    """
    outcomes: dict[int, dict[str, Any] | Exception] = {}
    bodies: list[tuple[WebhookReceipt, ShopifyOrder]] = []
    for receipt in receipts:
        if receipt.topic not in ORDER_BODY_TOPICS:
            continue
        try:
            bodies.append((receipt, parse_rest_order(_body(receipt))))
        # Each receipt's error is its own outcome; the core records it.
        except Exception as exc:
            outcomes[receipt.pk] = exc
    if bodies:
        outcomes.update(_order_bodies(bodies))
    return outcomes


def _order_bodies(
    bodies: Sequence[tuple[WebhookReceipt, ShopifyOrder]],
) -> dict[int, dict[str, Any] | Exception]:
    channel_id = bodies[0][0].channel_id
    stored = order_versions_stored(
        channel_id=channel_id,
        versions=[(order.id, order.updated_at) for _, order in bodies],
    )
    skus = listing_skus(
        channel_id=channel_id,
        variant_ids=[
            line.variant_id for _, order in bodies for line in order.line_items
        ],
    )
    outcomes: dict[int, dict[str, Any] | Exception] = {}
    to_ingest: list[tuple[WebhookReceipt, CanonicalOrder]] = []
    for receipt, order in bodies:
        if (order.id, order.updated_at) in stored:
            outcomes[receipt.pk] = {
                "skipped": "this version of the order is already stored"
            }
            continue
        try:
            to_ingest.append((receipt, order_to_canonical(order, sku_by_variant=skus)))
        except Exception as exc:
            outcomes[receipt.pk] = exc
    if not to_ingest:
        return outcomes
    results = order_ingest_many(
        channel_id=channel_id,
        orders=[canonical for _, canonical in to_ingest],
        source=OrderSource.WEBHOOK,
    )
    for (receipt, _), result in zip(to_ingest, results, strict=True):
        outcomes[receipt.pk] = (
            result.error if isinstance(result, IngestFailure) else _result(result)
        )
    return outcomes


def orders_pages(*, channel: Channel, window: OrdersWindow) -> Iterator[OrdersPage]:
    """The store's orders in the window, page by page (see shopify_orders_pages)."""
    return shopify_orders_pages(channel=channel, window=window)


def orders_count(*, channel: Channel, window: OrdersWindow) -> int:
    """How many orders the store has in the window (picks paging or a bulk query)."""
    return shopify_orders_count(channel=channel, window=window)


def orders_bulk_pages(
    *, channel: Channel, window: OrdersWindow
) -> Iterator[OrdersPage]:
    """The window's orders through one bulk operation (see shopify_orders_bulk_pages)."""
    return shopify_orders_bulk_pages(channel=channel, window=window)


def stock_push(*, channel: Channel, desired: Mapping[int, int]) -> StockPushResult:
    """Set the store's available quantities (see shopify_stock_push)."""
    return shopify_stock_push(channel=channel, desired=desired)


# Our cancellations are ops decisions (stock short, fraud, customer asked); Shopify's
# reason enum has no better fit than OTHER, so the text goes in the staff note.
CANCEL_REASON = "OTHER"


def order_cancel_push(
    *, channel: Channel, order_external_id: str, reason: str
) -> dict[str, Any]:
    """Cancel the order in Shopify; already cancelled there counts as done.

    No refund and no restock: money goes back through finance's own decision, and the
    store's stock is ours to set (the next stock push does it).
    Raises: ShopifyQueryError (refused), ConnectorTransientError,
    ChannelUnauthorizedError.
    """
    client = shopify_client_for(channel)
    data = client.execute(
        queries.ORDER_CANCEL,
        {
            "orderId": order_gid(order_external_id),
            "reason": CANCEL_REASON,
            "refund": False,
            "restock": False,
            "notifyCustomer": False,
            "staffNote": reason[:255],
        },
    )
    payload = data.get("orderCancel") or {}
    errors = payload.get("orderCancelUserErrors") or []
    if errors:
        if any("already" in str(e.get("message", "")).lower() for e in errors):
            return {"already_cancelled": True}
        user_errors_raise(payload, field="orderCancelUserErrors")
    job = payload.get("job") or {}
    return {"job_id": job.get("id"), "cancelled": True}


def _tracking(tracking: Mapping[str, str]) -> Tracking:
    return Tracking(
        number=tracking.get("number", ""),
        company=tracking_company(
            carrier=tracking.get("carrier", ""),
            carrier_name=tracking.get("carrier_name", ""),
        ),
        url=tracking.get("url", ""),
    )


def fulfillment_create(
    *,
    channel: Channel,
    order_external_id: str,
    lines: Sequence[tuple[str, int]],
    tracking: Mapping[str, str],
) -> tuple[str, str]:
    """Fulfil the shipped lines in Shopify; returns (fulfilment id, company shown)."""
    shown = _tracking(tracking)
    fulfillment_id = shopify_fulfillment_create(
        client=shopify_client_for(channel),
        order_external_id=order_external_id,
        lines=lines,
        tracking=shown,
    )
    return fulfillment_id, shown.company


def fulfillment_tracking_update(
    *, channel: Channel, fulfillment_external_id: str, tracking: Mapping[str, str]
) -> str:
    """Replace the tracking of a fulfilment; returns the company shown."""
    shown = _tracking(tracking)
    shopify_tracking_update(
        client=shopify_client_for(channel),
        fulfillment_id=fulfillment_external_id,
        tracking=shown,
    )
    return shown.company


def fulfillment_event(
    *,
    channel: Channel,
    fulfillment_external_id: str,
    status: str,
    happened_at: datetime | None = None,
) -> str:
    """Send our tracking status as a fulfilment event; returns Shopify's status sent
    ("" when ours has no counterpart)."""
    event_status = EVENT_STATUS.get(status, "")
    if event_status:
        shopify_fulfillment_event(
            client=shopify_client_for(channel),
            fulfillment_id=fulfillment_external_id,
            status=event_status,
            happened_at=happened_at,
        )
    return event_status


def webhooks_ensure(*, channel: Channel) -> dict[str, Any]:
    """(Re)create the store's webhook subscriptions; returns what was done."""
    result = shopify_webhooks_ensure(channel=channel)
    return {
        "callback_url": result.callback_url,
        "created": result.created,
        "present": result.present,
    }
