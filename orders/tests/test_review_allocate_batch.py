"""A page of orders reviewed and allocated at once decides exactly as one by one."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Allocation, StockItem, StockMovement
from inventory.services.stock import stock_receive
from inventory.tests.factories import (
    BundleComponentFactory,
    BundleFactory,
    LotTrackedProductFactory,
    ProductFactory,
    WarehouseFactory,
)
from orders.canonical import OrderSource
from orders.choices import FinancialStatus, OrderEventType, OrderStatus
from orders.locks import orders_lock
from orders.models import Order, OrderEvent
from orders.services.ingest import order_ingest
from orders.services.workflow import order_review_apply, orders_review_and_allocate
from orders.tests.builders import T0, US_ADDRESS, canonical_order
from orders.tests.factories import CustomerFactory, OrderFactory, OrderLineFactory


class _Rollback(Exception):
    pass


def _order(number: str, customer, lines: dict[str, int], minutes: int, **kwargs):
    order = OrderFactory(
        number=number,
        customer=customer,
        channel=kwargs.pop("channel"),
        placed_at=T0 + timedelta(minutes=minutes),
        shipping_address=US_ADDRESS.as_dict(),
        financial_status=kwargs.pop("financial_status", FinancialStatus.PAID),
        **kwargs,
    )
    for sku, quantity in lines.items():
        OrderLineFactory(order=order, product__sku=sku, quantity=quantity)
    return order


@pytest.fixture
def page(channel, stock) -> list[dict[str, Any]]:
    """Orders that between them hit every kind of decision, in page order."""
    channel.allow_split_shipments = True
    channel.save()
    la = WarehouseFactory(code="us-la", country="US", priority=10)
    nj = WarehouseFactory(code="us-nj", country="US", priority=20)
    stock("SKU-A", 3, warehouse=la)
    stock("SKU-B", 2, warehouse=nj)
    stock("SKU-C", 1, warehouse=la)
    stock("SKU-C", 1, warehouse=nj)
    x, y, z, w = (CustomerFactory() for _ in range(4))
    # Already in the database: the original of #1006's duplicate.
    _order("#0999", w, {"SKU-C": 2}, -60, channel=channel, status=OrderStatus.SHIPPED)
    return [
        {"number": "#1001", "customer": x, "lines": {"SKU-A": 2}},
        # Same buyer and items as #1001, and only one A is left: waits, flagged twice.
        {"number": "#1002", "customer": x, "lines": {"SKU-A": 2}},
        # A only in LA, B only in NJ: split.
        {"number": "#1003", "customer": y, "lines": {"SKU-A": 1, "SKU-B": 1}},
        {
            "number": "#1004",
            "customer": z,
            "lines": {"SKU-C": 1},
            "financial_status": FinancialStatus.PENDING,
        },
        {"number": "#1005", "customer": z, "lines": {"SKU-C": 1}},
        # One C left (NJ): short, and a duplicate of #0999.
        {"number": "#1006", "customer": w, "lines": {"SKU-C": 2}},
        # Like #1003, but A is gone now.
        {"number": "#1007", "customer": y, "lines": {"SKU-A": 1, "SKU-B": 1}},
        {
            "number": "#1008",
            "customer": x,
            "lines": {"SKU-B": 1},
            "status": OrderStatus.SHIPPED,
        },
    ]


def _create(channel, specs: list[dict[str, Any]]) -> list[Order]:
    return [
        _order(
            spec["number"],
            spec["customer"],
            spec["lines"],
            n + 1,
            channel=channel,
            **{
                k: v
                for k, v in spec.items()
                if k not in ("number", "customer", "lines")
            },
        )
        for n, spec in enumerate(specs)
    ]


def _snapshot(outcomes: list[Any]) -> dict[str, Any]:
    # Each run creates its orders anew; references name them by number instead of pk.
    numbers = {f"order:{pk}": n for pk, n in Order.objects.values_list("pk", "number")}
    orders = {}
    for order in Order.objects.order_by("number"):
        orders[order.number] = {
            "status": order.status,
            "version": order.version,
            "hold_reasons": order.hold_reasons,
            "review_flags": order.review_flags,
            "events": [
                (e.type, e.message, e.data) for e in order.events.order_by("pk")
            ],
            "allocations": sorted(
                (
                    a.order_line.sku,
                    a.stock_item.warehouse.code,
                    a.stock_item.batch.code if a.stock_item.batch else "",
                    a.quantity,
                    numbers[a.reference],
                )
                for a in Allocation.objects.filter(order_line__order=order)
            ),
        }
    return {
        "outcomes": [
            None
            if o is None
            else ([f.as_dict() for f in o.holds], [f.as_dict() for f in o.flags])
            for o in outcomes
        ],
        "orders": orders,
        "stock": sorted(
            StockItem.objects.values_list(
                "product__sku",
                "warehouse__code",
                "quantity_on_hand",
                "quantity_allocated",
            )
        ),
        "ledger": sorted(
            (*row[:-1], numbers[row[-1]])
            for row in StockMovement.objects.filter(type="allocation").values_list(
                "stock_item__product__sku",
                "stock_item__warehouse__code",
                "quantity_allocated_delta",
                "quantity_allocated_after",
                "reference",
            )
        ),
    }


def _run_and_roll_back(run) -> dict[str, Any]:
    try:
        with transaction.atomic():
            raise _Rollback(_snapshot(run()))
    except _Rollback as done:
        return done.args[0]


@pytest.mark.django_db
def test_a_page_decides_exactly_as_the_orders_one_by_one(channel, page):
    def one_by_one():
        # Each order arrives, then is decided, before the next one exists.
        return [order_review_apply(order=_create(channel, [spec])[0]) for spec in page]

    def as_a_page():
        return orders_review_and_allocate(orders=_create(channel, page))

    single = _run_and_roll_back(one_by_one)
    batch = _run_and_roll_back(as_a_page)

    assert batch == single
    statuses = {n: o["status"] for n, o in batch["orders"].items()}
    assert statuses == {
        "#0999": OrderStatus.SHIPPED,
        "#1001": OrderStatus.ALLOCATED,
        "#1002": OrderStatus.AWAITING_STOCK,
        "#1003": OrderStatus.ALLOCATED,
        "#1004": OrderStatus.ON_HOLD,
        "#1005": OrderStatus.ALLOCATED,
        "#1006": OrderStatus.AWAITING_STOCK,
        "#1007": OrderStatus.AWAITING_STOCK,
        "#1008": OrderStatus.SHIPPED,
    }
    orders = batch["orders"]
    assert orders["#1003"]["allocations"] == [
        ("SKU-A", "us-la", "", 1, "#1003"),
        ("SKU-B", "us-nj", "", 1, "#1003"),
    ]
    assert orders["#1003"]["events"][-1][1] == (
        "Split: no single warehouse has every line; us-la ships 1 line(s), "
        "us-nj ships 1 line(s)."
    )
    assert orders["#1002"]["events"][-1][1] == (
        "Waiting for stock: SKU-A needs 2, 1 available."
    )
    assert [f["message"] for f in orders["#1002"]["review_flags"]] == [
        "Looks like a duplicate of #1001 (same customer and items within 24 h).",
        "Stock short: SKU-A needs 2, 1 available.",
    ]
    # A later order of the page is never the original of an earlier one.
    assert orders["#1001"]["review_flags"] == []
    assert orders["#1006"]["review_flags"][0]["message"].startswith(
        "Looks like a duplicate of #0999"
    )
    assert orders["#1004"]["hold_reasons"][0]["message"] == (
        "Payment not captured: the store reports it as pending."
    )
    assert batch["outcomes"][-1] is None
    assert batch["stock"] == [
        ("SKU-A", "us-la", 3, 3),
        ("SKU-B", "us-nj", 2, 1),
        ("SKU-C", "us-la", 1, 1),
        ("SKU-C", "us-nj", 1, 0),
    ]


@pytest.mark.django_db
def test_bundles_and_lots_are_taken_as_one_by_one(channel):
    warehouse = WarehouseFactory(code="us-la", country="US", priority=10)
    plain = ProductFactory(sku="SKU-A")
    lotted = LotTrackedProductFactory(sku="SKU-L")
    stock_receive(product_id=plain.pk, warehouse_id=warehouse.pk, quantity=5)
    today = timezone.localdate()
    for code, days, quantity in (("LATE", 200, 3), ("SOON", 20, 2)):
        stock_receive(
            product_id=lotted.pk,
            warehouse_id=warehouse.pk,
            quantity=quantity,
            lot_code=code,
            expires_on=today + timedelta(days=days),
        )
    kit = BundleFactory(sku="KIT")
    BundleComponentFactory(bundle=kit, component=plain, quantity=2)
    BundleComponentFactory(bundle=kit, component=lotted, quantity=1)
    specs = [
        {"number": f"#{2001 + n}", "customer": CustomerFactory(), "lines": lines}
        for n, lines in enumerate(
            [{"KIT": 1}, {"KIT": 1, "SKU-L": 1}, {"KIT": 1}, {"SKU-L": 2}, {"SKU-L": 1}]
        )
    ]

    def one_by_one():
        return [order_review_apply(order=_create(channel, [spec])[0]) for spec in specs]

    def as_a_page():
        return orders_review_and_allocate(orders=_create(channel, specs))

    single = _run_and_roll_back(one_by_one)
    batch = _run_and_roll_back(as_a_page)

    assert batch == single
    orders = batch["orders"]
    assert {n: o["status"] for n, o in orders.items()} == {
        "#2001": OrderStatus.ALLOCATED,
        "#2002": OrderStatus.ALLOCATED,
        "#2003": OrderStatus.AWAITING_STOCK,
        "#2004": OrderStatus.ALLOCATED,
        "#2005": OrderStatus.AWAITING_STOCK,
    }
    # First expiry first: the SOON lot is used up before LATE is touched.
    assert orders["#2002"]["allocations"] == [
        ("KIT", "us-la", "", 2, "#2002"),
        ("KIT", "us-la", "SOON", 1, "#2002"),
        ("SKU-L", "us-la", "LATE", 1, "#2002"),
    ]
    assert orders["#2003"]["events"][-1][1] == (
        "Waiting for stock: KIT needs 1, 0 available."
    )


@pytest.mark.django_db
def test_a_page_costs_the_same_statements_whatever_its_size(channel, stock):
    stock("SKU-A", 100)

    def statements(first: int, count: int) -> int:
        orders = [
            _order(f"#{first + n}", CustomerFactory(), {"SKU-A": 1}, n, channel=channel)
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            orders_review_and_allocate(orders=orders)
        assert {o.status for o in orders} == {OrderStatus.ALLOCATED}
        return len(queries)

    small, large = statements(2000, 3), statements(3000, 30)

    assert small == large
    assert Allocation.objects.count() == 33


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_pages_racing_for_the_same_skus_never_oversell(channel, stock):
    warehouse = WarehouseFactory(code="us-la", country="US", priority=10)
    stock("SKU-A", 10, warehouse=warehouse)
    stock("SKU-B", 10, warehouse=warehouse)
    # One page asks for A before B, the other B before A: one lock statement each,
    # so neither waits on the other in the opposite order.
    pages = [
        [
            _order(
                f"#{5000 + 100 * p + n}",
                CustomerFactory(),
                {"SKU-A": 1, "SKU-B": 1} if p == 0 else {"SKU-B": 1, "SKU-A": 1},
                n,
                channel=channel,
            ).pk
            for n in range(8)
        ]
        for p in range(2)
    ]
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def run(order_ids: list[int]) -> None:
        try:
            barrier.wait()
            with transaction.atomic(durable=True):
                orders_review_and_allocate(orders=orders_lock(order_ids=order_ids))
        except Exception as exc:  # the outcome under test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(ids,)) for ids in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    statuses = list(Order.objects.values_list("status", flat=True))
    assert statuses.count(OrderStatus.ALLOCATED) == 10
    assert statuses.count(OrderStatus.AWAITING_STOCK) == 6
    assert sorted(
        StockItem.objects.values_list("quantity_on_hand", "quantity_allocated")
    ) == [(10, 10), (10, 10)]
    assert Allocation.objects.count() == 20


@pytest.mark.django_db
def test_a_new_orders_timeline_reads_in_the_order_things_happened(channel, stock):
    stock("SKU-A", 5)

    result = order_ingest(
        channel_id=channel.pk, data=canonical_order(), source=OrderSource.WEBHOOK
    )

    events = OrderEvent.objects.filter(order_id=result.order_id)
    assert list(events.order_by("pk").values_list("type", flat=True)) == [
        OrderEventType.CREATED,
        OrderEventType.APPROVED,
        OrderEventType.ALLOCATED,
    ]
