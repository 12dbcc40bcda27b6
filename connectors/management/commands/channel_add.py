"""Connect a store: `manage.py channel_add --kind shopify --code us --shop-url ...`."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.exceptions import ConnectorError
from connectors.models import ChannelKind
from connectors.services import channel_create

# Credentials are read from the environment, never from the command line, where they
# would end up in shell history and process listings.
CREDENTIAL_ENV = {
    "access_token": "CHANNEL_ACCESS_TOKEN",
    "webhook_secret": "CHANNEL_WEBHOOK_SECRET",
    "api_key": "CHANNEL_API_KEY",
    "api_secret": "CHANNEL_API_SECRET",
}


class Command(BaseCommand):
    help = (
        "Connect a store. Credentials come from the environment: "
        + ", ".join(f"{env} ({name})" for name, env in CREDENTIAL_ENV.items())
        + "."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", choices=ChannelKind.values, required=True)
        parser.add_argument("--code", required=True, help="short name, e.g. us-shop")
        parser.add_argument("--name", help="display name (default: the code)")
        parser.add_argument(
            "--shop-url", required=True, help="https://<shop>.myshopify.com"
        )
        parser.add_argument("--currency", required=True, help="ISO 4217, e.g. USD")

    def handle(self, *args: Any, **options: Any) -> None:
        credentials = {
            name: os.environ[env]
            for name, env in CREDENTIAL_ENV.items()
            if os.environ.get(env)
        }
        if "access_token" not in credentials:
            raise CommandError(
                f"Set {CREDENTIAL_ENV['access_token']} to the store's access token."
            )
        try:
            channel = channel_create(
                kind=options["kind"],
                code=options["code"],
                name=options["name"] or options["code"],
                shop_url=options["shop_url"],
                currency=options["currency"],
                credentials=credentials,
            )
        except ConnectorError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Store {channel.code} connected ({', '.join(sorted(credentials))}); "
                f"webhooks: /webhooks/{channel.kind}/{channel.code}/"
            )
        )
