"""Staff roles from the migration, the admin login, and the demo data."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from connectors.models import Channel
from erp.core.models import OutboxMessage
from orders.models import Order, OrderEvent, OrderLine

pytestmark = pytest.mark.django_db


def _perms(group: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_migration_creates_the_three_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "ops",
        "finance",
        "admin",
    }


def test_ops_work_orders_but_cannot_change_stores():
    perms = _perms("ops")
    assert {
        "orders.view_order",
        "orders.change_order",
        "inventory.change_product",
    } <= perms
    assert "connectors.view_channel" in perms
    assert "connectors.change_channel" not in perms
    assert not any(p.startswith("finance.") for p in perms)


def test_finance_reads_orders_without_changing_them():
    perms = _perms("finance")
    assert "orders.view_order" in perms
    assert "orders.change_order" not in perms
    assert "connectors.change_channel" not in perms


def test_admin_manages_stores_and_users():
    perms = _perms("admin")
    assert {
        "connectors.change_channel",
        "auth.add_user",
        "core.change_outboxmessage",
    } <= perms


def test_login_page_and_dashboard_need_staff(client):
    assert client.get("/admin/login/").status_code == 200
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_dashboard_shows_backlog_and_missing_workers(client):
    user = User.objects.create_user("olivia", password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name="ops"))
    OutboxMessage.objects.create(topic="x", key="1", max_attempts=3, status="dead")
    client.force_login(user)

    page = client.get("/").content.decode()

    assert '<td id="outbox-dead">1</td>' in page
    assert "No worker has reported yet" in page


def test_ops_sees_orders_read_only_with_lines_and_history(client):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    client.login(username="ops", password="demo-ops-2026")
    order = Order.objects.get(number="#1001")

    page = client.get(f"/admin/orders/order/{order.pk}/change/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "TEE-BLK-M" in body
    assert 'name="_save"' not in body


def test_demo_data_loads_twice_without_duplicates():
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = (Channel.objects.count(), Order.objects.count(), OrderLine.objects.count())
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert (
        Channel.objects.count(),
        Order.objects.count(),
        OrderLine.objects.count(),
    ) == counts
    assert counts == (2, 6, 8)
    statuses = dict(Order.objects.values_list("number", "status"))
    assert statuses == {
        "#1001": "allocated",  # in stock in the LA 3PL, which serves the US
        "#1002": "awaiting_stock",  # 3 serums ordered, 2 in stock
        "#1003": "on_hold",  # high fraud risk
        "2041": "allocated",  # Shenzhen ships anywhere
        "2042": "on_hold",  # postal code 6900 is not a French one
        "2043": "on_hold",  # payment pending
    }
    assert OrderEvent.objects.filter(type="created").count() == 6
    assert User.objects.get(username="finance").groups.get().name == "finance"
