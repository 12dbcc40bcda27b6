"""The ops dashboard: what needs attention, each line a link to the list it counts."""

import os
import re

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from erp.core.exceptions import ApplicationError
from inventory.models import Product, SafetyStockRule, Warehouse
from inventory.services.levels import safety_stock_evaluate
from orders.models import Order
from orders.services.shipping import order_ship_prepare

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    user = User.objects.create_user("olivia", password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name="ops"))
    client.force_login(user)
    return client


def _row(page: str, section: str, link_text: str) -> tuple[str, str]:
    """(href, count) of the row whose link says link_text in the section with this id."""
    part = page.split(f'id="{section}"', 1)[1].split('<div class="module"', 1)[0]
    match = re.search(
        rf'<a href="([^"]+)">{re.escape(link_text)}</a></th>\s*<td class="count"[^>]*>(\d+)',
        part,
    )
    assert match, f"{link_text!r} not in #{section}"
    return match.group(1).replace("&amp;", "&"), match.group(2)


def _listed(client, href: str) -> int:
    """Rows on the admin list the link opens."""
    body = client.get(href).content.decode()
    rows = re.search(r'<table id="result_list">.*?<tbody>(.*?)</tbody>', body, re.S)
    return rows.group(1).count("<tr") if rows else 0


def test_held_orders_by_reason_link_to_their_filtered_list(ops):
    page = ops.get("/").content.decode()

    href, count = _row(page, "held-by-reason", "Fraud risk level")

    assert count == "1"
    assert _listed(ops, href) == 1
    assert "#1003" in ops.get(href).content.decode()


def test_waiting_to_ship_counts_orders_and_parcels_without_labels(ops):
    # given: #1001 is allocated but no carrier serves it, so its parcel stays a draft
    with pytest.raises(ApplicationError):
        order_ship_prepare(order_id=Order.objects.get(number="#1001").pk)

    page = ops.get("/").content.decode()
    allocated_href, allocated = _row(
        page, "waiting-to-ship", "Orders allocated, ready to ship"
    )
    drafts_href, drafts = _row(page, "waiting-to-ship", "Parcels without a label yet")

    assert (allocated, drafts) == ("2", "1")
    assert _listed(ops, allocated_href) == 2
    assert _listed(ops, drafts_href) == 1


def test_low_stock_lists_the_alert_and_links_to_all_open_alerts(ops):
    lamp = Product.objects.get(sku="LAMP-LED-DESK")
    shenzhen = Warehouse.objects.get(code="sz-main")
    SafetyStockRule.objects.create(
        product=lamp, warehouse=shenzhen, minimum_quantity=10, reorder_quantity=50
    )
    safety_stock_evaluate(pairs=[(lamp.pk, shenzhen.pk)])

    page = ops.get("/").content.decode()

    low = page.split('id="low-stock"', 1)[1]
    assert "LAMP-LED-DESK" in low
    assert "/admin/inventory/stockalert/?status__exact=open" in low
    assert _listed(ops, "/admin/inventory/stockalert/?status__exact=open") == 1


def test_every_dashboard_link_opens_for_ops(ops):
    page = ops.get("/").content.decode()
    links = {
        href.replace("&amp;", "&")
        for href in re.findall(r'href="(/admin/[^"]+)"', page)
        if "/logout/" not in href
    }

    failing = {href: ops.get(href).status_code for href in links}

    assert len(links) > 10
    assert {h: s for h, s in failing.items() if s != 200} == {}
