"""Reading CSV/XLSX uploads (tablib through django-import-export's formats)."""

from __future__ import annotations

from collections.abc import Sequence

import tablib
from django.utils.translation import gettext
from import_export.formats.base_formats import CSV, XLSX

from logistics.exceptions import ImportFileError

FORMATS = {"csv": CSV, "xlsx": XLSX}
# The header is row 1 in every spreadsheet program, so data starts at row 2.
FIRST_DATA_ROW = 2


def dataset_load(
    *,
    content: bytes,
    file_format: str,
    required: Sequence[str],
    allowed: Sequence[str],
) -> tablib.Dataset:
    """Read a CSV/XLSX upload; refuses unreadable files and missing or unknown columns."""
    fmt_class = FORMATS.get(file_format.lower())
    if fmt_class is None:
        raise ImportFileError(
            gettext("Unknown file format %(file_format)r; use csv or xlsx.")
            % {"file_format": file_format},
            allowed=sorted(FORMATS),
        )
    try:
        if file_format.lower() == "csv":
            # utf-8-sig: spreadsheet programs put a byte-order mark before the header.
            dataset = fmt_class().create_dataset(content.decode("utf-8-sig"))
        else:
            dataset = fmt_class().create_dataset(content)
    except (UnicodeDecodeError, ValueError, KeyError, OSError, StopIteration) as exc:
        raise ImportFileError(
            gettext("The file could not be read as %(file_format)s: %(exc)s")
            % {"file_format": file_format.upper(), "exc": exc}
        ) from None
    except Exception as exc:  # openpyxl/zipfile raise many types for a bad XLSX
        raise ImportFileError(
            gettext("The file could not be read as %(file_format)s (%(name)s).")
            % {"file_format": file_format.upper(), "name": exc.__class__.__name__}
        ) from None
    headers = [str(h or "").strip().lower() for h in (dataset.headers or [])]
    dataset.headers = headers
    missing = [c for c in required if c not in headers]
    unknown = [h for h in headers if h and h not in allowed]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(
                gettext("missing %(columns)s.") % {"columns": ", ".join(missing)}
            )
        if unknown:
            problems.append(
                gettext("unknown %(columns)s.") % {"columns": ", ".join(unknown)}
            )
        raise ImportFileError(
            gettext("The columns are wrong: %(problems)s")
            % {"problems": " ".join(problems)},
            missing=missing,
            unknown=unknown,
            allowed=list(allowed),
        )
    return dataset
