"""Safety stock: alerts open below the minimum, e-mail ops, and close on recovery."""

import pytest
from django.core import mail

from erp.core.outbox import outbox_drain
from inventory.choices import StockAlertStatus
from inventory.models import StockAlert
from inventory.planning import AllocationRequest
from inventory.services.allocation import stock_allocate, stock_ship
from inventory.services.stock import stock_adjust, stock_receive
from inventory.tests.factories import SafetyStockRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(product, warehouse):
    return SafetyStockRuleFactory(
        product=product, warehouse=warehouse, minimum_quantity=10, reorder_quantity=24
    )


def test_falling_below_minimum_opens_one_alert_and_mails_ops(
    rule, product, warehouse, ops_user
):
    # given
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=12)

    # when: two changes below the minimum
    stock_allocate(
        requests=[AllocationRequest(None, product.pk, 5)], warehouse_id=warehouse.pk
    )
    stock_allocate(
        requests=[AllocationRequest(None, product.pk, 1)], warehouse_id=warehouse.pk
    )
    outbox_drain()

    # then
    alert = StockAlert.objects.get()
    assert (alert.status, alert.quantity_available, alert.minimum_quantity) == (
        StockAlertStatus.OPEN,
        6,
        10,
    )
    assert alert.suggested_reorder_quantity == 24
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["olivia@example.com"]
    assert "Low stock: TEE-BLK-M at sz-main" in mail.outbox[0].subject
    assert "Suggested reorder:   24" in mail.outbox[0].body


def test_alert_closes_itself_when_stock_recovers(rule, product, warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)
    assert StockAlert.objects.get().status == StockAlertStatus.OPEN

    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=20)

    alert = StockAlert.objects.get()
    assert alert.status == StockAlertStatus.CLOSED
    assert alert.closed_at is not None
    assert alert.quantity_available == 23


def test_suggestion_follows_recent_sales(rule, product, warehouse):
    # given: 60 units shipped in the last 30 days = 2/day; 14 days lead time
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=100)
    allocations = stock_allocate(
        requests=[AllocationRequest(None, product.pk, 60)], warehouse_id=warehouse.pk
    )
    stock_ship(allocation_ids=[a.pk for a in allocations])

    # when
    stock_adjust(
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        counted_quantity=4,
        reason="Count",
    )

    # then: 10 minimum + 28 expected - 4 available
    alert = StockAlert.objects.get(status=StockAlertStatus.OPEN)
    assert alert.suggested_reorder_quantity == 34
    assert str(alert.recent_daily_sales) == "2.00"


def test_closed_alert_is_not_mailed(rule, product, warehouse, ops_user):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=30)

    outbox_drain()

    assert mail.outbox == []


def test_without_a_rule_no_alert(product, warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=1)

    assert not StockAlert.objects.exists()
