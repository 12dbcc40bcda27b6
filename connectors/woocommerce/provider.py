"""What the connector core asks of WooCommerce: act on a webhook, read pages of orders,
push stock, shipments and cancellations."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError, PayloadError
from connectors.models import Channel, WebhookReceipt
from connectors.providers import OrdersPage, OrdersWindow, StockPushResult
from connectors.selectors import order_version_is_stored, order_versions_stored
from connectors.woocommerce.fulfillment import (
    tracking_company,
    woo_order_cancel,
    woo_shipment_push,
    woo_tracking_update,
)
from connectors.woocommerce.mappers import gmt_moment
from connectors.woocommerce.services import (
    canonical_order_for,
    woo_client_for,
    woo_order_fetch,
    woo_orders_pages,
    woo_store_check,
)
from connectors.woocommerce.stock import stock_drift_record, woo_stock_push
from connectors.woocommerce.subscriptions import woo_webhooks_ensure
from erp.core.text import Phrase
from orders.canonical import CanonicalOrder, OrderSource
from orders.choices import OrderEventType, OrderStatus
from orders.models import Order
from orders.services.events import order_event_record
from orders.services.ingest import (
    IngestFailure,
    IngestResult,
    order_ingest,
    order_ingest_many,
)

# Topics whose payload is the whole order as the API returns it, built when the
# webhook was sent (not when the change happened).
ORDER_BODY_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
# Our order statuses after which the whole order has left: the store may complete it.
SHIPPED_STATUSES = frozenset(
    {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED}
)


def _body(receipt: WebhookReceipt) -> Any:
    try:
        # Decimal: money must never pass through a float.
        return json.loads(receipt.body, parse_float=Decimal)
    except ValueError as exc:
        raise PayloadError(
            Phrase(gettext_noop("the body is not JSON (%(error)s)"), error=str(exc))
        ) from None


def _result(result: IngestResult) -> dict[str, Any]:
    return {
        "order_id": result.order_id,
        "created": result.created,
        "changed": result.changed,
        "stale": result.stale,
        "status": result.status,
    }


def _ingest(*, receipt: WebhookReceipt, data: Mapping[str, Any]) -> dict[str, Any]:
    canonical = canonical_order_for(
        channel_id=receipt.channel_id,
        client=woo_client_for(receipt.channel),
        data=data,
    )
    return _result(
        order_ingest(
            channel_id=receipt.channel_id, data=canonical, source=OrderSource.WEBHOOK
        )
    )


def _order_version(body: Any) -> tuple[str, datetime]:
    """The store order id and date_modified_gmt of an order body (PayloadError)."""
    if not isinstance(body, dict) or "id" not in body:
        raise PayloadError(gettext_noop("the order payload has no id"))
    return str(body["id"]), gmt_moment(
        body.get("date_modified_gmt"), "date_modified_gmt"
    )


def _after_ingest(receipt: WebhookReceipt, body: Any, done: dict[str, Any]) -> None:
    if receipt.topic == "order.restored" and body.get("status") not in (
        "cancelled",
        "trash",
    ):
        _restored_note(order_id=done["order_id"])


def _order_body(receipt: WebhookReceipt, body: Any) -> dict[str, Any]:
    _, modified = _order_version(body)
    if order_version_is_stored(
        channel_id=receipt.channel_id,
        external_id=str(body["id"]),
        store_updated_at=modified,
    ):
        return {"skipped": "this version of the order is already stored"}
    done = _ingest(receipt=receipt, data=body)
    _after_ingest(receipt, body, done)
    return done


def webhook_process_many(
    *, receipts: Sequence[WebhookReceipt]
) -> dict[int, dict[str, Any] | Exception]:
    """Act on a batch of one store's deliveries; each receipt's result or error.

    Order bodies are ingested together: one read of the stored versions, one store
    client, one order_ingest_many (each order still its own transaction, so one bad
    order fails only its receipt). Other topics, and orders with refunds (read from
    the store, which may be slow), are left out (no outcome): the core processes them
    one by one with webhook_process, renewing each one's lease first.
    """
    outcomes: dict[int, dict[str, Any] | Exception] = {}
    bodies: list[tuple[WebhookReceipt, Any, tuple[str, datetime]]] = []
    for receipt in receipts:
        if receipt.topic not in ORDER_BODY_TOPICS:
            continue
        try:
            body = _body(receipt)
            if isinstance(body, dict) and body.get("refunds"):
                continue
            bodies.append((receipt, body, _order_version(body)))
        # Each receipt's error is its own outcome; the core records it.
        except Exception as exc:
            outcomes[receipt.pk] = exc
    if bodies:
        outcomes.update(_order_bodies(bodies))
    return outcomes


def _order_bodies(
    bodies: Sequence[tuple[WebhookReceipt, Any, tuple[str, datetime]]],
) -> dict[int, dict[str, Any] | Exception]:
    channel = bodies[0][0].channel
    stored = order_versions_stored(
        channel_id=channel.pk, versions=[version for _, _, version in bodies]
    )
    outcomes: dict[int, dict[str, Any] | Exception] = {}
    to_ingest: list[tuple[WebhookReceipt, Any, CanonicalOrder]] = []
    client = None
    for receipt, body, version in bodies:
        if version in stored:
            outcomes[receipt.pk] = {
                "skipped": "this version of the order is already stored"
            }
            continue
        try:
            client = client or woo_client_for(channel)
            canonical = canonical_order_for(
                channel_id=channel.pk, client=client, data=body
            )
        except Exception as exc:
            outcomes[receipt.pk] = exc
            continue
        to_ingest.append((receipt, body, canonical))
    if not to_ingest:
        return outcomes
    results = order_ingest_many(
        channel_id=channel.pk,
        orders=[canonical for _, _, canonical in to_ingest],
        source=OrderSource.WEBHOOK,
    )
    for (receipt, body, _), result in zip(to_ingest, results, strict=True):
        if isinstance(result, IngestFailure):
            outcomes[receipt.pk] = result.error
            continue
        done = _result(result)
        try:
            _after_ingest(receipt, body, done)
        except Exception as exc:
            outcomes[receipt.pk] = exc
            continue
        outcomes[receipt.pk] = done
    return outcomes


def _restored_note(*, order_id: int) -> None:
    """A cancelled order cannot come back here: say so where ops look."""
    order = Order.objects.filter(pk=order_id, status=OrderStatus.CANCELLED).first()
    if order is not None:
        order_event_record(
            order=order,
            type=OrderEventType.NOTE_ADDED,
            message=Phrase(
                gettext_noop(
                    "Restored from the trash in WooCommerce, but it stays cancelled "
                    "here (its stock was released): enter it again if it must ship."
                )
            ),
        )


def _order_deleted(receipt: WebhookReceipt, body: Any) -> dict[str, Any]:
    """order.deleted carries only the id: read what the store has now (the trashed
    order, cancelled here), or report an order deleted for good."""
    if not isinstance(body, dict) or "id" not in body:
        raise PayloadError(gettext_noop("the deletion payload has no id"))
    order_id = str(body["id"])
    data = woo_order_fetch(woo_client_for(receipt.channel), order_id)
    if data is None:
        raise ConnectorError(
            Phrase(
                gettext_noop(
                    "Order %(order_id)s was deleted for good in the store; cancel it "
                    "here by hand if it must not ship."
                ),
                order_id=order_id,
            ),
            order_id=order_id,
        )
    return _ingest(receipt=receipt, data=data)


def webhook_process(*, receipt: WebhookReceipt) -> dict[str, Any]:
    """Act on one stored WooCommerce delivery; returns what was done.

    Raises: PayloadError (malformed body), ConnectorError (topic we do not handle,
    order gone), ConnectorTransientError (the store did not answer), ApplicationError
    from the order ingest.
    """
    topic = receipt.topic
    body = _body(receipt)
    if topic in ORDER_BODY_TOPICS:
        return _order_body(receipt, body)
    if topic == "order.deleted":
        return _order_deleted(receipt, body)
    if topic == "product.updated":
        return stock_drift_record(channel=receipt.channel, body=body)
    raise ConnectorError(
        Phrase(
            gettext_noop("Webhooks of topic %(topic)r are not handled."), topic=topic
        ),
        topic=topic,
    )


def orders_pages(*, channel: Channel, window: OrdersWindow) -> Iterator[OrdersPage]:
    """The store's orders in the window, page by page (see woo_orders_pages)."""
    return woo_orders_pages(channel=channel, window=window)


def stock_push(*, channel: Channel, desired: Mapping[int, int]) -> StockPushResult:
    """Set the store's stock quantities (see woo_stock_push)."""
    return woo_stock_push(channel=channel, desired=desired)


def order_cancel_push(
    *, channel: Channel, order_external_id: str, reason: str
) -> dict[str, Any]:
    """Cancel the order in WooCommerce (see woo_order_cancel)."""
    return woo_order_cancel(
        client=woo_client_for(channel),
        order_external_id=order_external_id,
        reason=reason,
    )


def fulfillment_create(
    *,
    channel: Channel,
    order_external_id: str,
    lines: Sequence[tuple[str, int]],
    tracking: Mapping[str, str],
) -> tuple[str, str]:
    """Put the shipment on the order in WooCommerce; completed once all of it left.

    Woo has no partial fulfilment: the lines only matter to us, the order's own
    status here says whether this was the last parcel.
    """
    status = (
        Order.objects.filter(channel=channel, external_id=order_external_id)
        .values_list("status", flat=True)
        .first()
    )
    fulfillment_id = woo_shipment_push(
        client=woo_client_for(channel),
        order_external_id=order_external_id,
        tracking=tracking,
        complete=status in SHIPPED_STATUSES,
    )
    return fulfillment_id, tracking_company(tracking)


def fulfillment_tracking_update(
    *, channel: Channel, fulfillment_external_id: str, tracking: Mapping[str, str]
) -> str:
    """Replace a shipment's tracking on the order; returns the company shown."""
    woo_tracking_update(
        client=woo_client_for(channel),
        fulfillment_external_id=fulfillment_external_id,
        tracking=tracking,
    )
    return tracking_company(tracking)


def fulfillment_event(
    *,
    channel: Channel,
    fulfillment_external_id: str,
    status: str,
    happened_at: datetime | None = None,
) -> str:
    """WooCommerce has no shipment events: nothing is sent ("")."""
    return ""


def webhooks_ensure(*, channel: Channel) -> dict[str, Any]:
    """(Re)create or re-enable the store's webhooks; returns what was done."""
    result = woo_webhooks_ensure(channel=channel)
    return {
        "callback_url": result.delivery_url,
        "created": result.created,
        "reactivated": result.reactivated,
        "present": result.present,
    }


def connection_check(
    *, shop_url: str, credentials: Mapping[str, str]
) -> dict[str, Any]:
    """Call the store with these keys before connecting it; returns its currency.

    Raises: ChannelUnauthorizedError (keys refused), ConnectorTransientError,
    PayloadError.
    """
    check = woo_store_check(
        shop_url=shop_url,
        consumer_key=str(credentials.get("consumer_key") or ""),
        consumer_secret=str(credentials.get("consumer_secret") or ""),
    )
    return {"currency": check.currency}
