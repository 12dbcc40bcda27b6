"""Connecting a Shopify store with the app's OAuth install flow.

shopifyapi's Session builds the permission URL and checks the callback's HMAC; the
code is exchanged for the offline access token with `requests` and a timeout (the
library's request_token has none), and the token is stored encrypted on the channel.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlparse

import requests
import shopify
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

from connectors.exceptions import ConnectorError, ConnectorTransientError
from connectors.models import Channel, ChannelKind
from connectors.services import channel_access_token_store
from connectors.shopify.client import API_VERSION
from erp.core.text import Phrase, text_say_again

STATE_SALT = "connectors.shopify.oauth"
STATE_MAX_AGE = 15 * 60
SESSION_NONCE = "shopify_oauth_nonce"
# Offline access for: orders in, fulfilments and tracking out, stock out, webhooks.
DEFAULT_SCOPES = (
    "read_orders",
    "write_orders",
    "read_products",
    "read_inventory",
    "write_inventory",
    "read_locations",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
    "read_fulfillments",
    "write_fulfillments",
)
_SHOP_DOMAIN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-]*\.myshopify\.com$")


def app_credentials(channel: Channel) -> tuple[str, str]:
    """The app's client id and secret: the store's own (custom app) or the app-level."""
    credentials = channel.credentials or {}
    api_key = credentials.get("api_key") or getattr(settings, "SHOPIFY_API_KEY", "")
    secret = credentials.get("api_secret") or getattr(
        settings, "SHOPIFY_API_SECRET", ""
    )
    if not api_key or not secret:
        raise ConnectorError(
            gettext_noop(
                "Set the app's API key and secret (on the store, or SHOPIFY_API_KEY "
                "and SHOPIFY_API_SECRET) before connecting it."
            ),
            channel_id=channel.pk,
        )
    return str(api_key), str(secret)


def shop_domain(channel: Channel) -> str:
    """The store's <shop>.myshopify.com, as Shopify names it in the callback."""
    return str(
        (channel.credentials or {}).get("shop_domain")
        or urlparse(channel.shop_url).hostname
        or ""
    )


def _session_class(api_key: str, secret: str) -> type[shopify.Session]:
    # Session keeps the key and secret on the class; a subclass per call keeps two
    # stores (or two threads) from seeing each other's.
    return type(
        "ChannelSession",
        (shopify.Session,),
        {"api_key": api_key, "secret": secret, "port": None},
    )


def _redirect_uri() -> str:
    base = getattr(settings, "ERP_PUBLIC_URL", "").rstrip("/")
    return f"{base}{reverse('connectors:shopify-oauth-callback')}"


def shopify_oauth_token_exchange(
    *, channel: Channel, code: str, api_key: str, secret: str
) -> tuple[str, str]:
    """Exchange the install code for the offline access token: (token, scopes).

    Raises: ConnectorError (refused), ConnectorTransientError (no answer).
    """
    url = f"{channel.shop_url.rstrip('/')}/admin/oauth/access_token"
    try:
        response = requests.post(
            url,
            json={"client_id": api_key, "client_secret": secret, "code": code},
            timeout=(5.0, 30.0),
        )
    except requests.RequestException as exc:
        raise ConnectorTransientError(
            Phrase(
                gettext_noop("Shopify did not answer the token exchange: %(error)s"),
                error=exc.__class__.__name__,
            )
        ) from None
    if response.status_code >= 500:
        raise ConnectorTransientError(
            Phrase(
                gettext_noop("Shopify answered %(status)s to the token exchange."),
                status=response.status_code,
            )
        )
    try:
        body = response.json()
    except ValueError:
        body = {}
    token = body.get("access_token") if response.status_code == 200 else None
    if not token:
        raise ConnectorError(
            Phrase(
                gettext_noop("Shopify refused the install code (%(status)s)."),
                status=response.status_code,
            ),
            channel_id=channel.pk,
        )
    return str(token), str(body.get("scope") or "")


@staff_member_required
def shopify_oauth_start(request: HttpRequest, channel_code: str) -> HttpResponse:
    """Send the merchant to Shopify to approve our access (staff with change rights)."""
    channel = get_object_or_404(Channel, code=channel_code, kind=ChannelKind.SHOPIFY)
    if not request.user.has_perm("connectors.change_channel"):
        return HttpResponse(gettext("You may not connect stores."), status=403)
    try:
        api_key, secret = app_credentials(channel)
    except ConnectorError as exc:
        return HttpResponse(text_say_again(exc.message), status=400)
    nonce = secrets.token_urlsafe(16)
    request.session[SESSION_NONCE] = nonce
    state = signing.dumps({"channel": channel.pk, "nonce": nonce}, salt=STATE_SALT)
    session = _session_class(api_key, secret)(shop_domain(channel), API_VERSION)
    scopes = getattr(settings, "SHOPIFY_SCOPES", None) or DEFAULT_SCOPES
    return HttpResponseRedirect(
        session.create_permission_url(list(scopes), _redirect_uri(), state)
    )


def _refuse(message: str) -> HttpResponse:
    return HttpResponse(text_say_again(message), status=400, content_type="text/plain")


@staff_member_required
def shopify_oauth_callback(request: HttpRequest) -> HttpResponse:
    """Shopify sends the merchant back here: check everything, store the token."""
    params: dict[str, Any] = request.GET.dict()
    try:
        state = signing.loads(
            params.get("state", ""), salt=STATE_SALT, max_age=STATE_MAX_AGE
        )
    except signing.BadSignature:
        return _refuse(
            gettext("The install link expired or was tampered with; start again.")
        )
    nonce = request.session.pop(SESSION_NONCE, None)
    if not nonce or not secrets.compare_digest(str(nonce), str(state.get("nonce"))):
        return _refuse(
            gettext("This install was not started from this browser; start again.")
        )
    channel = get_object_or_404(
        Channel, pk=state.get("channel"), kind=ChannelKind.SHOPIFY
    )
    try:
        api_key, secret = app_credentials(channel)
    except ConnectorError as exc:
        return _refuse(exc.message)
    if not _session_class(api_key, secret).validate_params(params):
        return _refuse(gettext("Shopify's signature on the callback does not match."))
    shop = params.get("shop", "")
    if not _SHOP_DOMAIN.match(shop) or shop != shop_domain(channel):
        return _refuse(
            gettext("The callback is for shop %(shop)r, not this store.")
            % {"shop": shop}
        )
    try:
        token, scope = shopify_oauth_token_exchange(
            channel=channel, code=params.get("code", ""), api_key=api_key, secret=secret
        )
    except (ConnectorError, ConnectorTransientError) as exc:
        return _refuse(exc.message)
    channel_access_token_store(channel_id=channel.pk, access_token=token, scope=scope)
    messages.success(
        request,
        gettext("Store %(store)s is connected (%(scope)s).")
        % {"store": channel.code, "scope": scope},
    )
    return HttpResponseRedirect(
        reverse("admin:connectors_channel_change", args=[channel.pk])
    )
