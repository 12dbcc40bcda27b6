"""Carrier tracking codes -> our one status set (shared notes §8.4).

karrio already maps each carrier's codes to its own status names; that is the
fallback. The per-carrier tables below win where karrio is coarser than our set
(customs, failed attempt, exception, returned) or disagrees with the carrier's
documented meaning (DHL "PU" is a pickup, not "pending").
"""

from __future__ import annotations

from logistics.choices import TrackingStatus as S

KARRIO_STATUS = {
    "pending": S.PRE_TRANSIT,
    "picked_up": S.PICKED_UP,
    "in_transit": S.IN_TRANSIT,
    "on_hold": S.EXCEPTION,
    "cancelled": S.CANCELLED,
    "delivered": S.DELIVERED,
    "delivery_failed": S.FAILED_ATTEMPT,
    "delivery_delayed": S.EXCEPTION,
    "out_for_delivery": S.OUT_FOR_DELIVERY,
    "ready_for_pickup": S.AVAILABLE_FOR_PICKUP,
    "return_to_sender": S.RETURNED,
    "unknown": S.UNKNOWN,
}


def _codes(status: S, *codes: str) -> dict[str, S]:
    return dict.fromkeys(codes, status)


# Codes from the carriers' own lists: fixtures/carriers/*/codes/*.csv.
CARRIER_CODES: dict[str, dict[str, S]] = {
    "dhl_express": {
        **_codes(S.PICKED_UP, "PU"),
        **_codes(S.IN_TRANSIT, "AF", "DF", "AR", "PL", "TR", "TP", "TD", "FD", "RR"),
        **_codes(S.CUSTOMS, "CC", "CR", "IC", "BR", "CD", "UD"),
        **_codes(S.OUT_FOR_DELIVERY, "WC"),
        **_codes(S.DELIVERED, "OK", "PD", "DD"),
        **_codes(S.FAILED_ATTEMPT, "NH", "BA", "CA", "RD"),
        **_codes(S.EXCEPTION, "OH", "HP", "SS", "MD", "MS"),
        **_codes(S.RETURNED, "RT"),
    },
    "fedex": {
        **_codes(S.PRE_TRANSIT, "OC", "OX"),
        **_codes(S.PICKED_UP, "PU", "PX"),
        **_codes(S.IN_TRANSIT, "IT", "IX", "AR", "AF", "DP", "FD", "LO", "AA", "AD"),
        **_codes(S.CUSTOMS, "CC", "CD", "CP"),
        **_codes(S.OUT_FOR_DELIVERY, "OD"),
        **_codes(S.AVAILABLE_FOR_PICKUP, "HL", "HP"),
        **_codes(S.DELIVERED, "DL"),
        **_codes(S.FAILED_ATTEMPT, "DE"),
        **_codes(S.EXCEPTION, "SE", "DY", "DD", "PD"),
        **_codes(S.RETURNED, "RS"),
        **_codes(S.CANCELLED, "CA"),
    },
    # USPS v3 event codes (Pub 199 G-4): 01 delivered, OF out for delivery, 03/10
    # accepted, 02/53/55 notice left, 04/21/29 returned or refused.
    "usps": {
        **_codes(S.PRE_TRANSIT, "GX", "MA"),
        **_codes(S.PICKED_UP, "03", "10", "OA"),
        **_codes(S.IN_TRANSIT, "07", "A1", "L1", "T1", "U1", "NT"),
        **_codes(S.OUT_FOR_DELIVERY, "OF"),
        **_codes(S.DELIVERED, "01"),
        **_codes(S.FAILED_ATTEMPT, "02", "53", "55"),
        **_codes(S.RETURNED, "04", "21", "29"),
    },
    # karrio gives UPS's two-letter activity code; its status (from the activity
    # type D/I/M/X) is the reliable part, so only the voided label and "out for
    # delivery" (type I, which karrio reads as in transit) are added.
    "ups": {**_codes(S.CANCELLED, "MV"), **_codes(S.OUT_FOR_DELIVERY, "OT")},
}


def normalise(carrier: str, *, code: str | None, karrio_status: str | None) -> S:
    """Our status for one carrier scan: the carrier table, else karrio's mapping."""
    table = CARRIER_CODES.get(carrier, {})
    if code and code.upper() in table:
        return table[code.upper()]
    return KARRIO_STATUS.get(karrio_status or "", S.UNKNOWN)
