"""Choosing the cheapest suitable service for a shipment, and keeping every quote.

Quotes are fetched concurrently (one call per carrier account, each with its own
timeout) with no database lock held; only the short write of the result locks the
shipment.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop

from erp.core.money import Money, quantize
from erp.core.text import Join, Phrase, sentences
from logistics.carriers.base import (
    Address,
    CarrierAdapter,
    CarrierError,
    Customs,
    CustomsLine,
    Parcel,
    RateQuote,
    RateRequest,
)
from logistics.carriers.registry import adapter_for
from logistics.choices import RateQuoteStatus, ShipmentStatus
from logistics.exceptions import (
    CurrencyConversionUnavailableError,
    NoEligibleServiceError,
    ShipmentNotFoundError,
    ShipmentStateError,
)
from logistics.fx import FxConverter, fx_converter_default
from logistics.locks import shipment_lock
from logistics.models import (
    CarrierAccount,
    CarrierService,
    Package,
    Shipment,
    ShippingRule,
)
from logistics.models import (
    RateQuote as RateQuoteRow,
)
from logistics.selectors import delivery_promise_for
from logistics.services.packing import PackUnit, ParcelLimits, parcels_pack

SELECTABLE = frozenset({ShipmentStatus.DRAFT, ShipmentStatus.RATED})


@dataclass(frozen=True)
class SelectionFacts:
    """What shipping rules look at."""

    country: str
    region: str
    weight_grams: int
    order_value: Money
    sku_tags: frozenset[str]
    channel_id: int | None
    warehouse_id: int
    is_international: bool


def _matches_destination(codes: Sequence[str], country: str, region: str) -> bool:
    wanted = {c.upper() for c in codes}
    return country in wanted or (bool(region) and f"{country}-{region}" in wanted)


def shipping_rule_match(*, facts: SelectionFacts) -> ShippingRule | None:
    """The first active rule (by position) whose every condition holds."""
    rules = (
        ShippingRule.objects.filter(is_active=True)
        .prefetch_related("channels", "warehouses")
        .order_by("position", "pk")
    )
    for rule in rules:
        if rule.destinations and not _matches_destination(
            rule.destinations, facts.country, facts.region
        ):
            continue
        if (
            rule.min_weight_grams is not None
            and facts.weight_grams < rule.min_weight_grams
        ):
            continue
        if (
            rule.max_weight_grams is not None
            and facts.weight_grams > rule.max_weight_grams
        ):
            continue
        if rule.min_order_value is not None or rule.max_order_value is not None:
            # A value condition in another currency cannot be judged: the rule is skipped.
            if (rule.order_value_currency or "").upper() != facts.order_value.currency:
                continue
            value = facts.order_value.amount
            if rule.min_order_value is not None and value < rule.min_order_value:
                continue
            if rule.max_order_value is not None and value > rule.max_order_value:
                continue
        if rule.sku_tags and not facts.sku_tags & set(rule.sku_tags):
            continue
        channel_ids = {c.pk for c in rule.channels.all()}
        if channel_ids and facts.channel_id not in channel_ids:
            continue
        warehouse_ids = {w.pk for w in rule.warehouses.all()}
        if warehouse_ids and facts.warehouse_id not in warehouse_ids:
            continue
        return rule
    return None


def candidate_services(
    *, facts: SelectionFacts, rule: ShippingRule | None, origin_country: str
) -> list[CarrierService]:
    """Active services the rule allows that cover this lane (domestic/international)."""
    services = CarrierService.objects.filter(
        is_active=True, account__is_active=True
    ).select_related("account", "rate_card")
    if rule is not None and rule.allowed_services.exists():
        services = services.filter(pk__in=rule.allowed_services.values("pk"))
    lane = Q(is_international=True) if facts.is_international else Q(is_domestic=True)
    return [
        s
        for s in services.filter(lane).order_by(
            "account__priority", "account_id", "code"
        )
        if s.account.ships_from(origin_country)
    ]


@dataclass
class AccountOutcome:
    """What one carrier account answered (or why it did not) for one set of parcels."""

    account: CarrierAccount
    quotes: list[RateQuote] = field(default_factory=list)
    error: str = ""
    parcels: tuple[Parcel, ...] = ()
    split_note: str = ""


@dataclass(frozen=True)
class QuoteGroup:
    """Services of one account quoted together for the same parcels."""

    account: CarrierAccount
    services: tuple[CarrierService, ...]
    parcels: tuple[Parcel, ...]
    split_note: str = ""


def service_limits(service: CarrierService) -> ParcelLimits:
    return ParcelLimits(
        max_weight_grams=service.max_weight_grams,
        max_length_mm=service.max_length_mm,
        max_girth_mm=service.max_girth_mm,
    )


def quote_groups(
    *,
    services: Sequence[CarrierService],
    parcels: tuple[Parcel, ...],
    units: Sequence[PackUnit],
    packaging_grams: int,
    reference: str = "",
) -> list[QuoteGroup]:
    """One group per account, and per parcel split when a service's limits need one.

    A service whose limits the parcels break is quoted for the goods split to fit
    (when the units are known and each fits alone); otherwise for the parcels as they
    are, and the limit check drops it later with the reason.
    """
    keyed: dict[tuple[int, tuple[Parcel, ...]], list[CarrierService]] = {}
    notes: dict[tuple[int, tuple[Parcel, ...]], str] = {}
    for service in services:
        limits = service_limits(service)
        chosen = parcels
        if units and any(limits.breach(p) for p in parcels):
            split = parcels_pack(
                units=units,
                limits=limits,
                packaging_grams=packaging_grams,
                reference=reference,
            )
            if split is not None:
                chosen = split
                weights = ", ".join(str(p.weight_grams) for p in split)
                notes[(service.account_id, chosen)] = (
                    Phrase(
                        gettext_noop(
                            "split into %(count)s parcels (%(weights)s g) to fit "
                            "the %(limit)s g limit"
                        ),
                        count=len(split),
                        weights=weights,
                        limit=limits.max_weight_grams,
                    )
                    if limits.max_weight_grams
                    else Phrase(
                        gettext_noop(
                            "split into %(count)s parcels (%(weights)s g) to fit "
                            "the size limit"
                        ),
                        count=len(split),
                        weights=weights,
                    )
                )
        keyed.setdefault((service.account_id, chosen), []).append(service)
    return [
        QuoteGroup(
            account=group[0].account,
            services=tuple(group),
            parcels=key[1],
            split_note=notes.get(key, ""),
        )
        for key, group in keyed.items()
    ]


def quotes_collect(
    *,
    services: Sequence[CarrierService] = (),
    request: RateRequest,
    groups: Sequence[QuoteGroup] | None = None,
) -> list[AccountOutcome]:
    """Ask every account at once; each gets its own timeout, slow ones are left out.

    No database access happens in the worker threads: adapters are built first.
    """
    if groups is None:
        groups = quote_groups(
            services=services,
            parcels=request.parcels,
            units=(),
            packaging_grams=0,
        )
    outcomes: list[AccountOutcome] = []
    work: list[tuple[AccountOutcome, CarrierAdapter, RateRequest]] = []
    adapters: dict[int, CarrierAdapter | CarrierError] = {}
    for group in groups:
        account = group.account
        outcome = AccountOutcome(
            account=account, parcels=group.parcels, split_note=group.split_note
        )
        outcomes.append(outcome)
        if account.pk not in adapters:
            try:
                adapters[account.pk] = adapter_for(account)
            except CarrierError as exc:
                adapters[account.pk] = exc
        adapter = adapters[account.pk]
        if isinstance(adapter, CarrierError):
            outcome.error = adapter.message
            continue
        scoped = RateRequest(
            shipper=request.shipper,
            recipient=request.recipient,
            parcels=group.parcels,
            customs=request.customs,
            service_codes=tuple(s.code for s in group.services),
            ship_date=request.ship_date,
        )
        work.append((outcome, adapter, scoped))
    if not work:
        return outcomes
    pool = ThreadPoolExecutor(max_workers=min(len(work), 8), thread_name_prefix="quote")
    try:
        started = time.monotonic()
        futures: list[tuple[AccountOutcome, Future[list[RateQuote]]]] = [
            (outcome, pool.submit(adapter.get_rates, scoped))
            for outcome, adapter, scoped in work
        ]
        for outcome, future in futures:
            timeout = outcome.account.timeout_seconds
            remaining = max(started + timeout - time.monotonic(), 0)
            try:
                outcome.quotes = future.result(timeout=remaining)
            except TimeoutError:
                outcome.error = Phrase(
                    gettext_noop("no answer within %(seconds)s s"), seconds=timeout
                )
            except CarrierError as exc:
                outcome.error = exc.message
    finally:
        # Never wait for a carrier that overran its timeout; its thread ends by itself.
        pool.shutdown(wait=False, cancel_futures=True)
    return outcomes


@dataclass
class Evaluated:
    """One quote with the verdict of the filters."""

    quote: RateQuote
    account: CarrierAccount
    service: CarrierService | None
    compared: Money | None = None
    transit_days: int | None = None
    status: str = RateQuoteStatus.ELIGIBLE
    reason: str = ""
    preferred: bool = False
    parcels: tuple[Parcel, ...] = ()
    split_note: str = ""
    duty: Money | None = None


@dataclass
class Decision:
    """The outcome of one selection round."""

    evaluated: list[Evaluated]
    failures: list[AccountOutcome]
    chosen: Evaluated | None
    reason: str
    missing_rates: list[str]


def _limit_breach(service: CarrierService, parcels: Sequence[Parcel]) -> str:
    limits = service_limits(service)
    return next((b for b in (limits.breach(p) for p in parcels) if b), "")


# karrio names the duty/tax lines of a quote after the carrier's charge names.
DUTY_CHARGE_WORDS = ("DUTY", "DUTIES", "TAX")


def quote_duty(quote: RateQuote) -> Money | None:
    """Duties and taxes the carrier priced into a quote (DDP), when it itemised them."""
    total = Decimal(0)
    currency = ""
    for charge in quote.raw.get("extra_charges") or []:
        name = str(charge.get("name") or "").upper()
        amount = charge.get("amount")
        if not amount or not any(word in name for word in DUTY_CHARGE_WORDS):
            continue
        total += Decimal(str(amount))
        currency = charge.get("currency") or quote.total.currency
    return Money(total, currency) if total > 0 else None


def quotes_evaluate(
    *,
    outcomes: Sequence[AccountOutcome],
    services: Sequence[CarrierService],
    parcels: Sequence[Parcel],
    promise_days: int | None,
    currency: str,
    converter: FxConverter | None,
    preferred_ids: frozenset[int] = frozenset(),
    with_duties: bool = False,
) -> Decision:
    """Drop quotes that break limits or the promise, convert, pick cheapest then fastest."""
    index = {(s.account_id, s.code): s for s in services}
    evaluated: list[Evaluated] = []
    missing: set[str] = set()
    for outcome in outcomes:
        for quote in outcome.quotes:
            service = index.get((outcome.account.pk, quote.service_code))
            item = Evaluated(
                quote=quote,
                account=outcome.account,
                service=service,
                parcels=outcome.parcels or tuple(parcels),
                split_note=outcome.split_note,
                duty=quote_duty(quote) if with_duties else None,
            )
            evaluated.append(item)
            if service is None:
                item.status = RateQuoteStatus.REJECTED
                item.reason = Phrase(gettext_noop("not an allowed service"))
                continue
            item.preferred = service.pk in preferred_ids
            item.transit_days = (
                quote.transit_days
                if quote.transit_days is not None
                else service.transit_days_max
            )
            breach = _limit_breach(service, item.parcels)
            if breach:
                item.status, item.reason = RateQuoteStatus.REJECTED, breach
                continue
            if promise_days is not None:
                if item.transit_days is None and not service.is_economy:
                    item.status = RateQuoteStatus.REJECTED
                    item.reason = Phrase(
                        gettext_noop(
                            "no transit time to check against the %(days)s-day promise"
                        ),
                        days=promise_days,
                    )
                    continue
                if item.transit_days is not None and item.transit_days > promise_days:
                    item.status = RateQuoteStatus.REJECTED
                    item.reason = Phrase(
                        gettext_noop(
                            "%(transit)s days breaks the %(days)s-day promise"
                        ),
                        transit=item.transit_days,
                        days=promise_days,
                    )
                    continue
            if quote.total.currency == currency:
                item.compared = quote.total
            else:
                converted = converter(quote.total, currency) if converter else None
                if converted is None:
                    missing.add(f"{quote.total.currency}->{currency}")
                    item.reason = Phrase(
                        gettext_noop("no exchange rate %(pair)s"),
                        pair=f"{quote.total.currency}->{currency}",
                    )
                    continue
                item.compared = Money(quantize(converted.amount, currency), currency)
    failures = [o for o in outcomes if o.error]
    if missing:
        return Decision(evaluated, failures, None, "", sorted(missing))
    eligible = [e for e in evaluated if e.status == RateQuoteStatus.ELIGIBLE]
    pool = [e for e in eligible if e.preferred] or eligible
    if not pool:
        return Decision(
            evaluated, failures, None, _nothing_reason(evaluated, failures), []
        )

    def rank(e: Evaluated) -> tuple[Decimal, int, int, str]:
        assert e.compared is not None
        return (
            e.compared.amount,
            e.transit_days if e.transit_days is not None else 10_000,
            e.account.priority,
            e.quote.service_code,
        )

    ordered = sorted(pool, key=rank)
    chosen = ordered[0]
    chosen.status = RateQuoteStatus.CHOSEN
    return Decision(
        evaluated,
        failures,
        chosen,
        _choice_reason(chosen, ordered, evaluated, failures),
        [],
    )


def _label(e: Evaluated) -> str:
    name = e.service.name if e.service else e.quote.service_name
    return f"{e.account.name} {name}"


def _price(e: Evaluated) -> str:
    assert e.compared is not None
    if e.compared.currency == e.quote.total.currency:
        return str(e.compared)
    return Phrase(
        gettext_noop("%(compared)s (from %(quoted)s)"),
        compared=str(e.compared),
        quoted=str(e.quote.total.rounded()),
    )


def _dropped_and_failed(
    rejected: list[Evaluated], failures: list[AccountOutcome]
) -> list[Phrase]:
    parts = []
    if rejected:
        parts.append(
            Phrase(
                gettext_noop("Dropped: %(quotes)s."),
                quotes=Join(
                    [
                        Phrase(
                            gettext_noop("%(service)s (%(reason)s)"),
                            service=_label(e),
                            reason=e.reason,
                        )
                        for e in rejected
                    ],
                    "; ",
                ),
            )
        )
    if failures:
        parts.append(
            Phrase(
                gettext_noop("No quote from: %(accounts)s."),
                accounts=Join(
                    [
                        Phrase(
                            gettext_noop("%(service)s (%(reason)s)"),
                            service=o.account.name,
                            reason=o.error,
                        )
                        for o in failures
                    ],
                    "; ",
                ),
            )
        )
    return parts


def _choice_reason(
    chosen: Evaluated,
    ordered: list[Evaluated],
    evaluated: list[Evaluated],
    failures: list[AccountOutcome],
) -> Phrase:
    why = (
        Phrase(gettext_noop("preferred by the shipping rule and cheapest of them"))
        if chosen.preferred
        else Phrase(gettext_noop("cheapest"))
    )
    values = {
        "service": _label(chosen),
        "price": _price(chosen),
        "why": why,
        "count": len(ordered),
    }
    parts = [
        Phrase(
            gettext_noop(
                "%(service)s at %(price)s, %(days)s days: %(why)s of %(count)s "
                "qualifying quote(s)."
            ),
            days=chosen.transit_days,
            **values,
        )
        if chosen.transit_days is not None
        else Phrase(
            gettext_noop(
                "%(service)s at %(price)s: %(why)s of %(count)s qualifying quote(s)."
            ),
            **values,
        )
    ]
    if chosen.split_note:
        parts.append(Phrase(gettext_noop("Goods %(note)s."), note=chosen.split_note))
    if len(ordered) > 1:
        runner = ordered[1]
        parts.append(
            Phrase(
                gettext_noop(
                    "Next: %(service)s at %(price)s (same price; faster or higher "
                    "priority wins)."
                )
                if runner.compared == chosen.compared
                else gettext_noop("Next: %(service)s at %(price)s."),
                service=_label(runner),
                price=_price(runner),
            )
        )
    rejected = [
        e
        for e in evaluated
        if e.status == RateQuoteStatus.REJECTED and e.service is not None
    ]
    parts.extend(_dropped_and_failed(rejected, failures))
    return sentences(*parts)


def _nothing_reason(
    evaluated: list[Evaluated], failures: list[AccountOutcome]
) -> Phrase:
    parts = [Phrase(gettext_noop("No allowed service qualifies."))]
    rejected = [e for e in evaluated if e.service is not None]
    parts.extend(_dropped_and_failed(rejected, failures))
    if not evaluated and not failures:
        parts.append(
            Phrase(
                gettext_noop(
                    "No carrier returned a price for this destination and weight."
                )
            )
        )
    return sentences(*parts)


def shipment_rate_request(shipment: Shipment) -> RateRequest:
    """The carrier-neutral request for a recorded shipment."""
    customs_items = list(shipment.customs_items.all())
    customs = None
    if customs_items:
        customs = Customs(
            incoterm=shipment.incoterm,
            invoice_number=shipment.reference,
            lines=tuple(
                CustomsLine(
                    description=c.description,
                    quantity=c.quantity,
                    unit_value=Money(c.unit_value, c.currency),
                    origin_country=c.origin_country,
                    hs_code=c.hs_code,
                    unit_weight_grams=c.unit_weight_grams,
                    sku=c.sku,
                )
                for c in customs_items
            ),
        )
    return RateRequest(
        shipper=Address.from_dict(shipment.ship_from),
        recipient=Address.from_dict(shipment.ship_to),
        parcels=tuple(
            Parcel(p.weight_grams, p.length_mm, p.width_mm, p.height_mm, p.reference)
            for p in shipment.packages.all()
        ),
        customs=customs,
    )


def shipment_facts(shipment: Shipment, request: RateRequest) -> SelectionFacts:
    return SelectionFacts(
        country=request.recipient.country_code.upper(),
        region=(request.recipient.state_code or "").upper(),
        weight_grams=sum(p.weight_grams for p in request.parcels),
        order_value=Money(shipment.order_value, shipment.currency),
        sku_tags=frozenset(shipment.sku_tags or ()),
        channel_id=shipment.channel_id_snapshot,
        warehouse_id=shipment.warehouse_id,
        is_international=request.shipper.country_code.upper()
        != request.recipient.country_code.upper(),
    )


def shipment_pack_units(shipment: Shipment) -> list[PackUnit]:
    """The shipment's goods unit by unit; empty when a line has no weight to split by."""
    units: list[PackUnit] = []
    for item in shipment.items.all():
        if not item.unit_weight_grams:
            return []
        units.extend(
            PackUnit(
                sku=item.sku,
                weight_grams=item.unit_weight_grams,
                length_mm=item.length_mm,
                width_mm=item.width_mm,
                height_mm=item.height_mm,
            )
            for _ in range(item.quantity)
        )
    return units


def _promise(
    shipment: Shipment, facts: SelectionFacts, rule: ShippingRule | None
) -> tuple[int | None, str]:
    """The strictest of the shipment's, the store's and the rule's promise, and whose.

    Carriers quote transit in business days, so a store promise in business days is
    compared after its handling days are taken off.
    """
    candidates: list[tuple[int, str]] = []
    if shipment.promise_days:
        candidates.append(
            (
                shipment.promise_days,
                Phrase(
                    gettext_noop("the order's %(days)s-day promise"),
                    days=shipment.promise_days,
                ),
            )
        )
    store = delivery_promise_for(
        channel_id=facts.channel_id, country=facts.country, region=facts.region
    )
    if store is not None:
        where = ", ".join(store.destinations) or Phrase(gettext_noop("anywhere"))
        values = {
            "store": store.channel.name,
            "days": store.business_days,
            "where": where,
        }
        candidates.append(
            (
                store.carrier_days,
                Phrase(
                    gettext_noop(
                        "%(store)s's promise of delivery within %(days)s business "
                        "days to %(where)s (%(handling)s handling day(s) leave "
                        "%(transit)s in transit)"
                    ),
                    handling=store.handling_days,
                    transit=store.carrier_days,
                    **values,
                )
                if store.handling_days
                else Phrase(
                    gettext_noop(
                        "%(store)s's promise of delivery within %(days)s business "
                        "days to %(where)s"
                    ),
                    **values,
                ),
            )
        )
    if rule is not None and rule.max_transit_days:
        candidates.append(
            (
                rule.max_transit_days,
                Phrase(
                    gettext_noop("the %(days)s-day limit of rule %(rule)s"),
                    days=rule.max_transit_days,
                    rule=rule.name,
                ),
            )
        )
    if not candidates:
        return None, ""
    days, note = min(candidates, key=lambda c: c[0])
    return days, note


def shipment_select_service(
    *, shipment_id: int, converter: FxConverter | None = None
) -> Shipment:
    """Quote every allowed service, store every quote, choose the cheapest suitable one.

    Quotes are fetched with no lock held; the result is written in one short
    transaction. Raises: ShipmentStateError, NoEligibleServiceError,
    CurrencyConversionUnavailableError (quotes are kept for ops either way).
    """
    shipment = Shipment.objects.filter(pk=shipment_id).first()
    if shipment is None:
        raise ShipmentNotFoundError(
            gettext("That shipment does not exist."), shipment_id=shipment_id
        )
    if shipment.status not in SELECTABLE:
        raise ShipmentStateError(
            gettext("Shipment S%(pk)s is %(status)s; its service can no longer change.")
            % {"pk": shipment.pk, "status": shipment.get_status_display().lower()},
            shipment_id=shipment_id,
            status=shipment.status,
        )
    request = shipment_rate_request(shipment)
    facts = shipment_facts(shipment, request)
    rule = shipping_rule_match(facts=facts)
    services = candidate_services(
        facts=facts, rule=rule, origin_country=request.shipper.country_code
    )
    promise_days, promise_note = _promise(shipment, facts, rule)
    preferred_ids = (
        frozenset(rule.preferred_services.values_list("pk", flat=True))
        if rule
        else frozenset()
    )
    groups = quote_groups(
        services=services,
        parcels=request.parcels,
        units=shipment_pack_units(shipment),
        packaging_grams=shipment.packaging_grams,
        reference=shipment.reference,
    )
    outcomes = quotes_collect(request=request, groups=groups)
    decision = quotes_evaluate(
        outcomes=outcomes,
        services=services,
        parcels=request.parcels,
        promise_days=promise_days,
        currency=shipment.currency,
        converter=converter or fx_converter_default(),
        preferred_ids=preferred_ids,
        with_duties=shipment.incoterm == "DDP" and facts.is_international,
    )
    rule_note = (
        Phrase(gettext_noop("Rule: %(rule)s."), rule=rule.name)
        if rule
        else Phrase(
            gettext_noop("No shipping rule matched; every active service was asked.")
        )
    )
    if promise_note:
        # Only a chosen service meets the promise; a refusal is held to it.
        promise_sentence = (
            Phrase(gettext_noop("Meets %(promise)s."), promise=promise_note)
            if decision.chosen is not None
            else Phrase(gettext_noop("Held to %(promise)s."), promise=promise_note)
        )
        rule_note = sentences(promise_sentence, rule_note)
    shipment = _decision_record(
        shipment_id=shipment_id,
        decision=decision,
        rule_note=rule_note,
        promise_note=promise_note,
    )
    if decision.missing_rates:
        raise CurrencyConversionUnavailableError(
            gettext(
                "Quotes came in currencies that cannot be converted to %(currency)s yet: missing exchange rate(s) %(join)s. Add the rates (finance) or configure LOGISTICS_FX_CONVERTER; prices are never compared 1:1."
            )
            % {
                "currency": shipment.currency,
                "join": ", ".join(decision.missing_rates),
            },
            shipment_id=shipment_id,
            missing=decision.missing_rates,
        )
    if decision.chosen is None:
        raise NoEligibleServiceError(
            decision.reason, shipment_id=shipment_id, rule=rule.name if rule else None
        )
    return shipment


@transaction.atomic(durable=True)
def _decision_record(
    *, shipment_id: int, decision: Decision, rule_note: str, promise_note: str = ""
) -> Shipment:
    shipment = shipment_lock(shipment_id=shipment_id)
    if shipment is None or shipment.status not in SELECTABLE:
        raise ShipmentStateError(
            gettext("The shipment changed while it was being quoted; quote it again."),
            shipment_id=shipment_id,
        )
    rows = [
        RateQuoteRow(
            shipment=shipment,
            service=e.service,
            account=e.account,
            carrier=e.quote.carrier,
            service_code=e.quote.service_code,
            service_name=e.service.name if e.service else e.quote.service_name,
            amount=e.quote.total.amount,
            currency=e.quote.total.currency,
            compared_amount=e.compared.amount if e.compared else None,
            compared_currency=e.compared.currency if e.compared else "",
            transit_days=e.transit_days,
            status=e.status,
            reason=e.reason[:500],
            parcel_count=len(e.parcels) or 1,
            parcels=[
                {
                    "weight_grams": p.weight_grams,
                    "length_mm": p.length_mm,
                    "width_mm": p.width_mm,
                    "height_mm": p.height_mm,
                    "reference": p.reference,
                }
                for p in e.parcels
            ],
            duty_amount=e.duty.amount if e.duty else None,
            raw=e.quote.raw,
        )
        for e in decision.evaluated
    ] + [
        RateQuoteRow(
            shipment=shipment,
            account=o.account,
            carrier=o.account.carrier,
            status=RateQuoteStatus.FAILED,
            reason=o.error[:500],
        )
        for o in decision.failures
    ]
    RateQuoteRow.objects.bulk_create(rows)
    chosen_row = next(
        (
            r
            for r, e in zip(rows, decision.evaluated, strict=False)
            if e is decision.chosen
        ),
        None,
    )
    if decision.missing_rates:
        shipment.text_set(
            "error",
            Phrase(
                gettext_noop("Missing exchange rate(s): %(pairs)s"),
                pairs=", ".join(decision.missing_rates),
            ),
        )
        shipment.save(update_fields=["error", "phrases", "updated_at"])
        return shipment
    if chosen_row is None:
        shipment.text_set("error", sentences(rule_note, decision.reason))
        shipment.save(update_fields=["error", "phrases", "updated_at"])
        return shipment
    assert decision.chosen is not None
    chosen = decision.chosen
    current = tuple(
        Parcel(p.weight_grams, p.length_mm, p.width_mm, p.height_mm, p.reference)
        for p in shipment.packages.all()
    )
    if chosen.parcels and chosen.parcels != current:
        # The label is bought for the parcels the chosen price was quoted for.
        shipment.packages.all().delete()
        Package.objects.bulk_create(
            Package(
                shipment=shipment,
                weight_grams=p.weight_grams,
                length_mm=p.length_mm,
                width_mm=p.width_mm,
                height_mm=p.height_mm,
                reference=p.reference,
            )
            for p in chosen.parcels
        )
    shipment.service = chosen.service
    shipment.chosen_quote = chosen_row
    shipment.text_set("selection_reason", sentences(decision.reason, rule_note))
    shipment.promise_note = promise_note[:300]
    shipment.duty_amount = chosen.duty.amount if chosen.duty else None
    shipment.duty_currency = chosen.duty.currency if chosen.duty else ""
    shipment.status = ShipmentStatus.RATED
    shipment.text_set("error", "")
    shipment.save(
        update_fields=[
            "service",
            "chosen_quote",
            "selection_reason",
            "phrases",
            "promise_note",
            "duty_amount",
            "duty_currency",
            "status",
            "error",
            "updated_at",
        ]
    )
    return shipment
