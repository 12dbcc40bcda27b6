from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from orders.models import Order
from orders.tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def test_an_order_holds_lines_money_and_addresses_in_any_script():
    # given
    order = OrderFactory(
        currency="CNY",
        total=Decimal("298.0000"),
        shipping_address={"name": "李伟", "city": "深圳市", "country_code": "CN"},
    )
    OrderLineFactory(order=order, quantity=2, unit_price=Decimal("149.00"))

    # when
    stored = Order.objects.prefetch_related("lines").get(pk=order.pk)

    # then
    assert stored.shipping_address["city"] == "深圳市"
    assert stored.total == Decimal("298.0000")
    assert [(line.quantity, line.unit_price) for line in stored.lines.all()] == [
        (2, Decimal("149.0000"))
    ]


def test_the_same_store_order_cannot_be_stored_twice():
    order = OrderFactory(external_id="5001")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(channel=order.channel, external_id="5001")


def test_the_same_external_id_in_another_store_is_another_order():
    first = OrderFactory(external_id="5001")
    second = OrderFactory(external_id="5001")
    assert first.channel_id != second.channel_id
    assert Order.objects.filter(external_id="5001").count() == 2
