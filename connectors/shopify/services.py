"""Shopify-specific services: a client for a store, polling, backfill, pushes.

Never called while a database lock is held: store calls happen first, then short
transactions (order_ingest, cursor saves) record what came back.
"""

from __future__ import annotations

from typing import Any

from connectors.exceptions import ChannelUnauthorizedError
from connectors.models import Channel
from connectors.services import channel_mark_unauthorized
from connectors.shopify.client import ShopifyClient


def shopify_client_for(channel: Channel, **options: Any) -> ShopifyClient:
    """A client for this store; a 401 from Shopify flags the store for reconnection.

    Raises: ChannelUnauthorizedError when the store is already flagged or has no access
    token, so a revoked store costs no HTTP call at all.
    """
    if channel.requires_reauthorization:
        raise ChannelUnauthorizedError(
            f"Store {channel.code} needs reconnecting: {channel.auth_error}",
            channel_id=channel.pk,
        )
    token = (channel.credentials or {}).get("access_token")
    if not token:
        raise ChannelUnauthorizedError(
            f"Store {channel.code} has no Admin API access token.",
            channel_id=channel.pk,
        )
    channel_id = channel.pk

    def flag(reason: str) -> None:
        channel_mark_unauthorized(channel_id=channel_id, reason=reason)

    return ShopifyClient(
        shop_url=channel.shop_url,
        access_token=str(token),
        on_unauthorized=flag,
        **options,
    )
