"""manage.py import_orders: bring a store's order history in from an export file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from connectors.importers.services import (
    ImportProgress,
    ImportResult,
    error_report_csv,
    order_file_import,
)
from connectors.models import Channel
from erp.core.exceptions import ApplicationError
from orders.models import OrderImportFormat


class Command(BaseCommand):
    help = (
        "Import a store's order history from a file (Shopify export, WooCommerce "
        "export, or any CSV/XLSX with a column mapping). Every order goes through the "
        "same upsert as webhooks and polls, as history: no review, no stock reserved, "
        "nothing pushed back. Re-running changes nothing. Writes a per-row error "
        "report and a month-by-month check of the file against the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The export file.")
        parser.add_argument("--channel", required=True, help="Store code.")
        parser.add_argument(
            "--format",
            required=True,
            choices=OrderImportFormat.values,
            dest="file_format",
        )
        parser.add_argument(
            "--mapping",
            type=Path,
            help="Column mapping (JSON) for --format generic.",
        )
        parser.add_argument(
            "--timezone",
            default="UTC",
            help="Time zone of times written without an offset (WooCommerce exports, "
            "spreadsheets), e.g. Asia/Shanghai. Default UTC.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Read and check the file against the database; write nothing.",
        )
        parser.add_argument(
            "--errors-out",
            type=Path,
            help="Error report (CSV: row, column, problem). Default: <file>.errors.csv",
        )
        parser.add_argument(
            "--check-out",
            type=Path,
            help="Month check (CSV). Default: <file>.check.csv",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            help="Processes that upsert orders side by side (default 1). Each order "
            "is still its own transaction.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        channel = Channel.objects.filter(code=options["channel"]).first()
        if channel is None:
            raise CommandError(f"No store with code {options['channel']!r}.")
        mapping = None
        if options["mapping"]:
            try:
                mapping = options["mapping"].read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read the mapping: {exc}") from None
        errors_out = options["errors_out"] or path.with_name(path.name + ".errors.csv")
        check_out = options["check_out"] or path.with_name(path.name + ".check.csv")

        bar = tqdm(
            unit=" orders",
            disable=options["no_progress"],
            dynamic_ncols=True,
            desc="dry run" if options["dry_run"] else "import",
        )

        def progress(p: ImportProgress) -> None:
            if bar.total != p.total:
                bar.reset(total=p.total)
            bar.update(p.done - bar.n)
            if p.failed and p.done % 100 == 0:
                bar.set_postfix(failed=p.failed, refresh=False)

        try:
            with path.open("rb") as stream:
                result = order_file_import(
                    channel_id=channel.pk,
                    stream=stream,
                    file_format=options["file_format"],
                    mapping=mapping,
                    timezone_name=options["timezone"],
                    dry_run=options["dry_run"],
                    jobs=max(options["jobs"], 1),
                    on_progress=progress,
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        finally:
            bar.close()

        errors_out.write_text(error_report_csv(result.errors), encoding="utf-8")
        check_out.write_text(result.check.as_csv(), encoding="utf-8")
        self._summary(
            result, channel=channel, errors_out=errors_out, check_out=check_out
        )
        if result.failed:
            raise CommandError(
                f"{result.failed} order(s) were not imported; see {errors_out}."
            )
        if not result.dry_run and not result.check.matches:
            raise CommandError(
                f"The month check does not match; see {check_out}. Orders of this "
                "store that are not in the file (live sync, other files) count there too."
            )

    def _summary(
        self,
        result: ImportResult,
        *,
        channel: Channel,
        errors_out: Path,
        check_out: Path,
    ) -> None:
        mode = "Dry run (nothing written)" if result.dry_run else "Imported"
        self.stdout.write(
            f"{mode} into {channel.code}: {result.total} orders in the file, "
            f"{result.created} new, {result.changed} changed, {result.unchanged} "
            f"unchanged, {result.failed} failed, in {result.seconds:.1f} s "
            f"({result.rate:.0f} orders/s)."
        )
        self.stdout.write(result.check.as_text())
        self.stdout.write(
            f"Error report: {errors_out} ({len(result.errors)} problem(s)). "
            f"Month check: {check_out}."
        )
