"""Webhook endpoints of the stores, mounted at /webhooks/."""

from django.urls import path

from connectors.shopify.webhooks import shopify_webhook

app_name = "connectors"

urlpatterns = [
    path("shopify/<slug:channel_code>/", shopify_webhook, name="shopify-webhook"),
]
