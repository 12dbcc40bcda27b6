"""manage.py import_fx_rates: ECB XML from a file or URL, or a CSV of rates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from erp.core.exceptions import ApplicationError
from finance.ecb import ECB_DAILY_URL
from finance.services.fx import (
    RateImportResult,
    exchange_rates_import_csv,
    exchange_rates_import_ecb,
    exchange_rates_import_ecb_url,
)


class Command(BaseCommand):
    help = (
        "Import exchange rates: the ECB daily reference XML (from --file or --url, "
        f"default {ECB_DAILY_URL}) or a CSV with columns date,base,quote,rate (--csv)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--file", help="ECB XML file (daily, 90-day or history).")
        source.add_argument("--url", help="ECB XML address (default: the daily feed).")
        source.add_argument("--csv", help="CSV file: date,base,quote,rate.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["file"]:
                path = Path(options["file"])
                result = exchange_rates_import_ecb(
                    content=self._read(path), reference=path.name
                )
            elif options["csv"]:
                path = Path(options["csv"])
                result = exchange_rates_import_csv(
                    content=self._read(path), reference=path.name
                )
            else:
                result = exchange_rates_import_ecb_url(url=options["url"] or None)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self._report(result)

    @staticmethod
    def _read(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc

    def _report(self, result: RateImportResult) -> None:
        if not result.committed:
            for error in result.errors:
                self.stderr.write(f"row {error.row} {error.column}: {error.message}")
            raise CommandError(
                f"{len(result.errors)} problem(s) in the file; nothing was imported."
            )
        days = ", ".join(d.isoformat() for d in result.days)
        self.stdout.write(
            f"Rates of {days}: {result.created} new, {result.updated} changed, "
            f"{result.unchanged} unchanged."
        )
