"""WooCommerce-specific services: a client for a store, its settings, reading orders.

Never called while a database lock is held: store calls happen first, then short
transactions (order_ingest, cursor saves) record what came back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_noop

from connectors.exceptions import ChannelUnauthorizedError, PayloadError
from connectors.models import Channel
from connectors.providers import OrdersPage, OrdersWindow, PageItem
from connectors.selectors import listing_skus
from connectors.services import channel_mark_unauthorized
from connectors.woocommerce.client import (
    DEFAULT_BACKOFF_SECONDS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    WooClient,
    WooNotFoundError,
)
from connectors.woocommerce.mappers import order_to_canonical, store_variant_id
from erp.core.text import Phrase
from orders.canonical import CanonicalOrder


def woo_client_for(channel: Channel, **options: Any) -> WooClient:
    """A client for this store; a 401 flags the store for new keys.

    Raises: ChannelUnauthorizedError when the store is already flagged or has no keys,
    so a store with revoked keys costs no HTTP call at all.
    """
    if channel.requires_reauthorization:
        raise ChannelUnauthorizedError(
            Phrase(
                gettext_noop("Store %(code)s needs new REST API keys: %(error)s"),
                code=channel.code,
                error=channel.auth_error,
            ),
            channel_id=channel.pk,
        )
    credentials = channel.credentials or {}
    key, secret = credentials.get("consumer_key"), credentials.get("consumer_secret")
    if not key or not secret:
        raise ChannelUnauthorizedError(
            Phrase(
                gettext_noop("Store %(code)s has no WooCommerce REST API keys."),
                code=channel.code,
            ),
            channel_id=channel.pk,
        )
    channel_id = channel.pk

    def flag(reason: str) -> None:
        channel_mark_unauthorized(channel_id=channel_id, reason=reason)

    # Read at call time (never at import) so tests and ops can tune them.
    options.setdefault(
        "max_retries", getattr(settings, "WOOCOMMERCE_MAX_RETRIES", DEFAULT_MAX_RETRIES)
    )
    options.setdefault(
        "backoff_base",
        getattr(settings, "WOOCOMMERCE_RETRY_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS),
    )
    options.setdefault(
        "timeout", getattr(settings, "WOOCOMMERCE_TIMEOUT_SECONDS", DEFAULT_TIMEOUT)
    )
    return WooClient(
        shop_url=channel.shop_url,
        consumer_key=str(key),
        consumer_secret=str(secret),
        on_unauthorized=flag,
        **options,
    )


@dataclass(frozen=True)
class StoreCheck:
    """What a connection check learnt: the keys work, and the store's currency."""

    currency: str
    settings_read: int


def woo_store_check(
    *, shop_url: str, consumer_key: str, consumer_secret: str, **options: Any
) -> StoreCheck:
    """Read the store's general settings with these keys; returns its currency.

    Raises: ChannelUnauthorizedError (keys refused), ConnectorTransientError,
    PayloadError (no currency setting: not a WooCommerce store or an old one).
    """
    options.setdefault(
        "max_retries", getattr(settings, "WOOCOMMERCE_MAX_RETRIES", DEFAULT_MAX_RETRIES)
    )
    options.setdefault(
        "backoff_base",
        getattr(settings, "WOOCOMMERCE_RETRY_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS),
    )
    client = WooClient(
        shop_url=shop_url,
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        **options,
    )
    general = client.get("settings/general")
    values = (
        {
            str(item.get("id")): item.get("value")
            for item in general
            if isinstance(item, Mapping)
        }
        if isinstance(general, list)
        else {}
    )
    currency = str(values.get("woocommerce_currency") or "").upper()
    if len(currency) != 3:
        raise PayloadError(
            gettext_noop("the store's general settings have no woocommerce_currency"),
            path="settings/general",
        )
    return StoreCheck(currency=currency, settings_read=len(values))


def woo_order_fetch(client: WooClient, order_id: str) -> dict[str, Any] | None:
    """One order as the API has it now (None when deleted for good)."""
    try:
        data = client.get(f"orders/{order_id}")
    except WooNotFoundError:
        return None
    if not isinstance(data, dict):
        raise PayloadError(
            gettext_noop("the order is not a JSON object"), path=f"orders/{order_id}"
        )
    return data


def woo_order_refunds(
    client: WooClient, data: Mapping[str, Any]
) -> list[dict[str, Any]] | None:
    """The order's refunds with dates and lines, read only when it has any."""
    if not data.get("refunds"):
        return None
    refunds: list[dict[str, Any]] = []
    for page in client.pages(f"orders/{data['id']}/refunds"):
        refunds.extend(page.body)
    return refunds


def canonical_order_for(
    *, channel_id: int, client: WooClient, data: Mapping[str, Any]
) -> CanonicalOrder:
    """A Woo order as the canonical order: refunds read in full, SKUs through the
    listing map. Raises: PayloadError, ConnectorTransientError."""
    if not isinstance(data, Mapping):
        raise PayloadError(gettext_noop("the order is not a JSON object"))
    variants = [
        store_variant_id(item)
        for item in data.get("line_items") or []
        if isinstance(item, Mapping)
    ]
    return order_to_canonical(
        data,
        refunds=woo_order_refunds(client, data),
        sku_by_variant=listing_skus(channel_id=channel_id, variant_ids=variants),
    )


def gmt_param(moment: datetime) -> str:
    """A moment as Woo's date filters take it with dates_are_gmt=true."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _orders_params(window: OrdersWindow) -> dict[str, Any]:
    params: dict[str, Any] = {"dates_are_gmt": "true", "order": "asc"}
    if window.updated_since is not None:
        params["modified_after"] = gmt_param(window.updated_since)
        # Oldest change first, so the poll cursor can move after every page.
        params["orderby"] = "modified"
    else:
        params["orderby"] = "date"
    if window.created_from is not None:
        params["after"] = gmt_param(window.created_from)
    if window.created_to is not None:
        params["before"] = gmt_param(window.created_to)
    return params


def woo_orders_pages(
    *, channel: Channel, window: OrdersWindow, client: WooClient | None = None
) -> Iterator[OrdersPage]:
    """The store's orders in the window, 100 a page (X-WP-TotalPages), each mapped.

    An order that cannot be read is reported on the page, not raised.
    """
    client = client or woo_client_for(channel)
    for response in client.pages("orders", _orders_params(window)):
        items = []
        newest: datetime | None = None
        for data in response.body:
            external_id = str(data.get("id", "?")) if isinstance(data, dict) else "?"
            try:
                order = canonical_order_for(
                    channel_id=channel.pk, client=client, data=data
                )
            except PayloadError as exc:
                items.append(PageItem(external_id=external_id, error=exc.message))
                continue
            items.append(PageItem(external_id=order.external_id, order=order))
            if newest is None or order.store_updated_at > newest:
                newest = order.store_updated_at
        yield OrdersPage(items=tuple(items), updated_until=newest)
