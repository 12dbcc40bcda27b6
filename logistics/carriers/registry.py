"""Carrier account rows -> the adapter that speaks for them."""

from __future__ import annotations

from logistics.carriers.base import CarrierAdapter
from logistics.carriers.karrio_adapter import KarrioCarrierAdapter
from logistics.carriers.ratecard import (
    Bracket,
    CardService,
    CardTerms,
    RateCardAdapter,
    Zone,
)
from logistics.choices import CarrierKind
from logistics.models import CarrierAccount, CarrierService, RateCard


def rate_card_terms(card: RateCard) -> tuple[CardTerms, tuple[Zone, ...]]:
    """A card's terms and zones as plain values (reads zones and brackets)."""
    terms = CardTerms(
        currency=card.currency,
        fuel_surcharge_percent=card.fuel_surcharge_percent,
        dim_divisor=card.dim_divisor,
        rounding_step_grams=card.rounding_step_grams,
        min_chargeable_grams=card.min_chargeable_grams,
        ddp_duty_percent=card.ddp_duty_percent,
    )
    zones = tuple(
        Zone(
            code=zone.code,
            destinations=tuple(zone.countries),
            transit_days_min=zone.transit_days_min,
            transit_days_max=zone.transit_days_max,
            brackets=tuple(
                Bracket(
                    weight_from_grams=r.weight_from_grams,
                    weight_to_grams=r.weight_to_grams,
                    flat_price=r.flat_price,
                    per_kg_price=r.per_kg_price,
                    first_weight_grams=r.first_weight_grams,
                    first_weight_price=r.first_weight_price,
                    additional_step_grams=r.additional_step_grams,
                    additional_step_price=r.additional_step_price,
                    registration_fee=r.registration_fee,
                )
                for r in zone.rates.all()
            ),
        )
        for zone in card.zones.prefetch_related("rates")
    )
    return terms, zones


def adapter_for(account: CarrierAccount) -> CarrierAdapter:
    """The adapter for one account; rate-card accounts load their active cards now."""
    if account.carrier == CarrierKind.RATE_CARD:
        services = []
        for service in CarrierService.objects.filter(
            account=account, is_active=True, rate_card__isnull=False
        ).select_related("rate_card"):
            assert service.rate_card is not None
            terms, zones = rate_card_terms(service.rate_card)
            services.append(
                CardService(
                    code=service.code,
                    name=service.name,
                    terms=terms,
                    zones=zones,
                    transit_days_max=service.transit_days_max,
                )
            )
        return RateCardAdapter(
            account_name=account.name,
            services=services,
            tracking_url_template=account.tracking_url_template,
        )
    return KarrioCarrierAdapter(
        carrier=account.carrier,
        credentials=dict(account.credentials or {}),
        test_mode=account.is_test_mode,
        base_url=account.api_base_url,
        tracking_url_template=account.tracking_url_template,
    )
