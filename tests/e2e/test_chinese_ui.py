"""Switched to Chinese, the pages ops and finance live in show no English of their own.

Every ASCII word on screen must be data (order numbers, SKUs, product titles, names,
addresses, codes the user typed) or a name that stays as it is (brands, currency codes,
file formats); anything else is an untranslated string.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Names and codes that are the same in Chinese: brands, standards, formats, units.
KEPT_AS_IS = {
    "DTC",
    "English",
    "ERP",
    "SKU",
    "Shopify",
    "WooCommerce",
    "Webhook",
    "UPS",
    "FedEx",
    "DHL",
    "USPS",
    "PayPal",
    "Stripe",
    "XLSX",
    "CSV",
    "PDF",
    "JSON",
    "API",
    "ID",
    "HS",
    "ISO",
    "3PL",
    "DAP",
    "DDP",
    "MOQ",
    "UTC",
    "PO",
    "kg",
    "mm",
    "cm",
    "s",
    "h",
    "Esc",
}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'._@-]*")


def _data_words() -> set[str]:
    """Every word that comes from the database rather than from the code."""
    from connectors.models import Channel
    from inventory.models import Product, Warehouse
    from logistics.models import CarrierAccount, CarrierService, Shipment
    from orders.models import Customer, Order, OrderLine

    texts: list[str] = []
    for model, fields in [
        (Channel, ["code", "name", "currency", "shop_url"]),
        (Warehouse, ["code", "name", "country", "city"]),
        (Product, ["sku", "title"]),
        (Order, ["number", "email", "currency", "external_id", "shipping_address"]),
        (OrderLine, ["sku", "title"]),
        (Customer, ["first_name", "last_name", "email"]),
        (CarrierAccount, ["code", "name"]),
        (CarrierService, ["code", "name"]),
        (Shipment, ["tracking_number"]),
    ]:
        for row in model.objects.values_list(*fields):
            texts.extend(str(value) for value in row if value)
    from django.contrib.auth.models import User

    texts.extend(User.objects.values_list("username", flat=True))
    return {word.strip("._-'").lower() for text in texts for word in WORD.findall(text)}


def _english_left(tab, allowed: set[str]) -> list[str]:  # type: ignore[no-untyped-def]
    # innerText is what the reader sees (CSS may upper-case it), hidden text aside.
    text = tab.locator("body").inner_text()
    words = {w.strip("._-'") for w in WORD.findall(text)}
    return sorted(w for w in words if len(w) > 1 and w.lower() not in allowed)


def test_chinese_pages_have_no_english_left(demo, page, screenshot):
    from orders.models import Order

    # given: ops and finance switched to Chinese in the header
    login(page, "admin", "demo-admin-2026")
    page.select_option("#language-select", "zh-hans")
    page.wait_for_selector("html[lang=zh-hans]")
    page.goto(f"{page.base}/reports/reconciliation/")
    page.fill("#id_date_from", "2020-01-01")
    page.fill("#id_date_to", "2030-12-31")
    page.click("#run-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    allowed = {w.lower() for w in KEPT_AS_IS} | _data_words()
    held = Order.objects.filter(status="on_hold").order_by("number").first()

    # when / then: each page of the day, in Chinese
    left = {}
    for name, path in [
        ("dashboard", "/"),
        ("held-orders", "/admin/orders/order/?status__exact=on_hold"),
        ("order", f"/admin/orders/order/{held.pk}/change/"),
        ("shipments", "/admin/logistics/shipment/"),
        ("stock", "/admin/inventory/stockitem/"),
        ("reports", "/reports/"),
        ("reconciliation", "/reports/reconciliation/?status=all"),
        ("profit", "/reports/profit/"),
    ]:
        page.goto(f"{page.base}{path}")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        screenshot(page, f"zh-{name}")
        english = _english_left(page, allowed)
        if english:
            left[name] = english
    # the keyboard help of the order list, opened by its key
    page.goto(f"{page.base}/admin/orders/order/")
    page.keyboard.press("?")
    page.locator("#keyboard-help").wait_for(state="visible")
    screenshot(page, "zh-keyboard-help")
    english = _english_left(page, allowed)
    if english:
        left["keyboard-help"] = english
    assert not left, f"English left on Chinese pages: {left}"
