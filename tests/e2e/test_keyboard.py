"""Ops work the order list from the keyboard alone: move, select, approve, hold, help."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ORDERS = "/admin/orders/order/"


def _current_row_text(tab) -> str:  # type: ignore[no-untyped-def]
    return tab.evaluate(
        "document.activeElement.tagName === 'TR' ? document.activeElement.innerText : ''"
    )


def _move_to(tab, number: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(50):
        tab.keyboard.press("j")
        if number in _current_row_text(tab):
            return
    raise AssertionError(f"{number} is not in the list")


def test_ops_approve_and_hold_orders_by_keyboard_only(demo, page, screenshot):
    from orders.models import Order

    login(page, "ops", "demo-ops-2026")
    page.goto(f"{page.base}{ORDERS}?status__exact=on_hold")
    page.wait_for_selector("#result_list")

    # ? shows the shortcuts; Escape closes them
    page.keyboard.press("?")
    help_dialog = page.locator("#keyboard-help")
    help_dialog.wait_for(state="visible")
    assert "Approve selected orders" in help_dialog.inner_text()
    assert "Hold selected orders" in help_dialog.inner_text()
    screenshot(page, "keyboard-help")
    page.keyboard.press("Escape")
    help_dialog.wait_for(state="hidden")

    # j moves down the rows, x selects the one the cursor is on
    _move_to(page, "#1003")
    page.keyboard.press("x")
    row = page.locator("#result_list tbody tr", has_text="#1003")
    assert row.locator("input.action-select").is_checked()
    assert page.locator("#result_list input.action-select:checked").count() == 1

    # a asks for the reason; Escape leaves everything as it was
    page.keyboard.press("a")
    reason = page.locator("#keyboard-reason")
    reason.wait_for(state="visible")
    page.keyboard.press("Escape")
    reason.wait_for(state="hidden")
    assert Order.objects.get(number="#1003").status == "on_hold"

    # a again, a reason typed, Enter: the order is approved (approval allocates)
    page.keyboard.press("a")
    reason.wait_for(state="visible")
    page.keyboard.type("Customer called, card verified")
    screenshot(page, "keyboard-reason")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist")
    assert "Approved 1 order(s)." in page.locator(".messagelist").inner_text()
    approved = Order.objects.get(number="#1003")
    assert approved.status in ("allocated", "approved")
    # back on the list, the cursor is on a row, ready for the next key
    assert page.evaluate("document.activeElement.tagName") == "TR"

    # h with nothing selected holds the row the cursor is on, with the typed reason
    page.goto(f"{page.base}{ORDERS}?status__exact={approved.status}")
    page.wait_for_selector("#result_list")
    _move_to(page, "#1003")
    page.keyboard.press("h")
    reason.wait_for(state="visible")
    page.keyboard.type("Address to check with the buyer")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist")
    screenshot(page, "keyboard-held")

    held = Order.objects.get(number="#1003")
    assert "Held 1 order(s)." in page.locator(".messagelist").inner_text()
    assert held.status == "on_hold"
    assert "Address to check with the buyer" in str(held.hold_reasons)
    events = list(held.events.values_list("message", flat=True))
    assert any("Customer called, card verified" in str(m) for m in events)


def test_the_action_bar_and_search_are_a_key_away(demo, page):
    login(page, "ops", "demo-ops-2026")
    page.goto(f"{page.base}{ORDERS}")
    page.wait_for_selector("#result_list")

    page.keyboard.press(".")
    assert page.evaluate("document.activeElement.name") == "action"
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.tagName") == "TR"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "searchbar"
    page.keyboard.type("1003")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=1003**")
    assert page.locator("#result_list tbody tr").count() == 1
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(re.compile(r"/admin/orders/order/\d+/change/"))
    assert "#1003" in page.locator("#content").inner_text()


def test_a_shortcut_pressed_as_the_reason_dialog_closes_still_asks_and_runs(demo, page):
    # given: ops on the held orders, #1003 selected
    from orders.models import Order

    login(page, "ops", "demo-ops-2026")
    page.goto(f"{page.base}{ORDERS}?status__exact=on_hold")
    page.wait_for_selector("#result_list")
    _move_to(page, "#1003")
    page.keyboard.press("x")
    page.keyboard.press("a")
    reason = page.locator("#keyboard-reason")
    reason.wait_for(state="visible")

    # when: the dialog is closed and "a" pressed again in one go, so the browser's
    # queued close event arrives after the dialog is open again (a fast Escape, a)
    page.evaluate(
        """() => {
            document.getElementById("keyboard-reason").close();
            document.dispatchEvent(
                new KeyboardEvent("keydown", {key: "a", bubbles: true})
            );
        }"""
    )
    reason.wait_for(state="visible")
    page.keyboard.type("Checked with the bank")
    page.keyboard.press("Enter")

    # then: the late close did not drop the question: the order is approved
    page.wait_for_selector(".messagelist")
    assert "Approved 1 order(s)." in page.locator(".messagelist").inner_text()
    assert Order.objects.get(number="#1003").status in ("allocated", "approved")
