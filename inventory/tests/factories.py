import factory

from inventory.models import Product, Warehouse


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.LazyAttribute(lambda o: f"Product {o.sku}")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"wh-{n}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")
    country = "CN"
