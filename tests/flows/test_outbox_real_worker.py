"""A real Celery worker (in a thread, on the test broker) delivers outbox messages."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from erp.celery import app
from erp.core.models import OutboxMessage, OutboxStatus, WorkerHeartbeat
from erp.core.services import heartbeat_enqueue

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_worker_delivers_a_message_scheduled_by_a_commit():
    # given: a worker consuming every queue of the app
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # when: a business transaction commits an outbox message
        heartbeat_enqueue()

        # then: the after-commit drain task reaches the worker and it delivers
        assert _wait_for(
            lambda: OutboxMessage.objects.filter(status=OutboxStatus.DELIVERED).exists()
        ), list(OutboxMessage.objects.values("status", "last_error"))
    beat = WorkerHeartbeat.objects.get()
    assert beat.delivered_count == 1


def test_rolled_back_message_never_reaches_the_worker(outbox_handlers):
    sent = []
    outbox_handlers("test.flow", lambda m: sent.append(m.pk))
    from erp.core.outbox import outbox_enqueue

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox_enqueue(topic="test.flow", key="1")
            raise RuntimeError("order import failed")
        heartbeat_enqueue()
        assert _wait_for(lambda: WorkerHeartbeat.objects.exists())
    assert sent == []
    assert OutboxMessage.objects.filter(topic="test.flow").exists() is False
