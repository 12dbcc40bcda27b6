"""Shipments and tracking pushed to Shopify through the outbox (fake store)."""

import pytest

from connectors.models import ExternalFulfillment
from connectors.shopify import queries
from connectors.shopify.client import ShopifyClient
from connectors.shopify.mappers import canonical_order_from_rest
from connectors.shopify.testing.fake_server import official_order
from erp.core.models import OutboxMessage, OutboxStatus
from erp.core.outbox import outbox_drain, outbox_enqueue
from inventory.models import Warehouse
from logistics.models import Shipment
from orders.canonical import OrderSource
from orders.models import Order
from orders.services.ingest import order_ingest
from orders.services.shipping import ORDER_FULFILLED_TOPIC, ORDER_TRACKING_UPDATED_TOPIC

pytestmark = pytest.mark.django_db

GREEN, RED, BLACK = "466157049", "518995019", "703073504"


@pytest.fixture
def order(fake_store, store_channel):
    """The official order, unfulfilled in the store and stored here."""
    rest = dict(official_order(), fulfillments=[], fulfillment_status=None)
    fake_store.add_rest_order(rest)
    result = order_ingest(
        channel_id=store_channel.pk,
        data=canonical_order_from_rest(rest),
        source=OrderSource.POLL,
    )
    return Order.objects.get(pk=result.order_id)


def _shipment(order, number: str) -> Shipment:
    warehouse, _ = Warehouse.objects.get_or_create(
        code="sz", defaults={"name": "Shenzhen", "country": "CN"}
    )
    return Shipment.objects.create(
        order=order, warehouse=warehouse, currency="USD", tracking_number=number
    )


def _fulfilled(order, shipment, lines, *, carrier="ups", url="https://ups.example/1"):
    """An orders.fulfilled message, shaped as orders.services.shipping writes it."""
    by_external = {line.external_id: line for line in order.lines.all()}
    outbox_enqueue(
        topic=ORDER_FULFILLED_TOPIC,
        key=f"{order.pk}:{shipment.pk}",
        payload={
            "order_id": order.pk,
            "channel_id": order.channel_id,
            "shipment_id": shipment.pk,
            "tracking_number": shipment.tracking_number,
            "carrier": carrier,
            "carrier_name": "UPS account",
            "service": "UPS Ground",
            "tracking_url": url,
            "lines": [
                {
                    "order_line_id": by_external[ext].pk,
                    "external_id": ext,
                    "sku": by_external[ext].sku,
                    "quantity": qty,
                }
                for ext, qty in lines
            ],
        },
    )


def _tracking(order, shipment, *, status, number=None, url="https://ups.example/1"):
    outbox_enqueue(
        topic=ORDER_TRACKING_UPDATED_TOPIC,
        key=f"{order.pk}:{shipment.pk}",
        payload={
            "shipment_id": shipment.pk,
            "order_id": order.pk,
            "channel_id": order.channel_id,
            "status": status,
            "shipment_status": "in_transit",
            "tracking_number": number or shipment.tracking_number,
            "carrier": "ups",
            "carrier_name": "UPS account",
            "tracking_url": url,
            "delivered_at": None,
        },
    )


def test_partial_shipment_fulfils_only_its_lines_with_tracking(fake_store, order):
    # given: the green and red iPods leave in one parcel
    shipment = _shipment(order, "1Z999AA10123456784")

    # when
    _fulfilled(order, shipment, [(GREEN, 1), (RED, 1)])
    result = outbox_drain()

    # then
    assert result.delivered == 1
    stored = fake_store.orders["450789469"].rest
    assert stored["fulfillment_status"] == "partial"
    [fulfillment] = stored["fulfillments"]
    assert sorted(
        (line["id"], line["quantity"]) for line in fulfillment["line_items"]
    ) == [
        (int(GREEN), 1),
        (int(RED), 1),
    ]
    assert (fulfillment["tracking_company"], fulfillment["tracking_number"]) == (
        "UPS",
        "1Z999AA10123456784",
    )
    record = ExternalFulfillment.objects.get()
    assert record.external_id == f"gid://shopify/Fulfillment/{fulfillment['id']}"
    assert (record.shipment_id, record.tracking_company) == (shipment.pk, "UPS")


def test_second_parcel_completes_the_order(fake_store, order):
    first, second = _shipment(order, "1ZFIRST"), _shipment(order, "1ZSECOND")
    _fulfilled(order, first, [(GREEN, 1), (RED, 1)])
    _fulfilled(order, second, [(BLACK, 1)])

    outbox_drain()

    stored = fake_store.orders["450789469"].rest
    assert stored["fulfillment_status"] == "fulfilled"
    assert len(stored["fulfillments"]) == 2
    assert ExternalFulfillment.objects.count() == 2


def test_redelivered_shipment_is_not_fulfilled_twice(fake_store, order):
    shipment = _shipment(order, "1ZONCE")
    _fulfilled(order, shipment, [(GREEN, 1)])
    outbox_drain()

    _fulfilled(order, shipment, [(GREEN, 1)])
    result = outbox_drain()

    assert result.delivered == 1
    assert len(fake_store.orders["450789469"].rest["fulfillments"]) == 1
    assert len(fake_store.calls_of("FulfillmentCreate")) == 1


def test_fulfilment_whose_answer_was_lost_is_found_by_its_tracking_number(
    fake_store, order
):
    # given: our earlier call went through but its answer never came back
    client = ShopifyClient(
        shop_url=fake_store.url, access_token=fake_store.access_token
    )
    client.execute(
        queries.FULFILLMENT_CREATE,
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [
                    {
                        "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/450789469",
                        "fulfillmentOrderLineItems": [
                            {
                                "id": f"gid://shopify/FulfillmentOrderLineItem/{GREEN}",
                                "quantity": 1,
                            }
                        ],
                    }
                ],
                "trackingInfo": {"number": "1ZLOST", "company": "UPS"},
            }
        },
    )
    shipment = _shipment(order, "1ZLOST")

    # when: the outbox delivers the message again
    _fulfilled(order, shipment, [(GREEN, 1)])
    outbox_drain()

    # then
    assert len(fake_store.orders["450789469"].rest["fulfillments"]) == 1
    assert ExternalFulfillment.objects.get().shipment_id == shipment.pk


def test_line_fulfilled_by_hand_in_the_store_dead_letters_with_the_reason(
    fake_store, order
):
    client = ShopifyClient(
        shop_url=fake_store.url, access_token=fake_store.access_token
    )
    client.execute(
        queries.FULFILLMENT_CREATE,
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [
                    {
                        "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/450789469",
                        "fulfillmentOrderLineItems": [
                            {
                                "id": f"gid://shopify/FulfillmentOrderLineItem/{BLACK}",
                                "quantity": 1,
                            }
                        ],
                    }
                ]
            }
        },
    )
    shipment = _shipment(order, "1ZLATE")

    _fulfilled(order, shipment, [(BLACK, 1)])
    result = outbox_drain()

    assert result.dead == 1
    message = OutboxMessage.objects.get()
    assert "nothing left to fulfil for line(s) 703073504 ×1" in message.last_error
    assert ExternalFulfillment.objects.exists() is False


def test_new_tracking_number_and_statuses_reach_the_store_once_each(fake_store, order):
    # given: a shipped parcel
    shipment = _shipment(order, "1ZOLD")
    _fulfilled(order, shipment, [(GREEN, 1)])
    outbox_drain()

    # when: relabelled, then in transit (twice), then delivered
    _tracking(
        order,
        shipment,
        status="in_transit",
        number="1ZNEW",
        url="https://ups.example/2",
    )
    _tracking(
        order,
        shipment,
        status="in_transit",
        number="1ZNEW",
        url="https://ups.example/2",
    )
    _tracking(
        order, shipment, status="delivered", number="1ZNEW", url="https://ups.example/2"
    )
    outbox_drain()

    # then
    [fulfillment] = fake_store.orders["450789469"].rest["fulfillments"]
    assert fulfillment["tracking_number"] == "1ZNEW"
    assert [e["status"] for e in fake_store.fulfillment_events] == [
        "IN_TRANSIT",
        "DELIVERED",
    ]
    assert len(fake_store.calls_of("FulfillmentTrackingUpdate")) == 1
    record = ExternalFulfillment.objects.get()
    assert (record.tracking_number, record.last_event_status) == ("1ZNEW", "delivered")


def test_tracking_before_the_fulfilment_is_in_the_store_waits_for_it(fake_store, order):
    shipment = _shipment(order, "1ZEARLY")

    _tracking(order, shipment, status="in_transit")
    result = outbox_drain()

    assert result.retried == 1
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.PENDING
    assert "not in the store yet" in message.last_error
    assert fake_store.calls == []
