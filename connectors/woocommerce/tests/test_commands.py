"""Operator commands and webhook registration against the fake WooCommerce store."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from connectors.models import Channel, ChannelKind, SyncRun, SyncRunStatus
from connectors.services import channels_webhooks_ensure
from connectors.woocommerce.subscriptions import TOPICS, woo_webhooks_ensure
from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(monkeypatch, woo_store):
    monkeypatch.setenv("CHANNEL_CONSUMER_KEY", woo_store.consumer_key)
    monkeypatch.setenv("CHANNEL_CONSUMER_SECRET", woo_store.consumer_secret)
    monkeypatch.delenv("CHANNEL_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("CHANNEL_WEBHOOK_SECRET", raising=False)


def test_channel_add_checks_the_keys_and_takes_the_store_currency(woo_store, keys):
    out = io.StringIO()

    call_command(
        "channel_add",
        "--kind=woocommerce",
        "--code=eu-woo",
        f"--shop-url={woo_store.url}",
        stdout=out,
    )

    channel = Channel.objects.get(code="eu-woo")
    assert (channel.kind, channel.currency) == (ChannelKind.WOOCOMMERCE, "USD")
    assert channel.credentials == {
        "consumer_key": woo_store.consumer_key,
        "consumer_secret": woo_store.consumer_secret,
    }
    assert "the store sells in USD" in out.getvalue()
    assert "/webhooks/woocommerce/eu-woo/" in out.getvalue()
    assert woo_store.consumer_secret not in out.getvalue()
    assert woo_store.calls_to("GET", "settings/general")


def test_channel_add_refuses_another_currency_than_the_store_s(woo_store, keys):
    with pytest.raises(CommandError, match="The store sells in USD, not EUR."):
        call_command(
            "channel_add",
            "--kind=woocommerce",
            "--code=eu-woo",
            f"--shop-url={woo_store.url}",
            "--currency=EUR",
        )
    assert not Channel.objects.exists()


def test_channel_add_refuses_keys_the_store_rejects(woo_store, keys, monkeypatch):
    monkeypatch.setenv("CHANNEL_CONSUMER_SECRET", "cs_wrong")

    with pytest.raises(CommandError, match=r"did not accept us: .*\(401\)"):
        call_command(
            "channel_add",
            "--kind=woocommerce",
            "--code=eu-woo",
            f"--shop-url={woo_store.url}",
        )
    assert not Channel.objects.exists()
    woo_store.auth_failures.clear()


def test_channel_add_asks_for_both_keys(woo_store, monkeypatch):
    monkeypatch.setenv("CHANNEL_CONSUMER_KEY", "ck_x")
    monkeypatch.delenv("CHANNEL_CONSUMER_SECRET", raising=False)

    with pytest.raises(CommandError, match="CHANNEL_CONSUMER_SECRET"):
        call_command(
            "channel_add",
            "--kind=woocommerce",
            "--code=w",
            f"--shop-url={woo_store.url}",
        )


def test_channel_sync_and_backfill_commands_run_for_woocommerce(woo_store, woo_channel):
    recent = (timezone.now() - timedelta(minutes=5)).replace(microsecond=0)
    woo_store.add_order(created_at=recent)
    woo_store.add_order(created_at=datetime(2026, 2, 10, tzinfo=UTC))
    out = io.StringIO()

    call_command("channel_sync", "woo-shop", stdout=out)
    call_command(
        "channel_backfill",
        "woo-shop",
        "--from=2026-02-01",
        "--to=2026-02-28",
        "--no-progress",
        stdout=out,
    )

    assert "Poll #" in out.getvalue()
    assert "Backfill #" in out.getvalue()
    runs = SyncRun.objects.order_by("pk")
    assert [(r.kind, r.status, r.created) for r in runs] == [
        ("poll", SyncRunStatus.SUCCEEDED, 1),
        ("backfill", SyncRunStatus.SUCCEEDED, 1),
    ]
    assert Order.objects.count() == 2


def test_webhooks_are_registered_then_disabled_ones_re_enabled(
    woo_store, woo_channel, settings
):
    settings.ERP_PUBLIC_URL = "https://erp.example"
    first = woo_webhooks_ensure(channel=woo_channel)
    url = "https://erp.example/webhooks/woocommerce/woo-shop/"
    assert (first.delivery_url, first.created, first.present) == (url, list(TOPICS), [])
    hooks = woo_store.state.webhooks.values()
    assert {(h.topic, h.delivery_url, h.secret, h.status) for h in hooks} == {
        (topic, url, woo_channel.credentials["webhook_secret"], "active")
        for topic in TOPICS
    }
    # WooCommerce disabled one after failed deliveries; someone deleted another.
    by_topic = {h.topic: h for h in hooks}
    by_topic["order.updated"].status = "disabled"
    del woo_store.state.webhooks[by_topic["order.deleted"].id]

    report = channels_webhooks_ensure()

    assert report["woo-shop"] == {
        "callback_url": url,
        "created": ["order.deleted"],
        "reactivated": ["order.updated"],
        "present": ["order.created", "order.restored", "product.updated"],
    }
    assert {h.status for h in woo_store.state.webhooks.values()} == {"active"}
    assert len(woo_store.state.webhooks) == len(TOPICS)


def test_registration_makes_a_webhook_secret_when_the_store_has_none(
    woo_store, woo_channel, settings
):
    settings.ERP_PUBLIC_URL = "https://erp.example"
    woo_channel.credentials = {
        k: v for k, v in woo_channel.credentials.items() if k != "webhook_secret"
    }
    woo_channel.save()

    woo_webhooks_ensure(channel=woo_channel)

    secret = Channel.objects.get(pk=woo_channel.pk).credentials["webhook_secret"]
    assert len(secret) >= 32
    assert {h.secret for h in woo_store.state.webhooks.values()} == {secret}


def test_registration_wants_an_https_address(woo_store, woo_channel, settings):
    settings.ERP_PUBLIC_URL = "http://erp.example"

    report = channels_webhooks_ensure()

    assert "https" in report["woo-shop"]["error"]
    assert woo_store.state.webhooks == {}


def test_store_disables_a_webhook_after_more_than_5_failed_deliveries(woo_store):
    hook = woo_store.add_webhook(
        topic="order.created", delivery_url="http://127.0.0.1:9/", secret="s"
    )
    order = woo_store.add_order()

    statuses = [woo_store.emit("order.created", order["id"]) for _ in range(6)]

    assert statuses == [[0]] * 6
    assert hook.status == "disabled"
    assert woo_store.emit("order.created", order["id"]) == []
