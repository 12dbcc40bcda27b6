"""Customers who pay in another currency than the store's: both amounts are kept, and
payouts reconcile in whichever of the two they settle in."""

import datetime
from decimal import Decimal

import pytest

from connectors.tests.factories import ChannelFactory
from finance.choices import DifferenceKind
from finance.exceptions import InvalidFinanceDataError
from finance.inputs import PayoutInput, PayoutLineInput, RefundInput, TransactionInput
from finance.models import Payment, Refund
from finance.services.payments import order_payments_record
from finance.services.payouts import payout_import
from finance.services.reconciliation import reconciliation_run
from finance.tests.factories import at
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

D = DifferenceKind
MAY_FIRST, MAY_LAST = datetime.date(2025, 5, 1), datetime.date(2025, 5, 31)


def _order(channel, number, total):
    return OrderFactory(
        channel=channel,
        number=number,
        external_id=f"ext-{number.lstrip('#')}",
        currency="USD",
        presentment_currency="EUR",
        total=Decimal(total),
        financial_status="paid",
        placed_at=at("2025-05-09", 9),
    )


def _euro_sale(external_id, usd, eur, *, fee="3.45"):
    """A Shopify Payments sale: shop money in USD, the customer's money in EUR."""
    return TransactionInput(
        external_id=external_id,
        kind="sale",
        gateway="shopify_payments",
        amount=Decimal(usd),
        currency="USD",
        processed_at=at("2025-05-09"),
        fee=Decimal(fee),
        fee_currency="USD",
        presentment_amount=Decimal(eur),
        presentment_currency="EUR",
    )


def _euro_refund(external_id, usd, eur):
    return RefundInput(
        external_id=external_id,
        amount=Decimal(usd),
        currency="USD",
        created_at=at("2025-05-12"),
        presentment_amount=Decimal(eur),
        presentment_currency="EUR",
    )


def _pay(order, transactions, refunds=()):
    return order_payments_record(
        order_id=order.pk,
        channel_id=order.channel_id,
        transactions=transactions,
        refunds=list(refunds),
    )


def _payout(external_id, currency, lines):
    payout_import(
        channel_id=None,
        payout=PayoutInput(
            gateway="shopify_payments",
            external_id=external_id,
            currency=currency,
            amount=sum((ln.net for ln in lines), Decimal(0)),
            paid_on=datetime.date(2025, 5, 20),
        ),
        lines=[
            PayoutLineInput(
                external_id=ln.external_id,
                kind=ln.kind,
                gross=ln.gross,
                fee=ln.fee,
                net=ln.net,
                currency=currency,
                transaction_reference=ln.transaction_reference,
            )
            for ln in lines
        ],
    )


def _line(external_id, kind, gross, ref, fee="0.00"):
    gross, fee = Decimal(gross), Decimal(fee)
    return PayoutLineInput(
        external_id=external_id,
        kind=kind,
        gross=gross,
        fee=fee,
        net=gross - fee,
        currency="",
        transaction_reference=ref,
    )


def test_both_amounts_are_kept_on_payments_and_refunds_and_a_replay_changes_nothing():
    # given: 100.00 EUR charged in a USD store (1 EUR = 1.0846 USD that day)
    order = _order(ChannelFactory(currency="USD"), "#3001", "108.46")

    # when
    first = _pay(
        order,
        [_euro_sale("t1", "108.46", "100.00")],
        [_euro_refund("r1", "21.69", "20.00")],
    )
    again = _pay(
        order,
        [_euro_sale("t1", "108.46", "100.00")],
        [_euro_refund("r1", "21.69", "20.00")],
    )

    # then
    payment = Payment.objects.get()
    assert (
        payment.amount,
        payment.currency,
        payment.presentment_amount,
        payment.presentment_currency,
    ) == (Decimal("108.46"), "USD", Decimal("100.00"), "EUR")
    refund = Refund.objects.get()
    assert (
        refund.amount,
        refund.currency,
        refund.presentment_amount,
        refund.presentment_currency,
    ) == (Decimal("21.69"), "USD", Decimal("20.00"), "EUR")
    assert first.changed is True
    assert again.changed is False


def test_a_presentment_amount_needs_its_currency():
    order = _order(ChannelFactory(currency="USD"), "#3002", "108.46")
    bad = TransactionInput(
        external_id="t1",
        kind="sale",
        gateway="shopify_payments",
        amount=Decimal("108.46"),
        currency="USD",
        processed_at=at("2025-05-09"),
        presentment_amount=Decimal("100.00"),
    )

    with pytest.raises(InvalidFinanceDataError) as refused:
        _pay(order, [bad])

    assert "presentment currency '' is not an ISO code" in refused.value.message
    assert Payment.objects.exists() is False


def test_payouts_reconcile_in_the_currency_they_settle():
    # given: four USD orders the customers paid in euros
    store = ChannelFactory(currency="USD")
    in_euros = _order(store, "#3101", "108.46")
    _pay(
        in_euros,
        [_euro_sale("t1", "108.46", "100.00")],
        [_euro_refund("r1", "21.69", "20.00")],
    )
    in_dollars = _order(store, "#3102", "54.23")
    _pay(in_dollars, [_euro_sale("t2", "54.23", "50.00", fee="1.87")])
    short = _order(store, "#3103", "108.46")
    _pay(short, [_euro_sale("t3", "108.46", "100.00")])
    in_pounds = _order(store, "#3104", "54.23")
    _pay(in_pounds, [_euro_sale("t4", "54.23", "50.00", fee="1.87")])

    # a EUR payout (the account pays out in the customer's currency), a USD payout
    # and a GBP payout nobody expected
    _payout(
        "po-eur",
        "EUR",
        [
            _line("bt-1", "charge", "100.00", "t1", fee="3.18"),
            _line("bt-2", "refund", "-20.00", "r-t1"),
            _line("bt-3", "charge", "99.00", "t3", fee="3.15"),
        ],
    )
    _payout("po-usd", "USD", [_line("bt-4", "charge", "54.23", "t2", fee="1.87")])
    _payout("po-gbp", "GBP", [_line("bt-5", "charge", "42.60", "t4", fee="1.47")])
    # the refund line finds its refund through the store's refund transaction
    order_payments_record(
        order_id=in_euros.pk,
        channel_id=store.pk,
        transactions=[
            _euro_sale("t1", "108.46", "100.00"),
            TransactionInput(
                external_id="r-t1",
                kind="refund",
                gateway="shopify_payments",
                amount=Decimal("21.69"),
                currency="USD",
                processed_at=at("2025-05-12"),
                presentment_amount=Decimal("20.00"),
                presentment_currency="EUR",
            ),
        ],
        refunds=[_euro_refund("r1", "21.69", "20.00")],
    )

    # when
    run = reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)

    # then
    differences = {
        item.order.number: (item.difference_kind, item.message)
        for item in run.items.exclude(difference_kind="").select_related("order")
    }
    assert differences == {
        "#3103": (
            D.AMOUNT_MISMATCH,
            "Payment t3 is 100.00 EUR (what the customer paid) but its payout line "
            "bt-3 settles 99.00 EUR.",
        ),
        "#3104": (
            D.CURRENCY_MISMATCH,
            "Payment t4 is in USD (the customer paid in EUR) but its payout line "
            "bt-5 is in GBP.",
        ),
    }
    matched = set(
        run.items.filter(is_matched=True).values_list("order__number", "subject")
    )
    assert {("#3101", "order"), ("#3102", "order"), ("#3101", "refund")} <= matched
    mismatch = run.items.get(order__number="#3103", subject="order").difference
    assert (mismatch.currency, mismatch.expected, mismatch.actual) == (
        "EUR",
        Decimal("100.00"),
        Decimal("99.00"),
    )


@pytest.fixture
def euro_and_dollar_customers():
    store = ChannelFactory(code="us-shop", currency="USD")
    in_euros = _order(store, "#3201", "108.46")
    _pay(
        in_euros,
        [
            _euro_sale("t1", "108.46", "100.00"),
            TransactionInput(
                external_id="r-t1",
                kind="refund",
                gateway="shopify_payments",
                amount=Decimal("21.69"),
                currency="USD",
                processed_at=at("2025-05-12"),
                presentment_amount=Decimal("20.00"),
                presentment_currency="EUR",
            ),
        ],
    )
    in_dollars = OrderFactory(
        channel=store,
        number="#3202",
        currency="USD",
        presentment_currency="USD",
        total=Decimal("25.00"),
        placed_at=at("2025-05-10", 9),
    )
    _pay(
        in_dollars,
        [
            TransactionInput(
                external_id="t2",
                kind="sale",
                gateway="shopify_payments",
                amount=Decimal("25.00"),
                currency="USD",
                processed_at=at("2025-05-10"),
                fee=Decimal("1.03"),
            )
        ],
    )
    return in_euros, in_dollars


def test_payments_report_shows_what_customers_paid_in_both_currencies(
    client, finance_user, ops_user, euro_and_dollar_customers
):
    # given
    from io import BytesIO

    from django.urls import reverse
    from openpyxl import load_workbook

    url = reverse("finance:payments")
    client.force_login(ops_user)
    assert client.get(url).status_code == 403
    client.force_login(finance_user)

    # when
    page = client.get(url, {"date_from": "2025-05-01", "date_to": "2025-05-31"})
    foreign = client.get(url, {"other_currency_only": "on"})
    export = client.get(url, {"format": "xlsx", "other_currency_only": "on"})

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert '<tr data-pair="USD-EUR"><td>USD</td><td>EUR</td><td>2</td>' in html
    assert "108.46 USD" in html
    assert "100.00 EUR" in html  # charged to the customer
    assert "20.00 EUR" in html  # given back to the customer
    assert '<tr data-pair="USD-USD"><td>USD</td><td>USD</td><td>1</td>' in html
    assert foreign.content.decode().count("data-payment=") == 2
    rows = list(
        load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True)
    )
    header, body = rows[0], rows[1:]
    by_id = {
        r[header.index("transaction")]: dict(zip(header, r, strict=True)) for r in body
    }
    assert set(by_id) == {"t1", "r-t1"}
    assert (
        by_id["t1"]["amount"],
        by_id["t1"]["currency"],
        by_id["t1"]["customer paid"],
        by_id["t1"]["customer currency"],
    ) == (108.46, "USD", 100.0, "EUR")


def test_order_profit_api_lists_payments_in_both_currencies(
    euro_and_dollar_customers, finance_user
):
    from rest_framework.test import APIClient

    in_euros, _in_dollars = euro_and_dollar_customers
    api = APIClient()
    api.force_authenticate(finance_user)

    body = api.get(f"/api/v1/finance/orders/{in_euros.pk}/profit/").json()

    assert [
        (
            p["kind"],
            p["amount"],
            p["currency"],
            p["presentment_amount"],
            p["presentment_currency"],
        )
        for p in body["payments"]
    ] == [
        ("sale", "108.46", "USD", "100.00", "EUR"),
        ("refund", "21.69", "USD", "20.00", "EUR"),
    ]
