import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from erp.core.exceptions import ApplicationError, ConflictError
from erp.core.models import OutboxMessage, OutboxStatus
from erp.core.outbox import (
    OutboxPermanentError,
    _drain_after_commit,
    outbox_drain,
    outbox_enqueue,
    outbox_message_retry,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(outbox_handlers):
    """A handler for topic 'test.push' that records what it delivered."""
    calls: list[tuple[str, dict]] = []
    outbox_handlers("test.push", lambda m: calls.append((m.key, m.payload)))
    return calls


def _make_due(message_id: int) -> None:
    OutboxMessage.objects.filter(pk=message_id).update(
        available_at=timezone.now() - timedelta(seconds=1)
    )


def test_message_is_written_in_the_callers_transaction(delivered):
    # given / when: the business transaction fails after writing the message
    with pytest.raises(ValueError, match="business rule"), transaction.atomic():
        outbox_enqueue(topic="test.push", key="order-1", payload={"a": 1})
        raise ValueError("business rule broke")

    # then
    assert OutboxMessage.objects.exists() is False
    assert outbox_drain().delivered == 0
    assert delivered == []


def test_drain_is_scheduled_after_commit_not_before(django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        outbox_enqueue(topic="test.push", key="order-1")
        outbox_enqueue(topic="test.push", key="order-2")
        assert OutboxMessage.objects.count() == 2

    # then: one drain for the transaction, however many messages it wrote
    assert callbacks == [_drain_after_commit]


def test_rolled_back_transaction_schedules_no_drain(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(ValueError, match="boom"),
        transaction.atomic(),
    ):
        outbox_enqueue(topic="test.push", key="order-1")
        raise ValueError("boom")
    assert callbacks == []


def test_committed_message_is_delivered_once(delivered):
    # given
    message = outbox_enqueue(
        topic="test.push", key="order-7", payload={"status": "shipped"}
    )

    # when
    first = outbox_drain()
    second = outbox_drain()

    # then
    assert (first.delivered, second.delivered) == (1, 0)
    assert delivered == [("order-7", {"status": "shipped"})]
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED
    assert message.attempts == 1
    assert message.delivered_at is not None
    assert message.leased_until is None


def test_failed_delivery_is_retried_later_with_backoff(outbox_handlers, settings):
    # given: a store that is down for the first attempt
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 30
    calls = []

    def flaky(message):
        calls.append(message.pk)
        if len(calls) == 1:
            raise ConnectionError("store answered 503")

    outbox_handlers("test.flaky", flaky)
    message = outbox_enqueue(topic="test.flaky", key="sku-1")
    before = timezone.now()

    # when
    result = outbox_drain()

    # then: waiting, not lost, and not retried before its time
    assert (result.delivered, result.retried) == (0, 1)
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert message.last_error == "ConnectionError: store answered 503"
    assert before + timedelta(seconds=23) <= message.available_at
    assert message.available_at <= timezone.now() + timedelta(seconds=37)
    assert outbox_drain().delivered == 0

    # when: the retry time comes
    _make_due(message.pk)
    assert outbox_drain().delivered == 1

    # then
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED
    assert message.attempts == 2
    assert message.last_error == ""
    assert calls == [message.pk, message.pk]


def test_backoff_doubles_per_attempt(outbox_handlers, settings):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 10
    outbox_handlers(
        "test.down", lambda m: (_ for _ in ()).throw(TimeoutError("timeout"))
    )
    message = outbox_enqueue(topic="test.down", max_attempts=5)
    waits = []
    for _ in range(3):
        start = timezone.now()
        outbox_drain()
        message.refresh_from_db()
        waits.append((message.available_at - start).total_seconds())
        _make_due(message.pk)
    assert 8 <= waits[0] <= 12.5
    assert 16 <= waits[1] <= 24.5
    assert 32 <= waits[2] <= 48.5


def test_message_becomes_dead_letter_after_max_attempts(outbox_handlers):
    outbox_handlers(
        "test.down", lambda m: (_ for _ in ()).throw(TimeoutError("timeout"))
    )
    message = outbox_enqueue(topic="test.down", key="k", max_attempts=2)

    outbox_drain()
    _make_due(message.pk)
    result = outbox_drain()

    assert result.dead == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    assert message.attempts == 2
    assert "timeout" in message.last_error
    _make_due(message.pk)
    assert outbox_drain() == type(result)(0, 0, 0)


def test_permanent_error_goes_straight_to_dead_letter(outbox_handlers):
    def rejects(message):
        raise OutboxPermanentError("store says the product no longer exists")

    outbox_handlers("test.reject", rejects)
    message = outbox_enqueue(topic="test.reject", key="sku-9")

    assert outbox_drain().dead == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    assert message.attempts == 1
    assert "no longer exists" in message.last_error


def test_topic_without_handler_is_a_visible_dead_letter():
    message = outbox_enqueue(topic="nobody.listens", key="x")

    assert outbox_drain().dead == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    assert "No handler is registered for topic 'nobody.listens'" in message.last_error


def test_retry_puts_a_dead_letter_back_and_it_is_delivered(outbox_handlers):
    state = {"store_up": False}

    def push(message):
        if not state["store_up"]:
            raise OutboxPermanentError("token revoked")

    outbox_handlers("test.push", push)
    message = outbox_enqueue(topic="test.push", key="order-3")
    outbox_drain()

    state["store_up"] = True
    outbox_message_retry(message_id=message.pk)
    assert outbox_drain().delivered == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED


def test_retry_of_a_delivered_message_is_refused(delivered):
    message = outbox_enqueue(topic="test.push", key="order-3")
    outbox_drain()
    with pytest.raises(ApplicationError, match="already delivered"):
        outbox_message_retry(message_id=message.pk)


def test_coalesced_messages_collapse_while_waiting(delivered):
    # when: a burst of changes to one SKU and one change to another
    for n in range(100):
        outbox_enqueue(topic="test.push", key="sku-1", payload={"n": n}, coalesce=True)
    outbox_enqueue(topic="test.push", key="sku-2", coalesce=True)

    # then: one push per key
    assert OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count() == 2
    assert outbox_drain().delivered == 2
    assert sorted(key for key, _ in delivered) == ["sku-1", "sku-2"]


def test_change_after_a_claim_starts_a_new_coalesced_message(outbox_handlers):
    # given: the handler sees a new change arrive while it delivers
    def push_and_change_again(message):
        if message.payload.get("n") == 1:
            outbox_enqueue(
                topic="test.push", key="sku-1", payload={"n": 2}, coalesce=True
            )

    outbox_handlers("test.push", push_and_change_again)
    outbox_enqueue(topic="test.push", key="sku-1", payload={"n": 1}, coalesce=True)

    # when
    result = outbox_drain()

    # then: the later change was not swallowed by the message in flight
    assert result.delivered == 2
    assert list(OutboxMessage.objects.values_list("payload", "status")) == [
        ({"n": 1}, OutboxStatus.DELIVERED),
        ({"n": 2}, OutboxStatus.DELIVERED),
    ]


def test_failed_coalesced_message_is_superseded_by_a_newer_one(outbox_handlers):
    def fail_first(message):
        if message.payload["n"] == 1:
            outbox_enqueue(
                topic="test.push", key="sku-1", payload={"n": 2}, coalesce=True
            )
            raise ConnectionError("503")

    outbox_handlers("test.push", fail_first)
    first = outbox_enqueue(
        topic="test.push", key="sku-1", payload={"n": 1}, coalesce=False
    )
    OutboxMessage.objects.filter(pk=first.pk).update(is_coalesced=True)

    outbox_drain()

    first.refresh_from_db()
    assert first.status == OutboxStatus.SUPERSEDED
    newer = OutboxMessage.objects.exclude(pk=first.pk).get()
    assert newer.status == OutboxStatus.DELIVERED
    assert f"superseded by message {newer.pk}" in first.last_error


def test_retry_of_coalesced_dead_letter_with_a_newer_waiting_is_refused():
    dead = outbox_enqueue(topic="test.push", key="sku-1", coalesce=False)
    OutboxMessage.objects.filter(pk=dead.pk).update(is_coalesced=True, status="dead")
    outbox_enqueue(topic="test.push", key="sku-1", coalesce=True)

    with pytest.raises(ConflictError, match="newer message"):
        outbox_message_retry(message_id=dead.pk)


def test_only_one_waiting_coalesced_message_per_key_is_enforced_by_the_database():
    outbox_enqueue(topic="test.push", key="sku-1", coalesce=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(
            topic="test.push", key="sku-1", is_coalesced=True, max_attempts=3
        )


def test_message_of_a_worker_that_died_is_taken_over_after_its_lease(delivered):
    # given: a worker claimed the message and died before recording the outcome
    message = outbox_enqueue(topic="test.push", key="order-5")
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.PROCESSING,
        attempts=1,
        leased_until=timezone.now() + timedelta(minutes=5),
    )
    assert outbox_drain().delivered == 0

    # when: the lease runs out
    OutboxMessage.objects.filter(pk=message.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    result = outbox_drain()

    # then
    assert result.delivered == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DELIVERED, 2)
    assert delivered == [("order-5", {})]


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_drains_deliver_every_message_exactly_once(outbox_handlers):
    # given
    seen: list[int] = []
    lock = threading.Lock()

    def record(message):
        with lock:
            seen.append(message.pk)

    outbox_handlers("test.push", record)
    OutboxMessage.objects.bulk_create(
        OutboxMessage(topic="test.push", key=str(n), max_attempts=3) for n in range(300)
    )
    barrier = threading.Barrier(4)

    def drain():
        try:
            barrier.wait()
            outbox_drain(batch_size=7)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=drain) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # then
    assert len(seen) == 300
    assert len(set(seen)) == 300
    assert OutboxMessage.objects.filter(status=OutboxStatus.DELIVERED).count() == 300


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_claim_skips_rows_another_drainer_holds_instead_of_waiting():
    from erp.core.locks import outbox_messages_claim_lock
    from erp.core.outbox import _claim

    # given: two due messages, the first locked by a drainer mid-claim
    first = outbox_enqueue(topic="test.push", key="a")
    second = outbox_enqueue(topic="test.push", key="b")
    claimed_elsewhere: list[list[int]] = []

    def other_drainer():
        try:
            claimed_elsewhere.append([m.pk for m in _claim(limit=10)])
        finally:
            connection.close()

    with transaction.atomic():
        held = outbox_messages_claim_lock(now=timezone.now(), limit=1)
        assert [m.pk for m in held] == [first.pk]

        # when: another drainer claims at the same moment
        thread = threading.Thread(target=other_drainer)
        thread.start()
        thread.join(timeout=10)

    # then: it took the free row at once and left the held one alone
    assert thread.is_alive() is False
    assert claimed_elsewhere == [[second.pk]]
