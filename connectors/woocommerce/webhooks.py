"""WooCommerce webhook intake: verify the signature on the raw body, store, answer at once.

WooCommerce sends a delivery once and never retries; after a few failed deliveries in a
row it disables the webhook. So the endpoint does the least that can fail: check the
signature, store the receipt, answer 200; a worker processes it after commit
(connectors.tasks.webhook_receipts_drain_task), and the poll heals what never came.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.intake import (
    IntakeChannel,
    header_first,
    headers_kept,
    hmac_sha256_base64,
    intake_channel,
    intake_signature_check,
    removed_store_is_unknown,
    signature_matches,
)
from connectors.models import ChannelKind, WebhookReceiptStatus
from connectors.services import webhook_receipt_record, webhook_receipt_reject
from erp.core.text import Phrase

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
DELIVERY_ID_HEADER = "X-WC-Webhook-Delivery-ID"
WEBHOOK_ID_HEADER = "X-WC-Webhook-ID"
KEPT_HEADER_PREFIXES = ("x-wc-",)
# The ping WooCommerce posts when a webhook is created (WC_Webhook::deliver_ping): the
# plain form body `webhook_id=<id>`, no X-WC-* headers, no signature.
PING_BODY = re.compile(rb"^webhook_id=(\d+)$")


def woocommerce_signature(*, secret: str, body: bytes) -> str:
    """X-WC-Webhook-Signature: base64(HMAC-SHA256(secret, body)) (WC_Webhook::generate_signature)."""
    return hmac_sha256_base64(secret=secret, body=body)


def woocommerce_signature_is_valid(*, secret: str, body: bytes, signature: str) -> bool:
    """Constant-time check of a delivery's signature.

    An empty secret is a real WooCommerce secret (a webhook created without one signs
    with ""), but a store of ours always has one: the endpoint refuses a store without.
    """
    return signature_matches(
        secret=secret, body=body, signature=signature, allow_empty_secret=True
    )


def business_key_for(*, topic: str, payload: Any) -> str:
    """What identifies the change a delivery carries, across deliveries and topics.

    order.created and order.updated sent for one save of an order carry the same id
    and date_modified_gmt, so only one of them is processed. A deletion carries only
    the id (no date): its delivery id alone deduplicates it.
    """
    if not isinstance(payload, dict):
        return ""
    resource, _, event = topic.partition(".")
    if resource not in ("order", "product") or event == "deleted":
        return ""
    object_id = payload.get("id")
    modified = payload.get("date_modified_gmt")
    if object_id in (None, "") or not modified:
        return ""
    return f"{resource}:{object_id}:{modified}"[:200]


def _signature_refusal(channel: IntakeChannel, *, body: bytes, signature: str) -> str:
    """Why the delivery is refused ("" when its signature is good)."""
    secret = str((channel.credentials or {}).get("webhook_secret") or "")
    if not secret:
        return gettext_noop("No webhook secret is configured for this store.")
    if not signature:
        return Phrase(
            gettext_noop("The %(header)s header is missing."), header=SIGNATURE_HEADER
        )
    if not woocommerce_signature_is_valid(
        secret=secret, body=body, signature=signature
    ):
        return Phrase(
            gettext_noop("The %(header)s signature does not match the body."),
            header=SIGNATURE_HEADER,
        )
    return ""


def _reject(
    channel: IntakeChannel,
    *,
    topic: str,
    body: bytes,
    headers: dict[str, str],
    reason: str,
    status_code: int,
    receipt_status: str = WebhookReceiptStatus.REJECTED,
) -> JsonResponse:
    receipt = webhook_receipt_reject(
        channel_id=channel.pk,
        topic=topic,
        body=body.decode("utf-8", "replace"),
        headers=headers,
        reason=reason,
        status=receipt_status,
    )
    return JsonResponse({"error": reason, "receipt": receipt.pk}, status=status_code)


@csrf_exempt
@require_POST
@removed_store_is_unknown(ChannelKind.WOOCOMMERCE)
def woocommerce_webhook(request: HttpRequest, channel_code: str) -> HttpResponse:
    """POST /webhooks/woocommerce/<channel>/: answer the ping, verify, store once."""
    channel = intake_channel(kind=ChannelKind.WOOCOMMERCE, code=channel_code)
    if channel is None:
        return JsonResponse({"error": "unknown store"}, status=404)
    body = request.body
    signature = header_first(request.headers, (SIGNATURE_HEADER,))
    ping = PING_BODY.match(body.strip())
    if ping and not signature:
        # WooCommerce keeps a new webhook only if its ping gets exactly 200; the ping
        # carries nothing to act on, so nothing is stored.
        return JsonResponse({"ping": int(ping.group(1))})

    headers = headers_kept(request, prefixes=KEPT_HEADER_PREFIXES)
    topic = header_first(request.headers, (TOPIC_HEADER,))
    checked, reason = intake_signature_check(
        channel,
        kind=ChannelKind.WOOCOMMERCE,
        code=channel_code,
        refusal=partial(_signature_refusal, body=body, signature=signature),
    )
    if checked is None:
        return JsonResponse({"error": "unknown store"}, status=404)
    channel = checked
    if reason:
        return _reject(
            channel,
            topic=topic,
            body=body,
            headers=headers,
            reason=reason,
            status_code=401,
        )

    text = body.decode("utf-8", "replace")
    try:
        payload = json.loads(text)
    except ValueError as exc:
        return _reject(
            channel,
            topic=topic,
            body=body,
            headers=headers,
            reason=Phrase(
                gettext_noop("The body is not JSON (%(error)s)."),
                error=exc.__class__.__name__,
            ),
            status_code=400,
            receipt_status=WebhookReceiptStatus.FAILED,
        )
    if not topic:
        return _reject(
            channel,
            topic=topic,
            body=body,
            headers=headers,
            reason=Phrase(
                gettext_noop("The %(header)s header is missing."), header=TOPIC_HEADER
            ),
            status_code=400,
            receipt_status=WebhookReceiptStatus.FAILED,
        )
    # WooCommerce always sends a delivery id; without one, the body's hash makes a
    # byte-identical resend a redelivery.
    delivery_id = header_first(request.headers, (DELIVERY_ID_HEADER,)) or (
        "sha256:" + hashlib.sha256(body).hexdigest()
    )
    result = webhook_receipt_record(
        channel_id=channel.pk,
        topic=topic,
        delivery_id=delivery_id[:200],
        body=text,
        headers=headers,
        business_key=business_key_for(topic=topic, payload=payload),
    )
    return JsonResponse(
        {"receipt": result.receipt.pk, "status": result.status, "new": result.is_new}
    )
