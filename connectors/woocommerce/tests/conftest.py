"""Fixtures of the WooCommerce connector tests: official examples, a fake store."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
WEBHOOK_SECRET = "wc-webhook-secret-0123456789"


def load_fixture(name: str) -> Any:
    """An official example, numbers read as Decimal (money is never float)."""
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


@pytest.fixture
def official_order() -> dict[str, Any]:
    """The official order example (GET /orders/727): also an order.* webhook payload."""
    return load_fixture("rest_v3/order_retrieve.response.json")


@pytest.fixture
def woo_store():
    """A fake WooCommerce store on 127.0.0.1."""
    from connectors.woocommerce.testing.fake_server import FakeWooStore

    with FakeWooStore() as store:
        yield store
    assert store.auth_failures == [], store.auth_failures


@pytest.fixture
def woo_channel(woo_store):
    """A WooCommerce store in our database, connected to the fake store."""
    from connectors.models import ChannelKind
    from connectors.tests.factories import ChannelFactory

    return ChannelFactory(
        kind=ChannelKind.WOOCOMMERCE,
        code="woo-shop",
        shop_url=woo_store.url,
        credentials={
            "consumer_key": woo_store.consumer_key,
            "consumer_secret": woo_store.consumer_secret,
            "webhook_secret": WEBHOOK_SECRET,
        },
    )


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    """Store clients made for a channel retry after milliseconds, not seconds."""
    settings.WOOCOMMERCE_RETRY_BACKOFF_SECONDS = 0.001
    settings.WOOCOMMERCE_TIMEOUT_SECONDS = (2.0, 5.0)
