import pytest
from django.contrib.auth.models import Group, User

from orders.canonical import OrderSource
from orders.choices import FinancialStatus, OrderStatus
from orders.models import Order, ReviewRule
from orders.services.ingest import order_ingest
from orders.tests.builders import canonical_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    user = User.objects.create_user("olivia", password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name="ops"))
    client.force_login(user)
    return client


def _ingest(channel, **kwargs) -> Order:
    result = order_ingest(
        channel_id=channel.pk,
        data=canonical_order(**kwargs),
        source=OrderSource.WEBHOOK,
    )
    return Order.objects.get(pk=result.order_id)


def test_held_list_shows_why_and_filters_by_reason(channel, stock, ops):
    stock("SKU-A", 5)
    _ingest(channel, external_id="1", financial_status=FinancialStatus.PENDING)
    _ingest(channel, external_id="2", email="x@example.com")

    page = ops.get("/admin/orders/order/", {"hold_reason": "payment_not_captured"})

    body = page.content.decode()
    assert page.status_code == 200
    assert "Payment not captured: the store reports it as pending." in body
    assert "#0001" not in body or body.count('class="field-number"') == 1


def test_bulk_approve_with_reason_reports_each_failure(channel, stock, ops):
    stock("SKU-A", 5)
    held = _ingest(channel, external_id="1", financial_status=FinancialStatus.PENDING)
    cancelled = _ingest(channel, external_id="2", email="c@example.com", cancelled=True)

    response = ops.post(
        "/admin/orders/order/",
        {
            "action": "approve_selected",
            "reason": "checked by phone",
            "_selected_action": [held.pk, cancelled.pk],
        },
        follow=True,
    )

    held.refresh_from_db()
    assert held.status == OrderStatus.ALLOCATED
    messages = [str(m) for m in response.context["messages"]]
    assert (
        f"{cancelled.number}: Order {cancelled.number} is cancelled; only held or new orders can be approved."
        in messages
    )
    assert "Approved 1 order(s)." in messages


def test_bulk_hold_without_reason_changes_nothing(channel, stock, ops):
    stock("SKU-A", 5)
    order = _ingest(channel)

    response = ops.post(
        "/admin/orders/order/",
        {"action": "hold_selected", "reason": "", "_selected_action": [order.pk]},
        follow=True,
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert "Give a reason for this action." in [
        str(m) for m in response.context["messages"]
    ]


def test_order_page_shows_lines_allocations_and_timeline_read_only(channel, stock, ops):
    stock("SKU-A", 5)
    order = _ingest(channel, lines=[("SKU-A", 2, "10.00")])

    body = ops.get(f"/admin/orders/order/{order.pk}/change/").content.decode()

    assert "us-la: 2 (Allocated)" in body
    assert "us-la: all lines in stock, serves US (priority 10)." in body
    assert 'name="_save"' not in body


def test_order_page_shows_money_in_the_currency_and_language_of_the_reader(
    channel, stock, ops
):
    from decimal import Decimal

    stock("SKU-A", 5)
    order = _ingest(channel, lines=[("SKU-A", 1000, "1.25")])
    Order.objects.filter(pk=order.pk).update(tax_total=Decimal("7.5"))

    english = ops.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    ops.post("/i18n/language/", {"language": "zh-hans", "next": "/admin/"})
    chinese = ops.get(f"/admin/orders/order/{order.pk}/change/").content.decode()

    # The columns keep four decimals; the page shows the currency's two, grouped.
    assert "1,250.00 USD" in english
    assert "7.50 USD" in english
    assert "1.2500" not in english
    assert "1250.0000" not in english
    assert "1,250.0000" not in english
    assert "1.25 USD" in english  # the line's unit price
    assert "1250.00 USD" in chinese  # zh-Hans writes no thousands separator


def test_rule_dry_run_page_lists_what_would_fire(channel, stock, ops, admin_client):
    stock("SKU-A", 50)
    _ingest(channel, external_id="1", lines=[("SKU-A", 20, "10.00")])
    rule = ReviewRule.objects.create(
        name="Over 100",
        kind="order_value_above",
        parameters={"limits": {"USD": "100"}},
        is_active=False,
    )

    response = admin_client.post(
        "/admin/orders/reviewrule/",
        {"action": "dry_run", "_selected_action": [rule.pk]},
    )

    body = response.content.decode()
    assert "would fire on 1 order / 1" in body
    assert "Order value 200.00 USD is above the 100.00 USD limit." in body


def test_dashboard_counts_held_orders_by_reason(channel, stock, ops):
    stock("SKU-A", 5)
    _ingest(channel, external_id="1", financial_status=FinancialStatus.PENDING)
    _ingest(channel, external_id="2", email="z@example.com")

    body = ops.get("/").content.decode()

    assert '<td class="count" data-reason="payment_not_captured">1</td>' in body
    assert '<td class="count" data-status="allocated">1</td>' in body


def test_customer_page_lists_orders_from_every_store_and_can_block(channel, stock, ops):
    from connectors.tests.factories import ChannelFactory
    from orders.models import Customer

    stock("SKU-A", 5)
    _ingest(channel, external_id="1")
    other = ChannelFactory(code="eu-shop", currency="USD")
    order_ingest(
        channel_id=other.pk, data=canonical_order("2"), source=OrderSource.WEBHOOK
    )
    customer = Customer.objects.get()

    body = ops.get(f"/admin/orders/customer/{customer.pk}/change/").content.decode()
    assert body.count("field-number") == 2

    ops.post(
        f"/admin/orders/customer/{customer.pk}/change/",
        {
            "is_blocked": "on",
            "blocked_reason": "chargebacks",
            "tags": "[]",
            "orders-TOTAL_FORMS": "0",
            "orders-INITIAL_FORMS": "2",
            "orders-MIN_NUM_FORMS": "0",
            "orders-MAX_NUM_FORMS": "1000",
        },
    )
    customer.refresh_from_db()
    assert (customer.is_blocked, customer.blocked_reason) == (True, "chargebacks")


def test_dashboard_shows_store_sync_and_tracking_sections(channel, ops):
    body = ops.get("/").content.decode()
    assert f'<td data-channel="{channel.code}">' in body
    assert "Never synced" in body
    assert "No parcel needs attention." in body
