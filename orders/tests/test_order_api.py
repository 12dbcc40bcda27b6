import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from orders.canonical import OrderSource
from orders.choices import FinancialStatus, OrderStatus
from orders.models import Order
from orders.services.ingest import order_ingest
from orders.tests.builders import canonical_order

pytestmark = pytest.mark.django_db


def _user(role: str) -> User:
    user = User.objects.create_user(role, password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def ops_client():
    client = APIClient()
    client.force_authenticate(_user("ops"))
    return client


def _ingest(channel, **kwargs) -> Order:
    result = order_ingest(
        channel_id=channel.pk,
        data=canonical_order(**kwargs),
        source=OrderSource.WEBHOOK,
    )
    return Order.objects.get(pk=result.order_id)


def test_list_filters_by_status_and_hold_reason_in_few_queries(
    channel, stock, ops_client, django_assert_max_num_queries
):
    stock("SKU-A", 50)
    held = _ingest(channel, external_id="1", financial_status=FinancialStatus.PENDING)
    for n in range(2, 7):
        _ingest(channel, external_id=str(n), email=f"b{n}@example.com")

    with django_assert_max_num_queries(4):
        body = ops_client.get(
            "/api/v1/orders/",
            {"status": "on_hold", "hold_reason": "payment_not_captured"},
        ).json()

    assert body["count"] == 1
    assert body["results"][0]["id"] == held.pk
    assert body["results"][0]["hold_reasons"][0]["message"] == (
        "Payment not captured: the store reports it as pending."
    )
    assert (
        ops_client.get("/api/v1/orders/", {"status": "allocated"}).json()["count"] == 5
    )


def test_search_finds_an_order_by_number_without_the_hash(channel, stock, ops_client):
    stock("SKU-A", 5)
    order = _ingest(channel, external_id="5551234")
    body = ops_client.get("/api/v1/orders/", {"q": "1234"}).json()
    assert [r["number"] for r in body["results"]] == [order.number] == ["#1234"]


def test_detail_shows_lines_allocations_and_timeline(channel, stock, ops_client):
    stock("SKU-A", 5)
    order = _ingest(channel, lines=[("SKU-A", 2, "10.00")])

    body = ops_client.get(f"/api/v1/orders/{order.pk}/").json()

    assert body["lines"][0]["allocations"] == [
        {"warehouse": "us-la", "lot": None, "quantity": 2, "status": "allocated"}
    ]
    assert [e["type"] for e in body["events"]] == ["created", "approved", "allocated"]


def test_approve_endpoint_approves_and_allocates(channel, stock, ops_client):
    stock("SKU-A", 5)
    order = _ingest(channel, financial_status=FinancialStatus.PENDING)

    response = ops_client.post(
        f"/api/v1/orders/{order.pk}/approve/",
        {"reason": "paid by wire", "expected_version": order.version},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == OrderStatus.ALLOCATED


def test_stale_version_gets_409_with_the_current_version(channel, stock, ops_client):
    stock("SKU-A", 5)
    order = _ingest(channel, financial_status=FinancialStatus.PENDING)

    response = ops_client.post(
        f"/api/v1/orders/{order.pk}/hold/",
        {"reason": "x", "expected_version": order.version + 5},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "order_version_conflict"
    assert response.json()["extra"]["version"] == order.version


def test_action_without_reason_is_a_400(channel, stock, ops_client):
    stock("SKU-A", 5)
    order = _ingest(channel)
    response = ops_client.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["extra"]["fields"]
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


def test_finance_may_read_but_not_act(channel, stock):
    stock("SKU-A", 5)
    order = _ingest(channel)
    client = APIClient()
    client.force_authenticate(_user("finance"))

    assert client.get(f"/api/v1/orders/{order.pk}/").status_code == 200
    response = client.post(
        f"/api/v1/orders/{order.pk}/cancel/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403


def test_cancelling_a_cancelled_order_is_refused_with_a_clear_message(
    channel, stock, ops_client
):
    stock("SKU-A", 5)
    order = _ingest(channel, cancelled=True)
    response = ops_client.post(
        f"/api/v1/orders/{order.pk}/cancel/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"Order {order.number} is cancelled and can no longer be cancelled."
    )


def test_unknown_order_is_a_404(ops_client):
    response = ops_client.get("/api/v1/orders/999999/")
    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"
