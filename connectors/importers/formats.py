"""Which parser reads which file format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Protocol

from django.utils.translation import gettext_noop

from connectors.importers.generic import GenericParser, mapping_load
from connectors.importers.rows import (
    ImportFileError,
    ParsedOrder,
    RowGroup,
    Table,
    timezone_get,
)
from connectors.importers.shopify_csv import ShopifyCsvParser
from connectors.importers.woocommerce_csv import WooCommerceCsvParser
from erp.core.text import Phrase
from orders.models import OrderImportFormat


class OrderFileParser(Protocol):
    """Groups a file's rows by order, then turns each group into a ParsedOrder."""

    def groups(self, table: Table) -> Iterator[RowGroup]: ...

    def parse_group(self, group: RowGroup) -> ParsedOrder: ...


def parser_get(
    *,
    file_format: str,
    store_currency: str,
    timezone: str = "UTC",
    mapping: bytes | None = None,
) -> OrderFileParser:
    """The parser for `file_format`, set up for one store.

    Raises: ImportFileError (unknown format, missing or bad mapping, unknown zone).
    """
    if file_format == OrderImportFormat.SHOPIFY_CSV:
        return ShopifyCsvParser(store_currency=store_currency)
    if file_format == OrderImportFormat.WOOCOMMERCE_CSV:
        return WooCommerceCsvParser(
            store_currency=store_currency, tz=timezone_get(timezone)
        )
    if file_format == OrderImportFormat.GENERIC:
        if not mapping:
            raise ImportFileError(
                Phrase(
                    gettext_noop(
                        "The generic format needs a column mapping file (JSON)."
                    )
                )
            )
        return GenericParser(
            store_currency=store_currency, mapping=mapping_load(mapping)
        )
    raise ImportFileError(
        Phrase(gettext_noop("Unknown format %(format)r."), format=file_format),
        allowed=list(OrderImportFormat.values),
    )


def table_open(stream: IO[bytes], *, parser: OrderFileParser) -> Table:
    """The file as a table; store exports are CSV, the generic format may be XLSX.

    Raises: ImportFileError if it cannot be read.
    """
    if isinstance(parser, GenericParser):
        table = Table(
            stream, sheet=parser.mapping.sheet, delimiter=parser.mapping.delimiter
        )
    else:
        table = Table(stream)
    if table.kind == "xlsx" and not isinstance(parser, GenericParser):
        raise ImportFileError(
            Phrase(
                gettext_noop(
                    "This format is a CSV export; the file is a spreadsheet (XLSX). "
                    "Use the generic format with a mapping, or the store's CSV."
                )
            )
        )
    return table
