"""order_ingest_many's set-based page: the same rows, money and events as one by one."""

import dataclasses
import importlib
from datetime import timedelta
from decimal import Decimal

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from connectors.tests.factories import ChannelFactory
from erp.core.db import ADVISORY_LOCK_NAMESPACES, _advisory_key, advisory_xact_locks
from finance.models import (
    OrderLineProfit,
    OrderProfit,
    OrderProfitTag,
    Payment,
    Refund,
    RefundLine,
)
from inventory.models import Allocation, StockItem
from inventory.services.stock import stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory
from orders.canonical import (
    CanonicalRefund,
    CanonicalShippingLine,
    CanonicalTransaction,
    OrderSource,
)
from orders.choices import FinancialStatus, FulfillmentStatus
from orders.models import Customer, Order, OrderEvent, OrderLine, ReviewRule
from orders.services.ingest import (
    IngestFailure,
    IngestResult,
    order_ingest,
    order_ingest_many,
)
from orders.tests.builders import T0, US_ADDRESS, canonical_order

DEFAULT_RULES = importlib.import_module(
    "orders.migrations.0003_default_review_rules"
).DEFAULT_RULES

# Rows whose own times differ between two runs; everything else must be equal.
_TIMES = {"created_at", "updated_at", "computed_at"}


def _setup() -> int:
    """A store, two stocked products and a known buyer with blanks to fill."""
    channel = ChannelFactory(code="us-shop", currency="USD")
    warehouse = WarehouseFactory(code="us-la", country="US", priority=10)
    for sku in ("SKU-A", "SKU-B"):
        product = ProductFactory(sku=sku)
        stock_receive(
            product_id=product.pk,
            warehouse_id=warehouse.pk,
            quantity=100,
            reference="test receipt",
        )
    Customer.objects.create(email="Old@Example.com", email_normalized="old@example.com")
    # flush emptied the rules the migration seeds; review needs them back.
    ReviewRule.objects.bulk_create(
        ReviewRule(position=pos, name=name, kind=kind, action=action, parameters=params)
        for pos, name, kind, action, params in DEFAULT_RULES
    )
    return channel.pk


def _sale(order_id: str, amount: str, **extra) -> CanonicalTransaction:
    return CanonicalTransaction(
        external_id=f"t-{order_id}",
        kind="sale",
        gateway="shopify_payments",
        amount=Decimal(amount),
        currency=extra.pop("currency", "USD"),
        processed_at=T0 + timedelta(seconds=5),
        fee=Decimal("0.59"),
        **extra,
    )


def _history_page() -> list:
    """Orders covering every branch of the upsert a history file can reach."""
    no_phone = dataclasses.replace(US_ADDRESS, phone="")
    phone_only = dataclasses.replace(US_ADDRESS, phone="+1 512 555 0177")
    two_lines = [("SKU-A", 2, "10.00"), ("SKU-B", 1, "5.50")]
    return [
        canonical_order(
            "1",
            lines=two_lines,
            fulfillment_status=FulfillmentStatus.FULFILLED,
            transactions=(_sale("1", "25.50"),),
            placed_at=T0 + timedelta(days=2),
        ),
        canonical_order(
            "2", email="AVA@example.com", transactions=(_sale("2", "10.00"),)
        ),
        canonical_order("3", email="", address=phone_only),
        canonical_order("4", email="new@example.com", address=phone_only),
        canonical_order("5", email="NEW@example.com", address=no_phone),
        canonical_order("6", email="", address=no_phone),
        canonical_order("7", email="old@example.com"),
        canonical_order(
            "8",
            email="rae@example.com",
            lines=two_lines,
            financial_status=FinancialStatus.REFUNDED,
            transactions=(
                _sale("8", "25.50"),
                dataclasses.replace(
                    _sale("8", "25.50"), external_id="r-8", kind="refund", fee=None
                ),
            ),
            refunds=(
                CanonicalRefund(
                    external_id="rf-8",
                    amount=Decimal("25.50"),
                    created_at=T0 + timedelta(days=1),
                    note="damaged",
                    lines=(("8-1", 2, True), ("8-2", 1, False)),
                ),
            ),
        ),
        canonical_order("9", email="cy@example.com", cancelled=True),
        canonical_order(
            "10",
            email="eu@example.com",
            currency="EUR",
            transactions=(_sale("10", "10.00", currency="EUR"),),
        ),
        canonical_order(
            "11",
            email="bad-money@example.com",
            transactions=(_sale("11", "-1.00"),),
        ),
        canonical_order(
            "12",
            email="tags@example.com",
            tags=("vip", "gift"),
            note="leave at the door",
            discount_total=Decimal("2.00"),
            shipping_total=Decimal("4.99"),
            shipping_lines=(
                CanonicalShippingLine(title="Standard", price=Decimal("4.99")),
            ),
            transactions=(_sale("12", "12.99"),),
        ),
        # The same order again, newer: stored by the page, then updated after it.
        canonical_order(
            "1",
            version=2,
            lines=two_lines,
            fulfillment_status=FulfillmentStatus.FULFILLED,
            transactions=(_sale("1", "25.50"),),
            placed_at=T0 + timedelta(days=2),
            note="gift wrap",
        ),
    ]


def _live_page() -> list:
    """New live orders: paid, cancelled, refunded, stock short, held, a duplicate."""

    def buyer(n: int) -> dict:
        phone = f"+1 512 555 01{n}"
        return {
            "email": f"buyer{n}@example.com",
            "address": dataclasses.replace(US_ADDRESS, phone=phone),
        }

    return [
        canonical_order("21", transactions=(_sale("21", "10"),), **buyer(21)),
        canonical_order("22", cancelled=True, **buyer(22)),
        canonical_order(
            "23",
            financial_status=FinancialStatus.REFUNDED,
            transactions=(_sale("23", "10"),),
            **buyer(23),
        ),
        canonical_order("24", lines=[("SKU-A", 500, "1.00")], **buyer(24)),
        canonical_order("25", financial_status=FinancialStatus.PENDING, **buyer(25)),
        # One buyer twice with the same items: the second is the likely duplicate.
        canonical_order("26", **buyer(26)),
        canonical_order("27", placed_at=T0 + timedelta(hours=1), **buyer(26)),
        # Charged in the buyer's currency, part refunded in it.
        canonical_order(
            "28",
            lines=[("SKU-A", 2, "10.00")],
            presentment_currency="EUR",
            financial_status=FinancialStatus.PARTIALLY_REFUNDED,
            transactions=(
                _sale(
                    "28",
                    "20.00",
                    presentment_amount=Decimal("18.40"),
                    presentment_currency="EUR",
                ),
                dataclasses.replace(
                    _sale("28", "10.00"),
                    external_id="r-28",
                    kind="refund",
                    fee=None,
                    presentment_amount=Decimal("9.20"),
                    presentment_currency="EUR",
                ),
            ),
            refunds=(
                CanonicalRefund(
                    external_id="rf-28",
                    amount=Decimal("10.00"),
                    created_at=T0 + timedelta(hours=2),
                    lines=(("28-1", 1, True),),
                    presentment_amount=Decimal("9.20"),
                ),
            ),
            **buyer(28),
        ),
        # The buyer of 21 again, from the phone alone (matched, not a new customer).
        canonical_order(
            "29",
            email="",
            lines=[("SKU-B", 1, "5.50")],
            address=dataclasses.replace(US_ADDRESS, phone="+1 512 555 0121"),
        ),
    ]


def _rows(model, order_by, exclude=()) -> list[dict]:
    skip = _TIMES | set(exclude)
    return [
        {k: v for k, v in row.items() if k not in skip}
        for row in model.objects.order_by(*order_by).values()
    ]


def _snapshot() -> dict:
    """Every row the ingest writes, without ids that depend on statement order."""
    return {
        "customers": _rows(Customer, ["pk"]),
        "orders": _rows(Order, ["pk"]),
        "lines": _rows(OrderLine, ["pk"]),
        # Event ids interleave differently; each order's timeline must not.
        "events": _rows(OrderEvent, ["order_id", "pk"], exclude={"id"}),
        "payments": _rows(Payment, ["pk"]),
        "refunds": _rows(Refund, ["pk"]),
        "refund_lines": _rows(RefundLine, ["pk"]),
        "profits": _rows(OrderProfit, ["pk"]),
        "profit_tags": _rows(OrderProfitTag, ["pk"]),
        "line_profits": _rows(OrderLineProfit, ["pk"]),
        "allocations": _rows(Allocation, ["pk"]),
        "stock": _rows(StockItem, ["pk"]),
    }


def _results(results) -> list:
    return [
        (r.external_id, r.message)
        if isinstance(r, IngestFailure)
        else (r.order_id, r.created, r.changed, r.stale, r.status)
        for r in results
    ]


def _one_by_one(channel_id, page, source) -> list:
    results = []
    for data in page:
        try:
            results.append(
                order_ingest(channel_id=channel_id, data=data, source=source)
            )
        except Exception as exc:  # noqa: BLE001 - compared as order_ingest_many reports it
            results.append(IngestFailure(data.external_id, exc))
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("page", "source"),
    [(_history_page, OrderSource.IMPORT), (_live_page, OrderSource.WEBHOOK)],
)
def test_a_page_writes_exactly_what_order_ingest_writes_one_by_one(page, source):
    # Both runs start from an empty database with fresh id sequences, so ids match.
    call_command("flush", "--noinput", verbosity=0)
    channel_id = _setup()
    with CaptureQueriesContext(connection) as captured:
        batched = order_ingest_many(channel_id=channel_id, orders=page(), source=source)
    batched_rows = _snapshot()

    call_command("flush", "--noinput", verbosity=0)
    channel_id = _setup()
    single = _one_by_one(channel_id, page(), source)

    single_rows = _snapshot()
    assert _results(batched) == _results(single)
    for table, rows in batched_rows.items():
        for batched_row, single_row in zip(rows, single_rows[table], strict=True):
            assert batched_row == single_row, table
    assert batched_rows["profits"], "the page must reach finance"
    order_inserts = [
        q for q in captured.captured_queries if 'INSERT INTO "orders_order"' in q["sql"]
    ]
    assert len(order_inserts) == 1, "the page's new orders are written together"
    assert any(
        "Payments not recorded" in e["message"] for e in batched_rows["events"]
    ) is (source == OrderSource.IMPORT)
    if source == OrderSource.WEBHOOK:
        outcome = {
            o["external_id"]: (o["status"], [f["code"] for f in o["review_flags"]])
            for o in batched_rows["orders"]
        }
        assert outcome == {
            "21": ("allocated", []),
            "22": ("cancelled", []),
            "23": ("refunded", []),
            "24": ("awaiting_stock", ["stock_short"]),
            "25": ("on_hold", []),
            "26": ("allocated", []),
            "27": ("allocated", ["likely_duplicate"]),
            "28": ("allocated", []),
            "29": ("allocated", []),
        }
        buyers = {o["external_id"]: o["customer_id"] for o in batched_rows["orders"]}
        assert buyers["29"] == buyers["21"]
        assert {
            (r["presentment_amount"], r["presentment_currency"])
            for r in batched_rows["refunds"]
        } == {(Decimal("9.20"), "EUR")}


@pytest.mark.django_db
def test_a_bad_order_among_new_history_fails_alone_with_nothing_written():
    channel_id = _setup()
    too_long = canonical_order(
        "2",
        number="#" + "9" * 80,
        email="solo@example.com",
        transactions=(_sale("2", "10"),),
    )
    page = [
        canonical_order("1", transactions=(_sale("1", "10"),)),
        too_long,
        canonical_order("3", email="z@example.com", transactions=(_sale("3", "10"),)),
    ]

    results = order_ingest_many(
        channel_id=channel_id, orders=page, source=OrderSource.IMPORT
    )

    assert [type(r) for r in results] == [IngestResult, IngestFailure, IngestResult]
    assert results[1].message.startswith("The database refused the order")
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["1", "3"]
    assert not Customer.objects.filter(email_normalized="solo@example.com").exists()
    assert sorted(Payment.objects.values_list("external_id", flat=True)) == [
        "t-1",
        "t-3",
    ]
    assert OrderProfit.objects.count() == 2
    assert sum(OrderProfit.objects.values_list("revenue", flat=True)) == Decimal("20")


@pytest.mark.django_db
def test_a_page_of_new_history_costs_the_same_statements_however_long():
    channel_id = _setup()

    def statements(first: int, count: int) -> int:
        page = [
            canonical_order(
                str(n),
                email=f"buyer{n}@example.com",
                address=dataclasses.replace(US_ADDRESS, phone=f"+1 512 555 {n:04d}"),
                lines=[("SKU-A", 1, "10.00"), ("SKU-B", 2, "5.00")],
                transactions=(_sale(str(n), "20.00"),),
            )
            for n in range(first, first + count)
        ]
        with CaptureQueriesContext(connection) as captured:
            results = order_ingest_many(
                channel_id=channel_id, orders=page, source=OrderSource.IMPORT
            )
        assert all(r.created for r in results)
        # Savepoint names count up and values are inlined; the statements must not.
        return [q["sql"].split('"s')[0][:50] for q in captured.captured_queries]

    a, b = statements(0, 10), statements(100, 60)
    assert a == b
    assert Order.objects.count() == 70
    assert OrderLineProfit.objects.count() == 140


@pytest.mark.django_db
def test_an_unchanged_page_is_answered_without_a_write():
    channel_id = _setup()
    page = _history_page()[:12]
    order_ingest_many(channel_id=channel_id, orders=page, source=OrderSource.IMPORT)

    with CaptureQueriesContext(connection) as captured:
        again = order_ingest_many(
            channel_id=channel_id, orders=page, source=OrderSource.IMPORT
        )

    sql = [q["sql"] for q in captured.captured_queries]
    assert [(r.created, r.changed) for r in again] == [(False, False)] * 12
    assert not [s for s in sql if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(sql) <= 6


@pytest.mark.django_db(transaction=True)
def test_page_locks_are_the_keys_one_order_upserts_take():
    with transaction.atomic():
        advisory_xact_locks("order_upsert", ["7:b", "7:a", "7:b"])
        settings = connection.settings_dict
        other = psycopg2.connect(
            dbname=settings["NAME"],
            user=settings["USER"],
            password=settings["PASSWORD"],
            host=settings["HOST"],
            port=settings["PORT"],
        )
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, %s),"
                    " pg_try_advisory_xact_lock(%s, %s)",
                    [
                        ADVISORY_LOCK_NAMESPACES["order_upsert"],
                        _advisory_key("7:a"),
                        ADVISORY_LOCK_NAMESPACES["order_upsert"],
                        _advisory_key("7:c"),
                    ],
                )
                held_elsewhere = cursor.fetchone()
        finally:
            other.close()

    assert held_elsewhere == (False, True)


def _held_elsewhere(namespace, keys):
    """Whether another session finds each advisory key taken (try-lock, released)."""
    settings = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"],
    )
    try:
        with other.cursor() as cursor:
            taken = []
            for key in keys:
                cursor.execute(
                    "SELECT pg_try_advisory_lock(%s, %s)",
                    [ADVISORY_LOCK_NAMESPACES[namespace], _advisory_key(key)],
                )
                taken.append(not cursor.fetchone()[0])
            cursor.execute("SELECT pg_advisory_unlock_all()")
        return taken
    finally:
        other.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_buyer_matching_holds_the_phone_key_too_so_two_stores_never_make_two_buyers():
    # given: a buyer with email and phone; the same person may order in another store
    # at the same moment with the phone only (that order locks the phone key)
    from orders.canonical import CanonicalCustomer
    from orders.normalize import normalize_email, normalize_phone
    from orders.services.customers import (
        Buyer,
        customer_match_or_create,
        customers_match_or_create_many,
    )

    buyer = CanonicalCustomer(email="Ana@Example.com", phone="+1 415 555 0100")
    email_n = normalize_email(buyer.email)
    phone_n = normalize_phone(buyer.phone, country_code="US")

    # when / then: one order at a time and a page both hold both keys until commit
    with transaction.atomic():
        customer_match_or_create(
            customer=buyer, email=buyer.email, phone=buyer.phone, country_code="US"
        )
        one = _held_elsewhere("customer_match", [email_n, phone_n])
    with transaction.atomic():
        customers_match_or_create_many(
            buyers=[Buyer(customer=buyer, email=buyer.email, phone=buyer.phone)]
        )
        page = _held_elsewhere("customer_match", [email_n, phone_n])

    assert one == [True, True]
    assert page == [True, True]
    assert Customer.objects.count() == 1
