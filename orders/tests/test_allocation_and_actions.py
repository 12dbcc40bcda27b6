import pytest
from django.contrib.auth.models import User
from django.db.models import Sum

from erp.core.models import OutboxMessage
from inventory.models import Allocation, StockItem, StockMovement
from inventory.tests.factories import WarehouseFactory
from orders.canonical import OrderSource
from orders.choices import FinancialStatus, OrderEventType, OrderStatus
from orders.exceptions import IllegalOrderTransitionError, OrderVersionConflictError
from orders.models import Order
from orders.services.events import order_status_set
from orders.services.ingest import order_ingest
from orders.services.workflow import order_approve, order_cancel, order_hold
from orders.tests.builders import canonical_order

pytestmark = pytest.mark.django_db


def _ingest(channel, **kwargs) -> Order:
    result = order_ingest(
        channel_id=channel.pk,
        data=canonical_order(**kwargs),
        source=OrderSource.WEBHOOK,
    )
    return Order.objects.get(pk=result.order_id)


def _allocated_by_warehouse() -> dict[str, int]:
    rows = (
        Allocation.objects.filter(status="allocated")
        .values("stock_item__warehouse__code")
        .annotate(n=Sum("quantity"))
    )
    return {row["stock_item__warehouse__code"]: row["n"] for row in rows}


@pytest.fixture
def staff(db):
    return User.objects.create_user("olivia", password="pw-for-tests-1", is_staff=True)


def test_prefers_a_warehouse_that_serves_the_destination_then_priority(channel, stock):
    cn = WarehouseFactory(code="sz", country="CN", priority=1, service_area=["CN"])
    us_low = WarehouseFactory(
        code="us-nj", country="US", priority=20, service_area=["US"]
    )
    us_high = WarehouseFactory(
        code="us-la", country="US", priority=10, service_area=["US"]
    )
    for warehouse in (cn, us_low, us_high):
        stock("SKU-A", 5, warehouse=warehouse)

    _ingest(channel)

    assert _allocated_by_warehouse() == {"us-la": 1}


def test_no_split_when_one_warehouse_has_everything(channel, stock):
    channel.allow_split_shipments = True
    channel.save()
    a = WarehouseFactory(code="us-la", country="US", priority=10)
    b = WarehouseFactory(code="us-nj", country="US", priority=20)
    stock("SKU-A", 5, warehouse=a)
    stock("SKU-A", 5, warehouse=b)
    stock("SKU-B", 5, warehouse=b)

    order = _ingest(channel, lines=[("SKU-A", 1, "10.00"), ("SKU-B", 1, "5.00")])

    assert _allocated_by_warehouse() == {"us-nj": 2}
    assert (
        order.events.last().message
        == "us-nj: all lines in stock, serves US (priority 20)."
    )


def test_splits_only_when_needed_and_allowed(channel, stock):
    channel.allow_split_shipments = True
    channel.save()
    a = WarehouseFactory(code="us-la", country="US", priority=10)
    b = WarehouseFactory(code="us-nj", country="US", priority=20)
    stock("SKU-A", 5, warehouse=a)
    stock("SKU-B", 5, warehouse=b)

    order = _ingest(channel, lines=[("SKU-A", 2, "10.00"), ("SKU-B", 1, "5.00")])

    assert order.status == OrderStatus.ALLOCATED
    assert _allocated_by_warehouse() == {"us-la": 2, "us-nj": 1}
    assert order.events.last().message == (
        "Split: no single warehouse has every line; us-la ships 1 line(s), us-nj ships 1 line(s)."
    )


def test_waits_instead_of_splitting_when_the_store_forbids_it(channel, stock):
    a = WarehouseFactory(code="us-la", country="US", priority=10)
    b = WarehouseFactory(code="us-nj", country="US", priority=20)
    stock("SKU-A", 5, warehouse=a)
    stock("SKU-B", 5, warehouse=b)

    order = _ingest(channel, lines=[("SKU-A", 2, "10.00"), ("SKU-B", 1, "5.00")])

    assert order.status == OrderStatus.AWAITING_STOCK
    assert Allocation.objects.exists() is False
    assert order.events.last().message == (
        "Waiting for stock: no single warehouse has every line and this store does not "
        "allow split shipments."
    )


def test_ops_approve_a_held_order_by_hand_and_it_stays_approved(channel, stock, staff):
    stock("SKU-A", 5)
    held = _ingest(channel, financial_status=FinancialStatus.PENDING)

    order_approve(
        order_id=held.pk,
        actor=staff,
        reason="paid by bank transfer",
        expected_version=held.version,
    )

    held.refresh_from_db()
    assert held.status == OrderStatus.ALLOCATED
    approved = held.events.get(type=OrderEventType.APPROVED)
    assert approved.actor == staff
    assert approved.message == "Approved by hand: paid by bank transfer"
    assert approved.data["overrode"] == [
        "Payment not captured: the store reports it as pending."
    ]


def test_ops_hold_releases_stock_with_the_reason(channel, stock, staff):
    stock("SKU-A", 5)
    order = _ingest(channel)

    order_hold(order_id=order.pk, actor=staff, reason="customer asked to wait")

    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    assert order.hold_reasons[0]["message"] == "Held by hand: customer asked to wait"
    assert StockItem.objects.get().quantity_allocated == 0


def test_ledger_says_hold_and_cancel_reasons_in_the_readers_language(
    channel, stock, staff, admin_client
):
    stock("SKU-A", 5)
    held = _ingest(channel, external_id="1")
    cancelled = _ingest(channel, external_id="2")
    order_hold(order_id=held.pk, actor=staff, reason="customer asked to wait")
    order_cancel(order_id=cancelled.pk, actor=staff, reason="duplicate order")
    reasons = set(
        StockMovement.objects.filter(type="release").values_list("reason", flat=True)
    )
    assert reasons == {
        "held by hand: customer asked to wait",
        "cancelled: duplicate order",
    }

    admin_client.post("/i18n/language/", {"language": "zh-hans", "next": "/admin/"})
    page = admin_client.get("/admin/inventory/stockmovement/?type__exact=release")

    # The ops' own words stay as they typed them.
    text = page.content.decode()
    assert "人工暂停：customer asked to wait" in text
    assert "已取消：duplicate order" in text
    assert "held by hand" not in text


def test_stale_version_is_refused(channel, stock, staff):
    stock("SKU-A", 5)
    order = _ingest(channel, financial_status=FinancialStatus.PENDING)

    with pytest.raises(OrderVersionConflictError, match="changed since you opened it"):
        order_approve(
            order_id=order.pk,
            actor=staff,
            reason="ok",
            expected_version=order.version - 1,
        )
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD


def test_cancel_by_ops_releases_stock_and_tells_the_store(channel, stock, staff):
    stock("SKU-A", 5)
    order = _ingest(channel)

    order_cancel(order_id=order.pk, actor=staff, reason="out of stock at supplier")

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert StockItem.objects.get().quantity_allocated == 0
    message = OutboxMessage.objects.get(topic="orders.cancelled")
    assert message.payload == {
        "order_id": order.pk,
        "channel_id": channel.pk,
        "reason": "out of stock at supplier",
    }


def test_illegal_transition_raises_and_changes_nothing(channel, stock):
    stock("SKU-A", 5)
    order = _ingest(channel, cancelled=True)

    with pytest.raises(
        IllegalOrderTransitionError, match="cancelled and cannot become approved"
    ):
        order_status_set(order=order, to=OrderStatus.APPROVED)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
