"""UPS, FedEx, DHL Express (MyDHL) and USPS through the karrio SDK and its extensions.

karrio builds and parses each carrier's requests; this module turns our types into
karrio's, karrio's answers (and error messages) into ours, and points karrio at
the account's host. Nothing here is carrier-specific beyond the tables at the top.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import functools
import importlib
import ssl
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attr
import karrio.sdk as karrio
from django.utils.translation import gettext_noop
from karrio.core import models as km
from karrio.core.utils import DP, Cache

from erp.core.money import Money
from erp.core.text import Phrase
from logistics.carriers.base import (
    Capability,
    CarrierError,
    Label,
    RateQuote,
    RateRequest,
    ShipmentRequest,
    ShipmentResult,
    TrackingEventData,
    TrackingResult,
    VoidRequest,
    VoidResult,
)
from logistics.carriers.status import normalise

# karrio turns off TLS certificate checks for every urllib call in the process when
# it is imported (karrio/core/utils/helpers.py); carrier credentials must never go
# to an unverified host, so the standard, verifying default is put back.
ssl._create_default_https_context = ssl.create_default_context  # noqa: SLF001
# Our carrier code -> karrio extension name.
KARRIO_PROVIDERS = {
    "ups": "ups",
    "fedex": "fedex",
    "dhl_express": "mydhl",
    "usps": "usps",
}

# Credential keys each karrio Settings class needs (the rest are optional).
REQUIRED_CREDENTIALS = {
    "ups": ("client_id", "client_secret", "account_number"),
    "fedex": ("api_key", "secret_key", "account_number"),
    "dhl_express": ("username", "password", "account_number"),
    "usps": ("client_id", "client_secret"),
}

OPTIONAL_CREDENTIALS = {
    "ups": ("account_country_code",),
    "fedex": ("track_api_key", "track_secret_key", "account_country_code"),
    "dhl_express": ("account_country_code",),
    "usps": ("account_number", "account_type", "CRID", "MID", "manifest_MID"),
}

# MyDHL API 3.1.1 has no shipment cancel operation (shared notes §3).
NO_VOID = frozenset({"dhl_express"})

# One token cache per process, so OAuth tokens are reused across calls (karrio
# refreshes them before expiry).
_TOKEN_CACHE = Cache()


@functools.cache
def _settings_class(provider: str) -> type:
    base = importlib.import_module(f"karrio.mappers.{provider}.settings").Settings

    @attr.s(auto_attribs=True)
    class AccountSettings(base):  # type: ignore[misc, valid-type]
        # The account's host override (proxy, sandbox mirror, local fake carrier).
        base_url: str | None = None

        @property
        def server_url(self) -> str:
            return self.base_url or super().server_url

    AccountSettings.__name__ = f"{provider}AccountSettings"
    return AccountSettings


def _kg(grams: int) -> float:
    # karrio's models take floats; three decimals keep gram precision.
    return round(grams / 1000, 3)


def _cm(mm: int) -> float | None:
    return round(mm / 10, 1) if mm else None


def _address(a: Any) -> dict[str, Any]:
    return {
        "person_name": a.name,
        "company_name": a.company or None,
        "address_line1": a.street1,
        "address_line2": a.street2 or None,
        "city": a.city,
        "state_code": a.state_code or None,
        "postal_code": a.postal_code or None,
        "country_code": a.country_code,
        "phone_number": a.phone or None,
        "email": a.email or None,
        "residential": a.residential,
    }


def _karrio_request_parts(request: RateRequest) -> dict[str, Any]:
    parts: dict[str, Any] = {
        "shipper": _address(request.shipper),
        "recipient": _address(request.recipient),
        "parcels": [
            {
                "weight": _kg(p.weight_grams),
                "weight_unit": "KG",
                "length": _cm(p.length_mm),
                "width": _cm(p.width_mm),
                "height": _cm(p.height_mm),
                "dimension_unit": "CM",
                "reference_number": p.reference or None,
            }
            for p in request.parcels
        ],
    }
    if request.customs is not None:
        customs = request.customs
        parts["customs"] = {
            "content_type": customs.contents_type,
            "incoterm": customs.incoterm,
            "invoice": customs.invoice_number or None,
            "duty": {
                "paid_by": "sender" if customs.incoterm == "DDP" else "recipient",
                "currency": customs.lines[0].unit_value.currency
                if customs.lines
                else None,
            },
            "commodities": [
                {
                    "title": line.description[:35],
                    "description": line.description,
                    "quantity": line.quantity,
                    "value_amount": float(line.unit_value.amount),
                    "value_currency": line.unit_value.currency,
                    "origin_country": line.origin_country,
                    "hs_code": line.hs_code or None,
                    "weight": _kg(line.unit_weight_grams) or None,
                    "weight_unit": "KG",
                    "sku": line.sku or None,
                }
                for line in customs.lines
            ],
        }
    return parts


def _decimal(value: Any) -> Decimal:
    # karrio parses carrier amounts into floats; str() recovers the carrier's digits.
    return Decimal(str(value))


def _date(value: Any) -> datetime.date | None:
    if not value:
        return None
    text = str(value)[:10]
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%I:%M %p", "%I:%M:%S %p")


def _event_time(event: km.TrackingEvent) -> datetime.datetime:
    """The scan time as UTC; carriers give local times without an offset, kept as is."""
    if event.timestamp:
        try:
            parsed = datetime.datetime.fromisoformat(
                str(event.timestamp).replace("Z", "+00:00")
            )
        except ValueError:
            parsed = None
        if parsed is not None:
            return (
                parsed.astimezone(datetime.UTC)
                if parsed.tzinfo
                else parsed.replace(tzinfo=datetime.UTC)
            )
    day = _date(event.date) or datetime.date(1970, 1, 1)
    clock = datetime.time(0, 0)
    text = (event.time or "").strip()
    for fmt in _TIME_FORMATS:
        try:
            clock = datetime.datetime.strptime(text, fmt).time()  # noqa: DTZ007
            break
        except ValueError:
            continue
    else:
        # UPS samples carry "16:30 PM": a 24-hour clock with a stray suffix.
        with contextlib.suppress(ValueError):
            clock = datetime.datetime.strptime(text[:5], "%H:%M").time()  # noqa: DTZ007
    return datetime.datetime.combine(day, clock, tzinfo=datetime.UTC)


def _messages(messages: list[km.Message]) -> list[dict[str, Any]]:
    return [
        {"code": m.code, "message": m.message, "level": m.level, "details": m.details}
        for m in messages
    ]


def _errors(messages: list[km.Message]) -> list[km.Message]:
    # karrio reports carrier alerts/notes as messages too; only errors stop us.
    return [m for m in messages if (m.level or "error") not in ("info", "warning")]


class KarrioCarrierAdapter:
    """One API carrier account, backed by the matching karrio extension."""

    def __init__(
        self,
        *,
        carrier: str,
        credentials: dict[str, Any],
        test_mode: bool,
        base_url: str = "",
        tracking_url_template: str = "",
    ) -> None:
        if carrier not in KARRIO_PROVIDERS:
            raise CarrierError(
                Phrase(
                    gettext_noop("No karrio extension for %(carrier)r."),
                    carrier=carrier,
                ),
                carrier=carrier,
            )
        missing = [k for k in REQUIRED_CREDENTIALS[carrier] if not credentials.get(k)]
        if missing:
            raise CarrierError(
                Phrase(
                    gettext_noop(
                        "The %(carrier)s account is missing credentials: %(join)s."
                    ),
                    carrier=carrier,
                    join=", ".join(missing),
                ),
                carrier=carrier,
                code="carrier_credentials_missing",
                missing=missing,
            )
        self.carrier = carrier
        self.provider = KARRIO_PROVIDERS[carrier]
        self.capabilities = frozenset(
            {Capability.RATE, Capability.SHIP, Capability.TRACK}
            | (set() if carrier in NO_VOID else {Capability.VOID})
        )
        allowed = set(REQUIRED_CREDENTIALS[carrier]) | set(
            OPTIONAL_CREDENTIALS[carrier]
        )
        settings = _settings_class(self.provider)(
            **{k: v for k, v in credentials.items() if k in allowed and v},
            test_mode=test_mode,
            base_url=base_url.rstrip("/") or None,
        )
        self._tracking_url_template = tracking_url_template
        self._gateway = karrio.gateway[self.provider].create(
            settings, cache=_TOKEN_CACHE
        )

    # -- helpers ---------------------------------------------------------------------

    def _call(
        self,
        operation: str,
        run: Callable[[], tuple[Any, list[km.Message]]],
        *,
        required: bool = False,
    ) -> Any:
        try:
            result, messages = run()
        except OSError as exc:
            # urllib raises URLError/timeouts (OSError) when the carrier is unreachable.
            raise CarrierError(
                Phrase(
                    gettext_noop(
                        "%(carrier)s %(operation)s: carrier unreachable (%(exc)s)."
                    ),
                    carrier=self.carrier,
                    operation=operation,
                    exc=exc,
                ),
                carrier=self.carrier,
                retryable=True,
            ) from exc
        errors = _errors(messages)
        if not result and errors:
            raise CarrierError(
                Phrase(
                    gettext_noop("%(carrier)s %(operation)s failed: %(errors)s"),
                    carrier=self.carrier,
                    operation=operation,
                    errors="; ".join(f"{m.code}: {m.message}" for m in errors),
                ),
                carrier=self.carrier,
                messages=_messages(errors),
                retryable=any(
                    m.code == "SHIPPING_SDK_INTERNAL_ERROR"
                    and "timed out" in str(m.message)
                    for m in errors
                ),
            )
        if result is None and required:
            raise CarrierError(
                Phrase(
                    gettext_noop(
                        "%(carrier)s %(operation)s: the carrier's answer could not be read."
                    ),
                    carrier=self.carrier,
                    operation=operation,
                ),
                carrier=self.carrier,
                messages=_messages(messages),
            )
        return result

    def tracking_url(self, tracking_number: str) -> str:
        template = self._tracking_url_template or self._gateway.settings.tracking_url
        return template.replace("{tracking_number}", "{}").format(tracking_number)

    # -- operations --------------------------------------------------------------------

    def get_rates(self, request: RateRequest) -> list[RateQuote]:
        """Every service the carrier prices for these parcels (filtered to the asked ones)."""
        payload = km.RateRequest(
            **_karrio_request_parts(request), services=list(request.service_codes)
        )
        rates = self._call(
            "rating",
            lambda: karrio.Rating.fetch(payload).from_(self._gateway).parse(),
        )
        quotes = [
            RateQuote(
                carrier=self.carrier,
                service_code=r.service,
                service_name=(r.meta or {}).get("service_name") or r.service,
                total=Money(_decimal(r.total_charge), r.currency),
                transit_days=r.transit_days,
                estimated_delivery=_date(r.estimated_delivery),
                raw=DP.to_dict(r),
            )
            for r in rates or []
        ]
        if request.service_codes:
            quotes = [q for q in quotes if q.service_code in request.service_codes]
        return quotes

    def create_shipment(self, request: ShipmentRequest) -> ShipmentResult:
        """Buy the label; karrio returns one base64 document for all parcels."""
        parts = _karrio_request_parts(request.rate_request)
        account_number = getattr(self._gateway.settings, "account_number", None)
        payload = km.ShipmentRequest(
            **parts,
            service=request.service_code,
            label_type=request.label_format,
            reference=request.reference or None,
            payment={"paid_by": "sender", "account_number": account_number},
        )
        details = self._call(
            "shipment",
            lambda: karrio.Shipment.create(payload).from_(self._gateway).parse(),
            required=True,
        )
        label = None
        if details.docs and details.docs.label:
            label = Label(
                format=details.label_type or request.label_format,
                content=base64.b64decode(details.docs.label),
            )
        meta = details.meta or {}
        charge = None
        if details.selected_rate is not None and details.selected_rate.currency:
            charge = Money(
                _decimal(details.selected_rate.total_charge),
                details.selected_rate.currency,
            )
        return ShipmentResult(
            tracking_number=details.tracking_number,
            carrier_shipment_id=details.shipment_identifier or details.tracking_number,
            label=label,
            package_tracking_numbers=tuple(meta.get("tracking_numbers") or ()),
            charge=charge,
            tracking_url=meta.get("carrier_tracking_link")
            or self.tracking_url(details.tracking_number),
            raw={k: v for k, v in DP.to_dict(details).items() if k != "docs"},
        )

    def void_shipment(self, request: VoidRequest) -> VoidResult:
        """Cancel the label at the carrier (MyDHL has no such call: reported, not raised)."""
        if Capability.VOID not in self.capabilities:
            return VoidResult(
                ok=True,
                supported=False,
                message=Phrase(
                    gettext_noop(
                        "%(carrier)s has no cancel call; an unused label is not "
                        "billed, so it is only marked void here."
                    ),
                    carrier=self.carrier,
                ),
            )
        payload = km.ShipmentCancelRequest(
            shipment_identifier=request.carrier_shipment_id,
            options={"tracking_numbers": list(request.tracking_numbers)},
        )
        confirmation = self._call(
            "void",
            lambda: karrio.Shipment.cancel(payload).from_(self._gateway).parse(),
            required=True,
        )
        return VoidResult(ok=bool(confirmation.success), message=confirmation.operation)

    def track(self, tracking_numbers: list[str]) -> list[TrackingResult]:
        """Current status and scans of several parcels in one call per carrier."""
        payload = km.TrackingRequest(tracking_numbers=list(tracking_numbers))
        details = self._call(
            "tracking",
            lambda: karrio.Tracking.fetch(payload).from_(self._gateway).parse(),
        )
        results = []
        for d in details or []:
            events = tuple(
                TrackingEventData(
                    occurred_at=_event_time(e),
                    status=normalise(self.carrier, code=e.code, karrio_status=e.status),
                    carrier_code=e.code or "",
                    description=(e.description or "").strip(),
                    location=e.location or "",
                    raw=DP.to_dict(e),
                )
                for e in d.events or []
            )
            events = tuple(sorted(events, key=lambda e: e.occurred_at, reverse=True))
            status = (
                events[0].status
                if events
                else normalise(self.carrier, code=None, karrio_status=d.status)
            )
            if d.delivered:
                status = "delivered"
            info = d.info
            results.append(
                TrackingResult(
                    tracking_number=d.tracking_number,
                    status=status,
                    events=events,
                    estimated_delivery=_date(d.estimated_delivery),
                    delivered=bool(d.delivered),
                    tracking_url=(info.carrier_tracking_link if info else None)
                    or self.tracking_url(d.tracking_number),
                )
            )
        return results
