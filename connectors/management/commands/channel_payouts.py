"""Fetch Shopify Payments payouts: `manage.py channel_payouts us-shop [--since 2026-01-01]`."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.models import Channel
from connectors.shopify.payouts import (
    shopify_channels_for_payouts,
    shopify_payouts_fetch,
)
from erp.core.exceptions import ApplicationError


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Fetch the Shopify Payments payouts (and their balance transactions) of a "
        "store, or of every active Shopify store, and import them for reconciliation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "codes", nargs="*", help="store codes (default: every active Shopify store)"
        )
        parser.add_argument("--since", type=_day, help="payouts issued on or after")
        parser.add_argument("--until", type=_day, help="payouts issued on or before")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["codes"]:
            channels = list(Channel.objects.filter(code__in=options["codes"]))
            missing = set(options["codes"]) - {c.code for c in channels}
            if missing:
                raise CommandError(f"No store with code {sorted(missing)}.")
        else:
            channels = list(
                Channel.objects.filter(pk__in=shopify_channels_for_payouts())
            )
        failed = 0
        for channel in channels:
            try:
                result = shopify_payouts_fetch(
                    channel_id=channel.pk,
                    since=options["since"],
                    until=options["until"],
                )
            except ApplicationError as exc:
                failed += 1
                self.stderr.write(f"{channel.code}: {exc.message}")
                continue
            for error in result.errors[:20]:
                self.stderr.write(f"  {error}")
            self.stdout.write(f"{channel.code}: {result.summary()}")
        if failed:
            raise CommandError(f"{failed} store(s) could not be read.")
