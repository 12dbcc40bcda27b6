"""Reading import files: UTF-8 CSV with a header row, and per-row error reports."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from finance.exceptions import ImportFileError

# The header is row 1 in every spreadsheet program, so data starts at row 2.
FIRST_DATA_ROW = 2


@dataclass(frozen=True)
class RowError:
    """One problem in one row of an import file (row numbers as a spreadsheet shows)."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


def decode_text(content: bytes) -> str:
    """Bytes of an upload as text; a UTF-8 BOM (Excel, PayPal) is dropped."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            gettext("The file is not UTF-8 text; save it as CSV UTF-8 and try again.")
        ) from None


def csv_read(
    content: bytes, *, required: Collection[str]
) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV upload as (header, rows); refuses files that lack a required column."""
    text = decode_text(content)
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ImportFileError(gettext("The file is empty.")) from None
    except csv.Error as exc:
        raise ImportFileError(
            gettext("The file is not readable CSV: %(exc)s.") % {"exc": exc}
        ) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFileError(
            gettext("The file lacks the column(s) %(columns)s.")
            % {"columns": ", ".join(missing)},
            missing=missing,
            found=header,
        )
    rows: list[dict[str, str]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                rows.append({})
                continue
            rows.append(
                {
                    name: (values[i].strip() if i < len(values) else "")
                    for i, name in enumerate(header)
                }
            )
    except csv.Error as exc:
        raise ImportFileError(
            gettext("The file is not readable CSV: %(exc)s.") % {"exc": exc}
        ) from None
    return header, rows
