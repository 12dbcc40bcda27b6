"""The drain: one wakeup per burst of deliveries, batches claimed with SKIP LOCKED."""

import threading
from datetime import timedelta

import pytest
import redis
from django.db import connection, connections
from django.utils import timezone

from connectors import services
from connectors.exceptions import ConnectorTransientError
from connectors.models import Channel, WebhookReceipt, WebhookReceiptStatus
from connectors.services import (
    _drain_wake_key,
    webhook_receipt_process,
    webhook_receipt_record,
    webhook_receipts_drain,
    webhook_receipts_requeue,
)
from connectors.shopify.testing.webhooks import webhook_body, webhook_headers
from connectors.tests.factories import ChannelFactory

SECRET = "whsec-drain-test-0123456789"


def _record(channel, delivery_id, business_key=""):
    return webhook_receipt_record(
        channel_id=channel.pk,
        topic="orders/create",
        delivery_id=delivery_id,
        body='{"id": 1}',
        headers={},
        business_key=business_key,
    ).receipt


def _post(client, code, *, secret, delivery_id, order_id=1):
    body = webhook_body({"id": order_id, "updated_at": "2026-01-01T00:00:00Z"})
    headers = webhook_headers(
        secret=secret, body=body, topic="orders/create", webhook_id=delivery_id
    )
    headers.pop("Content-Type")
    return client.post(
        f"/webhooks/shopify/{code}/",
        data=body,
        content_type="application/json",
        headers=headers,
    )


@pytest.mark.django_db
def test_drain_processes_the_waiting_receipts_of_its_store_oldest_first(provider):
    # given
    store, other = ChannelFactory(), ChannelFactory()
    mine = [_record(store, f"d-{n}") for n in range(3)]
    theirs = _record(other, "d-0")

    # when
    taken = webhook_receipts_drain(channel_id=store.pk, batch_size=2)

    # then
    assert taken == 3
    assert provider.calls == [r.pk for r in mine]
    assert set(
        WebhookReceipt.objects.filter(channel=store).values_list("status", flat=True)
    ) == {WebhookReceiptStatus.PROCESSED}
    theirs.refresh_from_db()
    assert theirs.status == WebhookReceiptStatus.RECEIVED


@pytest.mark.django_db(transaction=True)
def test_one_wakeup_per_burst_and_none_lost_while_the_drain_runs(
    provider, drains, wake_redis
):
    # given: a store whose first delivery woke a drain, and a second one that did not
    # need to (the drain is announced)
    store = ChannelFactory()
    wake_redis.delete(_drain_wake_key(store.pk))
    first = _record(store, "d-1")
    second = _record(store, "d-2")
    assert drains == [store.pk]
    assert wake_redis.exists(_drain_wake_key(store.pk))

    # when: the drain runs, and a delivery commits while it processes the first
    arrived = []

    def deliver_while_draining(receipt):
        if not arrived:
            arrived.append(_record(store, "d-3"))
        return {"order_id": receipt.pk}

    provider.outcome = deliver_while_draining
    taken = webhook_receipts_drain(channel_id=store.pk)

    # then: the late delivery woke a new drain (the flag was cleared first) and this
    # drain took it too; the woken drain finds nothing left
    assert drains == [store.pk, store.pk]
    assert taken == 3
    assert provider.calls == [first.pk, second.pk, arrived[0].pk]
    assert webhook_receipts_drain(channel_id=store.pk) == 0
    assert (
        WebhookReceipt.objects.filter(status=WebhookReceiptStatus.PROCESSED).count()
        == 3
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_never_process_one_receipt_twice(provider, drains):
    # given
    store = ChannelFactory()
    ids = [_record(store, f"d-{n}").pk for n in range(30)]
    both_busy = threading.Barrier(2, timeout=20)
    seen = threading.local()

    def overlap(receipt):
        # Each drain waits, holding its first batch, until the other holds one too.
        if not getattr(seen, "met", False):
            seen.met = True
            both_busy.wait()
        return {"order_id": receipt.pk}

    provider.outcome = overlap
    taken: list[int] = []

    def drain():
        try:
            taken.append(webhook_receipts_drain(channel_id=store.pk, batch_size=4))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert sorted(provider.calls) == ids
    assert len(provider.calls) == len(set(provider.calls))
    assert sum(taken) == 30
    assert min(taken) > 0
    assert list(
        WebhookReceipt.objects.order_by().values_list("status", "attempts").distinct()
    ) == [(WebhookReceiptStatus.PROCESSED, 1)]


@pytest.mark.django_db
def test_store_not_answering_waits_instead_of_looping_in_the_drain(provider):
    # given
    store = ChannelFactory()
    failing, fine = _record(store, "d-1"), _record(store, "d-2")

    def store_down_for_the_first(receipt):
        if receipt.pk == failing.pk:
            raise ConnectorTransientError("Shopify answered 503.")
        return {"order_id": receipt.pk}

    provider.outcome = store_down_for_the_first

    # when
    taken = webhook_receipts_drain(channel_id=store.pk)

    # then: tried once, put back with a wait; the other one is done
    assert taken == 2
    assert provider.calls == [failing.pk, fine.pk]
    failing.refresh_from_db()
    assert (failing.status, failing.attempts) == (WebhookReceiptStatus.RECEIVED, 1)
    assert failing.leased_until > timezone.now() + timedelta(seconds=5)
    assert "503" in failing.error
    assert webhook_receipt_process(receipt_id=failing.pk) is None
    assert webhook_receipts_drain(channel_id=store.pk) == 0


@pytest.mark.django_db(transaction=True)
def test_redis_down_still_stores_and_acknowledges_the_delivery(
    client, settings, monkeypatch, drains, enqueued
):
    # given: the wakeup flags' Redis does not answer
    store = ChannelFactory(code="redis-down", credentials={"webhook_secret": SECRET})
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(
        services,
        "_wake_redis",
        redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.25, socket_connect_timeout=0.25
        ),
    )

    # when
    response = _post(client, store.code, secret=SECRET, delivery_id="wh-1")

    # then: committed (no test transaction here) and acknowledged; no drain announced
    assert response.status_code == 200
    receipt = WebhookReceipt.objects.get()
    assert response.json() == {"receipt": receipt.pk, "status": "received", "new": True}
    assert drains == []
    # and the sweep picks it up
    assert webhook_receipts_requeue(received_before=timedelta(0)) == 1
    assert enqueued == [receipt.pk]


@pytest.mark.django_db
def test_delivery_costs_one_insert_and_a_rotated_secret_is_honoured_at_once(
    client, django_assert_num_queries
):
    # given: a store this process has served (its secret is remembered)
    store = ChannelFactory(code="rotating", credentials={"webhook_secret": SECRET})
    assert (
        _post(client, store.code, secret=SECRET, delivery_id="wh-1").status_code == 200
    )

    # when: another delivery comes, it is one statement
    with django_assert_num_queries(1):
        response = _post(client, store.code, secret=SECRET, delivery_id="wh-2")
    assert response.status_code == 200

    # when: the secret is rotated elsewhere (no signal reaches this process)
    new_secret = "whsec-rotated-9876543210"
    Channel.objects.filter(pk=store.pk).update(
        credentials={"webhook_secret": new_secret}
    )

    # then: the new secret is accepted at once, the old one refused from then on
    assert (
        _post(
            client, store.code, secret=new_secret, delivery_id="wh-3", order_id=3
        ).status_code
        == 200
    )
    old = _post(client, store.code, secret=SECRET, delivery_id="wh-4", order_id=4)
    assert old.status_code == 401
    assert list(
        WebhookReceipt.objects.order_by("pk").values_list("delivery_id", "status")
    ) == [
        ("wh-1", "received"),
        ("wh-2", "received"),
        ("wh-3", "received"),
        (None, "rejected"),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_delivery_on_a_dropped_database_connection_is_stored_on_a_fresh_one(
    client, drains
):
    # given: a store this process has served, and its database connection killed
    # (a PostgreSQL restart, an idle timeout) while the web process kept it
    store = ChannelFactory(code="dropped", credentials={"webhook_secret": SECRET})
    assert (
        _post(client, store.code, secret=SECRET, delivery_id="wh-1").status_code == 200
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()

    # when
    response = _post(client, store.code, secret=SECRET, delivery_id="wh-2", order_id=2)

    # then
    assert response.status_code == 200
    assert list(
        WebhookReceipt.objects.order_by("pk").values_list("delivery_id", flat=True)
    ) == ["wh-1", "wh-2"]


@pytest.mark.django_db
def test_a_batch_outliving_its_lease_never_processes_a_receipt_twice(
    provider, enqueued
):
    # given: a drain's batch of three deliveries whose store calls are slow
    store = ChannelFactory()
    first, second, third = (_record(store, f"d-{n}") for n in range(3))

    def slow_store(receipt):
        if receipt.pk == first.pk:
            # The first call outlives the batch's lease: the sweep finds the rest of
            # the batch PROCESSING with an expired lease and a worker takes the second.
            WebhookReceipt.objects.filter(channel=store).update(
                leased_until=timezone.now() - timedelta(seconds=1)
            )
            assert webhook_receipts_requeue(received_before=timedelta(0)) == 3
            assert webhook_receipt_process(receipt_id=second.pk) == "processed"
        return {"order_id": receipt.pk}

    provider.outcome = slow_store

    # when
    webhook_receipts_drain(channel_id=store.pk, batch_size=3)

    # then: the second was processed once, by the worker that took it over; the
    # drain kept the third's lease alive and processed it itself
    assert provider.calls == [first.pk, second.pk, third.pk]
    assert list(
        WebhookReceipt.objects.order_by("pk").values_list("status", "attempts")
    ) == [
        (WebhookReceiptStatus.PROCESSED, 1),
        (WebhookReceiptStatus.PROCESSED, 2),
        (WebhookReceiptStatus.PROCESSED, 1),
    ]


@pytest.mark.django_db
def test_sweep_skips_receipts_waiting_out_a_retry_and_takes_the_lost_ones(enqueued):
    # given: an old receipt waiting 10 minutes before its retry (the store was down)
    # and a later one whose drain was lost (a worker killed before it started)
    store = ChannelFactory()
    backing_off, lost = _record(store, "d-1"), _record(store, "d-2")
    long_ago = timezone.now() - timedelta(minutes=5)
    WebhookReceipt.objects.filter(pk=backing_off.pk).update(
        created_at=long_ago,
        attempts=3,
        leased_until=timezone.now() + timedelta(minutes=10),
    )
    WebhookReceipt.objects.filter(pk=lost.pk).update(created_at=long_ago)

    # when: the sweep runs with room for one
    scheduled = webhook_receipts_requeue(limit=1)

    # then: the lost one is scheduled; the one waiting is not (yet)
    assert scheduled == 1
    assert enqueued == [lost.pk]


@pytest.mark.django_db(transaction=True)
def test_delivery_to_a_store_removed_by_another_process_is_unknown_not_an_error(
    client, drains
):
    # given: a store this process has served (remembered), then removed elsewhere
    # (no signal reaches this process), receipts first as its PROTECT demands
    store = ChannelFactory(code="removed", credentials={"webhook_secret": SECRET})
    assert (
        _post(client, store.code, secret=SECRET, delivery_id="wh-1").status_code == 200
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM connectors_webhookreceipt WHERE channel_id = %s", [store.pk]
        )
        cursor.execute("DELETE FROM connectors_channel WHERE id = %s", [store.pk])

    # when
    response = _post(client, store.code, secret=SECRET, delivery_id="wh-2")

    # then
    assert response.status_code == 404
    assert response.json() == {"error": "unknown store"}
    assert WebhookReceipt.objects.count() == 0
