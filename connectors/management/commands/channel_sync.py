"""Poll one store now: `manage.py channel_sync us-shop [--since 2026-01-01]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.management.commands._dates import parse_moment
from connectors.models import Channel, SyncRun, SyncRunStatus
from connectors.services import SyncCounts
from connectors.sync import channel_sync


def summary(run: SyncRun) -> str:
    seconds = run.duration_seconds or 0.0
    rate = run.fetched / seconds if seconds else 0.0
    return (
        f"{run.get_kind_display()} #{run.pk} {run.status}"
        + (f" by {run.params['mode']}" if run.params.get("mode") else "")
        + f": fetched {run.fetched}, "
        f"created {run.created}, updated {run.updated}, unchanged {run.unchanged}, "
        f"failed {run.failed} in {seconds:.1f} s ({rate:.0f} orders/s)"
        + (f". {run.message}" if run.message else "")
    )


class Command(BaseCommand):
    help = "Fetch the orders a store changed since its cursor (or --since) and ingest them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the store's code")
        parser.add_argument(
            "--since", help="read orders updated since this date or time instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        channel = Channel.objects.filter(code=options["code"]).first()
        if channel is None:
            raise CommandError(f"No store with code {options['code']!r}.")
        since = parse_moment(options["since"]) if options["since"] else None

        def progress(counts: SyncCounts) -> None:
            self.stdout.write(
                f"  page: {counts.fetched} order(s), {counts.failed} failed"
            )

        run = channel_sync(channel_id=channel.pk, since=since, progress=progress)
        for error in run.errors[:20]:
            self.stderr.write(f"  order {error['external_id']}: {error['error']}")
        line = summary(run)
        if run.status in (SyncRunStatus.FAILED, SyncRunStatus.SKIPPED):
            raise CommandError(line)
        self.stdout.write(self.style.SUCCESS(line))
