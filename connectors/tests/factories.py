import factory

from connectors.models import Channel, ChannelKind


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
