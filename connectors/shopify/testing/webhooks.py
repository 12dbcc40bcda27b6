"""Signed Shopify webhook deliveries, as the store sends them, for tests and the demo."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from connectors.shopify.webhooks import shopify_hmac

API_VERSION = "2025-01"


def webhook_body(payload: Any) -> bytes:
    """Serialise a payload the way it goes on the wire (Decimals as JSON numbers)."""
    return json.dumps(payload, default=str, separators=(",", ":")).encode()


def webhook_headers(
    *,
    secret: str,
    body: bytes,
    topic: str,
    shop_domain: str = "example.myshopify.com",
    webhook_id: str | None = None,
    event_id: str | None = None,
    triggered_at: datetime | None = None,
) -> dict[str, str]:
    """The headers of one delivery, signed with `secret` (shopify-app-js ShopifyHeader)."""
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify_hmac(secret=secret, body=body),
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-API-Version": API_VERSION,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": (triggered_at or datetime.now(tz=UTC)).isoformat(),
    }
    if event_id is not None:
        headers["X-Shopify-Event-Id"] = event_id
    return headers
