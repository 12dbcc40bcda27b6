from decimal import Decimal

import factory

from logistics.choices import CarrierKind
from logistics.models import (
    CarrierAccount,
    CarrierService,
    RateCard,
    RateCardRate,
    RateCardZone,
    ShippingRule,
)


class CarrierAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarrierAccount
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"carrier-{n}")
    name = factory.LazyAttribute(lambda o: o.code.upper())
    carrier = CarrierKind.RATE_CARD
    credentials = factory.LazyFunction(dict)


class RateCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateCard

    name = factory.Sequence(lambda n: f"Card {n}")
    currency = "USD"


class RateCardZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateCardZone

    rate_card = factory.SubFactory(RateCardFactory)
    code = factory.Sequence(lambda n: f"Z{n}")
    countries = factory.LazyFunction(lambda: ["US"])


class RateCardRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateCardRate

    zone = factory.SubFactory(RateCardZoneFactory)
    weight_from_grams = 0
    weight_to_grams = 30000
    flat_price = Decimal("0")


class CarrierServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarrierService

    account = factory.SubFactory(CarrierAccountFactory)
    code = factory.Sequence(lambda n: f"service_{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("_", " ").title())


class ShippingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingRule

    name = factory.Sequence(lambda n: f"Rule {n}")


def rate_card_service(
    *,
    code: str,
    price: str,
    per_kg: str = "0",
    countries: tuple[str, ...] = ("US",),
    transit_days: int | None = 7,
    currency: str = "USD",
    account: CarrierAccount | None = None,
    **service_fields: object,
) -> CarrierService:
    """A rate-card service with one zone and one bracket up to 30 kg: price + per_kg × kg."""
    card = RateCardFactory(name=f"{code} card", currency=currency)
    zone = RateCardZoneFactory(
        rate_card=card,
        code="A",
        countries=list(countries),
        transit_days_max=transit_days,
    )
    RateCardRateFactory(
        zone=zone, flat_price=Decimal(price), per_kg_price=Decimal(per_kg)
    )
    return CarrierServiceFactory(
        account=account
        or CarrierAccountFactory(code=f"{code}-acct", name=code.upper()),
        code=code,
        name=code.replace("_", " ").title(),
        rate_card=card,
        transit_days_max=transit_days,
        **service_fields,
    )
