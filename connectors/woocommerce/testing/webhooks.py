"""Signed WooCommerce webhook deliveries, as WC_Webhook::deliver sends them."""

from __future__ import annotations

import json
import uuid
from typing import Any

from connectors.woocommerce.webhooks import woocommerce_signature

WC_VERSION = "9.4.0"


def webhook_body(payload: Any) -> bytes:
    """The body as wp_json_encode writes it: compact, slashes escaped, Decimals as
    JSON numbers; the signature is computed over exactly these bytes."""
    text = json.dumps(payload, default=str, separators=(",", ":"), ensure_ascii=False)
    return text.replace("/", "\\/").encode()


def webhook_headers(
    *,
    secret: str,
    body: bytes,
    topic: str,
    webhook_id: int = 1,
    delivery_id: str | None = None,
    source: str = "https://shop.example/",
) -> dict[str, str]:
    """The headers of one delivery, signed with `secret`."""
    resource, _, event = topic.partition(".")
    return {
        "Content-Type": "application/json",
        "User-Agent": f"WooCommerce/{WC_VERSION} Hookshot (WordPress/6.7)",
        "X-WC-Webhook-Source": source,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": woocommerce_signature(secret=secret, body=body),
        "X-WC-Webhook-ID": str(webhook_id),
        # WooCommerce: wp_hash(id . time); any unique string does here.
        "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
    }
