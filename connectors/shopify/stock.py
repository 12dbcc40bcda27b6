"""Stock between us and Shopify: what the store reports, and what we set there."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError
from connectors.models import Channel, ChannelListing
from connectors.providers import StockPushResult
from connectors.selectors import channel_available_by_location
from connectors.services import listings_pushed_record
from connectors.shopify import queries
from connectors.shopify.client import ShopifyClient, ShopifyQueryError
from connectors.shopify.payloads import parse_inventory_level
from connectors.shopify.services import shopify_client_for
from erp.core.text import Phrase


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


# --- pushing our available-to-sell to the store -----------------------------------------

# Shopify's reasons for a quantity change (InventorySetQuantitiesInput.reason).
PUSH_REASON = "correction"
# A compare quantity Shopify calls stale is read again and the batch retried this often.
STALE_RETRIES = 2


@dataclass
class _Item:
    listing: ChannelListing
    quantity: int
    compare: int | None
    location_gid: str

    @property
    def item_gid(self) -> str:
        return f"gid://shopify/InventoryItem/{self.listing.external_inventory_item_id}"


def _read_levels(
    client: ShopifyClient, items: list[_Item]
) -> dict[tuple[str, str], int | None]:
    """The store's available quantity per (inventory item gid, location gid); None
    where the item is not stocked at that location. One read per location and 250."""
    found: dict[tuple[str, str], int | None] = {}
    by_location: dict[str, list[_Item]] = {}
    for item in items:
        by_location.setdefault(item.location_gid, []).append(item)
    for location_gid, located in by_location.items():
        for start in range(0, len(located), queries.INVENTORY_BATCH_SIZE):
            batch = located[start : start + queries.INVENTORY_BATCH_SIZE]
            data = client.execute(
                queries.INVENTORY_LEVELS,
                {"ids": [item.item_gid for item in batch], "locationId": location_gid},
            )
            for node in data.get("nodes") or []:
                if not node:
                    continue
                level = node.get("inventoryLevel")
                quantities = {
                    q["name"]: q["quantity"]
                    for q in (level or {}).get("quantities") or []
                }
                found[(node["id"], location_gid)] = (
                    quantities.get("available") if level else None
                )
    return found


def _fill_compare(
    client: ShopifyClient,
    items: list[_Item],
    result: StockPushResult,
) -> list[_Item]:
    """Read the store's quantity where we do not know it; drop items not stocked there."""
    unknown = [item for item in items if item.compare is None]
    if not unknown:
        return items
    calls_before = client.calls
    levels = _read_levels(client, unknown)
    result.calls += client.calls - calls_before
    kept = []
    for item in items:
        if item.compare is None:
            item.compare = levels.get((item.item_gid, item.location_gid))
            if item.compare is None:
                result.failed += 1
                result.errors.append(
                    {
                        "external_id": item.listing.external_variant_id,
                        "error": gettext_noop(
                            "The item is not stocked at the store's location."
                        ),
                    }
                )
                continue
        kept.append(item)
    return kept


def _set_batch(
    client: ShopifyClient,
    batch: list[_Item],
    *,
    reference: str,
    result: StockPushResult,
) -> list[_Item]:
    """Set one batch (≤ 250) with compare-and-set; returns the items that were set."""
    for _attempt in range(STALE_RETRIES + 1):
        if not batch:
            return []
        calls_before = client.calls
        data = client.execute(
            queries.INVENTORY_SET_QUANTITIES,
            {
                "input": {
                    "name": "available",
                    "reason": PUSH_REASON,
                    "referenceDocumentUri": reference,
                    "quantities": [
                        {
                            "inventoryItemId": item.item_gid,
                            "locationId": item.location_gid,
                            "quantity": item.quantity,
                            "compareQuantity": item.compare,
                        }
                        for item in batch
                    ],
                }
            },
        )
        result.calls += client.calls - calls_before
        payload = data.get("inventorySetQuantities") or {}
        errors = payload.get("userErrors") or []
        if not errors:
            return batch
        stale = [e for e in errors if e.get("code") == "COMPARE_QUANTITY_STALE"]
        refused = _refused_indexes(errors, len(batch))
        for index in sorted(refused):
            result.failed += 1
            error = next(e for e in errors if _index_of(e) == index)
            result.errors.append(
                {
                    "external_id": batch[index].listing.external_variant_id,
                    "error": f"{error.get('code')}: {error.get('message')}",
                }
            )
        batch = [item for i, item in enumerate(batch) if i not in refused]
        if stale:
            # Someone else changed the store meanwhile (a sale, a hand edit): we are
            # the source of truth, so read what it holds now and set ours over it.
            levels = _read_levels(client, batch)
            for item in batch:
                item.compare = levels.get((item.item_gid, item.location_gid))
    for item in batch:
        result.failed += 1
        result.errors.append(
            {
                "external_id": item.listing.external_variant_id,
                "error": gettext_noop(
                    "The store kept changing this quantity; try again later."
                ),
            }
        )
    return []


def _index_of(error: dict[str, Any]) -> int | None:
    field_path = error.get("field") or []
    if len(field_path) >= 3 and field_path[:2] == ["input", "quantities"]:
        try:
            return int(field_path[2])
        except ValueError:
            return None
    return None


def _refused_indexes(errors: list[dict[str, Any]], size: int) -> set[int]:
    """Items refused for a reason a retry cannot fix (not stocked, negative, ...)."""
    refused = set()
    for error in errors:
        if error.get("code") == "COMPARE_QUANTITY_STALE":
            continue
        index = _index_of(error)
        if index is None:
            raise ShopifyQueryError(
                Phrase(
                    gettext_noop("Shopify refused the stock update: %(error)s"),
                    error=error.get("message"),
                ),
                user_errors=errors,
            )
        if 0 <= index < size:
            refused.add(index)
    return refused


def shopify_stock_push(
    *,
    channel: Channel,
    desired: Mapping[int, int],
    client: ShopifyClient | None = None,
    reference: str = "",
) -> StockPushResult:
    """Set the store's available quantity of these products (product id → units).

    Only listings whose store quantity differs from ours are sent, 250 per call with
    the compare quantity (compare-and-set: a retry of a call that went through is
    refused as stale instead of applied twice; the 2025-01 schema has no idempotency
    key). Quantities we do not know yet are read first.
    Raises: ConnectorError (no stock location), ConnectorTransientError,
    ChannelUnauthorizedError.
    """
    result = StockPushResult()
    listings = list(
        ChannelListing.objects.filter(
            channel=channel, product_id__in=list(desired), is_stock_synced=True
        )
        .exclude(external_inventory_item_id="")
        .order_by("pk")
    )
    by_location = channel_available_by_location(
        channel_id=channel.pk, product_ids=list(desired)
    )
    if by_location:
        items = _located_items(listings, by_location, result)
    else:
        if not channel.stock_location_id:
            raise ConnectorError(
                Phrase(
                    gettext_noop(
                        "Store %(code)s has no stock location set; stock is not pushed."
                    ),
                    code=channel.code,
                ),
                channel_id=channel.pk,
            )
        items = _single_location_items(
            listings, desired, _location_gid(channel.stock_location_id), result
        )
    if not items:
        return result
    client = client or shopify_client_for(channel)
    items = _fill_compare(client, items, result)
    already = [item for item in items if item.compare == item.quantity]
    _pushed(already, located=bool(by_location))
    result.unchanged += len(already)
    items = [item for item in items if item.compare != item.quantity]
    reference = reference or f"gid://dtc-erp/StockPush/{uuid.uuid4()}"
    for start in range(0, len(items), queries.INVENTORY_BATCH_SIZE):
        batch = items[start : start + queries.INVENTORY_BATCH_SIZE]
        done = _set_batch(client, batch, reference=reference, result=result)
        _pushed(done, located=bool(by_location))
        result.pushed += len(done)
    return result


def _single_location_items(
    listings: list[ChannelListing],
    desired: Mapping[int, int],
    location_gid: str,
    result: StockPushResult,
) -> list[_Item]:
    items = []
    for listing in listings:
        quantity = max(int(desired[listing.product_id]), 0)
        if not listing.needs_push(quantity):
            result.unchanged += 1
            continue
        items.append(
            _Item(
                listing=listing,
                quantity=quantity,
                compare=listing.known_store_quantity,
                location_gid=location_gid,
            )
        )
    return items


def _located_items(
    listings: list[ChannelListing],
    by_location: Mapping[str, Mapping[int, int]],
    result: StockPushResult,
) -> list[_Item]:
    """One item per listing and location whose quantity is not what we last set there.

    The compare quantity is what we last set there; a hand edit since makes the set
    stale, and the stale path reads the store and sets ours over it.
    """
    items = []
    for listing in listings:
        known = listing.location_quantities or {}
        for location_id, figures in by_location.items():
            location_gid = _location_gid(location_id)
            quantity = max(int(figures.get(listing.product_id, 0)), 0)
            last = known.get(location_gid)
            if last == quantity:
                result.unchanged += 1
                continue
            items.append(
                _Item(
                    listing=listing,
                    quantity=quantity,
                    compare=last,
                    location_gid=location_gid,
                )
            )
    return items


def _pushed(items: list[_Item], *, located: bool) -> None:
    if located:
        _locations_pushed(items)
    else:
        listings_pushed_record(
            quantities={item.listing.pk: item.quantity for item in items}
        )


def _locations_pushed(items: list[_Item]) -> None:
    """Note what each location holds now, and the sum as the listing's quantity."""
    if not items:
        return
    now = timezone.now()
    by_listing: dict[int, ChannelListing] = {}
    for item in items:
        listing = by_listing.setdefault(item.listing.pk, item.listing)
        listing.location_quantities = {
            **(listing.location_quantities or {}),
            item.location_gid: item.quantity,
        }
    for listing in by_listing.values():
        total = sum(listing.location_quantities.values())
        ChannelListing.objects.filter(pk=listing.pk).update(
            location_quantities=listing.location_quantities,
            pushed_quantity=total,
            pushed_at=now,
            updated_at=now,
        )


def _location_gid(location_id: str) -> str:
    text = location_id.strip()
    return text if text.startswith("gid://") else f"gid://shopify/Location/{text}"
