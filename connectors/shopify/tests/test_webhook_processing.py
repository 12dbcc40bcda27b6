"""Stored Shopify deliveries processed by the worker, end to end into orders."""

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.exceptions import ConnectorTransientError
from connectors.models import (
    Channel,
    ChannelListing,
    WebhookReceipt,
    WebhookReceiptStatus,
)
from connectors.services import webhook_receipt_process
from connectors.shopify.testing.fake_server import official_order
from connectors.shopify.testing.webhooks import webhook_body, webhook_headers
from connectors.shopify.tests.conftest import WEBHOOK_SECRET, load_fixture
from connectors.sync import channel_sync
from inventory.models import Product
from orders.canonical import OrderSource
from orders.models import Order

pytestmark = pytest.mark.django_db


def _deliver(client, channel, topic, payload, *, webhook_id=None, raw=None):
    """POST a signed delivery to our endpoint; returns the stored receipt."""
    body = raw if raw is not None else webhook_body(payload)
    headers = webhook_headers(
        secret=WEBHOOK_SECRET, body=body, topic=topic, webhook_id=webhook_id
    )
    content_type = headers.pop("Content-Type")
    response = client.post(
        f"/webhooks/shopify/{channel.code}/",
        data=body,
        content_type=content_type,
        headers=headers,
    )
    assert response.status_code == 200, response.content
    return WebhookReceipt.objects.get(pk=response.json()["receipt"])


def _process(receipt):
    status = webhook_receipt_process(receipt_id=receipt.pk)
    receipt.refresh_from_db()
    return status


def _version(order, minutes, **changes):
    version = copy.deepcopy(order)
    version["updated_at"] = (
        timezone.now().replace(microsecond=0) + timedelta(minutes=minutes)
    ).isoformat()
    version.update(changes)
    return version


def test_order_webhook_becomes_an_order(client, store_channel):
    receipt = _deliver(client, store_channel, "orders/create", official_order())

    assert _process(receipt) == WebhookReceiptStatus.PROCESSED

    order = Order.objects.get()
    assert (order.external_id, order.number, order.source) == (
        "450789469",
        "#1001",
        OrderSource.WEBHOOK,
    )
    assert order.lines.count() == 3
    assert receipt.result["order_id"] == order.pk
    assert receipt.result["created"] is True


def test_store_sku_is_replaced_through_the_listing_map(client, store_channel):
    # given: the green iPod is our SKU IPOD-G, listed as variant 39072856
    product = Product.objects.create(sku="IPOD-G", title="iPod green")
    ChannelListing.objects.create(
        channel=store_channel, product=product, external_variant_id="39072856"
    )

    _process(_deliver(client, store_channel, "orders/create", official_order()))

    order = Order.objects.get()
    assert sorted(order.lines.values_list("sku", flat=True)) == [
        "IPOD-G",
        "IPOD2008BLACK",
        "IPOD2008RED",
    ]
    assert order.lines.get(sku="IPOD-G").product_id == product.pk


def test_older_version_arriving_late_is_stale(client, store_channel):
    newer = _version(official_order(), 10, financial_status="paid")
    older = _version(official_order(), 5, financial_status="pending")
    _process(_deliver(client, store_channel, "orders/paid", newer))

    late = _deliver(client, store_channel, "orders/create", older)

    assert _process(late) == WebhookReceiptStatus.PROCESSED
    assert late.result == {"skipped": "this version of the order is already stored"}
    assert Order.objects.get().financial_status == "paid"


def test_webhook_of_a_version_the_poll_already_stored_changes_nothing(
    client, fake_store, store_channel
):
    # given: the poll stored the order with Shopify's fraud verdict
    version = _version(official_order(), -1)
    fake_store.add_rest_order(version)
    fake_store.set_risk("450789469", level="HIGH", recommendation="CANCEL")
    channel_sync(channel_id=store_channel.pk)

    # when: the webhook of the same version (no verdict in REST bodies) arrives
    receipt = _deliver(client, store_channel, "orders/updated", version)
    _process(receipt)

    # then
    assert receipt.result == {"skipped": "this version of the order is already stored"}
    assert Order.objects.get().risk_level == "high"


def test_refund_webhook_reads_the_order_again_from_the_api(
    client, fake_store, store_channel
):
    # given: an order stored without refunds, refunded since in the store
    before = _version(official_order(), -10, refunds=[], financial_status="paid")
    _process(_deliver(client, store_channel, "orders/create", before))
    after = _version(official_order(), -1)
    fake_store.add_rest_order(after)
    refund = load_fixture("rest/refund_create_restock_return.response.json")["refund"]

    # when
    receipt = _deliver(client, store_channel, "refunds/create", refund)
    status = _process(receipt)

    # then
    assert status == WebhookReceiptStatus.PROCESSED
    assert receipt.result["changed"] is True
    assert Order.objects.get().financial_status == "partially_refunded"
    assert [c.operation for c in fake_store.calls] == ["OrderGet"]


def test_store_that_does_not_answer_puts_the_receipt_back_for_a_retry(
    client, fake_store, store_channel
):
    fake_store.add_rest_order(official_order())
    fake_store.fail_next(503, times=20)
    refund = load_fixture("rest/refund_create_restock_return.response.json")["refund"]
    receipt = _deliver(client, store_channel, "refunds/create", refund)

    with pytest.raises(ConnectorTransientError):
        _process(receipt)

    receipt.refresh_from_db()
    assert receipt.status == WebhookReceiptStatus.RECEIVED
    assert "HTTP 503" in receipt.error


def test_body_that_is_not_json_fails_the_receipt_with_the_reason(client, store_channel):
    receipt = _deliver(
        client, store_channel, "orders/create", None, raw=b"<html>oops</html>"
    )

    assert _process(receipt) == WebhookReceiptStatus.FAILED
    assert receipt.error.startswith("the body is not JSON")
    assert Order.objects.exists() is False


def test_order_body_without_lines_fails_instead_of_emptying_the_order(
    client, store_channel
):
    _process(_deliver(client, store_channel, "orders/create", official_order()))
    trimmed = _version(official_order(), 5)
    del trimmed["line_items"]

    receipt = _deliver(client, store_channel, "orders/updated", trimmed)

    assert _process(receipt) == WebhookReceiptStatus.FAILED
    assert receipt.error == "line_items: is missing"
    assert Order.objects.get().lines.filter(is_removed=False).count() == 3


def test_malformed_amount_fails_the_receipt_and_names_the_field(client, store_channel):
    order = copy.deepcopy(official_order())
    order["line_items"][1]["price"] = "two hundred"

    receipt = _deliver(client, store_channel, "orders/create", order)

    assert _process(receipt) == WebhookReceiptStatus.FAILED
    assert receipt.error == "line_items[1].price: expected an amount, got 'two hundred'"


def test_app_uninstalled_flags_the_store(client, store_channel):
    receipt = _deliver(
        client, store_channel, "app/uninstalled", {"id": 548380009, "name": "Fake"}
    )

    assert _process(receipt) == WebhookReceiptStatus.PROCESSED
    channel = Channel.objects.get(pk=store_channel.pk)
    assert channel.requires_reauthorization is True
    assert channel.auth_error == "The app was uninstalled from the store."


def test_stock_changed_in_the_store_is_recorded_on_the_listing(client, store_channel):
    # given: we set 40 units of item 808950810 in the store
    product = Product.objects.create(sku="IPOD-G", title="iPod green")
    listing = ChannelListing.objects.create(
        channel=store_channel,
        product=product,
        external_variant_id="39072856",
        external_inventory_item_id="808950810",
        pushed_quantity=40,
    )
    level = load_fixture("rest/inventory_level_set.response.json")["inventory_level"]

    # when: someone sets 42 by hand in the store
    receipt = _deliver(client, store_channel, "inventory_levels/update", level)
    _process(receipt)

    # then
    listing.refresh_from_db()
    assert (listing.store_quantity, listing.pushed_quantity) == (42, 40)
    assert listing.has_drift is True
    assert receipt.result["differs"] is True
    assert receipt.result["store_quantity"] == 42


def test_unknown_topic_fails_visibly(client, store_channel):
    receipt = _deliver(client, store_channel, "products/update", {"id": 1})

    assert _process(receipt) == WebhookReceiptStatus.FAILED
    assert receipt.error == "Webhooks of topic 'products/update' are not handled."


@pytest.mark.slow
def test_lost_duplicated_and_reordered_webhooks_of_200_orders_heal_in_one_poll(
    client, fake_store, store_channel
):
    """Issue 5 "must show": 200 orders end exactly right after one poll."""
    # given: 200 orders, each created (pending) then paid in the store
    base = _version(official_order(), -60, refunds=[], financial_status="pending")
    created = fake_store.add_orders_like(
        base,
        count=200,
        first_id=9_000_000,
        updated_from=timezone.now().replace(microsecond=0) - timedelta(minutes=50),
        step_seconds=5,
    )
    creates = [copy.deepcopy(o.rest) for o in created]
    paid = [
        fake_store.change_order(
            o.rest["id"],
            financial_status="paid",
            updated_at=o.updated_at + timedelta(minutes=20),
        ).rest
        for o in created
    ]

    # when: the deliveries arrive lost, duplicated and out of order
    deliveries = []
    for i in range(200):
        create = ("orders/create", creates[i], f"create-{i}")
        pay = ("orders/paid", paid[i], f"paid-{i}")
        if i % 10 == 0:
            continue  # both lost
        if i % 10 == 1:
            deliveries.append(create)  # the payment was lost
        elif i % 10 == 2:
            deliveries += [pay, create]  # reordered: paid first
        elif i % 10 == 3:
            deliveries += [create] * 5 + [pay] * 5  # each delivered five times
        else:
            deliveries += [create, pay]
    receipts = [
        _deliver(client, store_channel, topic, body, webhook_id=webhook_id)
        for topic, body, webhook_id in deliveries
    ]
    for receipt in {r.pk: r for r in receipts}.values():
        _process(receipt)
    before_poll = Order.objects.count()

    run = channel_sync(channel_id=store_channel.pk)

    # then
    assert before_poll == 180
    assert Order.objects.filter(channel=store_channel).count() == 200
    assert (
        Order.objects.filter(channel=store_channel, financial_status="paid").count()
        == 200
    )
    assert WebhookReceipt.objects.count() == len(
        {webhook_id for _, _, webhook_id in deliveries}
    )
    assert (run.created, run.failed) == (20, 0)
    assert run.updated == 20  # the orders whose payment webhook was lost
    assert not WebhookReceipt.objects.filter(status="failed").exists()


def test_drain_ingests_a_batch_of_order_bodies_in_one_call_each_receipt_its_outcome(
    client, store_channel, monkeypatch
):
    # given: three new orders, a second delivery of the first one's change, a body
    # that is not an order, an order the ingest refuses, and an older version of an
    # order stored already
    from connectors.services import webhook_receipts_drain
    from connectors.shopify import provider
    from orders.services import ingest

    calls = []
    real_ingest_many = ingest.order_ingest_many

    def spy(**kwargs):
        calls.append([o.external_id for o in kwargs["orders"]])
        return real_ingest_many(**kwargs)

    monkeypatch.setattr(provider, "order_ingest_many", spy)
    base = official_order()
    stored = _deliver(
        client, store_channel, "orders/create", _version(dict(base, id=40), 5)
    )
    assert _process(stored) == WebhookReceiptStatus.PROCESSED
    new = [
        _deliver(client, store_channel, "orders/create", dict(base, id=n))
        for n in (41, 42, 43)
    ]
    again = _deliver(client, store_channel, "orders/paid", dict(base, id=41))
    broken = _deliver(client, store_channel, "orders/updated", None, raw=b'{"id": 44}')
    refused = _deliver(
        client, store_channel, "orders/create", dict(base, id=45, currency="DOLLARS")
    )
    old_news = _deliver(
        client, store_channel, "orders/updated", _version(dict(base, id=40), 1)
    )
    calls.clear()

    # when
    taken = webhook_receipts_drain(channel_id=store_channel.pk)

    # then: one ingest call for the batch, each receipt with its own outcome
    assert taken == 7
    assert calls == [["41", "42", "43", "45"]]
    for receipt in (*new, again, broken, refused, old_news):
        receipt.refresh_from_db()
    assert [r.status for r in new] == [WebhookReceiptStatus.PROCESSED] * 3
    assert [r.result["order_id"] for r in new] == list(
        Order.objects.filter(external_id__in=["41", "42", "43"])
        .order_by("external_id")
        .values_list("pk", flat=True)
    )
    assert (again.status, again.result) == (
        WebhookReceiptStatus.DUPLICATE,
        {"duplicate_of": new[0].pk},
    )
    assert broken.status == WebhookReceiptStatus.FAILED
    assert broken.error
    assert refused.status == WebhookReceiptStatus.FAILED
    assert "DOLLARS" in refused.error
    assert (old_news.status, old_news.result) == (
        WebhookReceiptStatus.PROCESSED,
        {"skipped": "this version of the order is already stored"},
    )
    assert sorted(Order.objects.values_list("external_id", flat=True)) == [
        "40",
        "41",
        "42",
        "43",
    ]
