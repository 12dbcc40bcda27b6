"""Shopify Payments payouts: fetched over real HTTP from the fake store, into finance."""

import copy
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from graphql import parse

from connectors.shopify import payouts
from connectors.shopify.payouts import (
    DOCUMENTS,
    payout_from_graphql,
    shopify_payouts_fetch,
    shopify_payouts_fetch_task,
)
from connectors.shopify.testing.cost import requested_cost
from connectors.shopify.testing.fake_server import (
    MAX_QUERY_COST,
    official_order,
    official_transactions,
)
from connectors.shopify.testing.payouts import FakeBalanceLine, charge, refund
from connectors.shopify.testing.schema import admin_schema, document_errors
from connectors.sync import channel_sync
from finance.choices import (
    DifferenceKind,
    PayoutImportStatus,
    PayoutLineKind,
    PayoutSource,
)
from finance.models import Payment, Payout, PayoutImport, PayoutLine
from finance.services.reconciliation import reconciliation_run
from orders.models import Order

pytestmark = pytest.mark.django_db

D = DifferenceKind


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_valid_against_the_official_schema_and_affordable(name):
    _document, errors = document_errors(DOCUMENTS[name])
    assert errors == []
    cost = requested_cost(
        admin_schema(),
        parse(DOCUMENTS[name]),
        variables={
            "first": max(
                payouts.PAYOUTS_PAGE_SIZE, payouts.BALANCE_TRANSACTIONS_PAGE_SIZE
            ),
            "query": "payments_transfer_id:1",
        },
    )
    assert 0 < cost <= MAX_QUERY_COST


def _issued(days_ago: int = 0) -> datetime:
    return (timezone.now() - timedelta(days=days_ago)).replace(microsecond=0)


def _one_payout(store, *, status="PAID", days_ago=0):
    return store.payments_account.add_payout(
        issued_at=_issued(days_ago),
        status=status,
        lines=[
            charge(
                order_id=450789469,
                order_name="#1001",
                transaction_id=801038806,
                amount="250.94",
                fee="7.58",
            ),
            refund(
                order_id=450789469,
                order_name="#1001",
                transaction_id=179259969,
                amount="209.00",
            ),
            FakeBalanceLine(
                type="SHIPPING_LABEL", amount=Decimal("-8.40"), order_id=450789469
            ),
        ],
    )


def test_fetch_imports_payouts_with_every_balance_transaction(
    fake_store, store_channel
):
    # given
    payout = _one_payout(fake_store)

    # when
    result = shopify_payouts_fetch(channel_id=store_channel.pk)

    # then
    assert (result.payouts_read, result.payouts_created, result.lines_created) == (
        1,
        1,
        4,
    )
    row = Payout.objects.get()
    # 250.94 - 7.58 - 209.00 - 8.40 = 25.96 to the bank
    assert (row.gateway, row.external_id, row.amount, row.currency, row.status) == (
        "shopify_payments",
        payout["legacyResourceId"],
        Decimal("25.96"),
        "USD",
        "paid",
    )
    assert (row.channel_id, row.source) == (store_channel.pk, PayoutSource.API)
    assert row.paid_on == _issued().date()
    lines = {
        ln.kind: (
            ln.gross,
            ln.fee,
            ln.net,
            ln.transaction_reference,
            ln.order_reference,
        )
        for ln in PayoutLine.objects.filter(payout=row)
    }
    assert lines == {
        PayoutLineKind.CHARGE: (
            Decimal("250.94"),
            Decimal("7.58"),
            Decimal("243.36"),
            "801038806",
            "450789469",
        ),
        PayoutLineKind.REFUND: (
            Decimal("-209.00"),
            Decimal("0.00"),
            Decimal("-209.00"),
            "179259969",
            "450789469",
        ),
        PayoutLineKind.FEE: (
            Decimal("-8.40"),
            Decimal("0.00"),
            Decimal("-8.40"),
            "",
            "450789469",
        ),
        PayoutLineKind.TRANSFER: (
            Decimal("-25.96"),
            Decimal("0.00"),
            Decimal("-25.96"),
            "",
            "",
        ),
    }
    record = PayoutImport.objects.get(pk=result.import_id)
    assert (record.source, record.status, record.channel_id, record.errors) == (
        PayoutSource.API,
        PayoutImportStatus.COMMITTED,
        store_channel.pk,
        [],
    )
    queries = fake_store.calls_of("ShopifyPaymentsPayouts")
    assert queries[0].variables["query"].startswith("issued_at:>='")
    transactions = fake_store.calls_of("ShopifyPaymentsBalanceTransactions")
    assert [c.variables["query"] for c in transactions] == [
        f"payments_transfer_id:{payout['legacyResourceId']}"
    ]


def test_fetching_again_changes_nothing(fake_store, store_channel):
    _one_payout(fake_store)
    shopify_payouts_fetch(channel_id=store_channel.pk)
    before = list(PayoutLine.objects.order_by("pk").values())

    result = shopify_payouts_fetch(channel_id=store_channel.pk)

    assert (
        result.payouts_created,
        result.payouts_updated,
        result.lines_created,
        result.lines_updated,
        result.lines_unchanged,
    ) == (0, 0, 0, 0, 4)
    assert list(PayoutLine.objects.order_by("pk").values()) == before
    assert Payout.objects.count() == 1


def test_a_scheduled_payout_is_updated_when_the_bank_has_it(fake_store, store_channel):
    payout = _one_payout(fake_store, status="SCHEDULED", days_ago=2)
    shopify_payouts_fetch(channel_id=store_channel.pk)
    assert Payout.objects.get().status == "scheduled"

    fake_store.payments_account.set_status(int(payout["legacyResourceId"]), "PAID")
    result = shopify_payouts_fetch(channel_id=store_channel.pk)

    assert (result.payouts_updated, result.lines_created) == (1, 0)
    assert Payout.objects.get().status == "paid"
    # The second fetch started before the newest payout imported, to see it again.
    query = fake_store.calls_of("ShopifyPaymentsPayouts")[-1].variables["query"]
    start = (
        _issued(2).date() - timedelta(days=payouts.REFETCH_OVERLAP_DAYS)
    ).isoformat()
    assert query == f"issued_at:>='{start}T00:00:00Z'"


def test_long_lists_are_read_page_by_page(fake_store, store_channel, monkeypatch):
    monkeypatch.setattr(payouts, "PAYOUTS_PAGE_SIZE", 2)
    monkeypatch.setattr(payouts, "BALANCE_TRANSACTIONS_PAGE_SIZE", 3)
    for day in range(5):
        fake_store.payments_account.add_payout(
            issued_at=_issued(day),
            lines=[
                charge(
                    order_id=1,
                    order_name="#1",
                    transaction_id=100 + i,
                    amount="10.00",
                    fee="0.59",
                )
                for i in range(4)
            ],
        )

    result = shopify_payouts_fetch(channel_id=store_channel.pk)

    assert (result.payouts_read, result.payouts_created, result.lines_created) == (
        5,
        5,
        25,
    )
    assert len(fake_store.calls_of("ShopifyPaymentsPayouts")) == 3
    assert len(fake_store.calls_of("ShopifyPaymentsBalanceTransactions")) == 10
    assert set(Payout.objects.values_list("amount", flat=True)) == {Decimal("37.64")}


def test_the_window_limits_what_is_read(fake_store, store_channel):
    _one_payout(fake_store, days_ago=40)
    recent = _one_payout(fake_store, days_ago=3)
    today = timezone.now().date()

    result = shopify_payouts_fetch(
        channel_id=store_channel.pk,
        since=today - timedelta(days=10),
        until=today - timedelta(days=1),
    )

    assert result.payouts_read == 1
    assert list(Payout.objects.values_list("external_id", flat=True)) == [
        recent["legacyResourceId"]
    ]


def test_a_store_without_shopify_payments_imports_nothing(fake_store, store_channel):
    fake_store.payments_account.is_enabled = False

    result = shopify_payouts_fetch(channel_id=store_channel.pk)

    assert result.has_payments_account is False
    assert Payout.objects.exists() is False
    assert PayoutImport.objects.exists() is False


def test_a_payout_finance_refuses_is_listed_and_the_others_imported(
    fake_store, store_channel
):
    good = _one_payout(fake_store)
    bad = _one_payout(fake_store)
    # A line Shopify would never send: its net is not amount - fee.
    broken = next(
        t
        for t in fake_store.payments_account.balance_transactions
        if t["_payout_id"] == int(bad["legacyResourceId"]) and t["type"] == "CHARGE"
    )
    broken["net"] = {"amount": "1.0", "currencyCode": "USD"}

    result = shopify_payouts_fetch(channel_id=store_channel.pk)

    assert list(Payout.objects.values_list("external_id", flat=True)) == [
        good["legacyResourceId"]
    ]
    assert len(result.errors) == 1
    assert "is not gross 250.94 - fee 7.58" in result.errors[0]
    record = PayoutImport.objects.get(pk=result.import_id)
    assert record.errors[0]["column"] == bad["legacyResourceId"]


def test_withdrawals_and_line_kinds_map_to_finance_words():
    payout = {
        "id": "gid://shopify/ShopifyPaymentsPayout/7",
        "legacyResourceId": "7",
        "issuedAt": "2025-05-20T02:00:00Z",
        "status": "PAID",
        "transactionType": "WITHDRAWAL",
        "net": {"amount": "12.5", "currencyCode": "EUR"},
    }
    lines = [
        {
            "id": f"gid://shopify/ShopifyPaymentsBalanceTransaction/{n}",
            "type": kind,
            "transactionDate": "2025-05-19T10:00:00Z",
            "sourceOrderTransactionId": None,
            "adjustmentReason": "chargeback" if kind == "DISPUTE_WITHDRAWAL" else None,
            "amount": {"amount": "-12.5", "currencyCode": "EUR"},
            "fee": {"amount": "0.0", "currencyCode": "EUR"},
            "net": {"amount": "-12.5", "currencyCode": "EUR"},
            "associatedOrder": None,
            "associatedPayout": {"id": "gid://shopify/ShopifyPaymentsPayout/7"},
        }
        for n, kind in enumerate(
            ["DISPUTE_WITHDRAWAL", "CHARGE_ADJUSTMENT", "RESERVED_FUNDS"], start=1
        )
    ]
    lines.append({**lines[0], "associatedPayout": {"id": "gid://other/8"}})

    mapped, mapped_lines = payout_from_graphql(payout, lines)

    assert (mapped.amount, mapped.currency, str(mapped.paid_on)) == (
        Decimal("-12.50"),
        "EUR",
        "2025-05-20",
    )
    assert [(ln.external_id, ln.kind, ln.description) for ln in mapped_lines] == [
        ("1", PayoutLineKind.DISPUTE, "dispute_withdrawal chargeback"),
        ("2", PayoutLineKind.ADJUSTMENT, "charge_adjustment"),
        ("3", PayoutLineKind.OTHER, "reserved_funds"),
    ]


def test_command_fetches_a_store_and_says_what_changed(fake_store, store_channel):
    _one_payout(fake_store)
    out = StringIO()

    call_command("channel_payouts", store_channel.code, stdout=out)

    assert "1 payout(s) since" in out.getvalue()
    assert "1 new" in out.getvalue()
    assert Payout.objects.count() == 1


def test_task_swallows_a_refused_store_instead_of_retrying(fake_store, store_channel):
    _one_payout(fake_store)
    fake_store.revoke_token()

    shopify_payouts_fetch_task(store_channel.pk)

    store_channel.refresh_from_db()
    assert store_channel.requires_reauthorization is True
    assert Payout.objects.exists() is False


def test_beat_fetches_payouts_daily_through_a_registered_task():
    from erp.celery import app

    app.loader.import_default_modules()
    entry = next(
        e
        for e in app.conf.beat_schedule.values()
        if e["task"] == "connectors.shopify.payouts.shopify_payouts_fetch_all_task"
    )
    assert entry["task"] in app.tasks
    assert "connectors.shopify.payouts.shopify_payouts_fetch_task" in app.tasks


# --- payouts from the store reconcile against its orders ---------------------------------


def _paid_in_full(order_id: int) -> list[dict]:
    """The official transactions, through Shopify Payments and captured in full.

    (The official sample captures 250.94 of 598.94 through the "bogus" test gateway.)
    """
    transactions = copy.deepcopy(official_transactions())
    for t in transactions:
        t["gateway"] = "shopify_payments"
        if t["kind"] == "capture":
            t["amount"] = "598.94"
    ids = {t["id"]: order_id * 100 + 80 + i for i, t in enumerate(transactions)}
    for t in transactions:
        t["order_id"] = order_id
        t["parent_id"] = ids.get(t.get("parent_id"))
        t["id"] = ids[t["id"]]
    return transactions


def _transaction_id(fake_order, kind: str) -> int:
    return next(t["id"] for t in fake_order.transactions if t["kind"] == kind)


def test_payouts_fetched_from_the_store_reconcile_against_its_orders(
    fake_store, store_channel
):
    # given three paid orders synced from the store ...
    now = timezone.now().replace(microsecond=0)
    orders = []
    for i in range(3):
        order_id = 7_100_000_000 + i
        rest = copy.deepcopy(official_order())
        rest.update(
            id=order_id,
            name=f"#{6001 + i}",
            order_number=6001 + i,
            created_at=(now - timedelta(minutes=30 - i)).isoformat(),
            updated_at=(now - timedelta(minutes=20 - i)).isoformat(),
        )
        rest["refunds"] = []
        rest["financial_status"] = "paid"
        transactions = [t for t in _paid_in_full(order_id) if t["kind"] != "refund"]
        orders.append(fake_store.add_rest_order(rest, transactions=transactions))
    channel_sync(channel_id=store_channel.pk)
    assert Order.objects.filter(channel=store_channel).count() == 3
    assert Payment.objects.filter(gateway_key="shopify_payments").count() == 6
    first, short, _in_no_payout = orders

    # ... and a payout that settles the first in full, the second short, and a charge
    # of an order this ERP never saw; the third order is in no payout.
    def charge_of(fake_order, amount, fee):
        return charge(
            order_id=int(fake_order.rest["id"]),
            order_name=fake_order.rest["name"],
            transaction_id=_transaction_id(fake_order, "capture"),
            amount=amount,
            fee=fee,
        )

    fake_store.payments_account.add_payout(
        issued_at=now,
        lines=[
            charge_of(first, "598.94", "17.67"),
            charge_of(short, "590.00", "17.41"),
            charge(
                order_id=9_999_999,
                order_name="#9999",
                transaction_id=424242,
                amount="12.00",
                fee="0.65",
            ),
        ],
    )

    # when
    shopify_payouts_fetch(channel_id=store_channel.pk)
    today = timezone.localdate()
    run = reconciliation_run(date_from=today - timedelta(days=1), date_to=today)

    # then every planted difference is found, and nothing else
    found = {
        (item.difference_kind, item.order.number if item.order else None)
        for item in run.items.exclude(difference_kind="")
    }
    assert found == {
        (D.AMOUNT_MISMATCH, "#6002"),
        (D.PAID_NO_PAYOUT, "#6003"),
        (D.PAYOUT_LINE_NO_ORDER, None),
    }
    assert run.items.get(order__number="#6001", subject="order").is_matched is True
    mismatch = run.items.get(difference_kind=D.AMOUNT_MISMATCH).difference
    assert (mismatch.expected, mismatch.actual) == (
        Decimal("598.94"),
        Decimal("590.00"),
    )

    # and fetching and reconciling again changes nothing
    again = shopify_payouts_fetch(channel_id=store_channel.pk)
    assert (again.lines_created, again.lines_updated) == (0, 0)
    second = reconciliation_run(date_from=today - timedelta(days=1), date_to=today)
    assert second.summary == run.summary
    assert (second.items_total, second.differences_found) == (
        run.items_total,
        run.differences_found,
    )


def _money_set(usd: str, eur: str) -> dict:
    return {
        "shop_money": {"amount": usd, "currency_code": "USD"},
        "presentment_money": {"amount": eur, "currency_code": "EUR"},
    }


def test_a_customer_paying_in_euros_reconciles_against_a_euro_payout(
    fake_store, store_channel
):
    # given: the official order, but the customer saw and paid euros in this dollar
    # store (598.94 USD = 552.23 EUR at 1.0846), and 192.70 EUR (209.00 USD) came back
    now = timezone.now().replace(microsecond=0)
    order_id = 7_200_000_000
    rest = copy.deepcopy(official_order())
    rest.update(
        id=order_id,
        name="#6101",
        order_number=6101,
        presentment_currency="EUR",
        created_at=(now - timedelta(minutes=30)).isoformat(),
        updated_at=(now - timedelta(minutes=20)).isoformat(),
    )
    rest["total_price_set"] = _money_set("598.94", "552.23")
    transactions = _paid_in_full(order_id)
    for t in transactions:
        t["amount_set"] = (
            _money_set("209.00", "192.70")
            if t["kind"] == "refund"
            else _money_set("598.94", "552.23")
        )
    refund_transaction = next(t for t in transactions if t["kind"] == "refund")
    rest["refunds"][0]["created_at"] = (now - timedelta(minutes=25)).isoformat()
    rest["refunds"][0]["transactions"] = [refund_transaction]
    fake_store.add_rest_order(rest, transactions=transactions)

    # when: the poll brings the order, and a payout in euros settles it
    channel_sync(channel_id=store_channel.pk)
    capture = Payment.objects.get(kind="capture")
    assert (
        capture.amount,
        capture.currency,
        capture.presentment_amount,
        capture.presentment_currency,
    ) == (Decimal("598.94"), "USD", Decimal("552.23"), "EUR")
    order = Order.objects.get(external_id=str(order_id))
    refund_row = order.refunds.get()
    assert (refund_row.amount, refund_row.presentment_amount) == (
        Decimal("209.00"),
        Decimal("192.70"),
    )
    assert refund_row.presentment_currency == "EUR"
    fake_store.payments_account.add_payout(
        issued_at=now,
        currency="EUR",
        lines=[
            charge(
                order_id=order_id,
                order_name="#6101",
                transaction_id=_transaction_id(
                    fake_store.orders[str(order_id)], "capture"
                ),
                amount="552.23",
                fee="16.31",
            ),
            refund(
                order_id=order_id,
                order_name="#6101",
                transaction_id=refund_transaction["id"],
                amount="192.70",
            ),
        ],
    )
    shopify_payouts_fetch(channel_id=store_channel.pk)
    today = timezone.localdate()
    run = reconciliation_run(date_from=today - timedelta(days=1), date_to=today)

    # then
    assert Payout.objects.get().currency == "EUR"
    assert run.differences_found == 0, list(run.items.values_list("message", flat=True))
    assert set(run.items.values_list("subject", "is_matched")) == {
        ("order", True),
        ("payout_line", True),
        ("refund", True),
    }
