"""What every store's webhook endpoint does alike: signatures, kept headers, our address.

Shopify and WooCommerce both sign a delivery with base64(HMAC-SHA256(secret, raw body));
the check runs on the raw bytes, before any parsing, in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError
from connectors.models import Channel

# Kept on every receipt besides a platform's own headers.
KEPT_HEADERS = frozenset({"content-type", "user-agent"})


def hmac_sha256_base64(*, secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, raw body)), the signature both platforms send."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_matches(
    *, secret: str, body: bytes, signature: str, allow_empty_secret: bool = False
) -> bool:
    """Constant-time check of a delivery's signature; False without a signature.

    An empty secret is refused unless the caller allows it (WooCommerce signs with ""
    when a webhook was created without one, and its official test vector does).
    """
    if not signature or (not secret and not allow_empty_secret):
        return False
    expected = hmac_sha256_base64(secret=secret, body=body).encode()
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


def header_first(headers: Mapping[str, str], names: Iterable[str]) -> str:
    """The first of these headers that is present and not blank, stripped."""
    for name in names:
        value = headers.get(name)
        if value:
            return value.strip()
    return ""


def headers_kept(request: HttpRequest, *, prefixes: tuple[str, ...]) -> dict[str, str]:
    """The headers worth keeping on a receipt (the platform's, content type, agent)."""
    return {
        name: value
        for name, value in request.headers.items()
        if name.lower().startswith(prefixes) or name.lower() in KEPT_HEADERS
    }


def aware_datetime(value: str) -> datetime | None:
    """An ISO time with an offset, or None (absent, malformed or naive)."""
    try:
        parsed = parse_datetime(value) if value else None
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed


def webhook_callback_url(
    channel: Channel, *, base_url: str | None = None, require_https: bool = True
) -> str:
    """Where a store must post this channel's webhooks: ERP_PUBLIC_URL + our path.

    Raises: ConnectorError when https is required and the public address is not https.
    """
    base = (base_url or getattr(settings, "ERP_PUBLIC_URL", "")).rstrip("/")
    if not base.startswith(("https://", "http://")) or (
        require_https and not base.startswith("https://")
    ):
        raise ConnectorError(
            gettext_noop(
                "Set ERP_PUBLIC_URL to the https address the store can reach us at."
            ),
            channel_id=channel.pk,
        )
    path = reverse(
        f"connectors:{channel.kind}-webhook", kwargs={"channel_code": channel.code}
    )
    return f"{base}{path}"
