"""The ECB euro foreign exchange reference rates: read the XML, fetch the feed.

Format (https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml): a
gesmes:Envelope whose Cube/Cube[@time] holds Cube[@currency,@rate] children, each
rate being units of the currency per 1 EUR. The 90-day and historical files repeat
the dated Cube, so one reader handles all three.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree

import requests
from django.utils.translation import gettext_noop

from erp.core.text import Phrase
from finance.exceptions import FxFetchError, FxImportError

ECB_DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
ECB_NAMESPACE = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
FETCH_TIMEOUT_SECONDS = (5, 30)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class EcbDay:
    """The reference rates of one day: currency -> units per 1 EUR."""

    on: datetime.date
    rates: dict[str, Decimal]


def ecb_parse(content: bytes) -> list[EcbDay]:
    """Read an ECB reference-rate XML document into days of rates, oldest first.

    Raises: FxImportError when the document is not an ECB rate file.
    """
    # The feed never declares a DTD; refusing one rules out entity-expansion tricks
    # before the parser sees them (expat >= 2.4 also caps expansion, and ElementTree
    # never fetches external entities).
    head = content[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in head:
        raise FxImportError("The rate file declares a DTD; an ECB file never does.")
    try:
        root = ElementTree.fromstring(content)  # noqa: S314 - DTDs refused above
    except ElementTree.ParseError as exc:
        raise FxImportError(f"The rate file is not valid XML: {exc}.") from None
    days: list[EcbDay] = []
    for dated in root.iter(f"{{{ECB_NAMESPACE}}}Cube"):
        time = dated.get("time")
        if time is None:
            continue
        try:
            on = datetime.date.fromisoformat(time)
        except ValueError:
            raise FxImportError(
                Phrase(
                    gettext_noop("The rate file has a day %(day)r that is not a date."),
                    day=time,
                ),
                time=time,
            ) from None
        rates: dict[str, Decimal] = {}
        for cube in dated:
            currency = (cube.get("currency") or "").strip().upper()
            raw = (cube.get("rate") or "").strip()
            if not _CURRENCY.match(currency):
                raise FxImportError(
                    Phrase(
                        gettext_noop("%(day)s: %(currency)r is not a currency code."),
                        day=str(on),
                        currency=currency,
                    ),
                    on=str(on),
                )
            try:
                rate = Decimal(raw)
            except InvalidOperation:
                rate = Decimal(0)
            if not rate.is_finite() or rate <= 0:
                raise FxImportError(
                    Phrase(
                        gettext_noop(
                            "%(day)s: the rate of %(currency)s is %(raw)r, not a "
                            "positive number."
                        ),
                        day=str(on),
                        currency=currency,
                        raw=raw,
                    ),
                    on=str(on),
                    currency=currency,
                )
            rates[currency] = rate
        if rates:
            days.append(EcbDay(on=on, rates=rates))
    if not days:
        raise FxImportError(
            Phrase(
                gettext_noop(
                    "The file holds no ECB reference rates (no Cube with a time and "
                    "rates)."
                )
            )
        )
    days.sort(key=lambda d: d.on)
    return days


def ecb_fetch(url: str) -> bytes:
    """Download the feed. Raises FxFetchError (retryable) or FxImportError (terminal)."""
    try:
        response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise FxFetchError(
            Phrase(
                gettext_noop("The rate feed at %(url)s did not answer: %(error)s."),
                url=url,
                error=exc.__class__.__name__,
            ),
            url=url,
        ) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise FxFetchError(
            Phrase(
                gettext_noop(
                    "The rate feed at %(url)s answered %(status)s; try again later."
                ),
                url=url,
                status=response.status_code,
            ),
            url=url,
            status=response.status_code,
        )
    if response.status_code != 200:
        raise FxImportError(
            Phrase(
                gettext_noop("The rate feed at %(url)s answered %(status)s."),
                url=url,
                status=response.status_code,
            ),
            url=url,
            status=response.status_code,
        )
    return response.content
