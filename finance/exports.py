"""XLSX exports of finance tables (openpyxl), numbers as numbers so sums work in Excel."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_table(
    *, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> bytes:
    """One sheet: a bold header row, then the rows; Decimals stay exact numbers."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]  # Excel's limit
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        # openpyxl writes Decimal as a number cell; only its text form would lose that.
        sheet.append(
            [
                v if isinstance(v, Decimal | int | float) or v is None else str(v)
                for v in row
            ]
        )
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
