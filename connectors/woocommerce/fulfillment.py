"""Orders back to WooCommerce: shipped (completed, with tracking) and cancelled.

WooCommerce has no fulfilment object. A shipment becomes:
- the tracking in the order meta `_wc_shipment_tracking_items`, the list the
  WooCommerce Shipment Tracking extension keeps (Advanced Shipment Tracking and most
  themes and e-mails read the same key);
- a private order note naming carrier, number and link, for the store's staff;
- status `completed` once the whole order has left (partial shipments leave it
  `processing`), which also sends the customer WooCommerce's "order complete" e-mail.
Every step checks what the store already has first, so a retried push does nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError
from connectors.woocommerce.client import WooClient
from connectors.woocommerce.services import woo_order_fetch
from erp.core.text import Phrase

TRACKING_META_KEY = "_wc_shipment_tracking_items"
# Statuses that already mean "done" in the store: nothing to set.
FINAL_STATUSES = frozenset({"completed", "refunded", "cancelled", "trash", "failed"})
CANCEL_DONE_STATUSES = frozenset({"cancelled", "refunded", "trash"})


def tracking_id_for(number: str) -> str:
    """A stable id for one parcel's tracking item (the extension uses an md5 too)."""
    return hashlib.md5(f"dtc-erp:{number}".encode(), usedforsecurity=False).hexdigest()


def tracking_company(tracking: Mapping[str, str]) -> str:
    """The carrier name shown to the customer: the account's name, else its code."""
    return (
        tracking.get("carrier_name") or tracking.get("carrier") or ""
    ).strip() or "Carrier"


def _order(client: WooClient, order_id: str) -> dict[str, Any]:
    data = woo_order_fetch(client, order_id)
    if data is None:
        raise ConnectorError(
            Phrase(
                gettext_noop("Order %(order_id)s is no longer in the store."),
                order_id=order_id,
            ),
            order_id=order_id,
        )
    return data


def _tracking_items(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    for meta in order.get("meta_data") or []:
        if meta.get("key") == TRACKING_META_KEY and isinstance(meta.get("value"), list):
            return [dict(item) for item in meta["value"] if isinstance(item, dict)]
    return []


def _tracking_item(tracking: Mapping[str, str], shipped_at: datetime) -> dict[str, Any]:
    number = tracking.get("number", "")
    return {
        # Empty provider + custom name/link: shown as is, whatever carriers the
        # extension knows by slug.
        "tracking_provider": "",
        "custom_tracking_provider": tracking_company(tracking),
        "custom_tracking_link": tracking.get("url", ""),
        "tracking_number": number,
        "date_shipped": str(int(shipped_at.timestamp())),
        "tracking_id": tracking_id_for(number),
    }


def _note_text(tracking: Mapping[str, str], *, verb: str) -> str:
    text = f"{verb} with {tracking_company(tracking)}"
    if tracking.get("number"):
        text += f", tracking number {tracking['number']}"
    if tracking.get("url"):
        text += f": {tracking['url']}"
    return text + "."


def _note_once(client: WooClient, order_id: str, note: str) -> bool:
    """Add a private note unless the order already has this very note (a retry)."""
    for page in client.pages(f"orders/{order_id}/notes"):
        if any(item.get("note") == note for item in page.body):
            return False
    client.post(f"orders/{order_id}/notes", {"note": note, "customer_note": False})
    return True


def woo_shipment_push(
    *,
    client: WooClient,
    order_external_id: str,
    tracking: Mapping[str, str],
    complete: bool,
    shipped_at: datetime | None = None,
) -> str:
    """Put a shipment's tracking on the order, note it, and complete the order when
    the whole of it has shipped. Returns the fulfilment id we keep: "<order>:<tracking>".

    Raises: ConnectorError (order gone, refused), ConnectorTransientError,
    ChannelUnauthorizedError.
    """
    order = _order(client, order_external_id)
    shipped_at = shipped_at or datetime.now(tz=UTC)
    item = _tracking_item(tracking, shipped_at)
    items = _tracking_items(order)
    update: dict[str, Any] = {}
    if tracking.get("number") and not any(
        existing.get("tracking_id") == item["tracking_id"] for existing in items
    ):
        update["meta_data"] = [{"key": TRACKING_META_KEY, "value": [*items, item]}]
    if complete and order.get("status") not in FINAL_STATUSES:
        update["status"] = "completed"
    if update:
        client.put(f"orders/{order_external_id}", update)
    _note_once(client, order_external_id, _note_text(tracking, verb="Shipped"))
    return f"{order_external_id}:{item['tracking_id']}"


def woo_tracking_update(
    *, client: WooClient, fulfillment_external_id: str, tracking: Mapping[str, str]
) -> None:
    """Replace one shipment's tracking on the order (its tracking id stays, so the
    fulfilment id we keep keeps pointing at it)."""
    order_id, _, tracking_id = fulfillment_external_id.partition(":")
    order = _order(client, order_id)
    items = _tracking_items(order)
    current = next((i for i in items if i.get("tracking_id") == tracking_id), None)
    new_item = {
        **_tracking_item(tracking, datetime.now(tz=UTC)),
        "tracking_id": tracking_id,
    }
    if current is not None:
        new_item["date_shipped"] = current.get("date_shipped", new_item["date_shipped"])
    if current != new_item:
        kept = [i for i in items if i.get("tracking_id") != tracking_id]
        client.put(
            f"orders/{order_id}",
            {"meta_data": [{"key": TRACKING_META_KEY, "value": [*kept, new_item]}]},
        )
    _note_once(client, order_id, _note_text(tracking, verb="Tracking changed: shipped"))


def woo_order_cancel(
    *, client: WooClient, order_external_id: str, reason: str
) -> dict[str, Any]:
    """Cancel the order in the store; cancelled, refunded or deleted counts as done.

    No refund: money goes back through finance's own decision.
    """
    order = _order(client, order_external_id)
    status = order.get("status")
    if status in CANCEL_DONE_STATUSES:
        return {"already_cancelled": True, "status": status}
    if status == "completed":
        raise ConnectorError(
            Phrase(
                gettext_noop(
                    "Order %(order_id)s is completed in the store and cannot be "
                    "cancelled there."
                ),
                order_id=order_external_id,
            ),
            order_id=order_external_id,
        )
    client.put(f"orders/{order_external_id}", {"status": "cancelled"})
    _note_once(client, order_external_id, f"Cancelled in the ERP: {reason}")
    return {"cancelled": True}
