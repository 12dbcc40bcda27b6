"""Webhook subscriptions created and re-checked against the fake store."""

import io

import pytest
from django.core.management import CommandError, call_command

from connectors.models import Channel
from connectors.services import channels_webhooks_ensure
from connectors.shopify.subscriptions import TOPICS, shopify_webhooks_ensure

pytestmark = pytest.mark.django_db

PUBLIC = "https://erp.example.com"
CALLBACK = f"{PUBLIC}/webhooks/shopify/fake-shop/"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.ERP_PUBLIC_URL = PUBLIC


def test_every_handled_topic_is_subscribed_once(fake_store, store_channel):
    first = shopify_webhooks_ensure(channel=store_channel)
    again = shopify_webhooks_ensure(channel=store_channel)

    assert first.callback_url == CALLBACK
    assert first.created == list(TOPICS)
    assert (again.created, again.present) == ([], list(TOPICS))
    assert sorted(s["topic"] for s in fake_store.webhook_subscriptions.values()) == (
        sorted(TOPICS)
    )
    assert {
        s["endpoint"]["callbackUrl"] for s in fake_store.webhook_subscriptions.values()
    } == {CALLBACK}
    assert len(fake_store.calls_of("WebhookSubscriptionCreate")) == len(TOPICS)


def test_subscription_shopify_removed_is_created_again_by_the_daily_check(
    fake_store, store_channel
):
    shopify_webhooks_ensure(channel=store_channel)
    fake_store.remove_subscription("ORDERS_PAID")

    report = channels_webhooks_ensure()

    assert report["fake-shop"]["created"] == ["ORDERS_PAID"]
    assert "ORDERS_PAID" in {
        s["topic"] for s in fake_store.webhook_subscriptions.values()
    }


def test_daily_check_carries_on_past_a_revoked_store(fake_store, store_channel):
    fake_store.revoke_token()

    report = channels_webhooks_ensure()

    assert "401" in report["fake-shop"]["error"]
    assert Channel.objects.get(pk=store_channel.pk).requires_reauthorization is True


def test_no_public_https_address_is_a_clear_error(settings, fake_store, store_channel):
    settings.ERP_PUBLIC_URL = ""

    with pytest.raises(CommandError, match="Set ERP_PUBLIC_URL"):
        call_command("channel_webhooks", store_channel.code)

    assert fake_store.calls == []


def test_command_lists_what_it_did(fake_store, store_channel):
    out = io.StringIO()

    call_command("channel_webhooks", store_channel.code, stdout=out)

    assert f"go to {CALLBACK}" in out.getvalue()
    assert "created  ORDERS_CREATE" in out.getvalue()
