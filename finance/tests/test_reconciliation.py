import datetime
from decimal import Decimal

import pytest

from connectors.tests.factories import ChannelFactory
from finance.choices import DifferenceKind, DifferenceStatus, ReconciliationSubject
from finance.exceptions import DifferenceStatusError, InvalidFinanceDataError
from finance.inputs import PayoutInput, PayoutLineInput
from finance.models import ReconciliationDifference, ReconciliationItem
from finance.services.payments import order_payments_record
from finance.services.payouts import payout_import
from finance.services.reconciliation import (
    reconciliation_difference_note,
    reconciliation_difference_reopen,
    reconciliation_difference_resolve,
    reconciliation_run,
)
from finance.tests.factories import at, refund, sale
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

MAY_FIRST, MAY_LAST = datetime.date(2025, 5, 1), datetime.date(2025, 5, 31)
D = DifferenceKind


def _order(channel, number, total, *, status="paid", currency="USD", day="2025-05-09"):
    return OrderFactory(
        channel=channel,
        number=number,
        external_id=f"ext-{number.lstrip('#')}",
        currency=currency,
        total=Decimal(total),
        financial_status=status,
        placed_at=at(day, 9),
    )


def _pay(order, transactions, refunds=()):
    order_payments_record(
        order_id=order.pk,
        channel_id=order.channel_id,
        transactions=transactions,
        refunds=list(refunds),
    )


def _line(
    external_id,
    kind,
    gross,
    *,
    fee="0",
    currency="USD",
    ref="",
    order_ref="",
    related="",
):
    gross, fee = Decimal(gross), Decimal(fee)
    return PayoutLineInput(
        external_id=external_id,
        kind=kind,
        gross=gross,
        fee=fee,
        net=gross - fee,
        currency=currency,
        transaction_reference=ref,
        order_reference=order_ref,
        related_reference=related,
    )


def _payout(gateway, external_id, lines, *, day="2025-05-20", currency="USD"):
    payout_import(
        channel_id=None,
        payout=PayoutInput(
            gateway=gateway,
            external_id=external_id,
            currency=currency,
            amount=sum((ln.net for ln in lines), Decimal(0)),
            paid_on=datetime.date.fromisoformat(day),
        ),
        lines=lines,
    )


@pytest.fixture
def seeded_month():
    """May 2025 in one store: most things reconcile, six differences are planted."""
    store = ChannelFactory(code="us-shop", currency="USD")
    o1 = _order(store, "#1001", "49.99")
    _pay(
        o1,
        [sale("t1", "49.99", gateway="paypal", reference="PP-1")],
        [refund("r1", "10.00", day="2025-05-12")],
    )
    o2 = _order(store, "#1002", "25.00")
    _pay(o2, [sale("t2", "25.00", gateway="paypal", reference="PP-2")])
    no_payout = _order(store, "#1004", "30.00")
    _pay(no_payout, [sale("t4", "30.00", gateway="shopify_payments")])
    short = _order(store, "#1005", "40.00")
    _pay(short, [sale("t5", "40.00", gateway="stripe", reference="ch_5")])
    unpaid_tx = _order(store, "#1006", "15.00")
    foreign = _order(store, "#1007", "20.00")
    _pay(
        foreign,
        [sale("t7", "18.50", currency="EUR", gateway="paypal", reference="PP-7")],
    )
    refund_missing = _order(store, "#1008", "60.00", status="partially_refunded")
    _pay(
        refund_missing,
        [sale("t8", "60.00", gateway="paypal", reference="PP-8")],
        [refund("r8", "15.00", day="2025-05-14")],
    )
    cod = _order(store, "#1009", "10.00")
    _pay(cod, [sale("t9", "10.00", gateway="Cash on Delivery (COD)")])
    _order(store, "#1010", "12.00", status="pending")
    _order(store, "#0999", "5.00", day="2025-04-30")  # outside the period

    _payout(
        "paypal",
        "STL-A-20250520-USD",
        [
            _line(
                "PP-1:T0006",
                "charge",
                "49.99",
                fee="1.75",
                ref="PP-1",
                order_ref="#1001",
            ),
            _line(
                "PP-R1:T1107",
                "refund",
                "-10.00",
                ref="PP-R1",
                related="PP-1",
                order_ref="#1001",
            ),
            _line(
                "PP-2:T0006",
                "charge",
                "25.00",
                fee="1.03",
                ref="PP-2",
                order_ref="#1002",
            ),
            _line(
                "PP-8:T0006",
                "charge",
                "60.00",
                fee="2.10",
                ref="PP-8",
                order_ref="#1008",
            ),
            _line("PP-X:T0006", "charge", "12.00", ref="PP-X", order_ref="#9999"),
            _line("PP-W:T0400", "transfer", "-100.00"),
        ],
    )
    _payout(
        "paypal",
        "STL-A-20250520-EUR",
        [
            _line(
                "PP-7:T0006",
                "charge",
                "18.50",
                currency="EUR",
                ref="PP-7",
                order_ref="#1007",
            )
        ],
        currency="EUR",
    )
    _payout(
        "stripe", "po_1", [_line("txn_5", "charge", "39.00", fee="1.20", ref="ch_5")]
    )
    return {
        "no_payout": no_payout,
        "short": short,
        "unpaid_tx": unpaid_tx,
        "foreign": foreign,
        "refund_missing": refund_missing,
    }


def _differences(run):
    return {
        (item.difference_kind, item.subject, item.order.number if item.order else None)
        for item in ReconciliationItem.objects.filter(
            run=run, is_matched=False
        ).select_related("order")
    }


def test_finds_each_planted_difference_and_nothing_else(seeded_month):
    # when
    run = reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)

    # then
    assert _differences(run) == {
        (D.PAID_NO_PAYOUT, ReconciliationSubject.ORDER, "#1004"),
        (D.AMOUNT_MISMATCH, ReconciliationSubject.ORDER, "#1005"),
        (D.PAID_WITHOUT_TRANSACTION, ReconciliationSubject.ORDER, "#1006"),
        (D.CURRENCY_MISMATCH, ReconciliationSubject.ORDER, "#1007"),
        (D.REFUND_NOT_IN_PAYOUT, ReconciliationSubject.REFUND, "#1008"),
        (D.PAYOUT_LINE_NO_ORDER, ReconciliationSubject.PAYOUT_LINE, None),
    }
    # 8 orders with money or a paid flag, 7 charge/refund lines, 2 refunds
    assert (run.items_total, run.items_matched, run.differences_found) == (17, 11, 6)
    assert run.summary == dict.fromkeys(sorted(D.values), 1)
    short = ReconciliationDifference.objects.get(kind=D.AMOUNT_MISMATCH)
    assert (short.currency, short.expected, short.actual) == (
        "USD",
        Decimal("40.0000"),
        Decimal("39.0000"),
    )
    assert "settles 39.00 USD" in short.message
    matched_refund = ReconciliationItem.objects.get(
        run=run, subject=ReconciliationSubject.REFUND, is_matched=True
    )
    assert matched_refund.payout_line.external_id == "PP-R1:T1107"


def test_a_second_run_changes_nothing(seeded_month):
    # given
    first = reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)
    before = {
        d.key: (d.pk, d.status, d.message, d.expected, d.actual, d.first_run_id)
        for d in ReconciliationDifference.objects.all()
    }

    # when
    second = reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)

    # then
    after = {
        d.key: (d.pk, d.status, d.message, d.expected, d.actual, d.first_run_id)
        for d in ReconciliationDifference.objects.all()
    }
    assert after == before
    assert _differences(second) == _differences(first)
    assert (second.items_total, second.items_matched) == (
        first.items_total,
        first.items_matched,
    )
    assert set(ReconciliationDifference.objects.values_list("last_run", flat=True)) == {
        second.pk
    }


def test_resolved_stays_resolved_and_fixed_data_clears_a_difference(
    seeded_month, finance_user
):
    # given
    reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)
    tolerated = ReconciliationDifference.objects.get(kind=D.AMOUNT_MISMATCH)
    reconciliation_difference_note(
        difference_id=tolerated.pk,
        text="Asked Stripe support.",
        actor_id=finance_user.pk,
    )
    reconciliation_difference_resolve(
        difference_id=tolerated.pk,
        note="Stripe kept 1.00 as a dispute fee.",
        actor_id=finance_user.pk,
    )
    _payout(
        "shopify_payments",
        "sp-77",
        [_line("bt-4", "charge", "30.00", ref="t4", order_ref="ext-1004")],
        day="2025-06-02",
    )

    # when
    reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)

    # then
    tolerated.refresh_from_db()
    assert tolerated.status == DifferenceStatus.RESOLVED
    assert [n["text"] for n in tolerated.notes] == [
        "Asked Stripe support.",
        "Stripe kept 1.00 as a dispute fee.",
    ]
    assert tolerated.resolved_by == finance_user
    assert (
        ReconciliationDifference.objects.get(kind=D.PAID_NO_PAYOUT).status
        == DifferenceStatus.GONE
    )
    assert (
        ReconciliationDifference.objects.filter(status=DifferenceStatus.OPEN).count()
        == 4
    )


def test_a_payout_line_of_an_order_from_before_the_period_is_not_orphaned():
    # given: paid in April, paid out in May
    store = ChannelFactory()
    april = _order(store, "#2001", "20.00", day="2025-04-29")
    _pay(
        april,
        [sale("a1", "20.00", gateway="paypal", reference="PP-A1", day="2025-04-29")],
    )
    _payout(
        "paypal",
        "STL-B",
        [_line("PP-A1:T0006", "charge", "20.00", ref="PP-A1")],
        day="2025-05-02",
    )

    # when
    run = reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)

    # then
    item = ReconciliationItem.objects.get(run=run)
    assert (item.subject, item.is_matched, item.order_id) == (
        ReconciliationSubject.PAYOUT_LINE,
        True,
        april.pk,
    )


def test_tolerance_absorbs_rounding():
    # given
    store = ChannelFactory()
    order = _order(store, "#3001", "10.00")
    _pay(order, [sale("c1", "10.00", gateway="stripe", reference="ch_c1")])
    _payout("stripe", "po_c", [_line("txn_c1", "charge", "9.99", ref="ch_c1")])

    # when
    lenient = reconciliation_run(
        date_from=MAY_FIRST, date_to=MAY_LAST, tolerance_minor_units=1
    )
    strict = reconciliation_run(
        date_from=MAY_FIRST, date_to=MAY_LAST, tolerance_minor_units=0
    )

    # then
    assert lenient.differences_found == 0
    assert strict.summary == {D.AMOUNT_MISMATCH: 1}


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(InvalidFinanceDataError):
        reconciliation_run(date_from=MAY_LAST, date_to=MAY_FIRST)


def test_resolving_needs_a_reason(seeded_month):
    reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)
    difference = ReconciliationDifference.objects.first()
    with pytest.raises(InvalidFinanceDataError):
        reconciliation_difference_resolve(
            difference_id=difference.pk, note=" ", actor_id=None
        )
    difference.refresh_from_db()
    assert difference.status == DifferenceStatus.OPEN


def test_a_reopened_difference_is_open_again_and_keeps_its_history(
    seeded_month, finance_user
):
    # given: resolved by finance
    reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)
    difference = ReconciliationDifference.objects.get(kind=D.AMOUNT_MISMATCH)
    reconciliation_difference_resolve(
        difference_id=difference.pk,
        note="Stripe kept 1.00 as a dispute fee.",
        actor_id=finance_user.pk,
    )

    # when
    reconciliation_difference_reopen(
        difference_id=difference.pk,
        note="Stripe says there was no dispute.",
        actor_id=finance_user.pk,
    )

    # then
    difference.refresh_from_db()
    assert difference.status == DifferenceStatus.OPEN
    assert (difference.resolved_at, difference.resolved_by) == (None, None)
    assert [(n["action"], n["text"], n["by"]) for n in difference.notes] == [
        ("resolved", "Stripe kept 1.00 as a dispute fee.", finance_user.pk),
        ("reopened", "Stripe says there was no dispute.", finance_user.pk),
    ]

    # and the next run finds it again and leaves it open; resolving again works
    reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)
    difference.refresh_from_db()
    assert difference.status == DifferenceStatus.OPEN
    reconciliation_difference_resolve(
        difference_id=difference.pk, note="Refund issued.", actor_id=finance_user.pk
    )
    difference.refresh_from_db()
    assert [n["action"] for n in difference.notes] == [
        "resolved",
        "reopened",
        "resolved",
    ]


def test_a_reopened_difference_the_data_no_longer_shows_is_gone_after_a_run(
    seeded_month,
):
    reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)
    difference = ReconciliationDifference.objects.get(kind=D.PAID_NO_PAYOUT)
    reconciliation_difference_resolve(
        difference_id=difference.pk, note="Paid out in June.", actor_id=None
    )
    reconciliation_difference_reopen(
        difference_id=difference.pk, note="Check the June payout.", actor_id=None
    )
    _payout(
        "shopify_payments",
        "sp-77",
        [_line("bt-4", "charge", "30.00", ref="t4", order_ref="ext-1004")],
        day="2025-06-02",
    )

    reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)

    difference.refresh_from_db()
    assert difference.status == DifferenceStatus.GONE


def test_only_a_resolved_difference_can_be_reopened_and_only_with_a_reason(
    seeded_month,
):
    reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)
    difference = ReconciliationDifference.objects.get(kind=D.AMOUNT_MISMATCH)

    with pytest.raises(DifferenceStatusError):
        reconciliation_difference_reopen(
            difference_id=difference.pk, note="Look again.", actor_id=None
        )
    reconciliation_difference_resolve(
        difference_id=difference.pk, note="Fine.", actor_id=None
    )
    with pytest.raises(InvalidFinanceDataError):
        reconciliation_difference_reopen(
            difference_id=difference.pk, note="  ", actor_id=None
        )
    with pytest.raises(DifferenceStatusError):
        reconciliation_difference_resolve(
            difference_id=difference.pk, note="Fine again.", actor_id=None
        )

    difference.refresh_from_db()
    assert difference.status == DifferenceStatus.RESOLVED
    assert [n["text"] for n in difference.notes] == ["Fine."]


def test_command_prints_the_differences(seeded_month, capsys):
    from django.core.management import call_command

    # when
    call_command(
        "run_reconciliation",
        "--from",
        "2025-05-01",
        "--to",
        "2025-05-31",
        "--store",
        "us-shop",
    )

    # then
    out = capsys.readouterr().out
    assert "17 items, 11 matched, 6 differences." in out
    assert (
        "paid_no_payout: 30.00 USD paid through shopify_payments (t4) is in no payout."
        in out
    )


def test_task_runs_a_period(seeded_month):
    from finance.tasks import reconciliation_run_task

    run_id = reconciliation_run_task.apply(args=("2025-05-01", "2025-05-31")).get()
    assert (
        ReconciliationItem.objects.filter(run_id=run_id, is_matched=False).count() == 6
    )


def test_a_payout_the_bank_declined_settles_nothing():
    # given: the order's charge sits in a payout that failed
    store = ChannelFactory()
    order = _order(store, "#2101", "20.00")
    _pay(order, [sale("t1", "20.00", gateway="shopify_payments")])
    payout_import(
        channel_id=None,
        payout=PayoutInput(
            gateway="shopify_payments",
            external_id="sp-failed",
            currency="USD",
            amount=Decimal("19.12"),
            paid_on=datetime.date(2025, 5, 20),
            status="failed",
        ),
        lines=[_line("bt-1", "charge", "20.00", fee="0.88", ref="t1")],
    )

    # when
    run = reconciliation_run(date_from=MAY_FIRST, date_to=MAY_LAST)

    # then
    assert run.summary == {D.PAID_NO_PAYOUT: 1}
