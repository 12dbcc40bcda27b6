"""Shipping terms orders hands to logistics: duty terms by store, goods for splitting."""

import pytest

from inventory.tests.factories import WarehouseFactory
from logistics.models import IncotermRule, Shipment
from logistics.tests.factories import rate_card_service
from orders.canonical import OrderSource
from orders.models import Order
from orders.services.ingest import order_ingest
from orders.services.shipping import order_ship_prepare
from orders.tests.builders import canonical_order
from orders.tests.test_shipping import LONDON, weighed

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("store_pays", "incoterm"), [(True, "DDP"), (False, "DAP")])
def test_cross_border_shipment_takes_the_stores_duty_terms(
    channel, stock, store_pays, incoterm
):
    # given: stock in Shenzhen, a buyer in London, a line to GB
    sz = WarehouseFactory(code="sz", country="CN", priority=1, city="Shenzhen")
    weighed(stock("SKU-A", 5, warehouse=sz), 300, hs_code="090210", origin="CN")
    rate_card_service(
        code="yun_gb",
        price="5.00",
        countries=("GB",),
        is_domestic=False,
        is_international=True,
        currency=channel.currency,
    )
    if store_pays:
        rule = IncotermRule.objects.create(name="UK DDP", destinations=["GB"])
        rule.channels.add(channel)
    result = order_ingest(
        channel_id=channel.pk,
        data=canonical_order(lines=[("SKU-A", 2, "12.50")], address=LONDON),
        source=OrderSource.WEBHOOK,
    )
    order = Order.objects.get(pk=result.order_id)

    # when
    order_ship_prepare(order_id=order.pk)

    # then
    shipment = Shipment.objects.get(order=order)
    assert shipment.incoterm == incoterm
    assert list(
        shipment.items.values_list("sku", "quantity", "unit_weight_grams", "height_mm")
    ) == [("SKU-A", 2, 300, 50)]
    assert shipment.packaging_grams == 150


def test_ddp_duties_are_priced_chosen_on_and_passed_to_finance(channel, stock):
    from decimal import Decimal

    from finance.models import OrderCost
    from logistics.models import RateCard

    # given: the store ships DDP to GB; a tax-included line charges 20 % of the
    # declared value on top of 5.00 freight
    sz = WarehouseFactory(code="sz", country="CN", priority=1, city="Shenzhen")
    weighed(stock("SKU-A", 5, warehouse=sz), 300, hs_code="090210", origin="CN")
    line = rate_card_service(
        code="yun_ddp",
        price="5.00",
        countries=("GB",),
        is_domestic=False,
        is_international=True,
        currency=channel.currency,
    )
    RateCard.objects.filter(pk=line.rate_card_id).update(ddp_duty_percent=Decimal("20"))
    rule = IncotermRule.objects.create(name="UK DDP", destinations=["GB"])
    rule.channels.add(channel)
    result = order_ingest(
        channel_id=channel.pk,
        data=canonical_order(lines=[("SKU-A", 2, "12.50")], address=LONDON),
        source=OrderSource.WEBHOOK,
    )
    order = Order.objects.get(pk=result.order_id)

    # when
    order_ship_prepare(order_id=order.pk)

    # then: 25.00 declared -> 5.00 duties; the line costs 10.00 in all
    shipment = Shipment.objects.get(order=order)
    assert (shipment.incoterm, shipment.duty_amount, shipment.duty_currency) == (
        "DDP",
        Decimal("5.0000"),
        "USD",
    )
    assert shipment.chosen_quote.amount == Decimal("10.0000")
    assert shipment.chosen_quote.duty_amount == Decimal("5.0000")
    costs = sorted(
        OrderCost.objects.filter(order=order, kind="shipping").values_list(
            "reference", "amount"
        )
    )
    assert costs == [
        (f"shipment S{shipment.pk} duties and taxes paid (DDP)", Decimal("5.0000")),
        (f"shipment S{shipment.pk} rate_card Yun Ddp", Decimal("5.0000")),
    ]
