from functools import partial

import pytest

from connectors.models import WebhookReceipt, WebhookReceiptStatus
from connectors.services import webhook_drain_wake, webhook_receipts_drain
from connectors.shopify.testing.webhooks import webhook_body, webhook_headers
from connectors.shopify.tests.conftest import load_fixture
from connectors.shopify.webhooks import (
    business_key_for,
    shopify_hmac,
    shopify_hmac_is_valid,
)
from connectors.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

VECTORS = load_fixture("hmac_test_vectors.json")["vectors"]
SECRET = "whsec-test-0123456789"


def _post(client, url, body: bytes, headers: dict[str, str]):
    headers = dict(headers)
    content_type = headers.pop("Content-Type", "application/json")
    return client.post(url, data=body, content_type=content_type, headers=headers)


@pytest.fixture
def channel():
    return ChannelFactory(
        code="us-shop",
        credentials={"access_token": "shpat_x", "webhook_secret": SECRET},
    )


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_official_hmac_vectors(vector):
    body = vector["raw_body"].encode()
    signature = vector["headers"]["X-Shopify-Hmac-Sha256"]

    assert (
        shopify_hmac_is_valid(secret=vector["secret"], body=body, signature=signature)
        is vector["expected_valid"]
    )
    if vector["expected_valid"]:
        assert shopify_hmac(secret=vector["secret"], body=body) == signature


def test_signature_is_refused_without_a_secret_or_a_signature():
    assert shopify_hmac_is_valid(secret="", body=b"{}", signature="") is False
    assert shopify_hmac_is_valid(secret="s", body=b"{}", signature="") is False


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS if v["expected_valid"]], ids=lambda v: v["id"]
)
def test_official_vector_is_accepted_by_the_endpoint(client, vector):
    # given: a store whose webhook secret is the vector's
    channel = ChannelFactory(
        code="vector-shop", credentials={"webhook_secret": vector["secret"]}
    )
    headers = {"X-Shopify-Webhook-Id": "vector-delivery-1", **vector["headers"]}

    # when
    response = _post(
        client,
        f"/webhooks/shopify/{channel.code}/",
        vector["raw_body"].encode(),
        headers,
    )

    # then
    assert response.status_code == 200
    receipt = WebhookReceipt.objects.get()
    assert response.json() == {"receipt": receipt.pk, "status": "received", "new": True}
    assert receipt.body == vector["raw_body"]
    assert receipt.topic == vector["headers"]["X-Shopify-Topic"]


def test_official_negative_vector_is_refused_and_recorded(client):
    vector = next(v for v in VECTORS if not v["expected_valid"])
    channel = ChannelFactory(
        code="vector-shop", credentials={"webhook_secret": vector["secret"]}
    )
    headers = {"X-Shopify-Webhook-Id": "forged-1", **vector["headers"]}

    response = _post(
        client, "/webhooks/shopify/vector-shop/", vector["raw_body"].encode(), headers
    )

    assert response.status_code == 401
    receipt = WebhookReceipt.objects.get()
    assert receipt.channel_id == channel.pk
    assert receipt.status == WebhookReceiptStatus.REJECTED
    assert receipt.delivery_id is None
    assert receipt.error == (
        "The X-Shopify-Hmac-Sha256 signature does not match the body."
    )
    assert receipt.headers["X-Shopify-Webhook-Id"] == "forged-1"


def test_order_delivery_is_stored_as_sent_and_the_drain_woken_after_commit(
    client, channel, official_order, django_capture_on_commit_callbacks
):
    # given
    body = webhook_body(official_order)
    headers = webhook_headers(
        secret=SECRET,
        body=body,
        topic="orders/create",
        webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        event_id="evt-1",
    )

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client, "/webhooks/shopify/us-shop/", body, headers)

    # then
    assert response.status_code == 200
    receipt = WebhookReceipt.objects.get()
    assert receipt.delivery_id == "evt-1"
    # the body is not parsed at intake: the worker finds the business key
    assert receipt.business_key == ""
    assert receipt.body.encode() == body
    assert receipt.triggered_at is not None
    assert receipt.headers["X-Shopify-Webhook-Id"] == (
        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    )
    assert "Cookie" not in receipt.headers
    assert [(c.func, c.args) for c in callbacks if isinstance(c, partial)] == [
        (webhook_drain_wake, (channel.pk,))
    ]


def test_webhook_id_is_the_delivery_id_when_there_is_no_event_id(
    client, channel, official_order
):
    body = webhook_body(official_order)
    headers = webhook_headers(
        secret=SECRET, body=body, topic="orders/updated", webhook_id="wh-77"
    )

    _post(client, "/webhooks/shopify/us-shop/", body, headers)

    assert WebhookReceipt.objects.get().delivery_id == "wh-77"


def test_redelivery_is_acknowledged_and_stored_once(client, channel, official_order):
    body = webhook_body(official_order)
    headers = webhook_headers(
        secret=SECRET, body=body, topic="orders/create", webhook_id="wh-1"
    )

    responses = [
        _post(client, "/webhooks/shopify/us-shop/", body, headers) for _ in range(5)
    ]

    assert [r.status_code for r in responses] == [200] * 5
    assert [r.json()["new"] for r in responses] == [True, False, False, False, False]
    assert WebhookReceipt.objects.count() == 1


def test_same_change_under_another_topic_is_processed_once(
    client, channel, official_order
):
    body = webhook_body(official_order)
    for topic, webhook_id in (("orders/updated", "wh-1"), ("orders/paid", "wh-2")):
        _post(
            client,
            "/webhooks/shopify/us-shop/",
            body,
            webhook_headers(
                secret=SECRET, body=body, topic=topic, webhook_id=webhook_id
            ),
        )

    # the intake stores both (one INSERT each); the drain processes the change once
    webhook_receipts_drain(channel_id=channel.pk)

    assert list(
        WebhookReceipt.objects.order_by("pk").values_list("topic", "status")
    ) == [("orders/updated", "processed"), ("orders/paid", "duplicate")]
    first, second = WebhookReceipt.objects.order_by("pk")
    assert second.result == {"duplicate_of": first.pk}
    assert [first.business_key, second.business_key] == [
        "order:450789469:2008-01-10T11:00:00-05:00"
    ] * 2


def test_one_changed_byte_fails_the_signature(client, channel, official_order):
    body = webhook_body(official_order)
    headers = webhook_headers(secret=SECRET, body=body, topic="orders/create")

    response = _post(
        client, "/webhooks/shopify/us-shop/", body.replace(b"598.94", b"1.00"), headers
    )

    assert response.status_code == 401
    assert WebhookReceipt.objects.get().status == WebhookReceiptStatus.REJECTED


def test_signature_of_another_secret_is_refused(client, channel, official_order):
    body = webhook_body(official_order)
    headers = webhook_headers(secret="someone-else", body=body, topic="orders/create")

    response = _post(client, "/webhooks/shopify/us-shop/", body, headers)

    assert response.status_code == 401


def test_missing_signature_is_refused_and_recorded(client, channel):
    response = _post(
        client,
        "/webhooks/shopify/us-shop/",
        b"{}",
        {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "1"},
    )

    assert response.status_code == 401
    assert WebhookReceipt.objects.get().error == (
        "The X-Shopify-Hmac-Sha256 header is missing."
    )


def test_store_without_a_secret_refuses_everything(client, official_order):
    ChannelFactory(code="no-secret", credentials={"access_token": "shpat_x"})
    body = webhook_body(official_order)

    response = _post(
        client,
        "/webhooks/shopify/no-secret/",
        body,
        webhook_headers(secret="", body=body, topic="orders/create"),
    )

    assert response.status_code == 401
    assert WebhookReceipt.objects.get().error == (
        "No webhook secret is configured for this store."
    )


def test_app_level_secret_is_used_when_the_store_has_none(
    client, settings, official_order
):
    settings.SHOPIFY_API_SECRET = "app-client-secret"
    ChannelFactory(code="public-app-shop", credentials={"access_token": "shpat_x"})
    body = webhook_body(official_order)

    response = _post(
        client,
        "/webhooks/shopify/public-app-shop/",
        body,
        webhook_headers(secret="app-client-secret", body=body, topic="orders/create"),
    )

    assert response.status_code == 200


def test_signed_delivery_without_topic_or_id_is_refused(client, channel):
    body = b'{"id": 1}'
    headers = webhook_headers(secret=SECRET, body=body, topic="orders/create")
    del headers["X-Shopify-Webhook-Id"]

    response = _post(client, "/webhooks/shopify/us-shop/", body, headers)

    assert response.status_code == 400
    receipt = WebhookReceipt.objects.get()
    assert receipt.status == WebhookReceiptStatus.REJECTED
    assert receipt.error == "The topic or webhook id header is missing."


def test_signed_body_that_is_not_json_is_stored_for_a_visible_failure(client, channel):
    body = b"<html>not json</html>"
    headers = webhook_headers(
        secret=SECRET, body=body, topic="orders/create", webhook_id="wh-9"
    )

    response = _post(client, "/webhooks/shopify/us-shop/", body, headers)

    assert response.status_code == 200
    receipt = WebhookReceipt.objects.get()
    assert (receipt.status, receipt.business_key) == ("received", "")


def test_unknown_store_is_not_found_and_nothing_is_stored(client, official_order):
    body = webhook_body(official_order)
    response = _post(
        client,
        "/webhooks/shopify/nope/",
        body,
        webhook_headers(secret=SECRET, body=body, topic="orders/create"),
    )
    assert response.status_code == 404
    assert WebhookReceipt.objects.exists() is False


def test_only_post_is_allowed(client, channel):
    assert client.get("/webhooks/shopify/us-shop/").status_code == 405
    assert WebhookReceipt.objects.exists() is False


@pytest.mark.parametrize(
    ("topic", "payload", "key"),
    [
        (
            "orders/cancelled",
            {"id": 5, "updated_at": "2026-01-01T00:00:00Z"},
            "order:5:2026-01-01T00:00:00Z",
        ),
        ("orders/edited", {"order_edit": {"id": 9, "order_id": 5}}, "order_edit:9"),
        ("refunds/create", {"id": 509562969, "order_id": 5}, "refund:509562969"),
        (
            "fulfillments/update",
            {"id": 3, "updated_at": "2026-01-02T00:00:00Z"},
            "fulfillment:3:2026-01-02T00:00:00Z",
        ),
        (
            "inventory_levels/update",
            {
                "inventory_item_id": 808950810,
                "location_id": 655441491,
                "updated_at": "2026-01-03T00:00:00Z",
            },
            "inventory_level:808950810@655441491:2026-01-03T00:00:00Z",
        ),
        ("app/uninstalled", {"id": 1}, ""),
        ("orders/create", {"no_id": True}, ""),
        ("orders/create", ["not", "an", "object"], ""),
    ],
)
def test_business_keys(topic, payload, key):
    assert business_key_for(topic=topic, payload=payload) == key
