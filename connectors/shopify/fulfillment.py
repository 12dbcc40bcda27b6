"""Shipments out to Shopify: fulfilments on the right fulfilment orders, tracking, events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError
from connectors.shopify import queries
from connectors.shopify.client import ShopifyClient, user_errors_raise
from connectors.shopify.services import order_gid
from erp.core.text import Phrase

# Our carrier codes → the company names Shopify recognises (and links tracking for).
CARRIER_COMPANIES = {
    "ups": "UPS",
    "fedex": "FedEx",
    "dhl_express": "DHL Express",
    "dhl": "DHL Express",
    "usps": "USPS",
    "easypost": "",
    "yunexpress": "YunExpress",
    "yanwen": "Yanwen",
    "4px": "4PX",
    "cainiao": "Cainiao",
    "china_post": "China Post",
}

# Our tracking statuses (logistics.choices.TrackingStatus) → FulfillmentEventStatus.
# Statuses with no counterpart (cancelled, unknown) are not sent.
EVENT_STATUS = {
    "pre_transit": "LABEL_PURCHASED",
    "picked_up": "CONFIRMED",
    "in_transit": "IN_TRANSIT",
    "customs": "IN_TRANSIT",
    "out_for_delivery": "OUT_FOR_DELIVERY",
    "available_for_pickup": "READY_FOR_PICKUP",
    "delivered": "DELIVERED",
    "failed_attempt": "ATTEMPTED_DELIVERY",
    "exception": "DELAYED",
    "returned": "FAILURE",
}
OPEN_FULFILLMENT_ORDER = frozenset({"OPEN", "IN_PROGRESS"})
LIVE_FULFILLMENT = frozenset({"SUCCESS", "OPEN", "PENDING"})


@dataclass(frozen=True)
class Tracking:
    """Tracking as the store shows it."""

    number: str = ""
    company: str = ""
    url: str = ""

    def as_input(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


def tracking_company(*, carrier: str, carrier_name: str) -> str:
    """The company name Shopify knows for our carrier, else our account's name."""
    return CARRIER_COMPANIES.get(carrier.lower()) or carrier_name or carrier


def _line_item_gid(external_id: str) -> str:
    return f"gid://shopify/LineItem/{external_id}"


def shopify_fulfillment_create(
    *,
    client: ShopifyClient,
    order_external_id: str,
    lines: Sequence[tuple[str, int]],
    tracking: Tracking,
    notify_customer: bool = True,
) -> str:
    """Fulfil these (line item id, quantity) with tracking; returns the fulfilment gid.

    Quantities are taken from the order's open fulfilment orders (partial shipments
    take what they ship). A fulfilment already carrying our tracking number is ours from
    a call whose answer was lost: it is returned instead of fulfilling twice.
    Raises: ConnectorError (order gone, lines no longer open), ShopifyQueryError.
    """
    data = client.execute(
        queries.ORDER_FULFILLMENT_ORDERS, {"id": order_gid(order_external_id)}
    )
    order = data.get("order")
    if order is None:
        raise ConnectorError(
            Phrase(
                gettext_noop("Order %(order_id)s is no longer in the store."),
                order_id=order_external_id,
            ),
            order_id=order_external_id,
        )
    if tracking.number:
        for fulfillment in order.get("fulfillments") or []:
            numbers = {t.get("number") for t in fulfillment.get("trackingInfo") or []}
            if tracking.number in numbers and fulfillment["status"] in LIVE_FULFILLMENT:
                return str(fulfillment["id"])
    wanted = {_line_item_gid(ext): qty for ext, qty in lines if qty > 0}
    groups: list[dict[str, Any]] = []
    for fulfillment_order in order["fulfillmentOrders"]["nodes"]:
        if fulfillment_order["status"] not in OPEN_FULFILLMENT_ORDER:
            continue
        items = fulfillment_order["lineItems"]
        if items["pageInfo"]["hasNextPage"]:
            raise ConnectorError(
                Phrase(
                    gettext_noop(
                        "Order %(order_id)s has more lines in one fulfilment order "
                        "than one call reads; fulfil it in the store."
                    ),
                    order_id=order_external_id,
                ),
                order_id=order_external_id,
            )
        taken = []
        for item in items["nodes"]:
            need = wanted.get(item["lineItem"]["id"], 0)
            take = min(need, int(item["remainingQuantity"]))
            if take > 0:
                taken.append({"id": item["id"], "quantity": take})
                wanted[item["lineItem"]["id"]] = need - take
        if taken:
            groups.append(
                {
                    "fulfillmentOrderId": fulfillment_order["id"],
                    "fulfillmentOrderLineItems": taken,
                }
            )
    missing = {gid.rsplit("/", 1)[-1]: qty for gid, qty in wanted.items() if qty > 0}
    if missing:
        raise ConnectorError(
            Phrase(
                gettext_noop(
                    "Order %(order_id)s: the store has nothing left to fulfil for "
                    "line(s) %(lines)s (fulfilled or cancelled there?)."
                ),
                order_id=order_external_id,
                lines=", ".join(f"{k} ×{v}" for k, v in sorted(missing.items())),
            ),
            order_id=order_external_id,
            missing=missing,
        )
    fulfillment_input: dict[str, Any] = {
        "lineItemsByFulfillmentOrder": groups,
        "notifyCustomer": notify_customer,
    }
    if tracking.as_input():
        fulfillment_input["trackingInfo"] = tracking.as_input()
    result = client.execute(
        queries.FULFILLMENT_CREATE, {"fulfillment": fulfillment_input}
    )
    payload = result.get("fulfillmentCreate") or {}
    user_errors_raise(payload)
    return str(payload["fulfillment"]["id"])


def shopify_tracking_update(
    *,
    client: ShopifyClient,
    fulfillment_id: str,
    tracking: Tracking,
    notify_customer: bool = True,
) -> None:
    """Replace a fulfilment's tracking (a relabelled parcel)."""
    result = client.execute(
        queries.FULFILLMENT_TRACKING_UPDATE,
        {
            "fulfillmentId": fulfillment_id,
            "trackingInfoInput": tracking.as_input(),
            "notifyCustomer": notify_customer,
        },
    )
    user_errors_raise(result.get("fulfillmentTrackingInfoUpdate") or {})


def shopify_fulfillment_event(
    *,
    client: ShopifyClient,
    fulfillment_id: str,
    status: str,
    happened_at: datetime | None = None,
) -> None:
    """Tell the store where the parcel is (shown to the customer on the order page)."""
    event: dict[str, Any] = {"fulfillmentId": fulfillment_id, "status": status}
    if happened_at is not None:
        event["happenedAt"] = happened_at.isoformat()
    result = client.execute(
        queries.FULFILLMENT_EVENT_CREATE, {"fulfillmentEvent": event}
    )
    user_errors_raise(result.get("fulfillmentEventCreate") or {})
