"""Importing products and stock counts from CSV/XLSX, all rows or none.

Every bad row is reported with its sheet row number (the header is row 1). Unless
the caller explicitly asks to import the valid rows, one bad row means nothing is
written; a dry run validates everything (including the stock rules) and writes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.utils.translation import gettext_noop

from erp.core.exceptions import ApplicationError
from erp.core.text import Phrase
from inventory.locks import stock_items_lock
from inventory.models import Batch, Product, Warehouse
from inventory.services.stock import stock_adjust, stock_item_id_get_or_create
from inventory.spreadsheets import (
    PRODUCT_COLUMNS,
    STOCK_COUNT_COLUMNS,
    STOCK_COUNT_INFO_COLUMNS,
    ProductResource,
    dataset_load,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# The header is row 1 in every spreadsheet program, so data starts at row 2.
FIRST_DATA_ROW = 2


@dataclass(frozen=True)
class RowError:
    """One problem in one row of an import file."""

    row: int
    column: str
    message: str


@dataclass(frozen=True)
class ImportReport:
    """What an import found and did."""

    total_rows: int
    written_rows: int
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    dry_run: bool = False

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_rows": self.total_rows,
            "written_rows": self.written_rows,
            "error_rows": self.error_rows,
            "committed": self.committed,
            "dry_run": self.dry_run,
            "errors": [
                {"row": e.row, "column": e.column, "message": e.message}
                for e in self.errors
            ],
        }


@transaction.atomic(durable=True)
def product_import(
    *,
    content: bytes,
    file_format: str,
    import_valid_rows: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Create or update products by SKU from a CSV/XLSX file.

    Raises: ImportFileError if the file or its columns are wrong.
    """
    dataset = dataset_load(
        content=content,
        file_format=file_format,
        required=("sku", "title"),
        allowed=PRODUCT_COLUMNS,
    )
    result = ProductResource().import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=not import_valid_rows,
        raise_errors=False,
    )
    errors: list[RowError] = []
    for invalid in result.invalid_rows:
        for column, messages in invalid.error_dict.items():
            for message in messages:
                errors.append(
                    RowError(
                        row=invalid.number + FIRST_DATA_ROW - 1,
                        column="" if column == NON_FIELD_ERRORS else column,
                        message=str(message),
                    )
                )
    for error_row in result.error_rows:
        for error in error_row.errors:
            errors.append(
                RowError(
                    row=error_row.number + FIRST_DATA_ROW - 1,
                    column="",
                    message=str(error.error),
                )
            )
    errors.sort(key=lambda e: (e.row, e.column))
    # import_data rolled its own savepoint back in these cases.
    rolled_back = dry_run or result.has_errors() or (errors and not import_valid_rows)
    written = 0 if rolled_back else len(result.valid_rows())
    return ImportReport(
        total_rows=result.total_rows,
        written_rows=written,
        errors=errors,
        committed=not rolled_back,
        dry_run=dry_run,
    )


@dataclass(frozen=True)
class _Count:
    row: int
    product_id: int
    warehouse_id: int
    batch_id: int | None
    counted_quantity: int
    reason: str


def _parse_counts(
    rows: list[dict[str, Any]],
) -> tuple[list[_Count], list[RowError]]:
    skus = {str(r.get("sku") or "").strip() for r in rows}
    codes = {str(r.get("warehouse") or "").strip() for r in rows}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    warehouses = {w.code: w for w in Warehouse.objects.filter(code__in=codes)}
    lots = {
        (b.product_id, b.code): b
        for b in Batch.objects.filter(product__sku__in=skus).only(
            "pk", "product_id", "code"
        )
    }
    counts: list[_Count] = []
    errors: list[RowError] = []
    seen: dict[tuple[int, int, int | None], int] = {}
    for number, row in enumerate(rows, start=FIRST_DATA_ROW):
        row_errors: list[RowError] = []
        sku = str(row.get("sku") or "").strip()
        code = str(row.get("warehouse") or "").strip()
        lot_code = str(row.get("lot") or "").strip()
        product = products.get(sku)
        warehouse = warehouses.get(code)
        if product is None:
            row_errors.append(RowError(number, "sku", f"Unknown SKU {sku!r}."))
        elif product.is_bundle:
            row_errors.append(
                RowError(number, "sku", f"{sku} is a bundle; count its components.")
            )
        if warehouse is None:
            row_errors.append(
                RowError(number, "warehouse", f"Unknown warehouse {code!r}.")
            )
        batch_id: int | None = None
        if product is not None and not product.is_bundle:
            if product.is_lot_tracked and not lot_code:
                row_errors.append(
                    RowError(number, "lot", f"{sku} is lot-tracked; give the lot.")
                )
            elif product.is_lot_tracked:
                batch = lots.get((product.pk, lot_code))
                if batch is None:
                    row_errors.append(
                        RowError(number, "lot", f"{sku} has no lot {lot_code!r}.")
                    )
                else:
                    batch_id = batch.pk
            elif lot_code:
                row_errors.append(
                    RowError(
                        number, "lot", f"{sku} is not lot-tracked; leave lot empty."
                    )
                )
        raw = row.get("counted_quantity")
        quantity: int | None = None
        try:
            as_text = str(raw).strip()
            if as_text.endswith(".0"):  # XLSX numbers arrive as floats like 12.0
                as_text = as_text[:-2]
            quantity = int(as_text)
            if quantity < 0:
                raise ValueError
        except (TypeError, ValueError):
            row_errors.append(
                RowError(
                    number,
                    "counted_quantity",
                    f"Give a whole number of 0 or more, not {raw!r}.",
                )
            )
        if not row_errors and product and warehouse and quantity is not None:
            key = (product.pk, warehouse.pk, batch_id)
            if key in seen:
                row_errors.append(
                    RowError(number, "", f"Same stock row as row {seen[key]}.")
                )
            else:
                seen[key] = number
                counts.append(
                    _Count(
                        row=number,
                        product_id=product.pk,
                        warehouse_id=warehouse.pk,
                        batch_id=batch_id,
                        counted_quantity=quantity,
                        reason=str(row.get("reason") or "").strip(),
                    )
                )
        errors.extend(row_errors)
    errors.sort(key=lambda e: (e.row, e.column))
    return counts, errors


@transaction.atomic(durable=True)
def stock_count_import(
    *,
    content: bytes,
    file_format: str,
    import_valid_rows: bool = False,
    dry_run: bool = False,
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> ImportReport:
    """Set on-hand stock to the counted quantities of a count sheet.

    Each row becomes one adjustment (ledger line) with the row's reason or
    "Stock count import".
    Locks: every StockItem row in the file at once, pk ascending, before any write.
    Raises: ImportFileError if the file or its columns are wrong.
    """
    dataset = dataset_load(
        content=content,
        file_format=file_format,
        required=("sku", "warehouse", "counted_quantity"),
        allowed=STOCK_COUNT_COLUMNS + STOCK_COUNT_INFO_COLUMNS,
    )
    rows = [
        dict(zip(dataset.headers, values, strict=False))
        for values in dataset
        if any(v not in (None, "") for v in values)
    ]
    counts, errors = _parse_counts(rows)
    if errors and not import_valid_rows:
        return ImportReport(
            total_rows=len(rows), written_rows=0, errors=errors, dry_run=dry_run
        )
    item_ids = [
        stock_item_id_get_or_create(
            product_id=c.product_id, warehouse_id=c.warehouse_id, batch_id=c.batch_id
        )
        for c in counts
    ]
    # One ordered lock over every row first: adjusting row by row in file order would
    # lock in an arbitrary order and could deadlock with an allocation.
    stock_items_lock(stock_item_ids=item_ids)
    written = 0
    for count in counts:
        try:
            with transaction.atomic():
                stock_adjust(
                    product_id=count.product_id,
                    warehouse_id=count.warehouse_id,
                    batch_id=count.batch_id,
                    counted_quantity=count.counted_quantity,
                    reason=count.reason or Phrase(gettext_noop("Stock count import")),
                    reference=reference,
                    actor=actor,
                )
            written += 1
        except ApplicationError as exc:
            errors.append(RowError(count.row, "counted_quantity", exc.message))
    errors.sort(key=lambda e: (e.row, e.column))
    committed = not dry_run and (not errors or import_valid_rows)
    if not committed:
        transaction.set_rollback(True)
    return ImportReport(
        total_rows=len(rows),
        written_rows=written if committed else 0,
        errors=errors,
        committed=committed,
        dry_run=dry_run,
    )
