"""manage.py run_reconciliation: reconcile a period (default: last month) and list differences."""

from __future__ import annotations

import datetime
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from erp.core.exceptions import ApplicationError
from finance.models import ReconciliationItem
from finance.services.reconciliation import reconciliation_run


def _last_month(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    last_day = today.replace(day=1) - datetime.timedelta(days=1)
    return last_day.replace(day=1), last_day


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Reconcile orders, payments, payouts and refunds of a period (default: last "
        "month) and print every difference found. Re-running changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="date_from", help="First day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="date_to", help="Last day (YYYY-MM-DD).")
        parser.add_argument("--store", help="Only this store (its code).")
        parser.add_argument(
            "--tolerance",
            type=int,
            default=1,
            help="Rounding tolerance in minor units (cents); default 1.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        date_from, date_to = _last_month(timezone.localdate())
        if options["date_from"]:
            date_from = _date(options["date_from"])
        if options["date_to"]:
            date_to = _date(options["date_to"])
        channel_id = None
        if options["store"]:
            channel_model = apps.get_model("connectors", "Channel")
            channel = channel_model.objects.filter(code=options["store"]).first()
            if channel is None:
                raise CommandError(f"No store has the code {options['store']!r}.")
            channel_id = channel.pk
        try:
            run = reconciliation_run(
                date_from=date_from,
                date_to=date_to,
                channel_id=channel_id,
                tolerance_minor_units=options["tolerance"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Run #{run.pk} {date_from}…{date_to}: {run.items_total} items, "
            f"{run.items_matched} matched, {run.differences_found} differences."
        )
        for item in (
            ReconciliationItem.objects.filter(run=run, is_matched=False)
            .order_by("difference_kind", "pk")
            .only("difference_kind", "message")
        ):
            self.stdout.write(f"  {item.difference_kind}: {item.message}")
