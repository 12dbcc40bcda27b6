"""Real concurrency on PostgreSQL: no oversell, no deadlock, locks taken in order."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from inventory import locks
from inventory.exceptions import InsufficientStockError, StockBusyError
from inventory.models import Allocation, StockItem
from inventory.planning import AllocationRequest
from inventory.services import allocation as allocation_services
from inventory.services.allocation import stock_allocate, stock_release, stock_ship
from inventory.services.stock import stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory

pytestmark = [pytest.mark.postgres]


def _run_threads(target: Callable[[int], str], n: int) -> Counter[str]:
    """Run target(i) in n threads started together; count the outcomes it returns."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait()
            outcome = target(i)
        except Exception as exc:  # the outcome under test, whatever it is
            outcome = f"{exc.__class__.__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return Counter(outcomes)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_fifty_threads_racing_for_the_last_five_units_allocate_exactly_five(
    assert_ledger_consistent,
):
    # given
    product, warehouse = ProductFactory(), WarehouseFactory()
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)

    def allocate_one(i: int) -> str:
        try:
            stock_allocate(
                requests=[AllocationRequest(None, product.pk, 1)],
                warehouse_id=warehouse.pk,
                reference=f"racer-{i}",
            )
        except InsufficientStockError:
            return "refused"
        return "won"

    # when
    outcomes = _run_threads(allocate_one, 50)

    # then
    assert outcomes == Counter({"won": 5, "refused": 45})
    item = StockItem.objects.get(product=product)
    assert (item.quantity_on_hand, item.quantity_allocated) == (5, 5)
    assert Allocation.objects.count() == 5
    assert_ledger_consistent()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_skus_in_opposite_order_never_deadlock(
    monkeypatch, assert_ledger_consistent
):
    # given
    warehouse = WarehouseFactory()
    a, b = ProductFactory(), ProductFactory()
    for p in (a, b):
        stock_receive(product_id=p.pk, warehouse_id=warehouse.pk, quantity=1000)
    real_plan = allocation_services.plan_allocations

    def slow_plan(**kwargs):  # hold the locks a while so the two really overlap
        time.sleep(0.02)
        return real_plan(**kwargs)

    monkeypatch.setattr(allocation_services, "plan_allocations", slow_plan)

    def allocate(i: int) -> str:
        first, second = (a, b) if i % 2 == 0 else (b, a)
        for _ in range(15):
            stock_allocate(
                requests=[
                    AllocationRequest(None, first.pk, 1),
                    AllocationRequest(None, second.pk, 1),
                ],
                warehouse_id=warehouse.pk,
            )
        return "ok"

    # when
    outcomes = _run_threads(allocate, 4)

    # then: no "deadlock detected", every allocation landed
    assert outcomes == Counter({"ok": 4})
    assert sorted(StockItem.objects.values_list("quantity_allocated", flat=True)) == [
        60,
        60,
    ]
    assert_ledger_consistent()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_ship_and_release_racing_on_one_allocation_do_it_once(assert_ledger_consistent):
    product, warehouse = ProductFactory(), WarehouseFactory()
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)
    [allocation] = stock_allocate(
        requests=[AllocationRequest(None, product.pk, 2)], warehouse_id=warehouse.pk
    )

    def ship_or_release(i: int) -> str:
        if i % 2:
            stock_ship(allocation_ids=[allocation.pk])
            return "shipped"
        stock_release(allocation_ids=[allocation.pk])
        return "released"

    outcomes = _run_threads(ship_or_release, 10)

    allocation.refresh_from_db()
    item = StockItem.objects.get()
    # Whichever came first won; the other kind was refused, retries of the winner no-op.
    assert outcomes[allocation.status] == 5
    assert (
        sum(n for k, n in outcomes.items() if k.startswith("AllocationStateError")) == 5
    )
    expected_on_hand = 1 if allocation.status == "shipped" else 3
    assert (item.quantity_on_hand, item.quantity_allocated) == (expected_on_hand, 0)
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_a_stuck_lock_times_out_as_stock_busy(monkeypatch):
    # given: another session holds the stock row
    product, warehouse = ProductFactory(), WarehouseFactory()
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)
    item_id = StockItem.objects.get().pk
    monkeypatch.setattr(locks, "STOCK_LOCK_TIMEOUT", "200ms")
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                locks.stock_items_lock(stock_item_ids=[item_id])
                holding.set()
                done.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)

    # when / then
    try:
        with pytest.raises(StockBusyError) as exc:
            stock_allocate(
                requests=[AllocationRequest(None, product.pk, 1)],
                warehouse_id=warehouse.pk,
            )
    finally:
        done.set()
        holder.join()
    assert exc.value.status_code == 409
    assert not Allocation.objects.exists()


@pytest.mark.django_db
def test_allocation_locks_stock_rows_in_pk_order_before_writing(warehouse):
    # given
    products = [ProductFactory() for _ in range(3)]
    for p in products:
        stock_receive(product_id=p.pk, warehouse_id=warehouse.pk, quantity=5)

    # when
    with CaptureQueriesContext(connection) as ctx:
        stock_allocate(
            requests=[AllocationRequest(None, p.pk, 1) for p in reversed(products)],
            warehouse_id=warehouse.pk,
        )

    # then
    sqls = [q["sql"] for q in ctx.captured_queries]
    lock_at = [i for i, s in enumerate(sqls) if "FOR NO KEY UPDATE" in s]
    update_at = [
        i for i, s in enumerate(sqls) if s.startswith('UPDATE "inventory_stockitem"')
    ]
    assert len(lock_at) == 1
    assert update_at
    assert lock_at[0] < update_at[0]
    lock_sql = sqls[lock_at[0]]
    assert 'FOR NO KEY UPDATE OF "inventory_stockitem"' in lock_sql
    assert 'ORDER BY "inventory_stockitem"."id" ASC' in lock_sql
    assert any("lock_timeout" in s for s in sqls[: lock_at[0]])
