"""Reconciliation: orders ↔ payments ↔ payout lines ↔ refunds, every difference named.

A run checks three kinds of item and ends each matched or with exactly one
difference, tried in this order:

- an order the store calls paid, or that has money in: paid without a transaction;
  currency mismatch (payment vs order); amount mismatch (payments vs order total);
  paid but in no payout (for gateways that pay out); currency or amount mismatch
  between a payment and its payout line;
- a charge or refund line of a payout paid in the period: payout line with no order;
- a refund made in the period (for gateways that pay out): refund not in any payout,
  or a currency or amount mismatch with its payout line.

Runs are idempotent: a run of the same data finds the same differences (the same
rows, by their key) and changes none of them. Orders are read through the ORM by
model name, never imported: orders sits above finance.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from erp.core.db import advisory_xact_lock
from erp.core.money import minor_units
from erp.core.text import Join, Phrase
from finance.choices import (
    MONEY_IN_KINDS,
    DifferenceKind,
    DifferenceStatus,
    NoteAction,
    PaymentKind,
    PayoutLineKind,
    ReconciliationRunStatus,
    ReconciliationSubject,
)
from finance.exceptions import DifferenceStatusError, InvalidFinanceDataError
from finance.gateways import PAYOUT_GATEWAYS
from finance.locks import difference_lock
from finance.models import (
    Payment,
    Payout,
    PayoutLine,
    ReconciliationDifference,
    ReconciliationItem,
    ReconciliationRun,
    Refund,
)

D = DifferenceKind
S = ReconciliationSubject
# Store payment states that say the buyer paid.
PAID_STATUSES = ("paid", "partially_refunded", "refunded", "partially_paid")
# Finance sits below orders, so it names the store's payment statuses it reports itself.
STORE_PAYMENT_STATUS_LABELS = {
    "paid": gettext_lazy("paid"),
    "partially_refunded": gettext_lazy("partially refunded"),
    "refunded": gettext_lazy("refunded"),
    "partially_paid": gettext_lazy("partially paid"),
}
# Payouts arrive days after the payment; lines of payouts this long after the period
# still settle its orders.
PAYOUT_LAG_DAYS = 45
# A payout the bank declined or the gateway cancelled settled nothing: its lines go
# back to the balance and come again in a later payout.
PAYOUT_NOT_PAID_STATUSES = ("failed", "canceled", "cancelled")


@dataclass
class _Outcome:
    """How one item ended, before it is written."""

    subject: str
    order_id: int | None = None
    payment_id: int | None = None
    payout_line_id: int | None = None
    refund_id: int | None = None
    kind: str = ""
    message: str = ""
    currency: str = ""
    expected: Decimal | None = None
    actual: Decimal | None = None

    @property
    def subject_key(self) -> str:
        subject_id = {
            S.ORDER: self.order_id,
            S.PAYOUT_LINE: self.payout_line_id,
            S.REFUND: self.refund_id,
        }[S(self.subject)]
        return f"{self.subject}:{subject_id}"

    def differ(
        self,
        kind: str,
        message: str,
        *,
        currency: str = "",
        expected: Decimal | None = None,
        actual: Decimal | None = None,
    ) -> _Outcome:
        self.kind, self.message = kind, message
        self.currency, self.expected, self.actual = currency, expected, actual
        return self


def _tolerance(currency: str, units: int) -> Decimal:
    return Decimal(units).scaleb(-minor_units(currency))


def _settled_amount(item: Payment | Refund, currency: str) -> Decimal | None:
    """The item's amount in a payout's currency: in the store's currency, or what the
    customer paid in theirs (presentment); None when it is neither."""
    if item.currency == currency:
        return item.amount
    if item.presentment_currency == currency and item.presentment_amount is not None:
        return item.presentment_amount
    return None


def _amount_or_own(item: Payment | Refund, currency: str) -> Decimal:
    settled = _settled_amount(item, currency)
    return item.amount if settled is None else settled


def _presentment_phrase(
    item: Payment | Refund, plain: str, with_presentment: str, **params: Any
) -> Phrase:
    """The message naming the customer's currency too, when it differs."""
    if item.presentment_currency and item.presentment_currency != item.currency:
        return Phrase(
            with_presentment, presentment_currency=item.presentment_currency, **params
        )
    return Phrase(plain, **params)


def _order_refs(number: str, external_id: str) -> set[str]:
    """The strings a gateway may use for an order: "#1001", "1001", the store id."""
    refs = {number, number.lstrip("#"), external_id}
    return {r for r in refs if r}


class _Matcher:
    """Links payout lines to payments, orders and refunds (all in memory, set-based)."""

    def __init__(self, *, orders: dict[int, dict[str, Any]]) -> None:
        self.orders = orders
        self.order_by_ref: dict[str, int] = {}
        for order_id, order in orders.items():
            for ref in _order_refs(order["number"], order["external_id"]):
                self.order_by_ref.setdefault(ref, order_id)
        self.payments: dict[int, Payment] = {}
        self.payment_by_ref: dict[str, int] = {}
        self.refunds_by_order: dict[int, list[Refund]] = defaultdict(list)
        self.line_for_payment: dict[int, PayoutLine] = {}
        self.line_for_refund: dict[int, PayoutLine] = {}
        self.order_for_line: dict[int, int] = {}
        self.payment_for_line: dict[int, int] = {}

    def add_payments(self, payments: Iterable[Payment]) -> None:
        for payment in payments:
            self.payments[payment.pk] = payment
            for ref in (payment.gateway_reference, payment.external_id):
                if ref:
                    self.payment_by_ref.setdefault(ref, payment.pk)

    def add_refunds(self, refunds: Iterable[Refund]) -> None:
        for refund in refunds:
            self.refunds_by_order[refund.order_id].append(refund)

    def add_orders(self, orders: dict[int, dict[str, Any]]) -> None:
        for order_id, order in orders.items():
            self.orders.setdefault(order_id, order)
            for ref in _order_refs(order["number"], order["external_id"]):
                self.order_by_ref.setdefault(ref, order_id)

    def _order_of(self, line: PayoutLine) -> int | None:
        for ref in (line.transaction_reference, line.related_reference):
            payment_id = self.payment_by_ref.get(ref) if ref else None
            if payment_id is not None:
                return self.payments[payment_id].order_id
        return (
            self.order_by_ref.get(line.order_reference)
            if line.order_reference
            else None
        )

    def match(self, lines: Iterable[PayoutLine]) -> None:
        """Charges find their payment, refunds their refund; both find their order."""
        for line in sorted(lines, key=lambda ln: ln.pk):
            if line.kind == PayoutLineKind.CHARGE:
                self._match_charge(line)
            elif line.kind == PayoutLineKind.REFUND:
                self._match_refund(line)

    def _match_charge(self, line: PayoutLine) -> None:
        payment_id = self.payment_by_ref.get(line.transaction_reference or "\0")
        candidate = self.payments.get(payment_id) if payment_id is not None else None
        if candidate is None or candidate.kind not in MONEY_IN_KINDS:
            order_id = self._order_of(line)
            candidate = None
            if order_id is not None:
                open_payments = [
                    p
                    for p in self.payments.values()
                    if p.order_id == order_id
                    and p.kind in MONEY_IN_KINDS
                    and p.succeeded
                    and p.pk not in self.line_for_payment
                ]
                # The closest amount wins when an order was paid in several parts.
                open_payments.sort(
                    key=lambda p: (
                        abs(_amount_or_own(p, line.currency) - line.gross),
                        p.pk,
                    )
                )
                candidate = open_payments[0] if open_payments else None
                self.order_for_line[line.pk] = order_id
        if candidate is not None and candidate.pk not in self.line_for_payment:
            self.line_for_payment[candidate.pk] = line
            self.payment_for_line[line.pk] = candidate.pk
            self.order_for_line[line.pk] = candidate.order_id

    def _match_refund(self, line: PayoutLine) -> None:
        order_id = self._order_of(line)
        if order_id is None:
            return
        self.order_for_line[line.pk] = order_id
        open_refunds = [
            r
            for r in self.refunds_by_order.get(order_id, [])
            if r.pk not in self.line_for_refund
        ]
        open_refunds.sort(
            key=lambda r: (
                abs(_amount_or_own(r, line.currency) - abs(line.gross)),
                r.pk,
            )
        )
        if open_refunds:
            self.line_for_refund[open_refunds[0].pk] = line


def _orders_values(queryset: Any) -> dict[int, dict[str, Any]]:
    return {
        row["pk"]: row
        for row in queryset.values(
            "pk",
            "number",
            "external_id",
            "currency",
            "total",
            "financial_status",
            "channel_id",
        )
    }


def _check_order(
    order: dict[str, Any],
    payments: list[Payment],
    matcher: _Matcher,
    payout_gateways: set[str],
    units: int,
) -> _Outcome | None:
    outcome = _Outcome(subject=S.ORDER, order_id=order["pk"])
    money_in = [p for p in payments if p.succeeded and p.kind in MONEY_IN_KINDS]
    currency = order["currency"]
    store_paid = order["financial_status"] in PAID_STATUSES
    if not money_in:
        if not store_paid:
            return None
        return outcome.differ(
            D.PAID_WITHOUT_TRANSACTION,
            Phrase(
                gettext_noop(
                    "The store marks order %(number)s %(status)s, but no successful "
                    "payment transaction was recorded."
                ),
                number=order["number"],
                status=STORE_PAYMENT_STATUS_LABELS.get(
                    order["financial_status"], order["financial_status"]
                ),
            ),
            currency=currency,
            expected=order["total"],
            actual=Decimal(0),
        )
    outcome.payment_id = money_in[0].pk
    foreign = [p for p in money_in if p.currency != currency]
    if foreign:
        outcome.payment_id = foreign[0].pk
        return outcome.differ(
            D.CURRENCY_MISMATCH,
            Phrase(
                gettext_noop(
                    "Order %(number)s is in %(currency)s but was paid in "
                    "%(paid_currency)s (%(gateway)s %(payment)s)."
                ),
                number=order["number"],
                currency=currency,
                paid_currency=foreign[0].currency,
                gateway=foreign[0].gateway,
                payment=foreign[0].external_id,
            ),
            currency=foreign[0].currency,
            expected=order["total"],
            actual=foreign[0].amount,
        )
    paid = sum((p.amount for p in money_in), Decimal(0))
    tolerance = _tolerance(currency, units)
    if abs(paid - order["total"]) > tolerance:
        return outcome.differ(
            D.AMOUNT_MISMATCH,
            Phrase(
                gettext_noop(
                    "Order %(number)s totals %(total)s %(currency)s but payments add "
                    "up to %(paid)s %(currency)s."
                ),
                number=order["number"],
                total=f"{order['total']:.2f}",
                currency=currency,
                paid=f"{paid:.2f}",
            ),
            currency=currency,
            expected=order["total"],
            actual=paid,
        )
    for payment in money_in:
        if payment.gateway_key not in payout_gateways:
            continue
        line = matcher.line_for_payment.get(payment.pk)
        outcome.payment_id = payment.pk
        if line is None:
            return outcome.differ(
                D.PAID_NO_PAYOUT,
                Phrase(
                    gettext_noop(
                        "%(amount)s %(currency)s paid through %(gateway)s (%(payment)s) "
                        "is in no payout."
                    ),
                    amount=f"{payment.amount:.2f}",
                    currency=payment.currency,
                    gateway=payment.gateway,
                    payment=payment.external_id,
                ),
                currency=payment.currency,
                expected=payment.amount,
                actual=Decimal(0),
            )
        outcome.payout_line_id = line.pk
        expected = _settled_amount(payment, line.currency)
        if expected is None:
            return outcome.differ(
                D.CURRENCY_MISMATCH,
                _presentment_phrase(
                    payment,
                    gettext_noop(
                        "Payment %(payment)s is in %(currency)s but its payout line "
                        "%(line)s is in %(line_currency)s."
                    ),
                    gettext_noop(
                        "Payment %(payment)s is in %(currency)s (the customer paid in "
                        "%(presentment_currency)s) but its payout line %(line)s is in "
                        "%(line_currency)s."
                    ),
                    payment=payment.external_id,
                    currency=payment.currency,
                    line=line.external_id,
                    line_currency=line.currency,
                ),
                currency=line.currency,
                expected=payment.amount,
                actual=line.gross,
            )
        if abs(line.gross - expected) > _tolerance(line.currency, units):
            return outcome.differ(
                D.AMOUNT_MISMATCH,
                Phrase(
                    gettext_noop(
                        "Payment %(payment)s is %(amount)s %(currency)s but its payout "
                        "line %(line)s settles %(gross)s %(line_currency)s."
                    )
                    if line.currency == payment.currency
                    else gettext_noop(
                        "Payment %(payment)s is %(amount)s %(currency)s (what the "
                        "customer paid) but its payout line %(line)s settles "
                        "%(gross)s %(line_currency)s."
                    ),
                    payment=payment.external_id,
                    amount=f"{expected:.2f}",
                    currency=line.currency,
                    line=line.external_id,
                    gross=f"{line.gross:.2f}",
                    line_currency=line.currency,
                ),
                currency=line.currency,
                expected=expected,
                actual=line.gross,
            )
    return outcome


def _check_line(line: PayoutLine, matcher: _Matcher) -> _Outcome:
    outcome = _Outcome(
        subject=S.PAYOUT_LINE,
        payout_line_id=line.pk,
        order_id=matcher.order_for_line.get(line.pk),
        payment_id=matcher.payment_for_line.get(line.pk),
    )
    if outcome.order_id is None:
        refs = [
            Phrase(template, ref=value)
            for template, value in (
                (gettext_noop("transaction %(ref)s"), line.transaction_reference),
                (gettext_noop("order %(ref)s"), line.order_reference),
            )
            if value
        ]
        return outcome.differ(
            D.PAYOUT_LINE_NO_ORDER,
            Phrase(
                gettext_noop(
                    "%(kind)s %(gross)s %(currency)s in payout %(payout)s matches no "
                    "order (%(refs)s)."
                ),
                kind=PayoutLineKind(line.kind).label
                if line.kind in PayoutLineKind.values
                else line.kind,
                gross=f"{line.gross:.2f}",
                currency=line.currency,
                payout=line.payout.external_id,
                refs=Join(refs) if refs else Phrase(gettext_noop("no reference")),
            ),
            currency=line.currency,
            expected=None,
            actual=line.gross,
        )
    return outcome


def _check_refund(refund: Refund, matcher: _Matcher, units: int) -> _Outcome:
    outcome = _Outcome(subject=S.REFUND, refund_id=refund.pk, order_id=refund.order_id)
    line = matcher.line_for_refund.get(refund.pk)
    if line is None:
        return outcome.differ(
            D.REFUND_NOT_IN_PAYOUT,
            Phrase(
                gettext_noop(
                    "Refund %(refund)s of %(amount)s %(currency)s is in no payout."
                ),
                refund=refund.external_id,
                amount=f"{refund.amount:.2f}",
                currency=refund.currency,
            ),
            currency=refund.currency,
            expected=refund.amount,
            actual=Decimal(0),
        )
    outcome.payout_line_id = line.pk
    expected = _settled_amount(refund, line.currency)
    if expected is None:
        return outcome.differ(
            D.CURRENCY_MISMATCH,
            _presentment_phrase(
                refund,
                gettext_noop(
                    "Refund %(refund)s is in %(currency)s but its payout line %(line)s "
                    "is in %(line_currency)s."
                ),
                gettext_noop(
                    "Refund %(refund)s is in %(currency)s (the customer got "
                    "%(presentment_currency)s back) but its payout line %(line)s is "
                    "in %(line_currency)s."
                ),
                refund=refund.external_id,
                currency=refund.currency,
                line=line.external_id,
                line_currency=line.currency,
            ),
            currency=line.currency,
            expected=refund.amount,
            actual=-line.gross,
        )
    if abs(abs(line.gross) - expected) > _tolerance(line.currency, units):
        return outcome.differ(
            D.AMOUNT_MISMATCH,
            Phrase(
                gettext_noop(
                    "Refund %(refund)s is %(amount)s %(currency)s but its payout line "
                    "%(line)s takes back %(taken)s."
                ),
                refund=refund.external_id,
                amount=f"{expected:.2f}",
                currency=line.currency,
                line=line.external_id,
                taken=f"{-line.gross:.2f}",
            ),
            currency=line.currency,
            expected=expected,
            actual=-line.gross,
        )
    return outcome


def _outcomes(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    channel_id: int | None,
    units: int,
) -> tuple[list[_Outcome], set[str]]:
    """Every item of the scope and how it ended, plus every subject the scope checked."""
    order_model = apps.get_model("orders", "Order")
    scope = Q(placed_at__date__gte=date_from, placed_at__date__lte=date_to)
    if channel_id is not None:
        scope &= Q(channel_id=channel_id)
    orders = _orders_values(order_model.objects.filter(scope))
    matcher = _Matcher(orders=dict(orders))
    matcher.add_payments(
        Payment.objects.filter(order__in=order_model.objects.filter(scope))
    )
    refund_scope = Q(refunded_at__date__gte=date_from, refunded_at__date__lte=date_to)
    if channel_id is not None:
        refund_scope &= Q(channel_id=channel_id)
    refunds = list(Refund.objects.filter(refund_scope | Q(order__in=list(orders))))
    period_payouts = Payout.objects.filter(paid_on__gte=date_from, paid_on__lte=date_to)
    if channel_id is not None:
        period_payouts = period_payouts.filter(
            Q(channel_id=channel_id) | Q(channel__isnull=True)
        )
    lines = list(
        PayoutLine.objects.filter(
            payout__paid_on__gte=date_from,
            payout__paid_on__lte=date_to + datetime.timedelta(days=PAYOUT_LAG_DAYS),
            kind__in=(PayoutLineKind.CHARGE, PayoutLineKind.REFUND),
        )
        .exclude(payout__status__in=PAYOUT_NOT_PAID_STATUSES)
        .select_related("payout")
    )
    # Lines that point outside the scope (a refund of last month's order, a payment
    # of an order placed before the period) need those orders and payments too.
    refs = {
        r for ln in lines for r in (ln.transaction_reference, ln.related_reference) if r
    }
    order_refs = {ln.order_reference for ln in lines if ln.order_reference}
    order_refs |= {r.lstrip("#") for r in order_refs}
    outside = Payment.objects.filter(
        Q(gateway_reference__in=refs) | Q(external_id__in=refs)
    ).exclude(order_id__in=list(orders))
    matcher.add_payments(outside)
    extra_orders = _orders_values(
        order_model.objects.filter(
            Q(number__in=order_refs | {f"#{r}" for r in order_refs})
            | Q(external_id__in=order_refs)
            | Q(
                pk__in={r.order_id for r in refunds}
                | {p.order_id for p in matcher.payments.values()}
            )
        ).exclude(pk__in=list(orders))
    )
    matcher.add_orders(extra_orders)
    extra_payments = Payment.objects.filter(order_id__in=list(extra_orders)).exclude(
        pk__in=list(matcher.payments)
    )
    matcher.add_payments(extra_payments)
    matcher.add_refunds(refunds)
    matcher.match(lines)

    payout_gateways = set(PAYOUT_GATEWAYS) | set(
        Payout.objects.values_list("gateway", flat=True).distinct()
    )
    payments_by_order: dict[int, list[Payment]] = defaultdict(list)
    for payment in matcher.payments.values():
        payments_by_order[payment.order_id].append(payment)

    outcomes: list[_Outcome] = []
    checked: set[str] = {f"{S.ORDER}:{pk}" for pk in orders}
    for order_id in sorted(orders):
        payments = sorted(payments_by_order.get(order_id, []), key=lambda p: p.pk)
        outcome = _check_order(
            orders[order_id], payments, matcher, payout_gateways, units
        )
        if outcome is not None:
            outcomes.append(outcome)
    period_payout_ids = set(period_payouts.values_list("pk", flat=True))
    for line in sorted(lines, key=lambda ln: ln.pk):
        if line.payout_id in period_payout_ids:
            checked.add(f"{S.PAYOUT_LINE}:{line.pk}")
            outcomes.append(_check_line(line, matcher))
    for refund in sorted(refunds, key=lambda r: r.pk):
        if not (date_from <= timezone.localdate(refund.refunded_at) <= date_to):
            continue
        if channel_id is not None and refund.channel_id != channel_id:
            continue
        checked.add(f"{S.REFUND}:{refund.pk}")
        gateways = {
            p.gateway_key
            for p in payments_by_order.get(refund.order_id, [])
            if p.succeeded and p.kind in (*MONEY_IN_KINDS, PaymentKind.REFUND)
        }
        if not gateways & payout_gateways:
            continue  # paid by hand or cash on delivery: refunded outside any payout
        outcomes.append(_check_refund(refund, matcher, units))
    return outcomes, checked


def _differences_apply(
    *, run: ReconciliationRun, outcomes: list[_Outcome], checked: set[str]
) -> dict[str, ReconciliationDifference]:
    """Create new differences, refresh found ones, mark vanished ones gone."""
    found = {f"{o.kind}:{o.subject_key}": o for o in outcomes if o.kind}
    existing = {
        d.key: d for d in ReconciliationDifference.objects.filter(key__in=found)
    }
    fields = (
        "order_id",
        "payout_line_id",
        "refund_id",
        "currency",
        "expected",
        "actual",
        "message",
        "message_phrase",
    )
    to_create, to_update = [], []
    for key, outcome in found.items():
        values = {
            "order_id": outcome.order_id,
            "payout_line_id": outcome.payout_line_id,
            "refund_id": outcome.refund_id,
            "currency": outcome.currency,
            "expected": outcome.expected,
            "actual": outcome.actual,
            "message": outcome.message,
            "message_phrase": outcome.message.as_dict()
            if isinstance(outcome.message, Phrase)
            else {},
        }
        current = existing.get(key)
        if current is None:
            to_create.append(
                ReconciliationDifference(
                    key=key,
                    subject_key=outcome.subject_key,
                    kind=outcome.kind,
                    subject=outcome.subject,
                    first_run=run,
                    last_run=run,
                    **values,
                )
            )
            continue
        for name, value in values.items():
            setattr(current, name, value)
        if current.status == DifferenceStatus.GONE:
            current.status = DifferenceStatus.OPEN  # it came back
        current.last_run = run
        to_update.append(current)
    ReconciliationDifference.objects.bulk_create(to_create, batch_size=1000)
    ReconciliationDifference.objects.bulk_update(
        to_update, [*fields, "status", "last_run", "updated_at"], batch_size=1000
    )
    # Checked again and not found: the data was fixed. Resolved ones keep their verdict.
    ReconciliationDifference.objects.filter(
        subject_key__in=checked, status=DifferenceStatus.OPEN
    ).exclude(key__in=found).update(
        status=DifferenceStatus.GONE, last_run=run, updated_at=timezone.now()
    )
    return {d.key: d for d in (*to_create, *to_update)}


@transaction.atomic(durable=True)
def reconciliation_run(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    channel_id: int | None = None,
    tolerance_minor_units: int = 1,
    actor_id: int | None = None,
) -> ReconciliationRun:
    """Reconcile orders placed, payouts paid and refunds made in a period; keep the run.

    Idempotent: running it again over the same data finds the same differences.
    Locks: an advisory lock per (period, store), so the same scope runs one at a time.
    Raises: InvalidFinanceDataError for a period that ends before it starts.
    """
    if date_to < date_from:
        raise InvalidFinanceDataError(
            gettext("The period ends (%(date_to)s) before it starts (%(date_from)s).")
            % {"date_to": date_to, "date_from": date_from},
            date_from=date_from.isoformat(),
            date_to=date_to.isoformat(),
        )
    if tolerance_minor_units < 0:
        raise InvalidFinanceDataError(
            gettext("The rounding tolerance cannot be negative.")
        )
    # A second run of the same scope waits for the first, then finds its result.
    advisory_xact_lock("reconciliation_run", f"{date_from}:{date_to}:{channel_id}")
    run = ReconciliationRun.objects.create(
        date_from=date_from,
        date_to=date_to,
        channel_id=channel_id,
        tolerance_minor_units=tolerance_minor_units,
        created_by_id=actor_id,
    )
    outcomes, checked = _outcomes(
        date_from=date_from,
        date_to=date_to,
        channel_id=channel_id,
        units=tolerance_minor_units,
    )
    differences = _differences_apply(run=run, outcomes=outcomes, checked=checked)
    ReconciliationItem.objects.bulk_create(
        (
            ReconciliationItem(
                run=run,
                subject=o.subject,
                order_id=o.order_id,
                payment_id=o.payment_id,
                payout_line_id=o.payout_line_id,
                refund_id=o.refund_id,
                is_matched=not o.kind,
                difference=differences.get(f"{o.kind}:{o.subject_key}")
                if o.kind
                else None,
                difference_kind=o.kind,
                message=o.message,
            )
            for o in outcomes
        ),
        batch_size=2000,
    )
    summary: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        if outcome.kind:
            summary[outcome.kind] += 1
    run.items_total = len(outcomes)
    run.differences_found = sum(summary.values())
    run.items_matched = run.items_total - run.differences_found
    run.summary = dict(sorted(summary.items()))
    run.status = ReconciliationRunStatus.FINISHED
    run.finished_at = timezone.now()
    run.save()
    return run


def _note(
    text: str, actor_id: int | None, action: str = NoteAction.NOTE
) -> dict[str, Any]:
    return {
        "at": timezone.now().isoformat(),
        "by": actor_id,
        "text": text,
        "action": action,
    }


def _difference_locked(difference_id: int) -> ReconciliationDifference:
    difference = difference_lock(difference_id=difference_id)
    if difference is None:
        raise InvalidFinanceDataError(
            gettext("Difference %(difference_id)s does not exist.")
            % {"difference_id": difference_id},
            difference_id=difference_id,
        )
    return difference


@transaction.atomic
def reconciliation_difference_note(
    *, difference_id: int, text: str, actor_id: int | None
) -> ReconciliationDifference:
    """Add a note to a difference (notes are kept in order, never edited).

    Locks: the difference row. Raises: InvalidFinanceDataError (empty note, unknown id).
    """
    if not text.strip():
        raise InvalidFinanceDataError(gettext("The note is empty."))
    difference = _difference_locked(difference_id)
    difference.notes = [*difference.notes, _note(text.strip(), actor_id)]
    difference.save(update_fields=["notes", "updated_at"])
    return difference


@transaction.atomic
def reconciliation_difference_resolve(
    *, difference_id: int, note: str, actor_id: int | None
) -> ReconciliationDifference:
    """Mark a difference resolved with the reason; later runs leave it resolved.

    Locks: the difference row. Raises: InvalidFinanceDataError.
    """
    if not note.strip():
        raise InvalidFinanceDataError(gettext("Say why the difference is resolved."))
    difference = _difference_locked(difference_id)
    if difference.status == DifferenceStatus.RESOLVED:
        raise DifferenceStatusError(
            gettext("Difference %(difference_id)s is already resolved.")
            % {"difference_id": difference_id},
            difference_id=difference_id,
            status=difference.status,
        )
    difference.notes = [
        *difference.notes,
        _note(note.strip(), actor_id, NoteAction.RESOLVED),
    ]
    difference.status = DifferenceStatus.RESOLVED
    difference.resolved_at = timezone.now()
    difference.resolved_by_id = actor_id
    difference.save(
        update_fields=["notes", "status", "resolved_at", "resolved_by", "updated_at"]
    )
    return difference


@transaction.atomic
def reconciliation_difference_reopen(
    *, difference_id: int, note: str, actor_id: int | None
) -> ReconciliationDifference:
    """Reopen a resolved difference, saying why; its notes keep the whole history.

    Open again, the next run that checks its subject updates it, or marks it gone
    when the data no longer shows it.
    Locks: the difference row.
    Raises: InvalidFinanceDataError (no reason, unknown id); DifferenceStatusError
    when the difference is not resolved.
    """
    if not note.strip():
        raise InvalidFinanceDataError(gettext("Say why the difference is reopened."))
    difference = _difference_locked(difference_id)
    if difference.status != DifferenceStatus.RESOLVED:
        raise DifferenceStatusError(
            gettext(
                "Difference %(difference_id)s is %(status)s, not resolved; only a resolved difference can be reopened."
            )
            % {
                "difference_id": difference_id,
                "status": difference.get_status_display().lower(),
            },
            difference_id=difference_id,
            status=difference.status,
        )
    difference.notes = [
        *difference.notes,
        _note(note.strip(), actor_id, NoteAction.REOPENED),
    ]
    difference.status = DifferenceStatus.OPEN
    difference.resolved_at = None
    difference.resolved_by = None
    difference.save(
        update_fields=["notes", "status", "resolved_at", "resolved_by", "updated_at"]
    )
    return difference
