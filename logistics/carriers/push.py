"""Carrier tracking pushes (webhooks): how each carrier authenticates and what it sends.

karrio has no webhook parsing for these carriers, so the payloads are read here, into
the same TrackingEventData polling produces (same time rule, code, description and
location), so a scan seen by both is stored once.

Only UPS publishes its push format with its API (Track Alert, UPSTrackAlert.yaml
`webhooks.TrackingEvent`): a JSON body per scan, authenticated by the opaque
`credential` header the subscriber chose when subscribing. FedEx, DHL Express and USPS
pushes have no public sample here, so those carriers are polled only.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop
from karrio.providers.ups import units as ups_units

from erp.core.exceptions import ApplicationError
from erp.core.text import Phrase
from logistics.carriers.base import TrackingEventData
from logistics.carriers.status import normalise


class PushPayloadError(ApplicationError):
    """A pushed body is not what the carrier documents; stored, not applied."""

    code = "carrier_push_invalid"
    status_code = 400


@dataclass(frozen=True)
class PushScan:
    """One scan a carrier pushed, for one tracking number."""

    tracking_number: str
    event: TrackingEventData
    estimated_delivery: datetime.date | None = None


@dataclass(frozen=True)
class PushSpec:
    """How one carrier's pushes are authenticated and read."""

    carrier: str
    # The request header carrying the shared secret (compared in constant time).
    credential_header: str
    parse: Callable[[Any], PushScan]


UPS_TRACKING_NUMBER = re.compile(r"1Z[0-9A-Z]{16}")


def _ups_date(value: Any, field: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(str(value), "%Y%m%d").date()  # noqa: DTZ007
    except ValueError as exc:
        raise PushPayloadError(
            Phrase(
                gettext_noop("%(field)s %(value)r is not a YYYYMMDD date."),
                field=field,
                value=value,
            )
        ) from exc


def _ups_time(value: Any, field: str) -> datetime.time:
    try:
        return datetime.datetime.strptime(str(value), "%H%M%S").time()  # noqa: DTZ007
    except ValueError as exc:
        raise PushPayloadError(
            Phrase(
                gettext_noop("%(field)s %(value)r is not an HHMMSS time."),
                field=field,
                value=value,
            )
        ) from exc


def ups_track_alert_parse(payload: Any) -> PushScan:
    """One UPS Track Alert message -> the scan, normalised like a polled UPS scan.

    The local activity date/time is kept as UTC and to the minute, as karrio's polled
    UPS scans are, so the same scan from a poll and a push is one row.
    Raises: PushPayloadError naming the first field that is missing or malformed.
    """
    if not isinstance(payload, dict):
        raise PushPayloadError(Phrase(gettext_noop("The body is not a JSON object.")))
    number = str(payload.get("trackingNumber") or "").strip().upper()
    if not UPS_TRACKING_NUMBER.fullmatch(number):
        raise PushPayloadError(
            Phrase(
                gettext_noop("trackingNumber %(get)r is not a UPS 1Z number."),
                get=payload.get("trackingNumber"),
            )
        )
    status = payload.get("activityStatus")
    if not isinstance(status, dict) or not (status.get("type") or status.get("code")):
        raise PushPayloadError(
            Phrase(gettext_noop("activityStatus with a type or code is missing."))
        )
    day = _ups_date(payload.get("localActivityDate"), "localActivityDate")
    clock = _ups_time(payload.get("localActivityTime"), "localActivityTime")
    location = payload.get("activityLocation") or {}
    if not isinstance(location, dict):
        raise PushPayloadError(
            Phrase(gettext_noop("activityLocation is not an object."))
        )
    code = str(status.get("code") or "")
    karrio_status = (
        ups_units.TrackingStatus.find(status.get("type")).name
        or ups_units.TrackingStatus.find(code).name
    )
    scheduled = payload.get("scheduledDeliveryDate") or ""
    return PushScan(
        tracking_number=number,
        event=TrackingEventData(
            occurred_at=datetime.datetime.combine(
                day, clock.replace(second=0), tzinfo=datetime.UTC
            ),
            status=normalise("ups", code=code, karrio_status=karrio_status),
            carrier_code=code,
            description=str(status.get("description") or "").strip(),
            location=", ".join(
                str(location.get(k) or "").strip()
                for k in ("city", "stateProvince", "postalCode", "country")
                if str(location.get(k) or "").strip()
            ),
            raw=payload,
        ),
        estimated_delivery=_ups_date(scheduled, "scheduledDeliveryDate")
        if scheduled
        else None,
    )


PUSH_CARRIERS: dict[str, PushSpec] = {
    "ups": PushSpec(
        carrier="ups", credential_header="credential", parse=ups_track_alert_parse
    ),
}
