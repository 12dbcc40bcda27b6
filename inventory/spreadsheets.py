"""CSV/XLSX plumbing for imports and exports (django-import-export and tablib).

Reading a file and writing one are here; the import services that change data are
in inventory/services/imports.py.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import tablib
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from import_export import fields, resources
from import_export.formats.base_formats import CSV, XLSX

from erp.core.exceptions import ApplicationError
from inventory.models import Product, StockItem

FORMATS = {"csv": CSV, "xlsx": XLSX}

PRODUCT_COLUMNS = (
    "sku",
    "title",
    "barcode",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "hs_code",
    "country_of_origin",
    "unit_cost",
    "cost_currency",
    "is_lot_tracked",
    "shelf_life_days",
    "is_active",
)

STOCK_COUNT_COLUMNS = ("sku", "warehouse", "lot", "counted_quantity", "reason")
# Columns the export adds for the counter's information; ignored on import.
STOCK_COUNT_INFO_COLUMNS = (
    "title",
    "lot_expires_on",
    "quantity_on_hand",
    "quantity_allocated",
)

# Column headers in the reader's language. The msgids are the column codes (what the
# English export writes and the import documents); an import accepts a column's code or
# its label in any of the site's languages, so a file exported in Chinese goes back in.
COLUMN_LABELS = {
    "sku": gettext_noop("sku"),
    "title": gettext_noop("title"),
    "barcode": gettext_noop("barcode"),
    "weight_grams": gettext_noop("weight_grams"),
    "length_mm": gettext_noop("length_mm"),
    "width_mm": gettext_noop("width_mm"),
    "height_mm": gettext_noop("height_mm"),
    "hs_code": gettext_noop("hs_code"),
    "country_of_origin": gettext_noop("country_of_origin"),
    "unit_cost": gettext_noop("unit_cost"),
    "cost_currency": gettext_noop("cost_currency"),
    "is_lot_tracked": gettext_noop("is_lot_tracked"),
    "shelf_life_days": gettext_noop("shelf_life_days"),
    "is_active": gettext_noop("is_active"),
    "warehouse": gettext_noop("warehouse"),
    "lot": gettext_noop("lot"),
    "lot_expires_on": gettext_noop("lot_expires_on"),
    "quantity_on_hand": gettext_noop("quantity_on_hand"),
    "quantity_allocated": gettext_noop("quantity_allocated"),
    "counted_quantity": gettext_noop("counted_quantity"),
    "reason": gettext_noop("reason"),
}


def column_label(code: str) -> str:
    """A column's header in the active language (the code itself in English)."""
    return gettext(COLUMN_LABELS[code]) if code in COLUMN_LABELS else code


def _column_code(header: str) -> str:
    """The column code a header names, whichever language the file was exported in."""
    for code, label in COLUMN_LABELS.items():
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                if gettext(label).strip().lower() == header:
                    return code
    return header


class ImportFileError(ApplicationError):
    """The file cannot be read, or its columns are wrong; nothing was imported."""

    code = "import_file_invalid"


def content_type_for(file_format: str) -> str:
    """The MIME type of an export in this format."""
    return _format(file_format).CONTENT_TYPE


def _format(file_format: str) -> CSV | XLSX:
    try:
        return FORMATS[file_format.lower()]()
    except KeyError:
        raise ImportFileError(
            gettext("Unknown file format %(file_format)r; use csv or xlsx.")
            % {"file_format": file_format},
            allowed=sorted(FORMATS),
        ) from None


def dataset_load(
    *,
    content: bytes,
    file_format: str,
    required: Collection[str],
    allowed: Collection[str],
) -> tablib.Dataset:
    """Read a CSV/XLSX upload; refuses unreadable files and missing or unknown columns."""
    fmt = _format(file_format)
    try:
        if file_format.lower() == "csv":
            # utf-8-sig: spreadsheet programs put a byte-order mark before the header.
            dataset = fmt.create_dataset(content.decode("utf-8-sig"))
        else:
            dataset = fmt.create_dataset(content)
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
    headers = [
        _column_code(str(h or "").strip().lower()) for h in (dataset.headers or [])
    ]
    dataset.headers = headers
    missing = [c for c in required if c not in headers]
    unknown = [h for h in headers if h and h not in allowed]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(
                gettext("missing %(columns)s") % {"columns": ", ".join(missing)}
            )
        if unknown:
            parts.append(
                gettext("unknown %(columns)s") % {"columns": ", ".join(unknown)}
            )
        raise ImportFileError(
            gettext("The columns are wrong: %(problems)s.")
            % {"problems": "; ".join(parts)},
            missing=missing,
            unknown=unknown,
            allowed=list(allowed),
        )
    return dataset


class ProductResource(resources.ModelResource):
    """Product master data as rows, matched by SKU."""

    class Meta:
        model = Product
        import_id_fields = ("sku",)
        fields = PRODUCT_COLUMNS
        export_order = PRODUCT_COLUMNS
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = False

    def import_field(
        self,
        field: fields.Field,
        instance: Product,
        row: dict[str, Any],
        is_m2m: bool = False,
        **kwargs: Any,
    ) -> None:
        try:
            super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)
        except ArithmeticError:
            # Number widgets parse through Decimal, whose InvalidOperation is not a
            # ValueError; as one it becomes a per-row validation error, not a crash.
            raise ValueError(
                gettext("%(value)r is not a number.")
                % {"value": row.get(field.column_name)}
            ) from None

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        # Strings as people type them: trim, upper-case codes, empty means default.
        for key, value in list(row.items()):
            if isinstance(value, str):
                row[key] = value.strip()
        for key in ("country_of_origin", "cost_currency"):
            if row.get(key):
                row[key] = str(row[key]).upper()
        for key in ("cost_currency", "unit_cost", "is_active", "is_lot_tracked"):
            if key in row and row[key] in ("", None):
                del row[key]


class StockCountResource(resources.Resource):
    """Stock rows as a count sheet: fill in counted_quantity and import it back."""

    sku = fields.Field(attribute="product__sku", column_name="sku")
    title = fields.Field(attribute="product__title", column_name="title")
    warehouse = fields.Field(attribute="warehouse__code", column_name="warehouse")
    lot = fields.Field(attribute="batch__code", column_name="lot")
    lot_expires_on = fields.Field(
        attribute="batch__expires_on", column_name="lot_expires_on"
    )
    quantity_on_hand = fields.Field(
        attribute="quantity_on_hand", column_name="quantity_on_hand"
    )
    quantity_allocated = fields.Field(
        attribute="quantity_allocated", column_name="quantity_allocated"
    )
    counted_quantity = fields.Field(
        attribute="quantity_on_hand", column_name="counted_quantity"
    )
    reason = fields.Field(column_name="reason")

    class Meta:
        export_order = (
            "sku",
            "title",
            "warehouse",
            "lot",
            "lot_expires_on",
            "quantity_on_hand",
            "quantity_allocated",
            "counted_quantity",
            "reason",
        )

    def dehydrate_reason(self, item: StockItem) -> str:
        return ""


def _export(dataset: tablib.Dataset, file_format: str) -> bytes:
    dataset.headers = [column_label(h) for h in dataset.headers or []]
    data = _format(file_format).export_data(dataset)
    return data.encode("utf-8") if isinstance(data, str) else data


def product_export(*, queryset: QuerySet[Product], file_format: str) -> bytes:
    """Products as a CSV/XLSX file with the import's columns."""
    return _export(ProductResource().export(queryset=queryset), file_format)


def stock_count_export(*, queryset: QuerySet[StockItem], file_format: str) -> bytes:
    """Stock rows as a count sheet (counted_quantity pre-filled with on-hand)."""
    queryset = queryset.select_related("product", "warehouse", "batch").order_by(
        "warehouse__code", "product__sku", "batch__code", "pk"
    )
    return _export(StockCountResource().export(queryset=queryset), file_format)


def export_filename(prefix: str, file_format: str) -> str:
    """A download name such as products-20260601-0930.xlsx."""
    return f"{prefix}-{timezone.now():%Y%m%d-%H%M}.{file_format.lower()}"
