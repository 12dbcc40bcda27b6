"""Shipping allocated orders: shipments per warehouse, labels, stock out, the store told,
and tracking coming back until the order is delivered."""

from decimal import Decimal

import pytest
from django.utils import translation

from erp.core.models import OutboxMessage
from erp.core.outbox import outbox_drain
from erp.core.text import text_say_again
from inventory.models import Allocation, StockItem
from inventory.tests.factories import WarehouseFactory
from logistics.choices import CarrierKind, ShipmentStatus
from logistics.fx import StaticRates
from logistics.models import CustomsItem, Shipment
from logistics.services.tracking import TRACKING_UPDATED_TOPIC, shipments_track_poll
from logistics.tests.factories import (
    CarrierAccountFactory,
    CarrierServiceFactory,
    ShippingRuleFactory,
    rate_card_service,
)
from logistics.tests.fakecarrier import CARRIER_ROUTES, CREDENTIALS, FakeCarrier
from orders.canonical import CanonicalAddress, OrderSource
from orders.choices import OrderStatus
from orders.handlers import apply_tracking_update
from orders.models import Order
from orders.services.ingest import order_ingest
from orders.services.shipping import (
    ORDER_FULFILLED_TOPIC,
    ORDER_TRACKING_UPDATED_TOPIC,
    OrderNotShippableError,
    order_ship_prepare,
)
from orders.tests.builders import canonical_order

pytestmark = pytest.mark.django_db

LONDON = CanonicalAddress(
    name="Oliver Smith",
    line1="10 Downing St",
    city="London",
    postal_code="SW1A 2AA",
    country_code="GB",
    phone="+44 20 7123 4567",
)


def ingest(channel, **kwargs) -> Order:
    result = order_ingest(
        channel_id=channel.pk,
        data=canonical_order(**kwargs),
        source=OrderSource.WEBHOOK,
    )
    return Order.objects.get(pk=result.order_id)


def weighed(product, grams, dims=(200, 150, 50), hs_code="", origin=""):
    product.weight_grams = grams
    product.length_mm, product.width_mm, product.height_mm = dims
    product.hs_code = hs_code
    product.country_of_origin = origin
    product.save()
    return product


@pytest.fixture
def store(outbox_handlers):
    """The fake store: what the connectors would push, as it arrives."""
    received: list[tuple[str, dict]] = []
    for topic in (ORDER_FULFILLED_TOPIC, ORDER_TRACKING_UPDATED_TOPIC):
        outbox_handlers(
            topic, lambda m, topic=topic: received.append((topic, m.payload))
        )
    outbox_handlers(TRACKING_UPDATED_TOPIC, apply_tracking_update)
    return received


@pytest.fixture
def us_lines(db):
    """Two rate-card lines to the US: YunExpress is cheaper, 4PX faster."""
    yun = rate_card_service(code="yun_us", price="4.00", per_kg="10", transit_days=9)
    fourpx = rate_card_service(code="4px_us", price="6.00", per_kg="10", transit_days=6)
    return yun, fourpx


def test_split_order_ships_per_warehouse_and_tells_the_store(
    channel, stock, us_lines, store
):
    # given: SKU-A only in LA, SKU-B only in NJ, split shipments allowed
    channel.allow_split_shipments = True
    channel.save()
    la = WarehouseFactory(code="us-la", country="US", priority=10, city="Los Angeles")
    nj = WarehouseFactory(code="us-nj", country="US", priority=20, city="Newark")
    weighed(stock("SKU-A", 5, warehouse=la), 400)
    weighed(stock("SKU-B", 5, warehouse=nj), 1200)
    order = ingest(channel, lines=[("SKU-A", 2, "10.00"), ("SKU-B", 1, "30.00")])
    assert order.status == OrderStatus.ALLOCATED

    # when
    result = order_ship_prepare(order_id=order.pk)

    # then: one shipment per warehouse, each with the cheapest line
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert result.problems == {}
    shipments = {s.warehouse.code: s for s in Shipment.objects.filter(order=order)}
    assert set(shipments) == {"us-la", "us-nj"}
    la_shipment, nj_shipment = shipments["us-la"], shipments["us-nj"]
    # 2 × 400 g + 150 g packaging; 1200 g + 150 g
    assert la_shipment.packages.get().weight_grams == 950
    assert nj_shipment.packages.get().weight_grams == 1350
    assert (la_shipment.service.code, la_shipment.chosen_quote.amount) == (
        "yun_us",
        Decimal("13.5000"),
    )
    assert "cheapest of 2 qualifying" in la_shipment.selection_reason
    assert {s.status for s in shipments.values()} == {ShipmentStatus.SHIPPED}
    assert [(i.sku, i.quantity) for i in la_shipment.items.all()] == [("SKU-A", 2)]
    assert CustomsItem.objects.filter(shipment__order=order).exists() is False
    # stock left the warehouses
    assert set(
        Allocation.objects.filter(order_line__order=order).values_list(
            "status", flat=True
        )
    ) == {"shipped"}
    assert StockItem.objects.get(product__sku="SKU-A").quantity_on_hand == 3
    assert StockItem.objects.get(product__sku="SKU-B").quantity_on_hand == 4
    assert order.events.last().message.startswith(
        f"Shipped S{la_shipment.pk} from us-la"
    )

    # and the store hears of both parcels
    outbox_drain()
    fulfilled = sorted(
        (p for topic, p in store if topic == ORDER_FULFILLED_TOPIC),
        key=lambda p: p["shipment_id"],
    )
    assert [(p["shipment_id"], p["carrier"]) for p in fulfilled] == [
        (la_shipment.pk, "rate_card"),
        (nj_shipment.pk, "rate_card"),
    ]
    assert fulfilled[0]["channel_id"] == channel.pk
    assert fulfilled[0]["order_id"] == order.pk
    assert [(x["sku"], x["quantity"]) for x in fulfilled[0]["lines"]] == [("SKU-A", 2)]


def test_international_shipment_carries_customs_lines(channel, stock, store):
    # given: stock in Shenzhen, buyer in Austin, a China line with a US zone
    sz = WarehouseFactory(code="sz", country="CN", priority=1, city="Shenzhen")
    weighed(stock("SKU-A", 5, warehouse=sz), 300, hs_code="090210", origin="CN")
    yun = rate_card_service(
        code="yun_global",
        price="3.00",
        per_kg="80",
        transit_days=12,
        is_domestic=False,
        is_international=True,
    )
    order = ingest(channel, lines=[("SKU-A", 3, "12.50")])

    # when
    order_ship_prepare(order_id=order.pk)

    # then
    shipment = Shipment.objects.get(order=order)
    assert shipment.service == yun
    assert shipment.incoterm == "DAP"
    assert list(
        shipment.customs_items.values_list(
            "sku", "hs_code", "origin_country", "quantity", "unit_value", "currency"
        )
    ) == [("SKU-A", "090210", "CN", 3, Decimal("12.5000"), "USD")]
    # 3 × 300 g + 150 g = 1.05 kg × 80 + 3.00
    assert shipment.chosen_quote.amount == Decimal("87.0000")


def test_missing_product_weight_is_refused_and_nothing_is_written(
    channel, stock, us_lines
):
    # given: SKU-A has no weight
    stock("SKU-A", 5)
    order = ingest(channel)

    # when
    with pytest.raises(OrderNotShippableError) as caught:
        order_ship_prepare(order_id=order.pk)

    # then
    assert caught.value.extra["skus"] == ["SKU-A"]
    assert Shipment.objects.exists() is False
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


def test_warehouse_without_a_service_ships_later(channel, stock, store):
    # given: only LA has a carrier line; NJ's parcel waits
    channel.allow_split_shipments = True
    channel.save()
    la = WarehouseFactory(code="us-la", country="US", priority=10)
    nj = WarehouseFactory(code="us-nj", country="US", priority=20)
    weighed(stock("SKU-A", 5, warehouse=la), 400)
    weighed(stock("SKU-B", 5, warehouse=nj), 400)
    yun = rate_card_service(code="yun_us", price="4.00")
    rule = ShippingRuleFactory(name="LA only")
    rule.warehouses.add(la)
    rule.allowed_services.add(yun)
    ShippingRuleFactory(name="Nothing else", position=200).allowed_services.add(
        rate_card_service(code="eu_only", price="1.00", countries=("DE",))
    )
    order = ingest(channel, lines=[("SKU-A", 1, "10.00"), ("SKU-B", 1, "10.00")])

    # when
    result = order_ship_prepare(order_id=order.pk)

    # then
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    nj_shipment = Shipment.objects.get(order=order, warehouse=nj)
    assert nj_shipment.status == ShipmentStatus.DRAFT
    assert "No allowed service qualifies" in result.problems[nj_shipment.pk]
    # a Chinese reader is told the same
    with translation.override("zh-hans"):
        said = text_say_again(result.problems[nj_shipment.pk])
    assert said == "没有符合条件的可用服务。没有物流商为该目的地和重量报价。"
    assert StockItem.objects.get(product__sku="SKU-B").quantity_allocated == 1

    # when: ops add a line for NJ and ship again
    rule.warehouses.add(nj)
    result = order_ship_prepare(order_id=order.pk)

    # then: the waiting shipment ships, nothing is bought twice
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert result.shipped == [nj_shipment.pk]
    assert Shipment.objects.filter(order=order).count() == 2


def test_a_shipped_order_is_not_shipped_again(channel, stock, us_lines):
    # given
    weighed(stock("SKU-A", 5), 400)
    order = ingest(channel)
    order_ship_prepare(order_id=order.pk)

    # when
    with pytest.raises(OrderNotShippableError):
        order_ship_prepare(order_id=order.pk)

    # then
    assert Shipment.objects.filter(order=order).count() == 1
    assert OutboxMessage.objects.filter(topic=ORDER_FULFILLED_TOPIC).count() == 1


def test_tracking_reaches_the_store_and_delivers_the_order(channel, stock, store):
    # given: a UK order shipped by DHL Express (quotes in GBP, compared in USD)
    fake = FakeCarrier(list(CARRIER_ROUTES["dhl_express"])).start()
    try:
        dhl = CarrierAccountFactory(
            code="dhl",
            name="DHL Express",
            carrier=CarrierKind.DHL_EXPRESS,
            credentials=CREDENTIALS["dhl_express"],
            api_base_url=fake.url,
        )
        CarrierServiceFactory(
            account=dhl, code="mydhl_express_worldwide", name="Express Worldwide"
        )
        us = WarehouseFactory(code="us-nj", country="US", priority=10, city="Newark")
        weighed(stock("SKU-A", 5, warehouse=us), 500, hs_code="090210", origin="CN")
        order = ingest(channel, address=LONDON)
        order_ship_prepare(
            order_id=order.pk, converter=StaticRates({("GBP", "USD"): Decimal("1.27")})
        )
        shipment = Shipment.objects.get(order=order)
        assert shipment.tracking_number == "1103733901"
        assert "200.60 USD (from 157.95 GBP)" in shipment.selection_reason
        # the DHL tracking sample answers for parcel 1234567890
        Shipment.objects.filter(pk=shipment.pk).update(tracking_number="1234567890")

        # when: the poll runs and the outbox delivers
        shipments_track_poll()
        outbox_drain()
        outbox_drain()  # the order's own message to the store, enqueued by the first
    finally:
        fake.stop()

    # then
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.events.last().message == "Every parcel was delivered."
    fulfilled = [p for topic, p in store if topic == ORDER_FULFILLED_TOPIC]
    assert [(p["tracking_number"], p["carrier"]) for p in fulfilled] == [
        ("1103733901", "dhl_express")
    ]
    (update,) = [p for topic, p in store if topic == ORDER_TRACKING_UPDATED_TOPIC]
    assert update["status"] == "delivered"
    assert update["tracking_number"] == "1234567890"
    assert update["channel_id"] == channel.pk
    assert update["tracking_url"] == shipment.tracking_url


def test_quotes_are_compared_with_finances_rate_of_the_day(channel, stock, store):
    # given: DHL quotes in GBP, the order is in USD, finance has today's GBP rate
    from django.utils import timezone

    from finance.services.fx import exchange_rate_set

    exchange_rate_set(
        base="GBP", quote="USD", rate=Decimal("1.25"), on=timezone.localdate()
    )
    fake = FakeCarrier(list(CARRIER_ROUTES["dhl_express"])).start()
    try:
        dhl = CarrierAccountFactory(
            code="dhl",
            name="DHL Express",
            carrier=CarrierKind.DHL_EXPRESS,
            credentials=CREDENTIALS["dhl_express"],
            api_base_url=fake.url,
        )
        CarrierServiceFactory(
            account=dhl, code="mydhl_express_worldwide", name="Express Worldwide"
        )
        us = WarehouseFactory(code="us-nj", country="US", priority=10)
        weighed(stock("SKU-A", 5, warehouse=us), 500)
        order = ingest(channel, address=LONDON)

        # when: no converter is passed
        order_ship_prepare(order_id=order.pk)
    finally:
        fake.stop()

    # then: 157.95 GBP × 1.25
    shipment = Shipment.objects.get(order=order)
    assert shipment.chosen_quote.compared_amount == Decimal("197.4400")
    assert "197.44 USD (from 157.95 GBP)" in shipment.selection_reason


def test_without_finances_rate_nothing_ships_and_the_pair_is_named(
    channel, stock, store
):
    # given: DHL quotes in GBP and finance has no GBP rate
    fake = FakeCarrier(list(CARRIER_ROUTES["dhl_express"])).start()
    try:
        dhl = CarrierAccountFactory(
            code="dhl",
            name="DHL Express",
            carrier=CarrierKind.DHL_EXPRESS,
            credentials=CREDENTIALS["dhl_express"],
            api_base_url=fake.url,
        )
        CarrierServiceFactory(
            account=dhl, code="mydhl_express_worldwide", name="Express Worldwide"
        )
        weighed(
            stock("SKU-A", 5, warehouse=WarehouseFactory(code="us-nj", country="US")),
            500,
        )
        order = ingest(channel, address=LONDON)

        # when
        with pytest.raises(OrderNotShippableError) as caught:
            order_ship_prepare(order_id=order.pk)
    finally:
        fake.stop()

    # then
    assert "missing exchange rate(s) GBP->USD" in caught.value.message
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert Shipment.objects.get(order=order).status == ShipmentStatus.DRAFT


def test_shipping_tells_finance_what_the_goods_and_the_label_cost(
    channel, stock, us_lines, store
):
    from finance.models import OrderCost
    from inventory.models import Product

    # given: SKU-A with a standard cost of 3.50 USD
    la = WarehouseFactory(code="us-la", country="US", priority=10, city="Los Angeles")
    weighed(stock("SKU-A", 5, warehouse=la), 400)
    Product.objects.filter(sku="SKU-A").update(
        unit_cost=Decimal("3.50"), cost_currency="USD"
    )
    order = ingest(channel, lines=[("SKU-A", 2, "10.00")])

    # when
    order_ship_prepare(order_id=order.pk)

    # then: 2 × 3.50 of goods and the chosen quote of the label
    costs = {
        c.kind: (c.amount, c.currency) for c in OrderCost.objects.filter(order=order)
    }
    shipment = Shipment.objects.get(order=order)
    assert costs == {
        "cogs": (Decimal("7.0000"), "USD"),
        "shipping": (shipment.chosen_quote.amount, shipment.chosen_quote.currency),
    }
    assert OrderCost.objects.count() == 2


def test_ops_ship_an_order_through_the_api(channel, stock, us_lines, store):
    from django.contrib.auth.models import Group, User
    from rest_framework.test import APIClient

    la = WarehouseFactory(code="us-la", country="US", priority=10, city="Los Angeles")
    weighed(stock("SKU-A", 5, warehouse=la), 400)
    order = ingest(channel, lines=[("SKU-A", 1, "10.00")])
    user = User.objects.create_user("olivia", password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name="ops"))
    client = APIClient()
    client.force_authenticate(user)

    response = client.post(f"/api/v1/orders/{order.pk}/ship/")

    assert response.status_code == 200
    body = response.json()
    assert body["order"]["status"] == OrderStatus.SHIPPED
    assert body["shipped"] == [Shipment.objects.get(order=order).pk]
    assert body["problems"] == {}
    again = client.post(f"/api/v1/orders/{order.pk}/ship/")
    assert again.status_code == 400
