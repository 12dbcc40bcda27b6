"""Our one carrier interface: typed requests and results, and the adapter protocol.

Every carrier (karrio-backed API carriers and our own rate cards) implements
CarrierAdapter; the rest of logistics only sees these types. Weights are grams and
lengths millimetres throughout; adapters convert at their edge.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from erp.core.exceptions import ApplicationError
from erp.core.money import Money


class Capability(enum.StrEnum):
    RATE = "rate"
    SHIP = "ship"
    VOID = "void"
    TRACK = "track"


@dataclass(frozen=True)
class Address:
    """A postal address as carriers need it (any script; codes are ISO)."""

    name: str
    street1: str
    city: str
    country_code: str
    postal_code: str = ""
    state_code: str = ""
    street2: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""
    residential: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Address:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Parcel:
    """One parcel: gross weight (goods + packaging) and outer dimensions."""

    weight_grams: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    reference: str = ""

    @property
    def longest_side_mm(self) -> int:
        return max(self.length_mm, self.width_mm, self.height_mm)

    @property
    def length_plus_girth_mm(self) -> int:
        sides = sorted((self.length_mm, self.width_mm, self.height_mm))
        return sides[2] + 2 * (sides[0] + sides[1])

    @property
    def volume_cm3(self) -> Decimal:
        return (
            Decimal(self.length_mm)
            * Decimal(self.width_mm)
            * Decimal(self.height_mm)
            / Decimal(1000)
        )


@dataclass(frozen=True)
class CustomsLine:
    """One line of a customs declaration."""

    description: str
    quantity: int
    unit_value: Money
    origin_country: str
    hs_code: str = ""
    unit_weight_grams: int = 0
    sku: str = ""


@dataclass(frozen=True)
class Customs:
    """The customs declaration of an international shipment."""

    lines: tuple[CustomsLine, ...]
    incoterm: str = "DAP"
    contents_type: str = "merchandise"
    invoice_number: str = ""


@dataclass(frozen=True)
class RateRequest:
    """Ask one carrier account what its services cost for these parcels."""

    shipper: Address
    recipient: Address
    parcels: tuple[Parcel, ...]
    customs: Customs | None = None
    service_codes: tuple[str, ...] = ()
    ship_date: datetime.date | None = None


@dataclass(frozen=True)
class RateQuote:
    """One priced service from one carrier."""

    carrier: str
    service_code: str
    service_name: str
    total: Money
    transit_days: int | None = None
    estimated_delivery: datetime.date | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ShipmentRequest:
    """Buy a label for one service."""

    rate_request: RateRequest
    service_code: str
    label_format: str = "PDF"
    reference: str = ""
    # Rate-card carriers have no API: the operator's tracking number is the result.
    tracking_number: str = ""


@dataclass(frozen=True)
class Label:
    """A printable document a carrier returned (or we drew)."""

    format: str
    content: bytes


@dataclass(frozen=True)
class ShipmentResult:
    """What the carrier gave back for a bought label."""

    tracking_number: str
    carrier_shipment_id: str
    label: Label | None
    package_tracking_numbers: tuple[str, ...] = ()
    charge: Money | None = None
    tracking_url: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class VoidRequest:
    carrier_shipment_id: str
    tracking_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class VoidResult:
    """Whether the carrier cancelled the label; supported=False means only ours is void."""

    ok: bool
    supported: bool = True
    message: str = ""


@dataclass(frozen=True)
class TrackingEventData:
    """One scan, its status already normalised."""

    occurred_at: datetime.datetime
    status: str
    carrier_code: str = ""
    description: str = ""
    location: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class TrackingResult:
    """A parcel's current status and scans (newest first)."""

    tracking_number: str
    status: str
    events: tuple[TrackingEventData, ...] = ()
    estimated_delivery: datetime.date | None = None
    delivered: bool = False
    tracking_url: str = ""


class CarrierError(ApplicationError):
    """A carrier refused or failed; retryable ones (timeouts, 5xx, 429) may be tried again."""

    code = "carrier_error"
    status_code = 502

    def __init__(
        self,
        message: str,
        *,
        carrier: str,
        retryable: bool = False,
        messages: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message, carrier=carrier, messages=messages or [], **extra)
        self.carrier = carrier
        self.retryable = retryable


class CarrierAdapter(Protocol):
    """One carrier account's operations."""

    carrier: str
    capabilities: frozenset[Capability]

    def get_rates(self, request: RateRequest) -> list[RateQuote]: ...

    def create_shipment(self, request: ShipmentRequest) -> ShipmentResult: ...

    def void_shipment(self, request: VoidRequest) -> VoidResult: ...

    def track(self, tracking_numbers: list[str]) -> list[TrackingResult]: ...

    def tracking_url(self, tracking_number: str) -> str: ...
