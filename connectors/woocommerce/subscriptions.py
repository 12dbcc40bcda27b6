"""The webhooks a WooCommerce store needs, created and re-checked through the API.

WooCommerce disables a webhook after a few failed deliveries in a row (5 by the docs)
and never turns it back on; the daily re-check sets it active again (or creates it if
someone deleted it), and the poll heals whatever was missed in between.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.conf import settings

from connectors.intake import webhook_callback_url
from connectors.models import Channel
from connectors.services import channel_credentials_update
from connectors.woocommerce.client import WooClient
from connectors.woocommerce.services import woo_client_for

# Every topic webhook_process handles.
TOPICS = (
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
    "product.updated",
)


@dataclass
class WebhooksResult:
    """Which topics were in place, re-enabled or created."""

    delivery_url: str
    present: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def woo_webhook_secret(channel: Channel) -> str:
    """The store's webhook secret, made (and kept encrypted) on first use."""
    secret = str((channel.credentials or {}).get("webhook_secret") or "")
    if secret:
        return secret
    secret = secrets.token_urlsafe(32)
    channel.credentials = channel_credentials_update(
        channel_id=channel.pk, values={"webhook_secret": secret}
    ).credentials
    return secret


def woo_webhooks_ensure(
    *,
    channel: Channel,
    base_url: str | None = None,
    client: WooClient | None = None,
) -> WebhooksResult:
    """Make every topic we handle an active webhook of the store pointing at us.

    Raises: ConnectorError (no public address), ConnectorTransientError,
    ChannelUnauthorizedError.
    """
    delivery_url = webhook_callback_url(
        channel,
        base_url=base_url,
        # A WordPress site posts to http as readily as https; production sets https.
        require_https=not getattr(settings, "WOOCOMMERCE_ALLOW_HTTP_CALLBACKS", False),
    )
    client = client or woo_client_for(channel)
    secret = woo_webhook_secret(channel)
    ours: dict[str, dict] = {}
    for page in client.pages("webhooks"):
        for hook in page.body:
            if hook.get("delivery_url") != delivery_url:
                continue
            topic = hook.get("topic")
            # Of several for one topic, keep the active one.
            if topic not in ours or hook.get("status") == "active":
                ours[topic] = hook
    result = WebhooksResult(delivery_url=delivery_url)
    for topic in TOPICS:
        hook = ours.get(topic)
        if hook is None:
            client.post(
                "webhooks",
                {
                    "name": f"DTC ERP {topic}",
                    "topic": topic,
                    "delivery_url": delivery_url,
                    "secret": secret,
                    "status": "active",
                },
            )
            result.created.append(topic)
        elif hook.get("status") != "active":
            # The secret too: the API never shows it back, so we cannot tell whether
            # someone changed it.
            client.put(f"webhooks/{hook['id']}", {"status": "active", "secret": secret})
            result.reactivated.append(topic)
        else:
            result.present.append(topic)
    return result
