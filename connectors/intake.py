"""What every store's webhook endpoint does alike: signatures, kept headers, our address.

Shopify and WooCommerce both sign a delivery with base64(HMAC-SHA256(secret, raw body));
the check runs on the raw bytes, before any parsing, in constant time.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError
from connectors.models import Channel

# Kept on every receipt besides a platform's own headers.
KEPT_HEADERS = frozenset({"content-type", "user-agent"})

# How long a web process trusts its copy of a store's id and secret: a delivery then
# costs one INSERT. A rotated secret needs no wait: a mismatch re-reads the store first.
INTAKE_CHANNEL_SECONDS = 10.0


@dataclass(frozen=True)
class IntakeChannel:
    """What a webhook endpoint needs of a store: its id and credentials (decrypted)."""

    pk: int
    credentials: Mapping[str, Any] = field(repr=False)
    is_fresh: bool = False
    read_at: float = 0.0


_intake_channels: dict[tuple[str, str], IntakeChannel] = {}


def intake_channel(
    *, kind: str, code: str, fresh: bool = False
) -> IntakeChannel | None:
    """The store a delivery is addressed to, from this process's memory unless stale.

    fresh=True reads the database (after a signature mismatch, the secret may have
    been rotated moments ago). An unknown store is never remembered, so a store added
    is served at once.
    """
    key = (kind, code)
    now = time.monotonic()
    cached = _intake_channels.get(key)
    if (
        not fresh
        and cached is not None
        and now - cached.read_at < INTAKE_CHANNEL_SECONDS
    ):
        return cached
    channel = (
        Channel.objects.filter(code=code, kind=kind).only("pk", "credentials").first()
    )
    if channel is None:
        _intake_channels.pop(key, None)
        return None
    found = IntakeChannel(
        pk=channel.pk,
        credentials=dict(channel.credentials or {}),
        is_fresh=True,
        read_at=now,
    )
    _intake_channels[key] = IntakeChannel(
        pk=found.pk, credentials=found.credentials, read_at=now
    )
    return found


def intake_signature_check(
    channel: IntakeChannel,
    *,
    kind: str,
    code: str,
    refusal: Callable[[IntakeChannel], str],
) -> tuple[IntakeChannel | None, str]:
    """The store and why its delivery is refused ("" when the signature is good).

    A refusal from a remembered store is checked again against the database first:
    the secret may have been rotated since this process read it. None: the store
    was removed meanwhile.
    """
    reason = refusal(channel)
    if reason and not channel.is_fresh:
        fresh = intake_channel(kind=kind, code=code, fresh=True)
        if fresh is None:
            return None, ""
        return fresh, refusal(fresh)
    return channel, reason


@receiver(post_save, sender=Channel, dispatch_uid="connectors.intake.channel_saved")
@receiver(post_delete, sender=Channel, dispatch_uid="connectors.intake.channel_deleted")
def _intake_channel_forget(instance: Channel, **_: Any) -> None:
    # Other processes rely on the short TTL and the re-read on mismatch; this one
    # (admin, tests, the demo's sandbox) sees a change at once.
    for key in [k for k, v in _intake_channels.items() if v.pk == instance.pk]:
        del _intake_channels[key]
    # A new store may take the code of one the cache still holds (deleted, or rolled
    # back in a test); deferred fields are not loaded, so read them only if present.
    kind, code = instance.__dict__.get("kind"), instance.__dict__.get("code")
    if kind and code:
        _intake_channels.pop((kind, code), None)


def removed_store_is_unknown(
    kind: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Answer 404 when the store this process remembered was removed meanwhile.

    The receipt's INSERT then meets no store row (a foreign key error): the store is
    read again, forgotten, and the delivery answered as for an unknown store.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, channel_code: str) -> HttpResponse:
            try:
                return view(request, channel_code)
            except IntegrityError:
                if intake_channel(kind=kind, code=channel_code, fresh=True) is None:
                    return JsonResponse({"error": "unknown store"}, status=404)
                raise

        return wrapped

    return decorate


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
