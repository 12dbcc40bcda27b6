"""Run the demo's sandbox stores: `manage.py sandbox_stores [--every 4] [--count N]`."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.sandbox import (
    SandboxStore,
    sandbox_channels,
    sandbox_for,
    sandboxes_send,
)


class Command(BaseCommand):
    help = (
        "Start a sandbox store for every demo store whose address is a local port, "
        "and send the running app a signed order webhook every few seconds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--app-url",
            default="http://127.0.0.1:8000",
            help="where the app's webhook endpoints are (default %(default)s)",
        )
        parser.add_argument(
            "--every",
            type=float,
            default=4.0,
            help="seconds between two orders, across all stores (default %(default)s)",
        )
        parser.add_argument(
            "--count",
            type=int,
            default=0,
            help="stop after this many orders (default: run until stopped)",
        )
        parser.add_argument(
            "--store",
            action="append",
            default=[],
            dest="stores",
            help="only this store's code (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        channels = sandbox_channels(options["stores"])
        if not channels:
            raise CommandError(
                "No store points at a local sandbox address; run `manage.py load_demo`."
            )
        stop = threading.Event()
        # honcho stops its processes with SIGTERM: finish the current tick and close.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        sandboxes: list[SandboxStore] = []
        try:
            for channel in channels:
                sandbox = sandbox_for(channel)
                sandbox.start()
                sandboxes.append(sandbox)
                self.stdout.write(
                    f"{channel.code}: {channel.get_kind_display()} sandbox store at "
                    f"{sandbox.url}"
                )
            self.stdout.write(
                f"Sending an order every {options['every']:g} s to {options['app_url']}"
            )
            stats = sandboxes_send(
                sandboxes=sandboxes,
                app_url=options["app_url"],
                every=options["every"],
                count=options["count"],
                stop=stop,
                log=lambda line: self.stdout.write(line),
            )
        except KeyboardInterrupt:
            return
        finally:
            for sandbox in sandboxes:
                sandbox.stop()
        self.stdout.write(
            f"Sent {stats.sent} order(s): {stats.accepted} accepted, "
            f"{stats.refused} refused."
        )
