import factory

from connectors.models import Channel, ChannelKind, WebhookReceipt


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("code",)

    kind = ChannelKind.SHOPIFY
    code = factory.Sequence(lambda n: f"store-{n}")
    name = factory.LazyAttribute(lambda o: f"Store {o.code}")
    currency = "USD"
    shop_url = factory.LazyAttribute(lambda o: f"https://{o.code}.myshopify.com")
    credentials = factory.LazyFunction(
        lambda: {"access_token": "shpat_test_token_123456"}
    )


class WebhookReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookReceipt

    channel = factory.SubFactory(ChannelFactory)
    topic = "orders/updated"
    delivery_id = factory.Sequence(lambda n: f"delivery-{n}")
    body = '{"id": 1}'
    headers = factory.LazyFunction(dict)
