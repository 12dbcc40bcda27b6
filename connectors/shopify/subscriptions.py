"""The webhook subscriptions a store needs, created and re-checked through the API.

Shopify removes a subscription whose deliveries keep failing; the daily re-check puts
it back, and the poll heals whatever was missed in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from connectors.intake import webhook_callback_url as intake_callback_url
from connectors.models import Channel
from connectors.shopify import queries
from connectors.shopify.client import ShopifyClient, user_errors_raise
from connectors.shopify.services import shopify_client_for

# WebhookSubscriptionTopic values (2025-01) of everything webhook_process handles.
TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_PAID",
    "ORDERS_CANCELLED",
    "ORDERS_EDITED",
    "REFUNDS_CREATE",
    "FULFILLMENTS_CREATE",
    "FULFILLMENTS_UPDATE",
    "INVENTORY_LEVELS_UPDATE",
    "APP_UNINSTALLED",
)


@dataclass
class SubscriptionsResult:
    """Which topics were already subscribed and which were (re)created."""

    callback_url: str
    present: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def webhook_callback_url(channel: Channel, *, base_url: str | None = None) -> str:
    """Where Shopify must post this store's webhooks (ERP_PUBLIC_URL + our path)."""
    return intake_callback_url(
        channel,
        base_url=base_url,
        require_https=not getattr(settings, "SHOPIFY_ALLOW_HTTP_CALLBACKS", False),
    )


def _subscribed_topics(client: ShopifyClient, callback_url: str) -> set[str]:
    topics: set[str] = set()
    after: str | None = None
    while True:
        data = client.execute(
            queries.WEBHOOK_SUBSCRIPTIONS, {"callbackUrl": callback_url, "after": after}
        )
        connection = data["webhookSubscriptions"]
        topics.update(node["topic"] for node in connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            return topics
        after = connection["pageInfo"]["endCursor"]


def shopify_webhooks_ensure(
    *,
    channel: Channel,
    base_url: str | None = None,
    client: ShopifyClient | None = None,
) -> SubscriptionsResult:
    """Subscribe the store to every topic we handle that it is not subscribed to.

    Raises: ConnectorError (no public address), ShopifyQueryError,
    ConnectorTransientError, ChannelUnauthorizedError.
    """
    callback_url = webhook_callback_url(channel, base_url=base_url)
    client = client or shopify_client_for(channel)
    present = _subscribed_topics(client, callback_url)
    result = SubscriptionsResult(callback_url=callback_url)
    for topic in TOPICS:
        if topic in present:
            result.present.append(topic)
            continue
        data = client.execute(
            queries.WEBHOOK_SUBSCRIPTION_CREATE,
            {
                "topic": topic,
                "webhookSubscription": {"callbackUrl": callback_url, "format": "JSON"},
            },
        )
        user_errors_raise(data.get("webhookSubscriptionCreate") or {})
        result.created.append(topic)
    return result
