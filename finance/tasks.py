"""Background jobs of finance: thin wrappers around one service each."""

from __future__ import annotations

import datetime

from celery import shared_task

from finance.exceptions import FxFetchError
from finance.services.fx import exchange_rates_import_ecb_url
from finance.services.profit import order_profits_refresh_stale
from finance.services.reconciliation import reconciliation_run


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(FxFetchError,),
    retry_backoff=60,
    retry_jitter=True,
    max_retries=8,
)
def exchange_rates_import_ecb_task(url: str = "") -> dict[str, object]:
    """Daily: import the ECB reference rates (retries while the feed is unreachable)."""
    return exchange_rates_import_ecb_url(url=url or None).as_dict()


@shared_task(acks_late=True, ignore_result=True)
def reconciliation_run_task(
    date_from: str, date_to: str, channel_id: int | None = None
) -> int:
    """Reconcile a period in the background; returns the run id."""
    return reconciliation_run(
        date_from=datetime.date.fromisoformat(date_from),
        date_to=datetime.date.fromisoformat(date_to),
        channel_id=channel_id,
    ).pk


@shared_task(acks_late=True, ignore_result=True)
def order_profits_refresh_stale_task(since: str) -> int:
    """After new rates: refresh profit rows that were converted without them."""
    return order_profits_refresh_stale(since=datetime.date.fromisoformat(since))
