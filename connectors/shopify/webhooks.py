"""Shopify webhook intake: verify the signature on the raw body, store, answer at once.

Processing happens in a worker (connectors.tasks.webhook_receipts_drain_task) after the
receipt is committed, so Shopify gets its 200 in milliseconds and nothing acknowledged
is lost.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.intake import (
    IntakeChannel,
    aware_datetime,
    header_first,
    headers_kept,
    hmac_sha256_base64,
    intake_channel,
    intake_signature_check,
    removed_store_is_unknown,
    signature_matches,
)
from connectors.models import Channel, ChannelKind
from connectors.services import webhook_receipt_record, webhook_receipt_reject
from erp.core.text import Phrase

logger = logging.getLogger(__name__)

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
# Shopify's classic webhook headers, then the lowercase ones of "events" webhooks
# (shopify-app-js ShopifyHeader / ShopifyEventsHeader); HTTP names are case-insensitive.
TOPIC_HEADERS = ("X-Shopify-Topic", "Shopify-Topic")
EVENT_ID_HEADERS = ("X-Shopify-Event-Id", "Shopify-Event-Id")
WEBHOOK_ID_HEADERS = ("X-Shopify-Webhook-Id", "Shopify-Webhook-Id")
HMAC_HEADERS = (HMAC_HEADER, "Shopify-Hmac-Sha256")
TRIGGERED_AT_HEADERS = ("X-Shopify-Triggered-At", "Shopify-Triggered-At")
KEPT_HEADER_PREFIXES = ("x-shopify-", "shopify-")


def shopify_hmac(*, secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, raw body)): the value of X-Shopify-Hmac-Sha256."""
    return hmac_sha256_base64(secret=secret, body=body)


def shopify_hmac_is_valid(*, secret: str, body: bytes, signature: str) -> bool:
    """Constant-time check of a webhook signature; False without a secret or signature."""
    return signature_matches(secret=secret, body=body, signature=signature)


def webhook_secret_for(channel: Channel | IntakeChannel) -> str:
    """The secret Shopify signs this store's webhooks with.

    A custom app made in the store's admin has its own secret (kept on the channel); a
    public app signs with its client secret, an app-level setting.
    """
    credentials = channel.credentials or {}
    return str(
        credentials.get("webhook_secret")
        or credentials.get("api_secret")
        or getattr(settings, "SHOPIFY_API_SECRET", "")
    )


def business_key_for(*, topic: str, payload: Any) -> str:
    """What identifies the change a delivery carries, across deliveries and topics.

    orders/create, orders/updated and orders/paid sent for one change of an order carry
    the same order id and updated_at, so only one of them is processed.
    """
    if not isinstance(payload, dict):
        return ""
    resource = topic.split("/", 1)[0]
    if resource == "orders" and topic != "orders/edited":
        key = ("order", payload.get("id"), payload.get("updated_at"))
    elif topic == "orders/edited":
        edit = payload.get("order_edit")
        key = ("order_edit", edit.get("id") if isinstance(edit, dict) else None, "")
    elif resource == "refunds":
        key = ("refund", payload.get("id"), "")
    elif resource == "fulfillments":
        key = ("fulfillment", payload.get("id"), payload.get("updated_at"))
    elif resource == "inventory_levels":
        key = (
            "inventory_level",
            f"{payload.get('inventory_item_id')}@{payload.get('location_id')}",
            payload.get("updated_at"),
        )
    else:
        return ""
    if key[1] in (None, ""):
        return ""
    return ":".join(str(part) for part in key if part not in (None, ""))[:200]


def _signature_refusal(channel: IntakeChannel, *, body: bytes, signature: str) -> str:
    """Why the delivery is refused ("" when its signature is good)."""
    secret = webhook_secret_for(channel)
    if not secret:
        return gettext_noop("No webhook secret is configured for this store.")
    if not signature:
        return Phrase(
            gettext_noop("The %(header)s header is missing."), header=HMAC_HEADER
        )
    if not shopify_hmac_is_valid(secret=secret, body=body, signature=signature):
        return Phrase(
            gettext_noop("The %(header)s signature does not match the body."),
            header=HMAC_HEADER,
        )
    return ""


@csrf_exempt
@require_POST
@removed_store_is_unknown(ChannelKind.SHOPIFY)
def shopify_webhook(request: HttpRequest, channel_code: str) -> HttpResponse:
    """POST /webhooks/shopify/<channel>/: verify, store once, answer 200."""
    channel = intake_channel(kind=ChannelKind.SHOPIFY, code=channel_code)
    if channel is None:
        return JsonResponse({"error": "unknown store"}, status=404)
    body = request.body
    headers = headers_kept(request, prefixes=KEPT_HEADER_PREFIXES)
    topic = header_first(request.headers, TOPIC_HEADERS)
    signature = header_first(request.headers, HMAC_HEADERS)
    checked, reason = intake_signature_check(
        channel,
        kind=ChannelKind.SHOPIFY,
        code=channel_code,
        refusal=partial(_signature_refusal, body=body, signature=signature),
    )
    if checked is None:
        return JsonResponse({"error": "unknown store"}, status=404)
    channel = checked
    if reason:
        webhook_receipt_reject(
            channel_id=channel.pk,
            topic=topic,
            body=body.decode("utf-8", "replace"),
            headers=headers,
            reason=reason,
        )
        return JsonResponse({"error": "invalid signature"}, status=401)

    delivery_id = header_first(request.headers, EVENT_ID_HEADERS) or header_first(
        request.headers, WEBHOOK_ID_HEADERS
    )
    if not topic or not delivery_id:
        webhook_receipt_reject(
            channel_id=channel.pk,
            topic=topic,
            body=body.decode("utf-8", "replace"),
            headers=headers,
            reason=gettext_noop("The topic or webhook id header is missing."),
        )
        return JsonResponse({"error": "missing headers"}, status=400)

    triggered_at = aware_datetime(header_first(request.headers, TRIGGERED_AT_HEADERS))
    # Not parsed here: the worker reads the body anyway and finds the business key
    # there (webhook_business_key); parsing 20 KB of JSON per delivery would be a
    # tenth of the endpoint's CPU. A body that is not JSON fails there, visibly.
    result = webhook_receipt_record(
        channel_id=channel.pk,
        topic=topic,
        delivery_id=delivery_id[:200],
        body=body.decode("utf-8", "replace"),
        headers=headers,
        triggered_at=triggered_at,
    )
    return JsonResponse(
        {"receipt": result.receipt.pk, "status": result.status, "new": result.is_new}
    )
