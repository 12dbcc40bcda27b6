"""Endpoints the stores call (webhooks, OAuth install), mounted at /webhooks/."""

from django.urls import path

from connectors.shopify.oauth import shopify_oauth_callback, shopify_oauth_start
from connectors.shopify.webhooks import shopify_webhook
from connectors.woocommerce.webhooks import woocommerce_webhook

app_name = "connectors"

urlpatterns = [
    # The OAuth install flow lives under /webhooks/ as it is the one prefix the
    # project mounts for the stores.
    path(
        "shopify/oauth/start/<slug:channel_code>/",
        shopify_oauth_start,
        name="shopify-oauth-start",
    ),
    path(
        "shopify/oauth/callback/",
        shopify_oauth_callback,
        name="shopify-oauth-callback",
    ),
    path("shopify/<slug:channel_code>/", shopify_webhook, name="shopify-webhook"),
    path(
        "woocommerce/<slug:channel_code>/",
        woocommerce_webhook,
        name="woocommerce-webhook",
    ),
]
