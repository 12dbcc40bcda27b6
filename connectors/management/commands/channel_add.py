"""Connect a store: `manage.py channel_add --kind shopify --code us --shop-url ...`."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.exceptions import ConnectorError
from connectors.models import ChannelKind
from connectors.providers import provider_get
from connectors.services import channel_create

# Credentials are read from the environment, never from the command line, where they
# would end up in shell history and process listings.
CREDENTIAL_ENV = {
    "access_token": "CHANNEL_ACCESS_TOKEN",
    "webhook_secret": "CHANNEL_WEBHOOK_SECRET",
    "api_key": "CHANNEL_API_KEY",
    "api_secret": "CHANNEL_API_SECRET",
    "consumer_key": "CHANNEL_CONSUMER_KEY",
    "consumer_secret": "CHANNEL_CONSUMER_SECRET",
}
# What each kind of store cannot work without.
REQUIRED_CREDENTIALS = {
    ChannelKind.SHOPIFY: ("access_token",),
    ChannelKind.WOOCOMMERCE: ("consumer_key", "consumer_secret"),
}


class Command(BaseCommand):
    help = (
        "Connect a store. Credentials come from the environment: "
        + ", ".join(f"{env} ({name})" for name, env in CREDENTIAL_ENV.items())
        + ". Stores whose connector can check the connection are checked first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", choices=ChannelKind.values, required=True)
        parser.add_argument("--code", required=True, help="short name, e.g. us-shop")
        parser.add_argument("--name", help="display name (default: the code)")
        parser.add_argument(
            "--shop-url",
            required=True,
            help="https://<shop>.myshopify.com, or the WooCommerce site's address",
        )
        parser.add_argument(
            "--currency",
            help="ISO 4217, e.g. USD (default: the store's own, where it can be read)",
        )
        parser.add_argument(
            "--no-check",
            action="store_true",
            help="do not call the store to check the keys and its currency",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        credentials = {
            name: os.environ[env]
            for name, env in CREDENTIAL_ENV.items()
            if os.environ.get(env)
        }
        for name in REQUIRED_CREDENTIALS.get(kind, ()):
            if name not in credentials:
                raise CommandError(
                    f"Set {CREDENTIAL_ENV[name]} to the store's {name.replace('_', ' ')}."
                )
        currency = (options["currency"] or "").upper()
        check = getattr(provider_get(kind), "connection_check", None)
        if check is not None and not options["no_check"]:
            try:
                found = check(shop_url=options["shop_url"], credentials=credentials)
            except ConnectorError as exc:
                raise CommandError(
                    f"The store did not accept us: {exc.message}"
                ) from None
            if currency and currency != found["currency"]:
                raise CommandError(
                    f"The store sells in {found['currency']}, not {currency}."
                )
            currency = found["currency"]
            self.stdout.write(f"Connection checked: the store sells in {currency}.")
        if not currency:
            raise CommandError(
                "Give --currency (this store's currency cannot be read)."
            )
        try:
            channel = channel_create(
                kind=kind,
                code=options["code"],
                name=options["name"] or options["code"],
                shop_url=options["shop_url"],
                currency=currency,
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
