"""Reading import files row by row, and reading typed cells with a clear error per cell.

Pure: no database. Row numbers are the ones a spreadsheet program shows (the header is
row 1), so an error report points at the row ops see when they open the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext_noop

from erp.core.exceptions import ApplicationError, InvalidMoneyError
from erp.core.money import to_decimal
from erp.core.text import Phrase
from orders.canonical import CanonicalOrder

FIRST_DATA_ROW = 2

# Column lengths of the order tables; longer values are refused per cell rather than
# failing the whole order's transaction in the database.
ID_MAX_LENGTH = 64
SKU_MAX_LENGTH = 100

Row = tuple[int, dict[str, str]]


class ImportFileError(ApplicationError):
    """The file cannot be read at all (format, encoding, columns); nothing was imported."""

    code = "import_file_invalid"


@dataclass(frozen=True, slots=True, order=True)
class RowError:
    """One problem in one row of an import file."""

    row: int
    column: str
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "problem": self.problem}


@dataclass(frozen=True, slots=True)
class ParsedOrder:
    """One order of a file: the canonical order, or the row errors that keep it out.

    An order with any bad row has `order=None`: it is reported and skipped whole.
    """

    key: str
    first_row: int
    last_row: int
    order: CanonicalOrder | None
    errors: tuple[RowError, ...] = ()
    # What could be read of a refused order, so the month check still counts it as
    # "in the file"; a repeated order (rows not together) is not counted twice.
    placed_at: dt.datetime | None = None
    total: Decimal | None = None
    is_repeat: bool = False


def file_kind(head: bytes) -> str:
    """ "xlsx" for a zip container (every XLSX is one), else "csv"."""
    return "xlsx" if head.startswith(b"PK\x03\x04") else "csv"


def timezone_get(name: str) -> dt.tzinfo:
    """The IANA time zone `name` (e.g. "Asia/Shanghai").

    Raises: ImportFileError for an unknown zone.
    """
    if not name or name.upper() == "UTC":
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportFileError(
            Phrase(
                gettext_noop(
                    "Unknown time zone %(name)r; use an IANA name such as Asia/Shanghai."
                ),
                name=name,
            )
        ) from None


def _cell_text(value: object) -> str:
    """An XLSX cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Spreadsheets store numbers as binary floats; the shortest repr is the number
        # the user typed (19.99, not 19.989999...). Money is parsed from this text.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


class Table:
    """The header and data rows of a CSV or XLSX file, readable more than once."""

    def __init__(
        self,
        stream: IO[bytes],
        *,
        kind: str = "",
        sheet: str = "",
        delimiter: str = ",",
    ) -> None:
        self._stream = stream
        self._sheet = sheet
        self._delimiter = delimiter
        stream.seek(0)
        self.kind = kind or file_kind(stream.read(4))
        stream.seek(0)
        self.header = self._header()

    def _csv_rows(self) -> Iterator[list[str]]:
        self._stream.seek(0)
        # utf-8-sig: spreadsheet programs put a byte-order mark before the header.
        # codecs' reader, unlike TextIOWrapper, does not close the caller's stream.
        reader = codecs.getreader("utf-8-sig")(self._stream)
        try:
            yield from csv.reader(reader, delimiter=self._delimiter)
        except UnicodeDecodeError:
            raise ImportFileError(
                Phrase(
                    gettext_noop(
                        "The file is not UTF-8 text; save it as CSV UTF-8 and try again."
                    )
                )
            ) from None
        except csv.Error as exc:
            raise ImportFileError(
                Phrase(
                    gettext_noop("The file is not readable CSV: %(error)s."), error=exc
                )
            ) from None

    def _xlsx_rows(self) -> Iterator[list[str]]:
        from openpyxl import load_workbook

        self._stream.seek(0)
        try:
            book = load_workbook(self._stream, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl/zipfile raise many types for a bad XLSX
            raise ImportFileError(
                Phrase(
                    gettext_noop("The file could not be read as XLSX (%(error)s)."),
                    error=exc.__class__.__name__,
                )
            ) from None
        try:
            if self._sheet and self._sheet not in book.sheetnames:
                raise ImportFileError(
                    Phrase(
                        gettext_noop("The workbook has no sheet %(sheet)r."),
                        sheet=self._sheet,
                    ),
                    sheets=book.sheetnames,
                )
            sheet = book[self._sheet] if self._sheet else book.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                yield [_cell_text(v) for v in values]
        finally:
            book.close()

    def _raw(self) -> Iterator[list[str]]:
        return self._xlsx_rows() if self.kind == "xlsx" else self._csv_rows()

    def _header(self) -> list[str]:
        raw = self._raw()
        try:
            header = next(raw)
        except StopIteration:
            raise ImportFileError(Phrase(gettext_noop("The file is empty."))) from None
        finally:
            raw.close()
        return [h.strip() for h in header]

    def require(self, columns: Iterable[str]) -> None:
        """Refuse the file when a column the format needs is missing.

        Raises: ImportFileError naming every missing column.
        """
        present = set(self.header)
        missing = [c for c in columns if c not in present]
        if missing:
            raise ImportFileError(
                Phrase(
                    gettext_noop("The file lacks the column(s) %(columns)s."),
                    columns=", ".join(missing),
                ),
                missing=missing,
                found=self.header,
            )

    def rows(self) -> Iterator[Row]:
        """(row number, {column: text}) for every non-blank data row."""
        raw = self._raw()
        next(raw, None)
        header = self.header
        width = len(header)
        for number, values in enumerate(raw, start=FIRST_DATA_ROW):
            if not any(v.strip() for v in values):
                continue
            if len(values) < width:
                values = [*values, *([""] * (width - len(values)))]
            yield number, dict(zip(header, values, strict=False))


@dataclass(frozen=True, slots=True)
class RowGroup:
    """The rows of one order; `seen_at` is set when the order's rows are not together."""

    key: str
    rows: list[Row]
    seen_at: int | None = None


def rows_group(
    rows: Iterable[Row], *, key: Callable[[dict[str, str]], str]
) -> Iterator[RowGroup]:
    """Group consecutive rows of one order (store exports keep an order's rows together).

    Streams: only the current order is held in memory. An order whose rows come back
    after another order is yielded again with `seen_at`, for the parser to refuse.
    """
    first_row: dict[str, int] = {}
    current: list[Row] = []
    current_key = ""
    for number, row in rows:
        row_key = key(row).strip()
        if current and row_key == current_key:
            current.append((number, row))
            continue
        if current:
            yield _group(current_key, current, first_row)
        current, current_key = [(number, row)], row_key
    if current:
        yield _group(current_key, current, first_row)


def _group(key: str, rows: list[Row], first_row: dict[str, int]) -> RowGroup:
    seen_at = first_row.get(key) if key else None
    if key and seen_at is None:
        first_row[key] = rows[0][0]
    return RowGroup(key=key, rows=rows, seen_at=seen_at)


def rows_group_all(
    rows: Iterable[Row], *, key: Callable[[dict[str, str]], str]
) -> Iterator[RowGroup]:
    """Group rows by order wherever they are (hand-made sheets may be sorted by SKU)."""
    groups: dict[str, list[Row]] = {}
    blanks: list[RowGroup] = []
    for number, row in rows:
        row_key = key(row).strip()
        if not row_key:
            blanks.append(RowGroup(key="", rows=[(number, row)]))
            continue
        groups.setdefault(row_key, []).append((number, row))
    yield from (RowGroup(key=k, rows=v) for k, v in groups.items())
    yield from blanks


def parse_moment(
    text: str, *, tz: dt.tzinfo, formats: Iterable[str] = ()
) -> dt.datetime:
    """A time from a file as aware UTC; times without an offset are in `tz`.

    Raises: ValueError.
    """
    value: dt.datetime | None = None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        # Shopify exports: "2025-12-06 10:37:30 -0500" (space before the offset).
        for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", *formats):
            try:
                value = dt.datetime.strptime(text, fmt)  # noqa: DTZ007 - tz added below
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(dt.UTC)


class Cells:
    """Typed reads of one row; each bad cell adds a RowError instead of raising."""

    __slots__ = ("date_formats", "decimal_comma", "errors", "number", "row", "tz")

    def __init__(
        self,
        number: int,
        row: Mapping[str, str],
        errors: list[RowError],
        *,
        tz: dt.tzinfo = dt.UTC,
        date_formats: tuple[str, ...] = (),
        decimal_comma: bool = False,
    ) -> None:
        self.number = number
        self.row = row
        self.errors = errors
        self.tz = tz
        self.date_formats = date_formats
        self.decimal_comma = decimal_comma

    def fail(self, column: str | None, problem: str) -> None:
        self.errors.append(RowError(self.number, column or "", problem))

    def raw(self, column: str | None) -> str:
        if not column:
            return ""
        return (self.row.get(column) or "").strip()

    def text(
        self,
        column: str | None,
        *,
        required: bool = False,
        max_length: int | None = None,
        truncate_at: int | None = None,
    ) -> str:
        value = self.raw(column)
        if required and not value:
            self.fail(
                column, Phrase(gettext_noop("This cell is empty; it is required."))
            )
        if max_length is not None and len(value) > max_length:
            self.fail(
                column,
                Phrase(
                    gettext_noop("Longer than %(count)s characters."), count=max_length
                ),
            )
        if truncate_at is not None:
            value = value[:truncate_at]
        return value

    def money(
        self,
        column: str | None,
        *,
        required: bool = False,
        default: Decimal = Decimal(0),
        allow_negative: bool = False,
    ) -> Decimal:
        text = self.raw(column)
        if not text:
            if required:
                self.fail(
                    column,
                    Phrase(gettext_noop("This cell is empty; an amount is required.")),
                )
            return default
        if self.decimal_comma:
            text = text.replace(".", "").replace(" ", "").replace(",", ".")
        try:
            amount = to_decimal(text)
        except InvalidMoneyError:
            self.fail(
                column,
                Phrase(
                    gettext_noop("%(value)r is not an amount (write it like 1234.50)."),
                    value=text,
                ),
            )
            return default
        if amount < 0 and not allow_negative:
            self.fail(
                column, Phrase(gettext_noop("%(value)s is negative."), value=text)
            )
            return default
        return amount

    def quantity(self, column: str | None, *, absolute: bool = False) -> int:
        text = self.raw(column)
        if absolute:
            text = text.removeprefix("-")
        # XLSX numbers arrive as "2" or "2.0".
        whole = text[:-2] if text.endswith(".0") else text
        if not whole.isdigit():
            self.fail(
                column,
                Phrase(
                    gettext_noop("%(value)r is not a whole number of 0 or more."),
                    value=text,
                ),
            )
            return 0
        return int(whole)

    def moment(
        self, column: str | None, *, required: bool = False
    ) -> dt.datetime | None:
        text = self.raw(column)
        if not text:
            if required:
                self.fail(
                    column,
                    Phrase(
                        gettext_noop("This cell is empty; a date and time is required.")
                    ),
                )
            return None
        try:
            return parse_moment(text, tz=self.tz, formats=self.date_formats)
        except ValueError:
            self.fail(
                column,
                Phrase(gettext_noop("%(value)r is not a date and time."), value=text),
            )
            return None

    def boolean(self, column: str | None, *, default: bool) -> bool:
        text = self.raw(column).lower()
        if not text:
            return default
        if text in ("true", "yes", "1", "y"):
            return True
        if text in ("false", "no", "0", "n"):
            return False
        self.fail(
            column, Phrase(gettext_noop("%(value)r is not true or false."), value=text)
        )
        return default


def currency_check(
    cells: Cells, column: str | None, value: str, *, store_currency: str
) -> str:
    """The order's currency, which must be the store's: amounts are kept as the store sent them."""
    code = value.upper()
    if not (len(code) == 3 and code.isalpha()):
        cells.fail(
            column,
            Phrase(
                gettext_noop("%(value)r is not a three-letter currency code."),
                value=value,
            ),
        )
    elif code != store_currency.upper():
        cells.fail(
            column,
            Phrase(
                gettext_noop(
                    "The order is in %(currency)s but the store's currency is "
                    "%(store_currency)s; is this the right store?"
                ),
                currency=code,
                store_currency=store_currency.upper(),
            ),
        )
    return code


def latest(*moments: dt.datetime | None) -> dt.datetime | None:
    """The latest of the known times (exports carry no "updated at")."""
    known = [m for m in moments if m is not None]
    return max(known) if known else None
