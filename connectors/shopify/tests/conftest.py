"""Fixtures of the Shopify connector tests: official samples and signed deliveries."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> Any:
    """An official sample, numbers read as Decimal (money is never float)."""
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def load_raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def official_order() -> dict[str, Any]:
    """The newest official order sample (REST 2026-07 order_get), as a webhook body."""
    return load_fixture("rest/order_get.response.json")["order"]


@pytest.fixture
def fake_store():
    """A fake Shopify store on 127.0.0.1 with a bucket too big to throttle.

    At teardown it fails the test if any document we sent was invalid against the
    official 2025-01 schema or failed to execute there.
    """
    from connectors.shopify.testing.fake_server import FakeShopifyStore

    with FakeShopifyStore(restore_rate=1_000_000.0) as store:
        yield store
    assert store.invalid_documents == [], store.invalid_documents
    assert store.execution_errors == [], store.execution_errors


WEBHOOK_SECRET = "whsec-fake-store-0123456789"


@pytest.fixture
def store_channel(fake_store):
    """A Shopify store in our database, connected to the fake store."""
    from connectors.tests.factories import ChannelFactory

    return ChannelFactory(
        code="fake-shop",
        shop_url=fake_store.url,
        credentials={
            "access_token": fake_store.access_token,
            "webhook_secret": WEBHOOK_SECRET,
        },
    )


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    """Store clients made for a channel retry after milliseconds, not seconds."""
    settings.SHOPIFY_RETRY_BACKOFF_SECONDS = 0.001
    settings.SHOPIFY_TIMEOUT_SECONDS = (2.0, 5.0)
    settings.SHOPIFY_BULK_POLL_SECONDS = 0.01
