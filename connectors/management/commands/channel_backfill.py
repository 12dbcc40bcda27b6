"""Import a store's order history: `manage.py channel_backfill us --from D --to D`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from connectors.management.commands._dates import parse_moment
from connectors.management.commands.channel_sync import summary
from connectors.models import Channel, SyncRunStatus
from connectors.services import SyncCounts
from connectors.sync import channel_backfill


class Command(BaseCommand):
    help = (
        "Import every order a store created in a date range, as history (no stock is "
        "reserved, nothing is pushed back). Progress shows as a bar and in the SyncRun."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the store's code")
        parser.add_argument("--from", dest="date_from", required=True)
        parser.add_argument("--to", dest="date_to", required=True)
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar (logs, CI)"
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=4,
            help="ingest a bulk export's pages with this many threads "
            "(PostgreSQL; default %(default)s)",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--bulk",
            dest="bulk",
            action="store_const",
            const=True,
            help="read the range with one bulk export (Shopify bulk operation)",
        )
        mode.add_argument(
            "--pages",
            dest="bulk",
            action="store_const",
            const=False,
            help="read the range page by page through the API",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        channel = Channel.objects.filter(code=options["code"]).first()
        if channel is None:
            raise CommandError(f"No store with code {options['code']!r}.")
        created_from = parse_moment(options["date_from"])
        created_to = parse_moment(options["date_to"], end_of_day=True)
        if created_to < created_from:
            raise CommandError("--to is before --from.")
        with tqdm(
            unit=" orders",
            desc=f"backfill {channel.code}",
            file=self.stderr._out,
            disable=options["no_progress"],
        ) as bar:
            totals = SyncCounts()

            def progress(counts: SyncCounts) -> None:
                totals.add(counts)
                if counts.expected_total is not None:
                    bar.total = counts.expected_total
                if counts.note:
                    bar.set_description_str(f"backfill {channel.code}: {counts.note}")
                bar.update(counts.fetched)
                bar.set_postfix(
                    created=totals.created, failed=totals.failed, refresh=False
                )

            run = channel_backfill(
                channel_id=channel.pk,
                created_from=created_from,
                created_to=created_to,
                progress=progress,
                bulk=options["bulk"],
                threads=options["threads"],
            )
        for error in run.errors[:20]:
            self.stderr.write(f"  order {error['external_id']}: {error['error']}")
        line = summary(run)
        if run.status in (SyncRunStatus.FAILED, SyncRunStatus.SKIPPED):
            raise CommandError(line)
        self.stdout.write(self.style.SUCCESS(line))
