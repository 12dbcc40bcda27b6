"""Subscribe a store to our webhooks: `manage.py channel_webhooks us-shop`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.models import Channel
from connectors.providers import provider_get
from erp.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = (
        "Create the store's missing webhook subscriptions (our address comes from "
        "ERP_PUBLIC_URL). Safe to run again; the daily beat task does the same."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the store's code")

    def handle(self, *args: Any, **options: Any) -> None:
        channel = Channel.objects.filter(code=options["code"]).first()
        if channel is None:
            raise CommandError(f"No store with code {options['code']!r}.")
        try:
            result = provider_get(channel.kind).webhooks_ensure(channel=channel)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Webhooks of {channel.code} go to {result['callback_url']}")
        for topic in result["created"]:
            self.stdout.write(f"  created  {topic}")
        for topic in result["present"]:
            self.stdout.write(f"  present  {topic}")
        self.stdout.write(self.style.SUCCESS("Done."))
