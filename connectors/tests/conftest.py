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
