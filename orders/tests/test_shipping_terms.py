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
