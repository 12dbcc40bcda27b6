from datetime import timedelta
from functools import partial

import pytest
from django.db import OperationalError
from django.utils import timezone

from connectors.exceptions import (
    ChannelUnauthorizedError,
    ConnectorError,
    ConnectorTransientError,
    PayloadError,
)
from connectors.models import Channel, WebhookReceipt, WebhookReceiptStatus
from connectors.services import (
    RECEIPT_MAX_ATTEMPTS,
    REJECTED_BODY_LIMIT,
    webhook_drain_wake,
    webhook_receipt_process,
    webhook_receipt_record,
    webhook_receipt_reject,
    webhook_receipt_retry,
    webhook_receipts_drain,
    webhook_receipts_requeue,
)
from connectors.tests.factories import ChannelFactory, WebhookReceiptFactory

pytestmark = pytest.mark.django_db


def _record(channel, delivery_id="d-1", business_key="order:1@t1", **kwargs):
    return webhook_receipt_record(
        channel_id=channel.pk,
        topic=kwargs.pop("topic", "orders/create"),
        delivery_id=delivery_id,
        body=kwargs.pop("body", '{"id": 1}'),
        headers=kwargs.pop("headers", {"X-Shopify-Topic": "orders/create"}),
        business_key=business_key,
        **kwargs,
    )


def test_new_delivery_is_stored_and_the_drain_is_woken_after_commit(
    django_capture_on_commit_callbacks,
):
    # given
    channel = ChannelFactory()

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        result = _record(channel)

    # then
    receipt = WebhookReceipt.objects.get()
    assert result.is_new is True
    assert (receipt.pk, receipt.status, receipt.topic, receipt.delivery_id) == (
        result.receipt.pk,
        WebhookReceiptStatus.RECEIVED,
        "orders/create",
        "d-1",
    )
    assert receipt.body == '{"id": 1}'
    assert receipt.headers == {"X-Shopify-Topic": "orders/create"}
    assert len(callbacks) == 1
    assert isinstance(callbacks[0], partial)
    assert callbacks[0].func == webhook_drain_wake
    assert callbacks[0].args == (channel.pk,)


def test_redelivery_of_the_same_delivery_id_is_a_no_op(
    django_capture_on_commit_callbacks, provider
):
    channel = ChannelFactory()
    first = _record(channel)
    webhook_receipts_drain(channel_id=channel.pk)

    with django_capture_on_commit_callbacks() as callbacks:
        again = _record(channel, body='{"id": 1, "changed": true}')

    assert again.is_new is False
    assert again.receipt.pk == first.receipt.pk
    assert WebhookReceipt.objects.count() == 1
    assert WebhookReceipt.objects.get().body == '{"id": 1}'
    assert callbacks == []


def test_redelivery_of_a_receipt_still_waiting_wakes_its_drain_again(
    django_capture_on_commit_callbacks,
):
    # given: a stored delivery whose drain was never woken (its INSERT committed,
    # the connection dropped before the answer, and the retried INSERT found the row)
    channel = ChannelFactory()
    first = _record(channel)

    # when: the store sends it again
    with django_capture_on_commit_callbacks() as callbacks:
        again = _record(channel)

    # then: nothing new is stored, and the drain is woken
    assert (again.is_new, again.receipt.pk) == (False, first.receipt.pk)
    assert WebhookReceipt.objects.count() == 1
    assert [(c.func, c.args) for c in callbacks] == [
        (webhook_drain_wake, (channel.pk,))
    ]


def test_same_delivery_id_in_another_store_is_a_separate_receipt():
    _record(ChannelFactory(code="us"))
    _record(ChannelFactory(code="eu"))
    assert WebhookReceipt.objects.count() == 2


def test_same_business_key_under_a_new_delivery_id_is_stored_then_processed_as_duplicate(
    provider,
):
    # given: orders/paid and orders/updated for the same change of order 1, both
    # stored by the intake (one INSERT each, no lookup)
    channel = ChannelFactory()
    first = _record(channel, delivery_id="d-1", business_key="order:1@t1")
    second = _record(channel, delivery_id="d-2", business_key="order:1@t1")
    assert (second.is_new, second.receipt.status) == (True, "received")

    # when
    webhook_receipts_drain(channel_id=channel.pk)

    # then
    second.receipt.refresh_from_db()
    assert second.receipt.status == WebhookReceiptStatus.DUPLICATE
    assert second.receipt.result == {"duplicate_of": first.receipt.pk}
    assert provider.calls == [first.receipt.pk]


def test_new_business_key_of_the_same_order_is_processed():
    channel = ChannelFactory()
    _record(channel, delivery_id="d-1", business_key="order:1@t1")
    later = _record(channel, delivery_id="d-2", business_key="order:1@t2")
    assert later.is_new is True
    assert later.receipt.status == WebhookReceiptStatus.RECEIVED


def test_rejected_delivery_is_recorded_without_claiming_its_delivery_id():
    # given: a forged request that claims delivery d-1
    channel = ChannelFactory()
    rejected = webhook_receipt_reject(
        channel_id=channel.pk,
        topic="orders/create",
        body="x" * (REJECTED_BODY_LIMIT + 100),
        headers={"X-Shopify-Webhook-Id": "d-1"},
        reason="HMAC signature does not match.",
    )

    # when: the genuine delivery d-1 arrives
    genuine = _record(channel, delivery_id="d-1")

    # then
    rejected.refresh_from_db()
    assert rejected.status == WebhookReceiptStatus.REJECTED
    assert rejected.delivery_id is None
    assert rejected.error == "HMAC signature does not match."
    assert len(rejected.body) == REJECTED_BODY_LIMIT
    assert genuine.is_new is True
    assert genuine.receipt.pk != rejected.pk


def test_processing_marks_the_receipt_processed_with_the_result(provider):
    # given
    receipt = _record(ChannelFactory()).receipt
    provider.outcome = lambda r: {"order_id": 42, "created": True}

    # when
    status = webhook_receipt_process(receipt_id=receipt.pk)

    # then
    receipt.refresh_from_db()
    assert status == WebhookReceiptStatus.PROCESSED
    assert receipt.status == WebhookReceiptStatus.PROCESSED
    assert receipt.result == {"order_id": 42, "created": True}
    assert receipt.attempts == 1
    assert receipt.processed_at is not None
    assert receipt.leased_until is None
    assert provider.calls == [receipt.pk]


def test_processing_twice_does_the_work_once(provider):
    receipt = _record(ChannelFactory()).receipt

    webhook_receipt_process(receipt_id=receipt.pk)
    second = webhook_receipt_process(receipt_id=receipt.pk)

    assert second is None
    assert provider.calls == [receipt.pk]
    receipt.refresh_from_db()
    assert receipt.attempts == 1


def test_receipt_held_by_a_live_worker_is_not_taken(provider):
    receipt = WebhookReceiptFactory(
        status=WebhookReceiptStatus.PROCESSING,
        leased_until=timezone.now() + timedelta(minutes=1),
    )

    assert webhook_receipt_process(receipt_id=receipt.pk) is None
    assert provider.calls == []


def test_receipt_of_a_dead_worker_is_taken_over(provider):
    receipt = WebhookReceiptFactory(
        status=WebhookReceiptStatus.PROCESSING,
        attempts=1,
        leased_until=timezone.now() - timedelta(seconds=1),
    )

    assert webhook_receipt_process(receipt_id=receipt.pk) == "processed"
    receipt.refresh_from_db()
    assert receipt.attempts == 2


def test_receipt_whose_worker_died_every_time_is_given_up_on(provider):
    # given: a delivery that took its worker down with it (killed, out of memory)
    # as many times as a receipt may be tried
    receipt = WebhookReceiptFactory(
        status=WebhookReceiptStatus.PROCESSING,
        attempts=RECEIPT_MAX_ATTEMPTS,
        leased_until=timezone.now() - timedelta(seconds=1),
    )

    # when: the sweep hands it to a worker once more
    assert webhook_receipt_process(receipt_id=receipt.pk) is None

    # then: it is failed with the reason, not tried again every few minutes forever
    assert provider.calls == []
    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == (
        WebhookReceiptStatus.FAILED,
        RECEIPT_MAX_ATTEMPTS,
    )
    assert receipt.leased_until is None
    assert "stopped while processing it" in receipt.error
    assert webhook_receipts_requeue(received_before=timedelta(0)) == 0


def test_later_receipt_of_the_same_change_becomes_duplicate_when_processed(provider):
    # given: two deliveries of one change that raced past the check at intake
    channel = ChannelFactory()
    first = WebhookReceiptFactory(channel=channel, business_key="order:1@t1")
    second = WebhookReceiptFactory(channel=channel, business_key="order:1@t1")

    # when
    webhook_receipt_process(receipt_id=second.pk)
    webhook_receipt_process(receipt_id=first.pk)

    # then
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.status == WebhookReceiptStatus.DUPLICATE
    assert second.result == {"duplicate_of": first.pk}
    assert first.status == WebhookReceiptStatus.PROCESSED
    assert provider.calls == [first.pk]


@pytest.mark.parametrize(
    "error",
    [
        ConnectorTransientError("Shopify answered 503."),
        OperationalError("lock timeout"),
    ],
)
def test_transient_error_puts_the_receipt_back_and_raises_for_retry(provider, error):
    receipt = _record(ChannelFactory()).receipt

    def fail(r):
        raise error

    provider.outcome = fail

    with pytest.raises(type(error)):
        webhook_receipt_process(receipt_id=receipt.pk)

    receipt.refresh_from_db()
    assert receipt.status == WebhookReceiptStatus.RECEIVED
    assert receipt.attempts == 1
    assert str(error) in receipt.error
    assert receipt.leased_until is None


def test_transient_error_after_the_last_attempt_fails_the_receipt(provider):
    receipt = WebhookReceiptFactory(attempts=RECEIPT_MAX_ATTEMPTS - 1)

    def fail(r):
        raise ConnectorTransientError("Shopify answered 503.")

    provider.outcome = fail

    assert webhook_receipt_process(receipt_id=receipt.pk) == "failed"
    receipt.refresh_from_db()
    assert receipt.status == WebhookReceiptStatus.FAILED
    assert receipt.error.startswith(f"Gave up after {RECEIPT_MAX_ATTEMPTS} attempts.")


def test_malformed_payload_fails_the_receipt_with_the_reason(provider):
    receipt = _record(ChannelFactory()).receipt

    def fail(r):
        raise PayloadError("expected a number", path="line_items[0].quantity")

    provider.outcome = fail

    assert webhook_receipt_process(receipt_id=receipt.pk) == "failed"
    receipt.refresh_from_db()
    assert receipt.status == WebhookReceiptStatus.FAILED
    assert receipt.error == "line_items[0].quantity: expected a number"
    assert receipt.processed_at is None


def test_unexpected_error_fails_the_receipt_instead_of_crashing(provider):
    receipt = _record(ChannelFactory()).receipt

    def crash(r):
        raise KeyError("boom")

    provider.outcome = crash

    assert webhook_receipt_process(receipt_id=receipt.pk) == "failed"
    receipt.refresh_from_db()
    assert receipt.status == WebhookReceiptStatus.FAILED
    assert receipt.error == "Unexpected error KeyError: 'boom'"


def test_unauthorized_store_flags_the_channel(provider):
    channel = ChannelFactory()
    receipt = _record(channel).receipt

    def unauthorized(r):
        raise ChannelUnauthorizedError("Shopify answered 401: token revoked.")

    provider.outcome = unauthorized

    assert webhook_receipt_process(receipt_id=receipt.pk) == "failed"
    channel = Channel.objects.get(pk=channel.pk)
    assert channel.requires_reauthorization is True
    assert channel.auth_error == "Shopify answered 401: token revoked."
    assert channel.auth_failed_at is not None


def test_vanished_receipt_is_ignored(provider):
    assert webhook_receipt_process(receipt_id=987654) is None
    assert provider.calls == []


def test_retry_puts_a_failed_receipt_back_with_fresh_attempts(
    django_capture_on_commit_callbacks,
):
    receipt = WebhookReceiptFactory(
        status=WebhookReceiptStatus.FAILED, attempts=3, error="boom"
    )

    with django_capture_on_commit_callbacks() as callbacks:
        retried = webhook_receipt_retry(receipt_id=receipt.pk)

    assert (retried.status, retried.attempts) == (WebhookReceiptStatus.RECEIVED, 0)
    assert [c.args for c in callbacks] == [(receipt.pk,)]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (WebhookReceiptStatus.REJECTED, "signature did not match"),
        (WebhookReceiptStatus.PROCESSED, "already processed"),
    ],
)
def test_retry_refuses_rejected_and_processed_receipts(status, message):
    receipt = WebhookReceiptFactory(status=status)

    with pytest.raises(ConnectorError, match=message):
        webhook_receipt_retry(receipt_id=receipt.pk)

    receipt.refresh_from_db()
    assert receipt.status == status


def test_retry_refuses_a_receipt_a_worker_is_processing_but_frees_a_stuck_one(
    django_capture_on_commit_callbacks,
):
    now = timezone.now()
    busy = WebhookReceiptFactory(
        status=WebhookReceiptStatus.PROCESSING,
        attempts=1,
        leased_until=now + timedelta(minutes=4),
    )
    stuck = WebhookReceiptFactory(
        status=WebhookReceiptStatus.PROCESSING,
        attempts=1,
        leased_until=now - timedelta(seconds=1),
    )

    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(ConnectorError, match="being processed right now"):
            webhook_receipt_retry(receipt_id=busy.pk)
        freed = webhook_receipt_retry(receipt_id=stuck.pk)

    busy.refresh_from_db()
    assert (busy.status, busy.attempts) == (WebhookReceiptStatus.PROCESSING, 1)
    assert (freed.status, freed.attempts) == (WebhookReceiptStatus.RECEIVED, 0)
    assert [c.args for c in callbacks] == [(stuck.pk,)]


def test_requeue_schedules_lost_and_abandoned_receipts_only(enqueued):
    # given
    now = timezone.now()
    lost = WebhookReceiptFactory(created_at=now - timedelta(minutes=5))
    abandoned = WebhookReceiptFactory(
        status=WebhookReceiptStatus.PROCESSING,
        leased_until=now - timedelta(seconds=1),
    )
    WebhookReceiptFactory(created_at=now)  # its task is surely still queued
    WebhookReceiptFactory(
        status=WebhookReceiptStatus.PROCESSING,
        leased_until=now + timedelta(minutes=1),
    )
    WebhookReceiptFactory(
        status=WebhookReceiptStatus.FAILED, created_at=now - timedelta(hours=1)
    )
    WebhookReceiptFactory(
        status=WebhookReceiptStatus.PROCESSED, created_at=now - timedelta(hours=1)
    )

    # when
    count = webhook_receipts_requeue()

    # then
    assert count == 2
    assert enqueued == [lost.pk, abandoned.pk]
