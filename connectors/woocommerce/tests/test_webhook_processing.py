"""Stored WooCommerce deliveries processed by the worker code, against the fake store."""

import pytest

from connectors.models import WebhookReceiptStatus
from connectors.services import webhook_receipt_process
from connectors.tests.factories import WebhookReceiptFactory
from connectors.woocommerce.testing.webhooks import webhook_body
from finance.models.payments import Refund
from orders.choices import OrderEventType, OrderStatus
from orders.models import Order

pytestmark = pytest.mark.django_db


def _process(channel, topic, payload):
    receipt = WebhookReceiptFactory(
        channel=channel, topic=topic, body=webhook_body(payload).decode()
    )
    status = webhook_receipt_process(receipt_id=receipt.pk)
    receipt.refresh_from_db()
    return status, receipt


def test_order_created_is_ingested_from_the_payload_alone(woo_store, woo_channel):
    order = woo_store.add_order()

    status, receipt = _process(woo_channel, "order.created", order)

    assert status == WebhookReceiptStatus.PROCESSED
    stored = Order.objects.get(external_id=str(order["id"]))
    assert receipt.result["order_id"] == stored.pk
    assert receipt.result["created"] is True
    assert woo_store.calls == []  # no refunds: nothing to read from the store


def test_an_older_payload_after_a_newer_one_changes_nothing(woo_store, woo_channel):
    order = woo_store.add_order()
    old = woo_store.webhook_payload("order.created", order["id"])
    new = woo_store.change_order(order["id"], status="cancelled")
    _process(woo_channel, "order.updated", new)

    status, receipt = _process(woo_channel, "order.created", old)

    assert status == WebhookReceiptStatus.PROCESSED
    assert receipt.result == {"skipped": "this version of the order is already stored"}
    assert Order.objects.get().status == OrderStatus.CANCELLED


def test_an_order_with_refunds_reads_them_from_the_store(woo_store, woo_channel):
    order = woo_store.add_order()
    woo_store.add_refund(order["id"], amount="12.00", reason="one shirt back")

    _process(woo_channel, "order.updated", woo_store.order(order["id"]))

    refund = Refund.objects.get()
    assert (refund.amount, refund.note, refund.order.external_id) == (
        12,
        "one shirt back",
        str(order["id"]),
    )


def test_deleted_order_is_read_from_the_trash_and_cancelled(woo_store, woo_channel):
    order = woo_store.add_order()
    _process(woo_channel, "order.created", order)
    woo_store.trash_order(order["id"])

    status, receipt = _process(woo_channel, "order.deleted", {"id": order["id"]})

    assert status == WebhookReceiptStatus.PROCESSED
    stored = Order.objects.get()
    assert stored.status == OrderStatus.CANCELLED
    assert stored.cancel_reason == (
        "Cancelled in the store: moved to the trash in WooCommerce"
    )


def test_restored_order_stays_cancelled_here_with_a_note_for_ops(
    woo_store, woo_channel
):
    order = woo_store.add_order()
    _process(woo_channel, "order.created", order)
    woo_store.trash_order(order["id"])
    _process(woo_channel, "order.deleted", {"id": order["id"]})
    restored = woo_store.change_order(order["id"], status="processing")

    status, _receipt = _process(woo_channel, "order.restored", restored)

    assert status == WebhookReceiptStatus.PROCESSED
    stored = Order.objects.get()
    assert stored.status == OrderStatus.CANCELLED
    note = stored.events.filter(type=OrderEventType.NOTE_ADDED).latest("pk")
    assert note.message.startswith("Restored from the trash in WooCommerce")


def test_order_deleted_for_good_fails_the_receipt_with_the_reason(
    woo_store, woo_channel
):
    status, receipt = _process(woo_channel, "order.deleted", {"id": 424242})

    assert status == WebhookReceiptStatus.FAILED
    assert receipt.error.startswith("Order 424242 was deleted for good in the store")


def test_store_down_while_processing_puts_the_receipt_back_for_a_retry(
    woo_store, woo_channel, settings
):
    settings.WOOCOMMERCE_MAX_RETRIES = 0
    woo_store.fail_next(503)

    with pytest.raises(Exception, match="HTTP 503"):
        _process(woo_channel, "order.deleted", {"id": 1})


def test_unhandled_topics_and_bad_payloads_fail_with_the_reason(woo_channel):
    status, receipt = _process(woo_channel, "coupon.updated", {"id": 1})
    assert (status, receipt.error) == (
        WebhookReceiptStatus.FAILED,
        "Webhooks of topic 'coupon.updated' are not handled.",
    )

    status, receipt = _process(woo_channel, "order.updated", {"id": 1, "status": "x"})
    assert status == WebhookReceiptStatus.FAILED
    assert receipt.error == "date_modified_gmt: is not a date"


def test_drain_ingests_a_batch_of_order_bodies_in_one_call_each_receipt_its_outcome(
    woo_store, woo_channel, monkeypatch
):
    # given: two new orders, a body without an id, an older version of a stored
    # order, and a restored order that stays cancelled here
    from connectors.services import webhook_receipts_drain
    from connectors.woocommerce import provider
    from orders.services import ingest

    calls = []
    real_ingest_many = ingest.order_ingest_many

    def spy(**kwargs):
        calls.append([o.external_id for o in kwargs["orders"]])
        return real_ingest_many(**kwargs)

    monkeypatch.setattr(provider, "order_ingest_many", spy)
    first, second = woo_store.add_order(), woo_store.add_order()
    changed = woo_store.add_order()
    old = woo_store.webhook_payload("order.created", changed["id"])
    _process(
        woo_channel,
        "order.updated",
        woo_store.change_order(changed["id"], status="completed"),
    )
    cancelled = woo_store.add_order()
    _process(woo_channel, "order.created", cancelled)
    woo_store.trash_order(cancelled["id"])
    _process(woo_channel, "order.deleted", {"id": cancelled["id"]})
    restored = woo_store.change_order(cancelled["id"], status="processing")

    def receipt(topic, payload):
        return WebhookReceiptFactory(
            channel=woo_channel, topic=topic, body=webhook_body(payload).decode()
        )

    new = [receipt("order.created", first), receipt("order.created", second)]
    no_id = receipt("order.updated", {"status": "processing"})
    old_news = receipt("order.created", old)
    back = receipt("order.restored", restored)
    calls.clear()

    # when
    taken = webhook_receipts_drain(channel_id=woo_channel.pk)

    # then
    assert taken == 5
    assert calls == [[str(first["id"]), str(second["id"]), str(cancelled["id"])]]
    for r in (*new, no_id, old_news, back):
        r.refresh_from_db()
    assert [r.status for r in new] == [WebhookReceiptStatus.PROCESSED] * 2
    assert [r.result["created"] for r in new] == [True, True]
    assert (no_id.status, no_id.error) == (
        WebhookReceiptStatus.FAILED,
        "the order payload has no id",
    )
    assert old_news.result == {"skipped": "this version of the order is already stored"}
    assert back.status == WebhookReceiptStatus.PROCESSED
    stored = Order.objects.get(external_id=str(cancelled["id"]))
    assert stored.status == OrderStatus.CANCELLED
    assert stored.events.filter(
        type=OrderEventType.NOTE_ADDED, message__startswith="Restored from the trash"
    ).exists()


def test_drain_leaves_orders_with_refunds_out_of_the_batch_call(
    woo_store, woo_channel, monkeypatch
):
    # given: a plain new order and one with a refund (its refunds are read from the
    # store, a call that may be slow: one by one, each with its own lease)
    from connectors.services import webhook_receipts_drain
    from connectors.woocommerce import provider
    from orders.services import ingest

    calls = []
    real_ingest_many = ingest.order_ingest_many

    def spy(**kwargs):
        calls.append([o.external_id for o in kwargs["orders"]])
        return real_ingest_many(**kwargs)

    monkeypatch.setattr(provider, "order_ingest_many", spy)
    plain, refunded = woo_store.add_order(), woo_store.add_order()
    woo_store.add_refund(refunded["id"], amount="12.00", reason="one shirt back")
    receipts = [
        WebhookReceiptFactory(
            channel=woo_channel,
            topic="order.updated",
            body=webhook_body(woo_store.order(order["id"])).decode(),
        )
        for order in (plain, refunded)
    ]

    # when
    taken = webhook_receipts_drain(channel_id=woo_channel.pk)

    # then: only the plain one went through the batch call; both are done
    assert taken == 2
    assert calls == [[str(plain["id"])]]
    for r in receipts:
        r.refresh_from_db()
    assert [r.status for r in receipts] == [WebhookReceiptStatus.PROCESSED] * 2
    assert Refund.objects.get().order.external_id == str(refunded["id"])
