import datetime

import factory
from django.utils import timezone

from inventory.models import (
    Batch,
    BundleComponent,
    ChannelStockPolicy,
    Product,
    SafetyStockRule,
    Warehouse,
)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.LazyAttribute(lambda o: f"Product {o.sku}")


class LotTrackedProductFactory(ProductFactory):
    is_lot_tracked = True
    shelf_life_days = 365


class BundleFactory(ProductFactory):
    is_bundle = True


class BundleComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BundleComponent

    bundle = factory.SubFactory(BundleFactory)
    component = factory.SubFactory(ProductFactory)
    quantity = 1


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"wh-{n}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")
    country = "CN"


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch

    product = factory.SubFactory(LotTrackedProductFactory)
    code = factory.Sequence(lambda n: f"LOT-{n:04d}")
    expires_on = factory.LazyFunction(
        lambda: timezone.localdate() + datetime.timedelta(days=180)
    )


class SafetyStockRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SafetyStockRule

    product = factory.SubFactory(ProductFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    minimum_quantity = 10
    reorder_quantity = 50
    lead_time_days = 14


class ChannelStockPolicyFactory(factory.django.DjangoModelFactory):
    """A store's stock policy; pass `warehouses=[...]` to set its feed."""

    class Meta:
        model = ChannelStockPolicy
        skip_postgeneration_save = True

    channel = factory.SubFactory("connectors.tests.factories.ChannelFactory")

    @factory.post_generation
    def warehouses(
        self, create: bool, extracted: list | None, **kwargs: object
    ) -> None:
        if create and extracted:
            self.warehouses.set(extracted)
