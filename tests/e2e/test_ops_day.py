"""Ops in a real browser: from the dashboard to a held order, allocation, labels and a print batch."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import login, run_action

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ORDERS = "/admin/orders/order/"
SHIPMENTS = "/admin/logistics/shipment/"


def _tick(tab, number: str) -> None:  # type: ignore[no-untyped-def]
    tab.locator("#result_list tr", has_text=number).locator(
        "input.action-select"
    ).check()


def test_ops_approves_allocates_ships_and_prints(demo, page, screenshot, tmp_path):
    from inventory.models import Product, Warehouse
    from inventory.services.stock import stock_receive
    from logistics.choices import ShipmentStatus
    from logistics.documents import pdf_page_count
    from logistics.models import Shipment
    from logistics.tests.factories import rate_card_service
    from orders.choices import OrderStatus
    from orders.models import Order

    # given: the demo day (#1003 held for fraud risk, #1002 short of serum), a rate-card
    # carrier for the US, and the missing serum arriving at the LA warehouse
    rate_card_service(code="yun_us", price="9.90")
    stock_receive(
        product_id=Product.objects.get(sku="SERUM-VC-30").pk,
        warehouse_id=Warehouse.objects.get(code="us-la-3pl").pk,
        quantity=5,
        reference="PO-77",
    )

    # when: ops signs in and follows the dashboard to the held order
    login(page, "ops", "demo-ops-2026")
    screenshot(page, "dashboard")
    page.locator("#held-by-reason a", has_text="Fraud risk").click()
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 1
    screenshot(page, "held-orders")

    # ... approves it with a reason (approval allocates it)
    _tick(page, "#1003")
    run_action(page, "approve_selected", reason="Customer called, card verified")
    page.wait_for_selector(".messagelist")
    assert "Approved 1 order(s)." in page.locator(".messagelist").inner_text()

    # ... allocates the order that waited for the serum
    page.goto(f"{page.base}{ORDERS}?status__exact=awaiting_stock")
    _tick(page, "#1002")
    run_action(page, "allocate_selected")
    page.wait_for_selector(".messagelist")

    # ... ships both (cheapest service, label bought) from the order list
    page.goto(f"{page.base}{ORDERS}?status__exact=allocated")
    _tick(page, "#1002")
    _tick(page, "#1003")
    run_action(page, "ship_selected")
    page.wait_for_selector(".messagelist")
    assert "Shipped 2 order(s)." in page.locator(".messagelist").inner_text()
    screenshot(page, "shipped")

    # ... and prints the batch of labels, pick list and packing slips
    page.goto(f"{page.base}{SHIPMENTS}?status__exact=shipped")
    screenshot(page, "shipments")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "print_batch")
    with page.expect_download() as download:
        page.click("button[name=index]")
    pdf = tmp_path / "batch.pdf"
    download.value.save_as(pdf)

    # then
    statuses = dict(
        Order.objects.filter(number__in=["#1002", "#1003"]).values_list(
            "number", "status"
        )
    )
    assert statuses == {"#1002": OrderStatus.SHIPPED, "#1003": OrderStatus.SHIPPED}
    shipments = Shipment.objects.filter(order__number__in=["#1002", "#1003"])
    assert {s.status for s in shipments} == {ShipmentStatus.SHIPPED}
    assert {s.service.code for s in shipments} == {"yun_us"}
    # 2 labels, 1 pick list, 2 packing slips
    assert pdf_page_count(pdf.read_bytes()) == 5
