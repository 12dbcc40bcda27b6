"""Reads about payouts for the connectors that fetch them."""

from __future__ import annotations

import datetime

from django.db.models import Max

from finance.gateways import gateway_key
from finance.models import Payout


def payout_latest_paid_on(*, gateway: str, channel_id: int) -> datetime.date | None:
    """The day of the newest payout of this gateway and store already imported."""
    return Payout.objects.filter(
        gateway=gateway_key(gateway), channel_id=channel_id
    ).aggregate(latest=Max("paid_on"))["latest"]
