"""Stock between us and a WooCommerce store: what it reports, and what we set there.

A listing's `external_variant_id` is what was sold (a simple product's id, or a
variation's id); `external_inventory_item_id` is the product that holds the stock field
in the API: the product itself, or the variation's parent. Simple products are set
through /products/batch, variations through /products/<parent>/variations/batch, 100
objects a call (WooCommerce's batch limit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_noop

from connectors.models import Channel, ChannelListing
from connectors.providers import StockPushResult
from connectors.services import (
    listings_pushed_record,
    listings_store_quantity_record,
)
from connectors.woocommerce.client import PAGE_SIZE, WooClient
from connectors.woocommerce.mappers import gmt_moment
from connectors.woocommerce.services import woo_client_for

BATCH_SIZE = 100


def _quantity(product: Mapping[str, Any]) -> int | None:
    """The stock the store manages for this product, or None if it tracks none."""
    if not product.get("manage_stock"):
        return None
    value = product.get("stock_quantity")
    return int(value) if isinstance(value, int | float) else None


def stock_drift_record(
    *, channel: Channel, body: Any, client: WooClient | None = None
) -> dict[str, Any]:
    """Record the stock the store shows after a product.updated (edited by hand there).

    A variable product's payload names its variations but not their stock: those are
    read from the API when we list any of them.
    """
    if not isinstance(body, dict) or "id" not in body:
        return {"ignored": "the product payload has no id"}
    product_id = str(body["id"])
    seen_at = (
        gmt_moment(body["date_modified_gmt"], "date_modified_gmt")
        if body.get("date_modified_gmt")
        else timezone.now()
    )
    listings = {
        listing.external_variant_id: listing
        for listing in ChannelListing.objects.filter(
            channel=channel, external_inventory_item_id=product_id
        )
    }
    if not listings:
        return {"ignored": f"no listing for product {product_id}"}
    reported: dict[str, int] = {}
    if product_id in listings:
        quantity = _quantity(body)
        if quantity is not None:
            reported[product_id] = quantity
    variation_ids = set(listings) - {product_id}
    if variation_ids:
        client = client or woo_client_for(channel)
        for page in client.pages(f"products/{product_id}/variations"):
            for variation in page.body:
                variant_id = str(variation.get("id"))
                quantity = _quantity(variation)
                if variant_id in variation_ids and quantity is not None:
                    reported[variant_id] = quantity
    recorded = listings_store_quantity_record(
        channel_id=channel.pk, quantities=reported, seen_at=seen_at
    )
    drift = {
        variant_id: {"store": quantity, "pushed": listings[variant_id].pushed_quantity}
        for variant_id, quantity in sorted(reported.items())
        if listings[variant_id].pushed_quantity not in (None, quantity)
    }
    return {
        "product_id": product_id,
        "store_quantities": reported,
        "drift": drift,
        "recorded": recorded,
    }


# --- pushing our available-to-sell to the store -----------------------------------------


def _batch_set(
    client: WooClient,
    endpoint: str,
    batch: list[tuple[ChannelListing, int]],
    result: StockPushResult,
) -> dict[int, int]:
    """One batch call; returns listing id → quantity for the objects the store set."""
    body = client.post(
        endpoint,
        {
            "update": [
                {
                    "id": int(listing.external_variant_id),
                    "manage_stock": True,
                    "stock_quantity": quantity,
                }
                for listing, quantity in batch
            ]
        },
    )
    result.calls += 1
    answered = {
        str(item.get("id")): item
        for item in (body or {}).get("update") or []
        if isinstance(item, dict)
    }
    done: dict[int, int] = {}
    for listing, quantity in batch:
        item = answered.get(listing.external_variant_id)
        error = (item or {}).get("error")
        if item is None or error:
            result.failed += 1
            result.errors.append(
                {
                    "external_id": listing.external_variant_id,
                    "error": (
                        f"{error.get('code')}: {error.get('message')}"
                        if isinstance(error, dict)
                        else gettext_noop("The store did not answer for this product.")
                    ),
                }
            )
            continue
        done[listing.pk] = quantity
    return done


def woo_stock_push(
    *,
    channel: Channel,
    desired: Mapping[int, int],
    client: WooClient | None = None,
) -> StockPushResult:
    """Set the store's stock of these products (product id → units), 100 a call.

    Only listings whose store quantity differs from ours are sent. Setting an absolute
    quantity is idempotent, so a retried call that had gone through does no harm.
    Raises: ConnectorError, ConnectorTransientError, ChannelUnauthorizedError.
    """
    result = StockPushResult()
    simple: list[tuple[ChannelListing, int]] = []
    by_parent: dict[str, list[tuple[ChannelListing, int]]] = {}
    for listing in (
        ChannelListing.objects.filter(
            channel=channel, product_id__in=list(desired), is_stock_synced=True
        )
        .exclude(external_inventory_item_id="")
        .order_by("pk")
    ):
        quantity = max(int(desired[listing.product_id]), 0)
        if not listing.needs_push(quantity):
            result.unchanged += 1
        elif listing.external_inventory_item_id == listing.external_variant_id:
            simple.append((listing, quantity))
        else:
            by_parent.setdefault(listing.external_inventory_item_id, []).append(
                (listing, quantity)
            )
    if not simple and not by_parent:
        return result
    client = client or woo_client_for(channel)
    calls: list[tuple[str, list[tuple[ChannelListing, int]]]] = [
        ("products/batch", simple[start : start + BATCH_SIZE])
        for start in range(0, len(simple), BATCH_SIZE)
    ]
    for parent, items in sorted(by_parent.items()):
        calls.extend(
            (f"products/{parent}/variations/batch", items[start : start + BATCH_SIZE])
            for start in range(0, len(items), BATCH_SIZE)
        )
    for endpoint, batch in calls:
        done = _batch_set(client, endpoint, batch, result)
        listings_pushed_record(quantities=done)
        result.pushed += len(done)
    return result


def woo_listings_from_products(
    client: WooClient,
) -> list[dict[str, str]]:
    """Every sellable thing of the store with its SKU: simple products and variations.

    For linking listings to our products by SKU (the demo store and ops' first import).
    """
    found: list[dict[str, str]] = []
    for page in client.pages("products", per_page=PAGE_SIZE):
        for product in page.body:
            product_id = str(product.get("id"))
            if product.get("type") == "variable":
                for variations in client.pages(f"products/{product_id}/variations"):
                    found.extend(
                        {
                            "variant_id": str(v.get("id")),
                            "parent_id": product_id,
                            "sku": str(v.get("sku") or ""),
                        }
                        for v in variations.body
                    )
            else:
                found.append(
                    {
                        "variant_id": product_id,
                        "parent_id": product_id,
                        "sku": str(product.get("sku") or ""),
                    }
                )
    return found
