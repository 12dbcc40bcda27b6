"""A carrier's tracking push reaches the store and delivers the order."""

from decimal import Decimal

import pytest

from erp.core.outbox import outbox_drain
from inventory.tests.factories import WarehouseFactory
from logistics.choices import CarrierKind
from logistics.fx import StaticRates
from logistics.models import CarrierWebhookDelivery, Shipment
from logistics.services.tracking import TRACKING_UPDATED_TOPIC
from logistics.tasks import carrier_webhook_process_task
from logistics.tests.factories import CarrierAccountFactory, CarrierServiceFactory
from logistics.tests.fakecarrier import (
    CARRIER_ROUTES,
    CREDENTIALS,
    UPS_WEBHOOK_CREDENTIAL,
    FakeCarrier,
    fixture_bytes,
)
from orders.choices import OrderStatus
from orders.handlers import apply_tracking_update
from orders.services.shipping import ORDER_TRACKING_UPDATED_TOPIC, order_ship_prepare
from orders.tests.test_shipping import ingest, weighed

pytestmark = pytest.mark.django_db


def test_ups_delivery_push_reaches_the_store_and_delivers_the_order(
    channel,
    stock,
    client,
    outbox_handlers,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    # given: a US order shipped by UPS (quotes in CAD), the store listening
    received = []
    outbox_handlers(ORDER_TRACKING_UPDATED_TOPIC, lambda m: received.append(m.payload))
    outbox_handlers(TRACKING_UPDATED_TOPIC, apply_tracking_update)
    queued: list[int] = []
    monkeypatch.setattr(carrier_webhook_process_task, "delay", queued.append)
    fake = FakeCarrier(list(CARRIER_ROUTES["ups"])).start()
    try:
        ups = CarrierAccountFactory(
            code="ups",
            name="UPS",
            carrier=CarrierKind.UPS,
            credentials={
                **CREDENTIALS["ups"],
                "webhook_credential": UPS_WEBHOOK_CREDENTIAL,
            },
            api_base_url=fake.url,
        )
        CarrierServiceFactory(account=ups, code="ups_standard", name="UPS Standard")
        la = WarehouseFactory(
            code="us-la",
            country="US",
            priority=10,
            address_line1="1 Main St",
            city="Los Angeles",
            region="CA",
            postal_code="90001",
        )
        weighed(stock("SKU-A", 5, warehouse=la), 400)
        order = ingest(channel)
        order_ship_prepare(
            order_id=order.pk, converter=StaticRates({("CAD", "USD"): Decimal("0.73")})
        )
    finally:
        fake.stop()
    shipment = Shipment.objects.get(order=order)
    # UPS's Track Alert examples are about parcel 1Z204W4R0308071865
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number="1Z204W4R0308071865")
    outbox_drain()
    received.clear()

    # when: UPS pushes "out for delivery" and "delivered"; the worker and outbox run
    for sample in ("track_alert_6_out_for_delivery", "track_alert_7_delivered"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/logistics/webhooks/ups/ups/",
                data=fixture_bytes(f"ups/{sample}.json"),
                content_type="application/json",
                HTTP_CREDENTIAL=UPS_WEBHOOK_CREDENTIAL,
            )
        assert response.status_code == 200
    assert len(queued) == 2
    for delivery_id in queued:
        carrier_webhook_process_task(delivery_id)
    outbox_drain()
    outbox_drain()  # the order's own message to the store, enqueued by the first

    # then
    assert set(CarrierWebhookDelivery.objects.values_list("status", flat=True)) == {
        "processed"
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert [(p["status"], p["tracking_number"]) for p in received] == [
        ("out_for_delivery", "1Z204W4R0308071865"),
        ("delivered", "1Z204W4R0308071865"),
    ]
    assert all(p["channel_id"] == channel.pk for p in received)
