"""The WooCommerce webhook endpoint: ping, signature, storage, deduplication."""

import json
from functools import partial

import pytest

from connectors.models import ChannelKind, WebhookReceipt, WebhookReceiptStatus
from connectors.services import (
    webhook_drain_wake,
    webhook_receipt_process,
    webhook_receipts_drain,
)
from connectors.tests.factories import ChannelFactory
from connectors.woocommerce.testing.webhooks import webhook_body, webhook_headers
from connectors.woocommerce.tests.conftest import WEBHOOK_SECRET, load_fixture
from connectors.woocommerce.webhooks import (
    business_key_for,
    woocommerce_signature,
    woocommerce_signature_is_valid,
)
from orders.models import Order

pytestmark = pytest.mark.django_db

VECTORS = load_fixture("webhooks/signature_test_vector.json")["vectors"]
URL = "/webhooks/woocommerce/woo-shop/"


def _post(client, body: bytes, headers: dict[str, str], url: str = URL):
    headers = dict(headers)
    content_type = headers.pop("Content-Type", "application/json")
    return client.post(url, data=body, content_type=content_type, headers=headers)


@pytest.fixture
def channel():
    return ChannelFactory(
        kind=ChannelKind.WOOCOMMERCE,
        code="woo-shop",
        shop_url="https://shop.example",
        credentials={
            "consumer_key": "ck_x",
            "consumer_secret": "cs_x",
            "webhook_secret": WEBHOOK_SECRET,
        },
    )


def _signed(payload, *, topic="order.updated", secret=WEBHOOK_SECRET, **kwargs):
    body = webhook_body(payload)
    return body, webhook_headers(secret=secret, body=body, topic=topic, **kwargs)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_official_signature_vector(vector):
    payload = vector["payload"].encode()

    assert (
        woocommerce_signature(secret=vector["secret"], body=payload)
        == (vector["expected_signature"])
    )
    assert woocommerce_signature_is_valid(
        secret=vector["secret"], body=payload, signature=vector["expected_signature"]
    )
    assert not woocommerce_signature_is_valid(
        secret="another", body=payload, signature=vector["expected_signature"]
    )


def test_creation_ping_is_answered_200_and_stores_nothing(client, channel):
    response = client.post(
        URL, data=b"webhook_id=142", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert response.json() == {"ping": 142}
    assert WebhookReceipt.objects.count() == 0


def test_signed_order_delivery_is_stored_with_its_keys_and_processed_after_commit(
    client, channel, official_order, django_capture_on_commit_callbacks
):
    body, headers = _signed(official_order, delivery_id="d-727-1", webhook_id=142)

    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client, body, headers)

    assert response.status_code == 200
    receipt = WebhookReceipt.objects.get()
    assert response.json() == {"receipt": receipt.pk, "status": "received", "new": True}
    assert (receipt.topic, receipt.delivery_id, receipt.business_key) == (
        "order.updated",
        "d-727-1",
        "order:727:2017-03-22T19:28:08",
    )
    assert receipt.body.encode() == body
    assert receipt.headers["X-Wc-Webhook-Id"] == "142"
    assert [(c.func, c.args) for c in callbacks if isinstance(c, partial)] == [
        (webhook_drain_wake, (channel.pk,))
    ]


def test_redelivery_with_the_same_delivery_id_is_stored_once(
    client, channel, official_order
):
    body, headers = _signed(official_order, delivery_id="d-1")

    responses = [_post(client, body, headers) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.json()["new"] for r in responses] == [True, False, False]
    assert WebhookReceipt.objects.count() == 1


def test_created_and_updated_for_one_save_are_processed_once(
    client, channel, official_order
):
    for topic in ("order.created", "order.updated"):
        body, headers = _signed(official_order, topic=topic)
        _post(client, body, headers)

    # the intake stores both (one INSERT each); the drain processes the save once
    webhook_receipts_drain(channel_id=channel.pk)

    assert list(
        WebhookReceipt.objects.order_by("pk").values_list("topic", "status")
    ) == [("order.created", "processed"), ("order.updated", "duplicate")]
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("topic", "payload", "key"),
    [
        ("order.deleted", {"id": 727}, ""),
        (
            "product.updated",
            {"id": 794, "date_modified_gmt": "2017-03-23T20:01:14"},
            "product:794:2017-03-23T20:01:14",
        ),
        ("coupon.updated", {"id": 1}, ""),
        ("order.updated", ["not", "an", "object"], ""),
    ],
)
def test_business_keys(topic, payload, key):
    assert business_key_for(topic=topic, payload=payload) == key


def _order_from_a_valid_delivery(client, woo_store, official_order):
    """An order we hold, from a verified delivery processed by the worker code."""
    order = woo_store.add_order()
    body, headers = _signed(order, topic="order.created")
    _post(client, body, headers)
    webhook_receipt_process(receipt_id=WebhookReceipt.objects.get().pk)
    return Order.objects.get(external_id=str(order["id"])), order


def test_bad_signature_is_401_with_a_recorded_receipt_and_changes_no_order(
    client, woo_store, woo_channel, official_order
):
    # given: an order we already hold
    stored, order = _order_from_a_valid_delivery(client, woo_store, official_order)
    before = (stored.version, stored.status, stored.total, stored.cancelled_at)
    # when: a forged cancellation of it, and a forged new order
    forged = {
        **order,
        "status": "cancelled",
        "date_modified_gmt": "2031-01-01T00:00:00",
    }
    body, headers = _signed(forged, secret="not-the-secret", delivery_id="forged-1")
    response = _post(client, body, headers)
    new_body, new_headers = _signed(
        {**order, "id": 999999}, topic="order.created", secret="nope"
    )
    second = _post(client, new_body, new_headers)

    # then
    assert (response.status_code, second.status_code) == (401, 401)
    rejected = WebhookReceipt.objects.filter(status=WebhookReceiptStatus.REJECTED)
    assert rejected.count() == 2
    receipt = rejected.order_by("pk").first()
    assert response.json() == {
        "error": "The X-WC-Webhook-Signature signature does not match the body.",
        "receipt": receipt.pk,
    }
    assert (receipt.delivery_id, receipt.topic, receipt.body.encode()) == (
        None,
        "order.updated",
        body,
    )
    assert receipt.headers["X-Wc-Webhook-Delivery-Id"] == "forged-1"
    stored.refresh_from_db()
    assert (stored.version, stored.status, stored.total, stored.cancelled_at) == before
    assert Order.objects.count() == 1


def test_malformed_json_is_400_with_a_recorded_receipt_and_changes_no_order(
    client, woo_store, woo_channel, official_order
):
    stored, order = _order_from_a_valid_delivery(client, woo_store, official_order)
    before = (stored.version, stored.status)
    body = b'{"id": ' + str(order["id"]).encode() + b', "status": "cancelled",'
    headers = webhook_headers(
        secret=WEBHOOK_SECRET, body=body, topic="order.updated", delivery_id="bad-json"
    )

    response = _post(client, body, headers)

    assert response.status_code == 400
    receipt = WebhookReceipt.objects.get(status=WebhookReceiptStatus.FAILED)
    assert response.json() == {
        "error": "The body is not JSON (JSONDecodeError).",
        "receipt": receipt.pk,
    }
    assert (receipt.body.encode(), receipt.delivery_id) == (body, None)
    stored.refresh_from_db()
    assert (stored.version, stored.status) == before
    assert Order.objects.count() == 1


def test_unsigned_json_is_refused(client, channel, official_order):
    response = client.post(
        URL, data=json.dumps(official_order), content_type="application/json"
    )

    assert response.status_code == 401
    assert WebhookReceipt.objects.get().error == (
        "The X-WC-Webhook-Signature header is missing."
    )


def test_a_ping_shaped_body_with_a_bad_signature_is_still_refused(client, channel):
    response = client.post(
        URL,
        data=b"webhook_id=1",
        content_type="application/x-www-form-urlencoded",
        headers={"X-WC-Webhook-Signature": "forged"},
    )

    assert response.status_code == 401


def test_unknown_store_and_shopify_store_codes_are_404(client, channel, official_order):
    ChannelFactory(code="shopify-shop")
    body, headers = _signed(official_order)

    assert (
        _post(client, body, headers, url="/webhooks/woocommerce/nope/").status_code
        == 404
    )
    assert (
        _post(
            client, body, headers, url="/webhooks/woocommerce/shopify-shop/"
        ).status_code
        == 404
    )
    assert WebhookReceipt.objects.count() == 0


def test_get_is_not_allowed(client, channel):
    assert client.get(URL).status_code == 405
