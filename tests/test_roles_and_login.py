"""What each role may open and change, credentials never shown in full, and the login lockout."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache

from connectors.tests.factories import ChannelFactory
from erp.core.auth import _keys
from logistics.tests.factories import CarrierAccountFactory

pytestmark = pytest.mark.django_db

STORE_TOKEN = "shpat_live_9f8e7d6c5b4a3210"
CARRIER_SECRET = "ups-client-secret-abcdef123456"


def _staff(client, role: str) -> User:
    user = User.objects.create_user(
        f"{role}-user", password="pw-for-tests-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


@pytest.fixture
def secrets():
    channel = ChannelFactory(code="us-live", credentials={"access_token": STORE_TOKEN})
    account = CarrierAccountFactory(
        code="ups-live",
        carrier="ups",
        credentials={"client_id": "cid-1234", "client_secret": CARRIER_SECRET},
    )
    return channel, account


@pytest.fixture
def demo_orders():
    import os

    from django.core.management import call_command

    from orders.models import Order

    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    return {order.number: order for order in Order.objects.all()}


@pytest.fixture
def lockout_keys():
    """Forget the failures these tests record, before and after."""
    used: list[str] = []

    def track(username: str) -> str:
        used.extend(_keys(username, None))
        cache.delete_many(used)
        return username

    yield track
    cache.delete_many(used)
    cache.delete("erp:login-failures:ip:127.0.0.1")


def test_ops_work_orders_stock_and_shipments_but_not_finance(client):
    _staff(client, "ops")

    for page in [
        "/admin/orders/order/",
        "/admin/inventory/stockitem/",
        "/admin/logistics/shipment/",
    ]:
        assert client.get(page).status_code == 200, page
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/reconciliation/").status_code == 403
    assert client.get("/admin/finance/orderprofit/").status_code == 403
    assert client.get("/admin/finance/").status_code == 404


def test_ops_see_carrier_accounts_and_stores_but_cannot_change_them(client, secrets):
    channel, account = secrets
    _staff(client, "ops")

    account_page = client.get(f"/admin/logistics/carrieraccount/{account.pk}/change/")
    saved = client.post(
        f"/admin/logistics/carrieraccount/{account.pk}/change/",
        {"code": "ups-live", "name": "X", "new_credentials": '{"client_id": "mine"}'},
    )

    assert account_page.status_code == 200
    assert 'name="_save"' not in account_page.content.decode()
    assert saved.status_code == 403
    account.refresh_from_db()
    assert account.credentials["client_secret"] == CARRIER_SECRET
    assert client.get(
        f"/admin/connectors/channel/{channel.pk}/change/"
    ).status_code == (200)


def test_finance_runs_reports_and_reads_orders_without_acting(client, demo_orders):
    _staff(client, "finance")
    held = demo_orders["#1003"]

    listing = client.get("/admin/orders/order/")
    acted = client.post(
        "/admin/orders/order/",
        {"action": "approve_selected", "_selected_action": [held.pk], "reason": "x"},
    )

    assert client.get("/reports/").status_code == 200
    assert client.get("/reports/reconciliation/").status_code == 200
    assert listing.status_code == 200
    assert 'value="approve_selected"' not in listing.content.decode()
    assert acted.status_code == 200  # the changelist again: no such action for finance
    held.refresh_from_db()
    assert held.status == "on_hold"


@pytest.mark.parametrize("role", ["ops", "finance", "admin"])
def test_credentials_are_never_shown_back_in_full(client, secrets, role):
    channel, account = secrets
    if role == "admin":
        User.objects.create_superuser("root", password="pw-for-tests-1")
        client.login(username="root", password="pw-for-tests-1")
    else:
        _staff(client, role)

    pages = [
        f"/admin/connectors/channel/{channel.pk}/change/",
        f"/admin/logistics/carrieraccount/{account.pk}/change/",
        "/admin/connectors/channel/",
        "/admin/logistics/carrieraccount/",
    ]
    for page in pages:
        response = client.get(page)
        body = response.content.decode()
        assert STORE_TOKEN not in body, page
        assert CARRIER_SECRET not in body, page
        if role == "admin" and "/change/" in page:
            assert response.status_code == 200
            assert STORE_TOKEN[-4:] in body or CARRIER_SECRET[-4:] in body


def test_login_locks_after_repeated_failures_even_with_the_right_password(
    client, lockout_keys
):
    user = User.objects.create_user(
        lockout_keys("mallory-target"), password="right-pw-2026", is_staff=True
    )

    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        page = client.post(
            "/admin/login/", {"username": user.username, "password": "guess"}
        )
        assert page.status_code == 200
    locked = client.post(
        "/admin/login/", {"username": user.username, "password": "right-pw-2026"}
    )

    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-ins" in locked.content.decode()
    assert client.login(username=user.username, password="right-pw-2026") is False


def test_a_success_before_the_limit_clears_the_count(client, lockout_keys):
    user = User.objects.create_user(
        lockout_keys("forgetful"), password="right-pw-2026", is_staff=True
    )

    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        client.post("/admin/login/", {"username": user.username, "password": "typo"})
    signed_in = client.post(
        "/admin/login/", {"username": user.username, "password": "right-pw-2026"}
    )
    client.logout()
    client.post("/admin/login/", {"username": user.username, "password": "typo"})

    assert signed_in.status_code == 302
    assert client.login(username=user.username, password="right-pw-2026") is True


def test_api_basic_auth_is_locked_too(client, lockout_keys):
    import base64

    user = User.objects.create_user(
        lockout_keys("api-bot"), password="right-pw-2026", is_staff=True
    )

    def call(password: str) -> int:
        token = base64.b64encode(f"{user.username}:{password}".encode()).decode()
        return client.get(
            "/api/v1/orders/", HTTP_AUTHORIZATION=f"Basic {token}"
        ).status_code

    failures = [call("guess") for _ in range(settings.LOGIN_FAILURE_LIMIT)]

    assert set(failures) == {401} or set(failures) == {403}
    assert call("right-pw-2026") in (401, 403)


def test_ops_see_quantities_but_not_what_goods_cost(client, demo_orders):
    from inventory.models import Product

    tee = Product.objects.get(sku="TEE-BLK-M")
    _staff(client, "ops")
    ops_list = client.get("/admin/inventory/product/").content.decode()
    ops_page = client.get(f"/admin/inventory/product/{tee.pk}/change/").content.decode()
    client.logout()
    _staff(client, "finance")
    finance_list = client.get("/admin/inventory/product/").content.decode()

    assert "TEE-BLK-M" in ops_list
    assert "column-unit_cost" not in ops_list
    assert 'name="unit_cost"' not in ops_page
    assert "column-unit_cost" in finance_list
    tee.refresh_from_db()
    assert str(tee.unit_cost) == "4.2000"  # still there for finance
