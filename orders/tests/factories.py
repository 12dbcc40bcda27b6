from decimal import Decimal

import factory

from connectors.tests.factories import ChannelFactory
from inventory.tests.factories import ProductFactory
from orders.models import Customer, Order, OrderLine


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    email_normalized = factory.LazyAttribute(lambda o: o.email.lower())
    first_name = "Ava"
    last_name = "Miller"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    channel = factory.SubFactory(ChannelFactory)
    external_id = factory.Sequence(lambda n: f"{4500000000 + n}")
    number = factory.Sequence(lambda n: f"#{1000 + n}")
    customer = factory.SubFactory(CustomerFactory)
    email = factory.LazyAttribute(lambda o: o.customer.email)
    currency = factory.LazyAttribute(lambda o: o.channel.currency)
    presentment_currency = factory.LazyAttribute(lambda o: o.channel.currency)
    shipping_address = factory.LazyFunction(
        lambda: {"city": "Austin", "country_code": "US", "zip": "78701"}
    )


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    external_id = factory.Sequence(lambda n: f"line-{n}")
    product = factory.SubFactory(ProductFactory)
    sku = factory.LazyAttribute(lambda o: o.product.sku)
    title = factory.LazyAttribute(lambda o: o.product.title)
    quantity = 1
    unit_price = Decimal("10.00")
