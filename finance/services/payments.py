"""Payments and refunds of store orders, recorded as the orders pipeline hands them in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils.translation import gettext

from finance.choices import PaymentKind
from finance.exceptions import InvalidFinanceDataError, OrderNotFoundError
from finance.gateways import gateway_key
from finance.inputs import RefundInput, TransactionInput
from finance.locks import order_lock, orders_lock
from finance.models import Payment, Refund, RefundLine
from finance.services.profit import order_profit_refresh, order_profits_create_locked


@dataclass(frozen=True)
class PaymentsRecordResult:
    """What order_payments_record changed (ids are of every row the input named)."""

    payments_created: int
    payments_updated: int
    payments_unchanged: int
    refunds_created: int
    refunds_updated: int
    refunds_unchanged: int
    payment_ids: tuple[int, ...]
    refund_ids: tuple[int, ...]

    @property
    def changed(self) -> bool:
        return bool(
            self.payments_created
            + self.payments_updated
            + self.refunds_created
            + self.refunds_updated
        )


_PAYMENT_FIELDS = (
    "kind",
    "succeeded",
    "amount",
    "currency",
    "fee",
    "fee_currency",
    "gateway_key",
    "gateway_reference",
    "parent_external_id",
    "processed_at",
    "presentment_amount",
    "presentment_currency",
)


def _is_currency(code: str) -> bool:
    return len(code) == 3 and code.isalpha()


def _validate(
    transactions: Sequence[TransactionInput], refunds: Sequence[RefundInput]
) -> list[str]:
    problems: list[str] = []
    kinds = set(PaymentKind.values)
    seen: set[tuple[str, str]] = set()
    for t in transactions:
        name = f"transaction {t.external_id or '(no id)'}"
        if not t.external_id:
            problems.append(f"{name}: the store transaction id is empty")
        if (t.gateway, t.external_id) in seen:
            problems.append(f"{name}: appears twice")
        seen.add((t.gateway, t.external_id))
        if t.kind not in kinds:
            problems.append(f"{name}: kind {t.kind!r} is not one of {sorted(kinds)}")
        if not _is_currency(t.currency):
            problems.append(f"{name}: currency {t.currency!r} is not an ISO code")
        if not isinstance(t.amount, Decimal) or t.amount < 0:
            problems.append(f"{name}: amount {t.amount!r} is not a decimal >= 0")
        if t.fee is not None and (not isinstance(t.fee, Decimal) or t.fee < 0):
            problems.append(f"{name}: fee {t.fee!r} is not a decimal >= 0")
        if t.fee_currency and not _is_currency(t.fee_currency):
            problems.append(
                f"{name}: fee currency {t.fee_currency!r} is not an ISO code"
            )
        if t.processed_at.tzinfo is None:
            problems.append(f"{name}: processed_at must be timezone-aware")
        problems.extend(_presentment_problems(name, t))
    refund_ids: set[str] = set()
    for r in refunds:
        name = f"refund {r.external_id or '(no id)'}"
        if not r.external_id:
            problems.append(f"{name}: the store refund id is empty")
        if r.external_id in refund_ids:
            problems.append(f"{name}: appears twice")
        refund_ids.add(r.external_id)
        if not _is_currency(r.currency):
            problems.append(f"{name}: currency {r.currency!r} is not an ISO code")
        if not isinstance(r.amount, Decimal) or r.amount < 0:
            problems.append(f"{name}: amount {r.amount!r} is not a decimal >= 0")
        if r.created_at.tzinfo is None:
            problems.append(f"{name}: created_at must be timezone-aware")
        if any(line.quantity < 0 for line in r.lines):
            problems.append(f"{name}: a line has a negative quantity")
        problems.extend(_presentment_problems(name, r))
    return problems


def _presentment_problems(name: str, item: TransactionInput | RefundInput) -> list[str]:
    """A presentment amount needs its currency and the other way round."""
    amount, currency = item.presentment_amount, item.presentment_currency
    if amount is None and not currency:
        return []
    problems = []
    if not _is_currency(currency):
        problems.append(f"{name}: presentment currency {currency!r} is not an ISO code")
    if not isinstance(amount, Decimal) or amount < 0:
        problems.append(f"{name}: presentment amount {amount!r} is not a decimal >= 0")
    return problems


def _presentment_values(item: TransactionInput | RefundInput) -> dict[str, Any]:
    if item.presentment_amount is None:
        return {"presentment_amount": None, "presentment_currency": ""}
    return {
        "presentment_amount": item.presentment_amount,
        "presentment_currency": item.presentment_currency.upper(),
    }


def _payment_values(t: TransactionInput) -> dict[str, Any]:
    return {
        "kind": t.kind,
        "succeeded": t.succeeded,
        "amount": t.amount,
        "currency": t.currency.upper(),
        "fee": t.fee,
        "fee_currency": (
            t.fee_currency or (t.currency if t.fee is not None else "")
        ).upper(),
        "gateway_key": gateway_key(t.gateway),
        "gateway_reference": t.gateway_reference[:100],
        "parent_external_id": t.parent_external_id[:100],
        "processed_at": t.processed_at,
        **_presentment_values(t),
    }


def _payments_upsert(
    *, order: Any, transactions: Sequence[TransactionInput]
) -> tuple[int, int, int, list[int]]:
    existing = {
        (p.gateway, p.external_id): p for p in Payment.objects.filter(order=order)
    }
    to_create: list[Payment] = []
    to_update: list[Payment] = []
    keep: list[Payment] = []
    for t in transactions:
        values = _payment_values(t)
        current = existing.get((t.gateway, t.external_id))
        if current is None:
            payment = Payment(
                order_id=order.pk,
                channel_id=order.channel_id,
                gateway=t.gateway[:100],
                external_id=t.external_id[:100],
                **values,
            )
            to_create.append(payment)
            keep.append(payment)
            continue
        keep.append(current)
        if any(getattr(current, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(current, k, v)
            to_update.append(current)
    Payment.objects.bulk_create(to_create)
    if to_update:
        Payment.objects.bulk_update(to_update, [*_PAYMENT_FIELDS, "updated_at"])
    unchanged = len(transactions) - len(to_create) - len(to_update)
    return len(to_create), len(to_update), unchanged, [p.pk for p in keep]


def _refund_line_rows(
    refund: Refund, wanted: Iterable[tuple[str, int | None, int, bool]]
) -> list[RefundLine]:
    """Unsaved RefundLine rows of a refund, in the store's line-id order."""
    return [
        RefundLine(
            refund=refund,
            line_external_id=ext[:64],
            order_line_id=line_id,
            quantity=qty,
            restock=restock,
        )
        for ext, line_id, qty, restock in sorted(wanted, key=lambda w: w[0])
    ]


def _refund_lines_wanted(
    *, refund: RefundInput, line_ids: dict[str, int]
) -> set[tuple[str, int | None, int, bool]]:
    return {
        (
            line.line_external_id,
            line_ids.get(line.line_external_id),
            line.quantity,
            line.restock,
        )
        for line in refund.lines
    }


def _refunds_upsert(
    *, order: Any, refunds: Sequence[RefundInput]
) -> tuple[int, int, int, list[int]]:
    order_line_model = apps.get_model("orders", "OrderLine")
    line_ids = dict(
        order_line_model.objects.filter(
            order_id=order.pk,
            external_id__in={ln.line_external_id for r in refunds for ln in r.lines},
        ).values_list("external_id", "pk")
    )
    existing = {
        r.external_id: r
        for r in Refund.objects.filter(order=order).prefetch_related("lines")
    }
    created = updated = 0
    ids: list[int] = []
    for data in refunds:
        values = {
            "amount": data.amount,
            "currency": data.currency.upper(),
            "refunded_at": data.created_at,
            "note": data.note,
            **_presentment_values(data),
        }
        wanted = _refund_lines_wanted(refund=data, line_ids=line_ids)
        refund = existing.get(data.external_id)
        if refund is None:
            refund = Refund.objects.create(
                order_id=order.pk,
                channel_id=order.channel_id,
                external_id=data.external_id[:100],
                **values,
            )
            created += 1
            have: set[tuple[str, int | None, int, bool]] = set()
        else:
            have = {
                (ln.line_external_id, ln.order_line_id, ln.quantity, ln.restock)
                for ln in refund.lines.all()
            }
            changed = any(getattr(refund, k) != v for k, v in values.items())
            if changed:
                for k, v in values.items():
                    setattr(refund, k, v)
                refund.save(update_fields=[*values, "updated_at"])
            if changed or have != wanted:
                updated += 1
        if have != wanted:
            # Lines are few and the store sends them whole: replace rather than diff.
            RefundLine.objects.filter(refund=refund).delete()
            RefundLine.objects.bulk_create(_refund_line_rows(refund, wanted))
        ids.append(refund.pk)
    return created, updated, len(refunds) - created - updated, ids


@transaction.atomic
def order_payments_record(
    *,
    order_id: int,
    channel_id: int,
    transactions: Sequence[TransactionInput],
    refunds: Sequence[RefundInput],
) -> PaymentsRecordResult:
    """Upsert an order's payment transactions and refunds by their store ids.

    A building block for the orders ingest (runs inside its transaction). Idempotent:
    the same input again changes nothing. Rows the input no longer names are kept,
    since a store payload that omits history must not erase it.
    Locks: the Order row (the parent every finance write of the order goes through).
    Raises: OrderNotFoundError; InvalidFinanceDataError listing every problem
    (nothing is written).
    """
    problems = _validate(transactions, refunds)
    order = order_lock(order_id=order_id)
    if order is None:
        raise OrderNotFoundError(
            gettext("Order %(order_id)s does not exist.") % {"order_id": order_id},
            order_id=order_id,
        )
    if order.channel_id != channel_id:
        problems.append(
            f"the order belongs to store {order.channel_id}, not store {channel_id}"
        )
    if problems:
        raise InvalidFinanceDataError(
            f"Payments of order {order_id} cannot be recorded: "
            + "; ".join(problems)
            + ".",
            order_id=order_id,
            problems=problems,
        )
    p_created, p_updated, p_unchanged, payment_ids = _payments_upsert(
        order=order, transactions=transactions
    )
    r_created, r_updated, r_unchanged, refund_ids = _refunds_upsert(
        order=order, refunds=refunds
    )
    # The ingest hands payments in on every change of the order, so this also keeps
    # revenue, discounts and the profit row's dimensions current.
    order_profit_refresh(order_id=order_id)
    return PaymentsRecordResult(
        payments_created=p_created,
        payments_updated=p_updated,
        payments_unchanged=p_unchanged,
        refunds_created=r_created,
        refunds_updated=r_updated,
        refunds_unchanged=r_unchanged,
        payment_ids=tuple(payment_ids),
        refund_ids=tuple(refund_ids),
    )


@dataclass(frozen=True)
class OrderPaymentsInput:
    """One order's payments and refunds for order_payments_record_many."""

    order_id: int
    channel_id: int
    transactions: Sequence[TransactionInput]
    refunds: Sequence[RefundInput]


def order_payments_record_many(
    *, entries: Sequence[OrderPaymentsInput]
) -> list[PaymentsRecordResult | InvalidFinanceDataError]:
    """order_payments_record for a page of orders just stored, in a few statements.

    Same rows, money and profit as calling order_payments_record per entry, in entry
    order; an entry finance refuses comes back as its InvalidFinanceDataError with
    nothing of it written, and the others go on. An order that already has payments
    or refunds is recorded the one-order way. Runs inside the caller's transaction.
    Locks: the Order rows (pk order).
    Raises: OrderNotFoundError (nothing is written).
    """
    ids = [entry.order_id for entry in entries]
    orders = {order.pk: order for order in orders_lock(order_ids=ids)}
    missing = [order_id for order_id in ids if order_id not in orders]
    if missing:
        raise OrderNotFoundError(
            gettext("Order %(order_id)s does not exist.") % {"order_id": missing[0]},
            order_id=missing[0],
        )
    recorded = set(
        Payment.objects.filter(order_id__in=ids).values_list("order_id", flat=True)
    ) | set(Refund.objects.filter(order_id__in=ids).values_list("order_id", flat=True))
    outcomes: list[PaymentsRecordResult | InvalidFinanceDataError | None] = []
    fresh: list[OrderPaymentsInput] = []
    for entry in entries:
        problems = _validate(entry.transactions, entry.refunds)
        if orders[entry.order_id].channel_id != entry.channel_id:
            problems.append(
                f"the order belongs to store {orders[entry.order_id].channel_id}, "
                f"not store {entry.channel_id}"
            )
        if problems:
            outcomes.append(
                InvalidFinanceDataError(
                    f"Payments of order {entry.order_id} cannot be recorded: "
                    + "; ".join(problems)
                    + ".",
                    order_id=entry.order_id,
                    problems=problems,
                )
            )
        elif entry.order_id in recorded:
            outcomes.append(
                order_payments_record(
                    order_id=entry.order_id,
                    channel_id=entry.channel_id,
                    transactions=entry.transactions,
                    refunds=entry.refunds,
                )
            )
        else:
            outcomes.append(None)
            fresh.append(entry)
    payments = [
        Payment(
            order_id=entry.order_id,
            channel_id=entry.channel_id,
            gateway=t.gateway[:100],
            external_id=t.external_id[:100],
            **_payment_values(t),
        )
        for entry in fresh
        for t in entry.transactions
    ]
    Payment.objects.bulk_create(payments)
    refunds = [
        Refund(
            order_id=entry.order_id,
            channel_id=entry.channel_id,
            external_id=r.external_id[:100],
            amount=r.amount,
            currency=r.currency.upper(),
            refunded_at=r.created_at,
            note=r.note,
            **_presentment_values(r),
        )
        for entry in fresh
        for r in entry.refunds
    ]
    Refund.objects.bulk_create(refunds)
    _refund_lines_create(fresh, refunds)
    order_profits_create_locked(
        orders=sorted((orders[e.order_id] for e in fresh), key=lambda o: o.pk)
    )
    by_order_payments: dict[int, list[int]] = {}
    for payment in payments:
        by_order_payments.setdefault(payment.order_id, []).append(payment.pk)
    by_order_refunds: dict[int, list[int]] = {}
    for refund in refunds:
        by_order_refunds.setdefault(refund.order_id, []).append(refund.pk)
    results: list[PaymentsRecordResult | InvalidFinanceDataError] = []
    for entry, outcome in zip(entries, outcomes, strict=True):
        if outcome is not None:
            results.append(outcome)
            continue
        results.append(
            PaymentsRecordResult(
                payments_created=len(entry.transactions),
                payments_updated=0,
                payments_unchanged=0,
                refunds_created=len(entry.refunds),
                refunds_updated=0,
                refunds_unchanged=0,
                payment_ids=tuple(by_order_payments.get(entry.order_id, ())),
                refund_ids=tuple(by_order_refunds.get(entry.order_id, ())),
            )
        )
    return results


def _refund_lines_create(
    entries: Sequence[OrderPaymentsInput], refunds: Sequence[Refund]
) -> None:
    """The lines of refunds just created (refunds in entry order, as built)."""
    wanted_ids = {
        ln.line_external_id
        for entry in entries
        for r in entry.refunds
        for ln in r.lines
    }
    if not wanted_ids:
        return
    order_line_model = apps.get_model("orders", "OrderLine")
    line_ids: dict[int, dict[str, int]] = {}
    for order_id, external_id, pk in order_line_model.objects.filter(
        order_id__in=[entry.order_id for entry in entries],
        external_id__in=wanted_ids,
    ).values_list("order_id", "external_id", "pk"):
        line_ids.setdefault(order_id, {})[external_id] = pk
    rows = []
    made = iter(refunds)
    for entry in entries:
        for data in entry.refunds:
            refund = next(made)
            wanted = _refund_lines_wanted(
                refund=data, line_ids=line_ids.get(entry.order_id, {})
            )
            rows.extend(_refund_line_rows(refund, wanted))
    RefundLine.objects.bulk_create(rows)
