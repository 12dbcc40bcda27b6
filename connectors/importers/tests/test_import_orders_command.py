"""manage.py import_orders: files in, orders, error report and month check out."""

import io
import shutil

import pytest
from django.core.management import CommandError, call_command

from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken_file(fixture_path, tmp_path):
    path = tmp_path / "orders_export.csv"
    shutil.copy(fixture_path("shopify_orders_export_broken.csv"), path)
    return path


def import_orders(*args):
    out = io.StringIO()
    call_command("import_orders", *args, "--no-progress", stdout=out)
    return out.getvalue()


def test_writes_the_error_report_and_month_check_and_fails_on_bad_orders(
    broken_file, inr_store, tmp_path
):
    errors_out = tmp_path / "errors.csv"

    with pytest.raises(CommandError, match="1 order\\(s\\) were not imported"):
        import_orders(
            str(broken_file),
            "--channel=in-shop",
            "--format=shopify_csv",
            f"--errors-out={errors_out}",
        )

    assert errors_out.read_text() == (
        "row,column,problem\n"
        "8,Lineitem quantity,'two' is not a whole number of 0 or more.\n"
    )
    check = (tmp_path / "orders_export.csv.check.csv").read_text().splitlines()
    assert check == [
        "month,currency,file_orders,db_orders,file_gross,db_gross,file_refunds,db_refunds,matches",
        "2025-12,INR,2,1,29352.28,11594.00,0.00,0.00,NO",
    ]
    assert list(Order.objects.values_list("number", flat=True)) == ["#1050"]


def test_a_second_run_reports_everything_unchanged(fixture_path, inr_store, tmp_path):
    path = tmp_path / "sample.csv"
    shutil.copy(fixture_path("shopify_orders_export_sample.csv"), path)
    args = (str(path), "--channel=in-shop", "--format=shopify_csv")
    first = import_orders(*args)

    second = import_orders(*args)

    assert "2 orders in the file, 2 new, 0 changed, 0 unchanged, 0 failed" in first
    assert "2 orders in the file, 0 new, 0 changed, 2 unchanged, 0 failed" in second
    assert "2025-12            2          2         29352.28         29352.28" in second
    assert (tmp_path / "sample.csv.errors.csv").read_text() == "row,column,problem\n"


def test_dry_run_writes_no_orders(fixture_path, inr_store, tmp_path):
    path = tmp_path / "sample.csv"
    shutil.copy(fixture_path("shopify_orders_export_sample.csv"), path)

    out = import_orders(
        str(path), "--channel=in-shop", "--format=shopify_csv", "--dry-run"
    )

    assert out.startswith(
        "Dry run (nothing written) into in-shop: 2 orders in the file"
    )
    assert Order.objects.exists() is False


def test_generic_needs_its_mapping_and_the_store_must_exist(fixture_path, usd_store):
    path = str(fixture_path("generic_orders.csv"))

    with pytest.raises(CommandError, match="needs a column mapping"):
        import_orders(path, "--channel=us-shop", "--format=generic")
    with pytest.raises(CommandError, match="No store with code 'nope'"):
        import_orders(path, "--channel=nope", "--format=generic")
