"""Fixtures of the connector core tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors.models import WebhookReceipt


class ScriptedProvider:
    """A provider whose outcome each test sets: a result, or an exception to raise."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.outcome: Callable[[WebhookReceipt], dict[str, Any]] = lambda r: {
            "order_id": 1
        }

    def webhook_process(self, *, receipt: WebhookReceipt) -> dict[str, Any]:
        self.calls.append(receipt.pk)
        return self.outcome(receipt)


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> ScriptedProvider:
    """Replace the store package behind every channel kind with a scripted one."""
    scripted = ScriptedProvider()
    monkeypatch.setattr("connectors.services.provider_get", lambda kind: scripted)
    return scripted


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Receipt ids handed to the processing task (instead of the broker)."""
    from connectors.tasks import webhook_receipt_process_task

    ids: list[int] = []
    monkeypatch.setattr(webhook_receipt_process_task, "delay", ids.append)
    return ids


@pytest.fixture
def drains(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Store ids whose drain task was published (instead of the broker)."""
    from connectors.tasks import webhook_receipts_drain_task

    ids: list[int] = []
    monkeypatch.setattr(webhook_receipts_drain_task, "delay", ids.append)
    return ids


@pytest.fixture
def wake_redis(settings: Any) -> Any:
    """The Redis client of the drain wakeup flags (the test needs a real Redis)."""
    from connectors.services import _drain_wake_client

    if not settings.REDIS_URL:
        pytest.skip("needs Redis (the drain wakeup flags live there)")
    return _drain_wake_client()
