"""Product and stock-count imports: a per-row report, and all rows or none."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import Product, StockItem, StockMovement
from inventory.planning import AllocationRequest
from inventory.services.allocation import stock_allocate
from inventory.services.imports import product_import, stock_count_import
from inventory.services.stock import stock_receive
from inventory.spreadsheets import ImportFileError, product_export, stock_count_export
from inventory.tests.factories import BatchFactory, ProductFactory

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = (
    "sku,title,weight_grams,country_of_origin,unit_cost,is_lot_tracked\n"
    "TEE-1,Tee one,180,cn,3.20,0\n"
    ",Missing SKU,10,CN,1,0\n"
    "TEE-2,Tee two,heavy,CN,1,0\n"
    "SERUM-1,Serum,50,KR,7.5,1\n"
)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_one_bad_row_means_no_product_is_written():
    report = product_import(content=GOOD_AND_BAD.encode(), file_format="csv")

    assert not report.committed
    assert report.written_rows == 0
    assert {(e.row, e.column) for e in report.errors} == {
        (3, "sku"),
        (4, "weight_grams"),
    }
    assert not Product.objects.exists()


def test_import_valid_rows_writes_the_good_ones_and_reports_the_rest():
    report = product_import(
        content=GOOD_AND_BAD.encode(), file_format="csv", import_valid_rows=True
    )

    assert report.committed
    assert report.written_rows == 2
    assert report.error_rows == 2
    tee = Product.objects.get(sku="TEE-1")
    assert (tee.weight_grams, tee.country_of_origin, str(tee.unit_cost)) == (
        180,
        "CN",
        "3.2000",
    )
    assert Product.objects.get(sku="SERUM-1").is_lot_tracked


def test_import_updates_existing_products_by_sku_from_xlsx():
    ProductFactory(sku="TEE-1", title="Old title")

    report = product_import(
        content=_xlsx([["SKU", "Title", "HS_code"], ["TEE-1", "New title", "6109.10"]]),
        file_format="xlsx",
    )

    assert report.committed
    product = Product.objects.get(sku="TEE-1")
    assert (product.title, product.hs_code) == ("New title", "6109.10")


def test_dry_run_validates_and_writes_nothing():
    report = product_import(
        content=b"sku,title\nA,a\n", file_format="csv", dry_run=True
    )

    assert report.errors == []
    assert not report.committed
    assert not Product.objects.exists()


def test_wrong_columns_are_refused_with_a_clear_message():
    with pytest.raises(ImportFileError) as exc:
        product_import(content=b"sku,titel\nA,a\n", file_format="csv")

    assert exc.value.extra["missing"] == ["title"]
    assert exc.value.extra["unknown"] == ["titel"]


def test_a_broken_xlsx_is_refused():
    with pytest.raises(ImportFileError, match="could not be read"):
        product_import(content=b"not a zip", file_format="xlsx")


def test_product_export_round_trips():
    ProductFactory(sku="TEE-1", title="Tee, black", weight_grams=180)

    content = product_export(queryset=Product.objects.all(), file_format="csv")
    Product.objects.all().delete()
    report = product_import(content=content, file_format="csv")

    assert report.committed, report.errors
    assert Product.objects.get(sku="TEE-1").title == "Tee, black"


def test_product_export_in_chinese_has_chinese_headers_and_goes_back_in():
    from django.core.management import call_command
    from django.utils import translation

    call_command("compile_catalogues", verbosity=0)
    ProductFactory(sku="TEE-2", title="Tee, white", weight_grams=175)

    with translation.override("zh-hans"):
        content = product_export(queryset=Product.objects.all(), file_format="csv")
    Product.objects.all().delete()
    report = product_import(content=content, file_format="csv")

    header = content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:4] == ["SKU", "名称", "条码", "重量（克）"]
    assert "sku" not in header
    assert report.committed, report.errors
    assert Product.objects.get(sku="TEE-2").weight_grams == 175


def test_stock_count_sheet_round_trip_adjusts_only_changed_rows(
    product, warehouse, ops_user, assert_ledger_consistent
):
    # given: an exported count sheet, filled in by the counter
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=10)
    sheet = stock_count_export(
        queryset=StockItem.objects.all(), file_format="csv"
    ).decode()
    assert sheet.splitlines()[1].startswith(f"{product.sku},")
    filled = sheet.replace(",10,0,10,", ",10,0,8,")

    # when
    report = stock_count_import(
        content=filled.encode(), file_format="csv", reference="COUNT-7", actor=ops_user
    )

    # then
    assert report.committed, report.errors
    assert StockItem.objects.get().quantity_on_hand == 8
    movement = StockMovement.objects.filter(reference="COUNT-7").get()
    assert (movement.quantity_on_hand_delta, movement.reason) == (
        -2,
        "Stock count import",
    )
    assert_ledger_consistent()


def test_stock_count_with_a_bad_row_changes_nothing(warehouse):
    # given
    tee, serum = ProductFactory(sku="TEE"), BatchFactory(code="L1").product
    stock_receive(product_id=tee.pk, warehouse_id=warehouse.pk, quantity=10)
    stock_allocate(
        requests=[AllocationRequest(None, tee.pk, 6)], warehouse_id=warehouse.pk
    )
    movements = StockMovement.objects.count()
    content = (
        "sku,warehouse,lot,counted_quantity\n"
        f"{serum.sku},sz-main,L1,5\n"
        "NOPE,sz-main,,1\n"
        f"TEE,sz-main,,4\n"  # below the 6 allocated
        f"{serum.sku},sz-main,L9,x\n"
    ).encode()

    # when
    report = stock_count_import(content=content, file_format="csv")

    # then: parse errors are reported before anything is tried
    assert not report.committed
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "sku"),
        (5, "counted_quantity"),
        (5, "lot"),
    ]
    assert StockMovement.objects.count() == movements

    # when: the parse errors are fixed, the stock rule still refuses row 4
    report = stock_count_import(
        content=(
            "sku,warehouse,lot,counted_quantity\n"
            f"{serum.sku},sz-main,L1,5\nTEE,sz-main,,4\n"
        ).encode(),
        file_format="csv",
    )

    # then
    assert not report.committed
    assert [(e.row, e.column) for e in report.errors] == [(3, "counted_quantity")]
    assert "allocated" in report.errors[0].message
    assert StockMovement.objects.count() == movements
    assert not StockItem.objects.filter(product=serum).exists()


def test_stock_count_import_valid_rows_applies_the_good_ones(warehouse):
    tee = ProductFactory(sku="TEE")

    report = stock_count_import(
        content=_xlsx(
            [
                ["sku", "warehouse", "counted_quantity", "reason"],
                ["TEE", "sz-main", 12, "Year-end count"],
                ["TEE", "nowhere", 3, ""],
            ]
        ),
        file_format="xlsx",
        import_valid_rows=True,
    )

    assert report.committed
    assert (report.written_rows, report.error_rows) == (1, 1)
    item = StockItem.objects.get(product=tee)
    assert item.quantity_on_hand == 12
    assert item.movements.get().reason == "Year-end count"


def test_import_api_reports_rows_and_status(ops_user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(ops_user)

    response = api.post(
        "/api/v1/inventory/products/import/",
        {"file": SimpleUploadedFile("products.csv", GOOD_AND_BAD.encode())},
        format="multipart",
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["committed"], body["error_rows"], body["total_rows"]) == (False, 2, 4)
    assert body["errors"][0]["row"] == 3
    assert not Product.objects.exists()


def test_export_api_serves_xlsx(ops_user, product):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(ops_user)

    response = api.get("/api/v1/inventory/products/export/?file_format=xlsx")

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [c.value for c in book.active[2]][:2] == [product.sku, product.title]
