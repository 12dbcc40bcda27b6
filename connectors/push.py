"""Changes the stores must learn, provider-agnostic: stock levels and cancellations.

Called by the outbox handlers (connectors/handlers.py) after the business transaction
committed; each reads the current state when it runs, so a retry or a late delivery
sends what is true now, not what was true when the change happened.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError, ConnectorTransientError
from connectors.models import (
    Channel,
    ChannelListing,
    ChannelLocation,
    ExternalFulfillment,
    SyncRun,
    SyncRunKind,
)
from connectors.providers import provider_get
from connectors.services import (
    SyncCounts,
    sync_run_add,
    sync_run_finish,
    sync_run_start,
)
from erp.core.models import OutboxMessage, OutboxStatus
from inventory.selectors import channel_available_to_sell
from inventory.services.levels import AVAILABLE_CHANGED_TOPIC
from orders.models import Order

logger = logging.getLogger(__name__)

# One handler call pushes at most this many SKUs; the rest are pushed by the calls of
# their own messages.
MAX_PRODUCTS_PER_PUSH = 10_000


def stock_push_waiting_products(*, channel_id: int, limit: int) -> set[int]:
    """Products of this store whose stock push is waiting in the outbox.

    Read only: their own messages stay where they are and find nothing left to send
    when they are delivered, so pushing them now in the same calls is safe.
    """
    keys = OutboxMessage.objects.filter(
        topic=AVAILABLE_CHANGED_TOPIC,
        status__in=[OutboxStatus.PENDING, OutboxStatus.PROCESSING],
        key__startswith=f"{channel_id}:",
    ).values_list("key", flat=True)[:limit]
    products = set()
    for key in keys:
        _channel, _, product = key.partition(":")
        if product.isdigit():
            products.add(int(product))
    return products


def _needs_push(*, channel_id: int, desired: dict[int, int]) -> bool:
    if ChannelLocation.objects.filter(channel_id=channel_id).exists():
        # One figure per location: the provider compares them with what it last set
        # there (the listing's total cannot tell a split that changed).
        return True
    return any(
        listing.needs_push(max(desired[listing.product_id], 0))
        for listing in ChannelListing.objects.filter(
            channel_id=channel_id, product_id__in=list(desired), is_stock_synced=True
        ).exclude(external_inventory_item_id="")
    )


def channel_stock_push(
    *,
    channel_id: int,
    product_ids: Collection[int],
    with_waiting: bool = False,
) -> SyncRun | None:
    """Set the store's stock of these products to what it may sell now.

    With `with_waiting`, when one of them does need a push, every other SKU of the
    store whose push waits in the outbox goes in the same calls (250 per call instead
    of one call per SKU). Returns the SyncRun when the store was called (None when
    the store already showed our figures).
    Raises: ConnectorError, ConnectorTransientError, ChannelUnauthorizedError.
    """
    channel = Channel.objects.get(pk=channel_id)
    if not channel.is_active:
        return None
    desired = channel_available_to_sell(channel_id=channel_id, product_ids=product_ids)
    if not _needs_push(channel_id=channel_id, desired=desired):
        # The common case once a batch went out: its SKUs' own messages end here.
        return None
    if with_waiting:
        waiting = stock_push_waiting_products(
            channel_id=channel_id, limit=MAX_PRODUCTS_PER_PUSH
        ) - set(desired)
        if waiting:
            desired.update(
                channel_available_to_sell(channel_id=channel_id, product_ids=waiting)
            )
    result = provider_get(channel.kind).stock_push(channel=channel, desired=desired)
    if not result.calls and not result.failed:
        return None
    run = sync_run_start(
        channel_id=channel_id,
        kind=SyncRunKind.PUSH,
        params={"products": len(desired), "calls": result.calls},
    )
    sync_run_add(
        run_id=run.pk,
        counts=SyncCounts(
            fetched=len(desired),
            updated=result.pushed,
            unchanged=result.unchanged,
            failed=result.failed,
            errors=result.errors,
        ),
    )
    return sync_run_finish(run_id=run.pk)


def order_cancel_push(*, order_id: int, reason: str) -> dict[str, Any]:
    """Cancel the order in its store.

    Raises: ConnectorError (order unknown, refused), ConnectorTransientError,
    ChannelUnauthorizedError.
    """
    order = Order.objects.select_related("channel").filter(pk=order_id).first()
    if order is None:
        raise ConnectorError(
            gettext_noop("That order no longer exists."), order_id=order_id
        )
    return provider_get(order.channel.kind).order_cancel_push(
        channel=order.channel, order_external_id=order.external_id, reason=reason
    )


def _fulfillment_lines(payload: dict[str, Any]) -> list[tuple[str, int]]:
    return [
        (str(line["external_id"]), int(line["quantity"]))
        for line in payload.get("lines") or []
        if line.get("external_id")
    ]


def _tracking(payload: dict[str, Any]) -> dict[str, str]:
    return {
        "number": str(payload.get("tracking_number") or ""),
        "carrier": str(payload.get("carrier") or ""),
        "carrier_name": str(payload.get("carrier_name") or ""),
        "url": str(payload.get("tracking_url") or ""),
    }


def order_fulfillment_push(*, payload: dict[str, Any]) -> dict[str, Any]:
    """Tell the store a shipment left: a fulfilment of its lines, with tracking.

    Once per shipment: the fulfilment's id is kept, so a redelivery is a no-op.
    Raises: ConnectorError, ConnectorTransientError, ChannelUnauthorizedError.
    """
    order = (
        Order.objects.select_related("channel").filter(pk=payload["order_id"]).first()
    )
    if order is None:
        raise ConnectorError(
            gettext_noop("That order no longer exists."), order_id=payload["order_id"]
        )
    shipment_id = int(payload["shipment_id"])
    known = ExternalFulfillment.objects.filter(
        channel_id=order.channel_id, shipment_id=shipment_id
    ).first()
    if known is not None:
        return {"fulfillment": known.external_id, "already_pushed": True}
    tracking = _tracking(payload)
    external_id, company = provider_get(order.channel.kind).fulfillment_create(
        channel=order.channel,
        order_external_id=order.external_id,
        lines=_fulfillment_lines(payload),
        tracking=tracking,
    )
    record, _created = ExternalFulfillment.objects.get_or_create(
        channel_id=order.channel_id,
        shipment_id=shipment_id,
        defaults={
            "order": order,
            "external_id": external_id,
            "tracking_number": tracking["number"],
            "tracking_company": company,
            "tracking_url": tracking["url"],
        },
    )
    return {"fulfillment": record.external_id}


def order_tracking_push(*, payload: dict[str, Any]) -> dict[str, Any]:
    """Tell the store a parcel's new tracking number or status.

    Raises: ConnectorTransientError while the shipment's fulfilment is not in the store
    yet (its own message is on the way), ConnectorError, ChannelUnauthorizedError.
    """
    record = (
        ExternalFulfillment.objects.select_related("channel")
        .filter(shipment_id=payload["shipment_id"], channel_id=payload["channel_id"])
        .first()
    )
    if record is None:
        raise ConnectorTransientError(
            gettext_noop("The shipment's fulfilment is not in the store yet."),
            shipment_id=payload["shipment_id"],
        )
    provider = provider_get(record.channel.kind)
    tracking = _tracking(payload)
    done: dict[str, Any] = {"fulfillment": record.external_id}
    if tracking["number"] and (
        tracking["number"] != record.tracking_number
        or tracking["url"] != record.tracking_url
    ):
        record.tracking_company = provider.fulfillment_tracking_update(
            channel=record.channel,
            fulfillment_external_id=record.external_id,
            tracking=tracking,
        )
        record.tracking_number = tracking["number"]
        record.tracking_url = tracking["url"]
        record.save(
            update_fields=[
                "tracking_number",
                "tracking_company",
                "tracking_url",
                "updated_at",
            ]
        )
        done["tracking"] = tracking["number"]
    status = str(payload.get("status") or "")
    delivered_at = payload.get("delivered_at")
    sent = (
        provider.fulfillment_event(
            channel=record.channel,
            fulfillment_external_id=record.external_id,
            status=status,
            happened_at=datetime.fromisoformat(delivered_at) if delivered_at else None,
        )
        if status and status != record.last_event_status
        else ""
    )
    if sent:
        record.last_event_status = status
        record.save(update_fields=["last_event_status", "updated_at"])
        done["event"] = sent
    return done
