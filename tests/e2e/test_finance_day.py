"""Finance in a real browser: run a reconciliation and download its XLSX."""

from __future__ import annotations

import datetime

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_finance_runs_a_reconciliation_and_downloads_the_xlsx(
    demo, page, screenshot, tmp_path
):
    from finance.models import ReconciliationDifference, ReconciliationRun

    today = datetime.date.today()  # noqa: DTZ011  (the date finance types in)

    # when: finance signs in, opens the reports and runs the month so far
    login(page, "finance", "demo-finance-2026")
    page.click("#user-tools a:text('Finance reports')")
    page.click("text=Reconciliation: orders, payments, payouts, refunds")
    page.fill("#id_date_from", (today - datetime.timedelta(days=30)).isoformat())
    page.fill("#id_date_to", today.isoformat())
    page.click("#run-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    screenshot(page, "reconciliation")

    # ... and downloads what the run found
    with page.expect_download() as download:
        page.click("text=Export XLSX")
    xlsx = tmp_path / download.value.suggested_filename
    download.value.save_as(xlsx)

    # then: one run, its differences on screen and in the workbook, row for row
    run = ReconciliationRun.objects.get()
    assert f"Run #{run.pk}:" in page.locator(".messagelist").inner_text()
    differences = ReconciliationDifference.objects.filter(items__run=run).distinct()
    assert run.differences_found == differences.count() > 0
    assert page.locator("#differences tr[data-kind]").count() == differences.count()
    sheet = load_workbook(xlsx).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "difference", "status")
    assert sorted(row[0] for row in rows[1:]) == sorted(d.pk for d in differences)
    assert xlsx.name.startswith("reconciliation-")
