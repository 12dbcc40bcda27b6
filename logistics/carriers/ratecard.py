"""Our own rate-card carrier: price lists by zone and weight, no API behind them.

Used for China cross-border lines (YunExpress, 4PX...) and negotiated rates. The
maths are pure functions over plain dataclasses so they are tested table by table;
RateCardAdapter reads the cards from the database and implements CarrierAdapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.utils.translation import gettext_noop

from erp.core.exceptions import ApplicationError
from erp.core.money import Money, quantize
from erp.core.text import Phrase
from logistics.carriers.base import (
    Capability,
    Label,
    Parcel,
    RateQuote,
    RateRequest,
    ShipmentRequest,
    ShipmentResult,
    TrackingResult,
    VoidRequest,
    VoidResult,
)

RATE_CARD_CARRIER = "rate_card"


class RateCardNoPriceError(ApplicationError):
    """The card has no zone for the destination or no bracket for the weight."""

    code = "rate_card_no_price"


@dataclass(frozen=True)
class CardTerms:
    """The card-wide terms that apply to every zone."""

    currency: str
    fuel_surcharge_percent: Decimal = Decimal(0)
    dim_divisor: int = 0
    rounding_step_grams: int = 1
    min_chargeable_grams: int = 0
    # Duties and taxes a DDP line collects, as % of the declared customs value.
    ddp_duty_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class Bracket:
    """One weight bracket (weight_from, weight_to] of a zone and its price columns."""

    weight_to_grams: int
    weight_from_grams: int = 0
    flat_price: Decimal = Decimal(0)
    per_kg_price: Decimal = Decimal(0)
    first_weight_grams: int = 0
    first_weight_price: Decimal = Decimal(0)
    additional_step_grams: int = 0
    additional_step_price: Decimal = Decimal(0)
    registration_fee: Decimal = Decimal(0)


@dataclass(frozen=True)
class Zone:
    code: str
    destinations: tuple[str, ...]
    brackets: tuple[Bracket, ...]
    transit_days_min: int | None = None
    transit_days_max: int | None = None


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def chargeable_grams(parcel: Parcel, terms: CardTerms) -> int:
    """max(actual, dimensional) weight, at least the minimum, rounded up to the step."""
    grams = parcel.weight_grams
    if terms.dim_divisor and parcel.volume_cm3:
        volumetric = parcel.volume_cm3 / Decimal(terms.dim_divisor) * 1000
        grams = max(grams, int(volumetric.to_integral_value(rounding=ROUND_CEILING)))
    grams = max(grams, terms.min_chargeable_grams)
    step = max(terms.rounding_step_grams, 1)
    return _ceil_div(grams, step) * step


def bracket_for(brackets: Sequence[Bracket], grams: int) -> Bracket:
    """The bracket whose (from, to] range holds the weight."""
    for bracket in sorted(brackets, key=lambda b: b.weight_to_grams):
        if bracket.weight_from_grams < grams <= bracket.weight_to_grams:
            return bracket
    raise RateCardNoPriceError(
        Phrase(gettext_noop("No weight bracket covers %(grams)s g."), grams=grams),
        chargeable_grams=grams,
    )


def zone_for(zones: Sequence[Zone], *, country: str, region: str = "") -> Zone:
    """The zone of a destination: a region ("US-CA") beats its country, "*" is the rest."""
    country = country.upper()
    region_code = f"{country}-{region.upper()}" if region else ""
    by_code: dict[str, Zone] = {}
    for zone in zones:
        for destination in zone.destinations:
            by_code.setdefault(destination.upper(), zone)
    for key in (region_code, country, "*"):
        if key and key in by_code:
            return by_code[key]
    raise RateCardNoPriceError(
        Phrase(
            gettext_noop("The rate card has no zone for %(value)s."),
            value=region_code or country,
        ),
        country=country,
    )


def parcel_price(
    parcel: Parcel, terms: CardTerms, brackets: Sequence[Bracket]
) -> Money:
    """The price of one parcel in the card's currency, rounded to its minor unit."""
    grams = chargeable_grams(parcel, terms)
    b = bracket_for(brackets, grams)
    freight = b.flat_price + b.per_kg_price * Decimal(grams) / Decimal(1000)
    if b.first_weight_grams:
        freight += b.first_weight_price
        extra = max(grams - b.first_weight_grams, 0)
        if extra and b.additional_step_grams:
            freight += (
                _ceil_div(extra, b.additional_step_grams) * b.additional_step_price
            )
    fuel = freight * terms.fuel_surcharge_percent / Decimal(100)
    total = freight + fuel + b.registration_fee
    return Money(quantize(total, terms.currency), terms.currency)


def shipment_price(parcels: Sequence[Parcel], terms: CardTerms, zone: Zone) -> Money:
    """The sum of each parcel's price: rate cards price parcel by parcel."""
    total = Money.zero(terms.currency)
    for parcel in parcels:
        total = total + parcel_price(parcel, terms, zone.brackets)
    return total


@dataclass(frozen=True)
class CardService:
    """One service of a rate-card account with its card loaded."""

    code: str
    name: str
    terms: CardTerms
    zones: tuple[Zone, ...]
    transit_days_max: int | None = None


def ddp_duty(request: RateRequest, terms: CardTerms) -> Money | None:
    """What a DDP line charges for duties and taxes; None unless the parcel goes DDP.

    Raises RateCardNoPriceError when the declared value is in another currency than
    the card (the line cannot price it; it gives no quote rather than a wrong one).
    """
    customs = request.customs
    if customs is None or customs.incoterm != "DDP" or not terms.ddp_duty_percent:
        return None
    declared = Decimal(0)
    for line in customs.lines:
        if line.unit_value.currency != terms.currency:
            raise RateCardNoPriceError(
                Phrase(
                    gettext_noop(
                        "Declared value in %(currency)s, card in %(currency2)s."
                    ),
                    currency=line.unit_value.currency,
                    currency2=terms.currency,
                )
            )
        declared += line.unit_value.amount * line.quantity
    duty = declared * terms.ddp_duty_percent / Decimal(100)
    return Money(quantize(duty, terms.currency), terms.currency)


class RateCardAdapter:
    """A carrier without an API: quotes from our cards, labels drawn by us."""

    carrier = RATE_CARD_CARRIER
    capabilities = frozenset({Capability.RATE, Capability.SHIP, Capability.VOID})

    def __init__(
        self,
        *,
        account_name: str,
        services: Sequence[CardService],
        tracking_url_template: str = "",
    ) -> None:
        self.account_name = account_name
        self.services = {s.code: s for s in services}
        self._tracking_url_template = tracking_url_template

    def tracking_url(self, tracking_number: str) -> str:
        if not self._tracking_url_template or not tracking_number:
            return ""
        return self._tracking_url_template.replace("{tracking_number}", tracking_number)

    def get_rates(self, request: RateRequest) -> list[RateQuote]:
        """A quote per card service that has a zone and bracket for this parcel set."""
        quotes = []
        codes = request.service_codes or tuple(self.services)
        for code in codes:
            service = self.services.get(code)
            if service is None:
                continue
            try:
                zone = zone_for(
                    service.zones,
                    country=request.recipient.country_code,
                    region=request.recipient.state_code,
                )
                total = shipment_price(request.parcels, service.terms, zone)
                duty = ddp_duty(request, service.terms)
            except RateCardNoPriceError:
                continue  # not served: simply no quote, like an API carrier
            extra: dict[str, object] = {}
            if duty is not None:
                total = total + duty
                extra["extra_charges"] = [
                    {
                        "name": "DDP duties and taxes",
                        "amount": str(duty.amount),
                        "currency": duty.currency,
                    }
                ]
            quotes.append(
                RateQuote(
                    carrier=self.carrier,
                    service_code=code,
                    service_name=service.name,
                    total=total,
                    transit_days=zone.transit_days_max or service.transit_days_max,
                    raw={
                        "zone": zone.code,
                        "chargeable_grams": [
                            chargeable_grams(p, service.terms) for p in request.parcels
                        ],
                        **extra,
                    },
                )
            )
        return quotes

    def create_shipment(self, request: ShipmentRequest) -> ShipmentResult:
        """Our own label; the tracking number is the one ops entered or imported."""
        from logistics.documents import rate_card_label_pdf

        service = self.services.get(request.service_code)
        name = service.name if service else request.service_code
        content = rate_card_label_pdf(
            carrier_name=self.account_name,
            service_name=name,
            tracking_number=request.tracking_number,
            reference=request.reference,
            shipper=request.rate_request.shipper,
            recipient=request.rate_request.recipient,
            parcels=request.rate_request.parcels,
        )
        return ShipmentResult(
            tracking_number=request.tracking_number,
            carrier_shipment_id=request.reference,
            label=Label(format="PDF", content=content),
            tracking_url=self.tracking_url(request.tracking_number),
        )

    def void_shipment(self, request: VoidRequest) -> VoidResult:
        return VoidResult(
            ok=True,
            supported=False,
            message=Phrase(gettext_noop("Rate-card label voided here.")),
        )

    def track(self, tracking_numbers: list[str]) -> list[TrackingResult]:
        # No API to ask; these parcels are tracked by import or a tracking service.
        return []
