"""Stock between us and Shopify: what the store reports, and what we set there."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors.models import ChannelListing
from connectors.shopify.payloads import parse_inventory_level


@transaction.atomic
def inventory_level_record(*, channel_id: int, body: Any) -> dict[str, Any]:
    """Record the available quantity the store reports (inventory_levels/update).

    A figure other than the one we last set means the stock was changed in the store
    (by hand, or by a sale we have not ingested yet); the listing shows it and the
    receipt keeps both numbers. The next push sets ours again.
    """
    level = parse_inventory_level(body)
    listings = list(
        ChannelListing.objects.filter(
            channel_id=channel_id, external_inventory_item_id=level.inventory_item_id
        ).order_by("pk")
    )
    if not listings:
        return {"ignored": f"no listing for inventory item {level.inventory_item_id}"}
    seen_at = level.updated_at or timezone.now()
    # A late delivery must not overwrite a newer figure.
    changed = ChannelListing.objects.filter(
        Q(store_quantity_at__isnull=True) | Q(store_quantity_at__lt=seen_at),
        pk__in=[listing.pk for listing in listings],
    ).update(store_quantity=level.available, store_quantity_at=seen_at)
    pushed = listings[0].pushed_quantity
    return {
        "inventory_item_id": level.inventory_item_id,
        "location_id": level.location_id,
        "store_quantity": level.available,
        "pushed_quantity": pushed,
        "differs": pushed is not None and level.available != pushed,
        "recorded": bool(changed),
    }
