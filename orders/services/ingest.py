"""One entry for every store order, whether it came by webhook, poll or import."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.db import DatabaseError, transaction
from django.utils.translation import gettext, gettext_noop

from erp.core.db import (
    advisory_xact_lock,
    advisory_xact_locks,
    set_local_lock_timeout,
)
from erp.core.exceptions import ApplicationError
from erp.core.text import Join, Phrase
from finance.exceptions import InvalidFinanceDataError
from finance.inputs import RefundInput, RefundLineInput, TransactionInput
from finance.services.payments import (
    OrderPaymentsInput,
    order_payments_record,
    order_payments_record_many,
)
from inventory.models import Product, Warehouse
from orders.canonical import CanonicalOrder, OrderSource, RiskLevel
from orders.choices import (
    PRE_SHIPMENT_STATUSES,
    FinancialStatus,
    FulfillmentStatus,
    OrderEventType,
    OrderStatus,
)
from orders.exceptions import InvalidOrderDataError
from orders.locks import order_lock_by_external_id
from orders.models import Customer, Order, OrderLine, ReviewRule
from orders.review import ReviewFacts, review_rules_for, warehouses_active
from orders.services.customers import (
    Buyer,
    customer_match_or_create,
    customers_by_email,
    customers_match_or_create_many,
)
from orders.services.events import (
    order_can_move,
    order_event_record,
    order_events_deferred,
    order_status_set,
)
from orders.services.workflow import (
    REVIEWABLE,
    order_allocation_release,
    order_cancel_apply,
    order_review_apply,
    orders_review_and_allocate,
)


@dataclass(frozen=True)
class IngestResult:
    """What order_ingest did with one canonical order."""

    order_id: int
    created: bool
    changed: bool
    stale: bool
    status: str


@dataclass(frozen=True)
class IngestFailure:
    """An order of a batch that could not be stored; nothing of it was written."""

    external_id: str
    error: Exception

    @property
    def message(self) -> str:
        if isinstance(self.error, ApplicationError):
            return self.error.message
        text = str(self.error).splitlines()[0] if str(self.error) else ""
        return Phrase(
            gettext_noop("The database refused the order: %(error)s"),
            error=text or type(self.error).__name__,
        )


class _Batch:
    """What the orders of one ingest call share, each read once when first needed.

    The store, products by SKU, known buyers, review rules and active warehouses. It
    lives for one call of order_ingest(_many), so nothing cached here outlives a page.
    """

    def __init__(self, *, channel_id: int, orders: Sequence[CanonicalOrder]) -> None:
        self.channel_id = channel_id
        self.orders = orders

    @cached_property
    def channel_exists(self) -> bool:
        channel_model = Order._meta.get_field("channel").related_model
        return channel_model.objects.filter(pk=self.channel_id).exists()

    @cached_property
    def products(self) -> dict[str, int]:
        skus = {line.sku for data in self.orders for line in data.lines if line.sku}
        if not skus:
            return {}
        return dict(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))

    @cached_property
    def customers(self) -> dict[str, Customer]:
        # One order finds its buyer under the customer lock; reading ahead only pays
        # when several orders share the query.
        if len(self.orders) < 2:
            return {}
        return customers_by_email(
            emails=[data.email or data.customer.email for data in self.orders]
        )

    @cached_property
    def rules(self) -> list[ReviewRule]:
        return review_rules_for(channel_id=self.channel_id)

    @cached_property
    def warehouses(self) -> list[Warehouse]:
        return warehouses_active()


# Canonical fields copied onto the order as they are.
_SCALAR_FIELDS = (
    "number",
    "email",
    "currency",
    "presentment_currency",
    "subtotal",
    "discount_total",
    "shipping_total",
    "tax_total",
    "total",
    "financial_status",
    "fulfillment_status",
    "risk_level",
    "note",
    "placed_at",
)
# Line fields that, when the store edits them, send the order back through review.
_LINE_FIELDS = (
    "sku",
    "title",
    "variant_title",
    "quantity",
    "unit_price",
    "discount_total",
    "tax_total",
    "requires_shipping",
)


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# Field names of each dataclass _plain has met (dataclasses.fields is slow per call).
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """dataclasses.asdict without its deep copies (the hash only reads the values).

    The JSON it gives is the same as asdict's, so hashes stored before still match.
    """
    kind = type(value)
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(kind):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if kind is str:
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _content_hash(data: CanonicalOrder) -> str:
    # store_updated_at is left out: a replay with a newer timestamp but the same
    # content (Shopify sends orders/updated for unrelated touches) changes nothing.
    content = _plain(data)
    content.pop("store_updated_at")
    raw = json.dumps(content, sort_keys=True, default=_json)
    return hashlib.sha256(raw.encode()).hexdigest()


def _validate(data: CanonicalOrder) -> None:
    problems = []
    if not data.external_id:
        problems.append(Phrase(gettext_noop("the store order id is empty")))
    if len(data.currency) != 3 or not data.currency.isalpha():
        problems.append(
            Phrase(
                gettext_noop("currency %(value)r is not an ISO 4217 code"),
                value=data.currency,
            )
        )
    if data.placed_at.tzinfo is None or data.store_updated_at.tzinfo is None:
        problems.append(Phrase(gettext_noop("times must be timezone-aware")))
    seen = set()
    for line in data.lines:
        if line.quantity < 0:
            problems.append(
                Phrase(
                    gettext_noop("line %(line)s has a negative quantity"),
                    line=line.external_id,
                )
            )
        if line.external_id in seen:
            problems.append(
                Phrase(
                    gettext_noop("line id %(line)s appears twice"),
                    line=line.external_id,
                )
            )
        seen.add(line.external_id)
    if problems:
        raise InvalidOrderDataError(
            Phrase(
                gettext_noop("Order %(order)s cannot be stored: %(problems)s."),
                order=data.number or data.external_id,
                problems=Join(problems, "; "),
            ),
            external_id=data.external_id,
            problems=problems,
        )


def _order_values(data: CanonicalOrder) -> dict[str, Any]:
    values = {name: getattr(data, name) for name in _SCALAR_FIELDS}
    values["currency"] = data.currency.upper()
    values["presentment_currency"] = (
        data.presentment_currency or data.currency
    ).upper()
    values["shipping_address"] = data.shipping_address.as_dict()
    values["billing_address"] = data.billing_address.as_dict()
    values["shipping_lines"] = [
        {"title": s.title, "code": s.code, "price": str(s.price)}
        for s in data.shipping_lines
    ]
    values["tags"] = list(data.tags)
    values["store_updated_at"] = data.store_updated_at
    return values


def _line_values(line: Any, products: dict[str, int]) -> dict[str, Any]:
    values = {name: getattr(line, name) for name in _LINE_FIELDS}
    values["product_id"] = products.get(line.sku) if line.sku else None
    return values


def _lines_sync(
    order: Order, data: CanonicalOrder, *, batch: _Batch, created: bool
) -> tuple[dict[str, list[Any]], list[OrderLine]]:
    """Make the order's lines match the store's; removed lines stay, marked removed.

    Returns what changed and every line of the order as it now stands.
    """
    existing = {} if created else {line.external_id: line for line in order.lines.all()}
    products = batch.products
    added, changed, removed = [], [], []
    to_create, to_update = [], []
    incoming_ids = set()
    for line in data.lines:
        incoming_ids.add(line.external_id)
        values = _line_values(line, products)
        current = existing.get(line.external_id)
        if current is None:
            to_create.append(
                OrderLine(order=order, external_id=line.external_id, **values)
            )
            added.append(line.sku or line.title)
            continue
        diff = {
            k: [_json(getattr(current, k)), _json(v)]
            for k, v in values.items()
            if getattr(current, k) != v
        }
        if current.is_removed:
            diff["is_removed"] = [True, False]
            current.is_removed = False
        if diff:
            for key, value in values.items():
                setattr(current, key, value)
            to_update.append(current)
            changed.append({"line": line.external_id, "changes": diff})
    for external_id, current in existing.items():
        if external_id not in incoming_ids and not current.is_removed:
            current.is_removed = True
            to_update.append(current)
            removed.append(current.sku or current.title)
    OrderLine.objects.bulk_create(to_create)
    if to_update:
        OrderLine.objects.bulk_update(
            to_update, [*_LINE_FIELDS, "product_id", "is_removed", "updated_at"]
        )
    lines = sorted([*existing.values(), *to_create], key=lambda line: line.pk)
    return {"added": added, "changed": changed, "removed": removed}, lines


def _order_new(
    *,
    channel_id: int,
    data: CanonicalOrder,
    customer: Customer | None,
    source: str,
    digest: str,
) -> Order:
    """The unsaved Order row for a store order seen for the first time."""
    return Order(
        channel_id=channel_id,
        external_id=data.external_id,
        customer=customer,
        source=source,
        content_hash=digest,
        cancelled_at=data.cancelled_at,
        cancel_reason=data.cancel_reason[:255],
        status=_historical_status(data)
        if source == OrderSource.IMPORT
        else OrderStatus.NEW,
        **_order_values(data),
    )


def _order_create(
    *, batch: _Batch, data: CanonicalOrder, source: str, digest: str
) -> tuple[Order, list[OrderLine]]:
    channel_id = batch.channel_id
    if not batch.channel_exists:
        raise InvalidOrderDataError(
            gettext("That store does not exist."), channel_id=channel_id
        )
    customer = customer_match_or_create(
        customer=data.customer,
        email=data.email,
        phone=data.shipping_address.phone,
        country_code=data.shipping_address.country_code,
        known=batch.customers,
    )
    order = _order_new(
        channel_id=channel_id,
        data=data,
        customer=customer,
        source=source,
        digest=digest,
    )
    order.save(force_insert=True)
    changes, lines = _lines_sync(order, data, batch=batch, created=True)
    order_event_record(
        order=order,
        type=OrderEventType.CREATED,
        message=Phrase(
            gettext_noop("Received from the store by %(source)s with %(n)s line(s)."),
            source=OrderSource(source).label,
            n=len(changes["added"]),
        ),
        data={"source": source, "store_updated_at": data.store_updated_at.isoformat()},
    )
    return order, lines


def _order_update(
    *, batch: _Batch, order: Order, data: CanonicalOrder, source: str, digest: str
) -> tuple[bool, list[OrderLine]]:
    """Apply a newer version of the order; True when lines or address changed."""
    values = _order_values(data)
    if values["risk_level"] == RiskLevel.UNKNOWN:
        # Webhook bodies carry no fraud verdict; an API poll's verdict stands until the
        # store gives a new one.
        values["risk_level"] = order.risk_level
    field_changes = {
        name: [_json(getattr(order, name)), _json(value)]
        for name, value in values.items()
        if name != "store_updated_at" and getattr(order, name) != value
    }
    for name, value in values.items():
        setattr(order, name, value)
    order.content_hash = digest
    order.version += 1
    order.save(update_fields=[*values, "content_hash", "version", "updated_at"])
    changes, lines = _lines_sync(order, data, batch=batch, created=False)
    lines_changed = any(changes.values())
    order_event_record(
        order=order,
        type=OrderEventType.UPDATED,
        message=Phrase(
            gettext_noop("Updated in the store (%(source)s)."),
            source=OrderSource(source).label,
        ),
        data={
            "fields": field_changes,
            "lines": changes,
            "store_updated_at": data.store_updated_at.isoformat(),
        },
    )
    return lines_changed or "shipping_address" in field_changes, lines


def _payments_record(order: Order, data: CanonicalOrder) -> None:
    """Hand the order's payments and refunds to finance (same transaction).

    Money data finance refuses must not stop the order from shipping: the refusal
    is kept on the order's timeline for finance to fix, and the order goes on.
    """
    if not data.transactions and not data.refunds:
        return
    entry = _payments_input(order, data)
    try:
        with transaction.atomic():
            order_payments_record(
                order_id=entry.order_id,
                channel_id=entry.channel_id,
                transactions=entry.transactions,
                refunds=entry.refunds,
            )
    except InvalidFinanceDataError as exc:
        _payments_refused(order, exc)


def _payments_input(order: Order, data: CanonicalOrder) -> OrderPaymentsInput:
    return OrderPaymentsInput(
        order_id=order.pk,
        channel_id=order.channel_id,
        transactions=[TransactionInput(**_plain(t)) for t in data.transactions],
        refunds=[
            RefundInput(
                external_id=r.external_id,
                amount=r.amount,
                currency=order.currency,
                created_at=r.created_at,
                note=r.note,
                lines=tuple(RefundLineInput(*line) for line in r.lines),
                presentment_amount=r.presentment_amount,
                presentment_currency=(
                    order.presentment_currency or order.currency
                    if r.presentment_amount is not None
                    else ""
                ),
            )
            for r in data.refunds
        ],
    )


def _payments_refused(order: Order, exc: InvalidFinanceDataError) -> None:
    order_event_record(
        order=order,
        type=OrderEventType.NOTE_ADDED,
        message=Phrase(
            gettext_noop("Payments not recorded: %(error)s"), error=exc.message
        ),
        data={"code": exc.code, **exc.extra},
    )


def _payments_record_many(pairs: list[tuple[Order, CanonicalOrder]]) -> None:
    """_payments_record for the new orders of a page, in one finance call."""
    with_money = [(o, d) for o, d in pairs if d.transactions or d.refunds]
    if not with_money:
        return
    outcomes = order_payments_record_many(
        entries=[_payments_input(order, data) for order, data in with_money]
    )
    for (order, _), outcome in zip(with_money, outcomes, strict=True):
        if isinstance(outcome, InvalidFinanceDataError):
            _payments_refused(order, outcome)


def _historical_status(data: CanonicalOrder) -> str:
    """Where an imported past order stands, read from the store's own statuses."""
    if data.is_cancelled:
        return OrderStatus.CANCELLED
    if data.financial_status == FinancialStatus.REFUNDED:
        return OrderStatus.REFUNDED
    if data.fulfillment_status == FulfillmentStatus.FULFILLED:
        return OrderStatus.SHIPPED
    if data.fulfillment_status == FulfillmentStatus.PARTIAL:
        return OrderStatus.PARTIALLY_SHIPPED
    return OrderStatus.NEW


def _historical_apply(order: Order, data: CanonicalOrder) -> None:
    """Imported history mirrors the store: no review, no stock, nothing pushed back."""
    status = _historical_status(data)
    if order.status != status:
        previous = order.status
        order.status = status
        order.save(update_fields=["status", "updated_at"])
        order_event_record(
            order=order,
            type=OrderEventType.STATUS_CHANGED,
            message=Phrase(gettext_noop("Status taken from the store's history.")),
            data={"from": previous, "to": status},
        )


def _re_review(order: Order) -> None:
    """An edit of lines or address undoes review and allocation of an unshipped order."""
    if order.status not in PRE_SHIPMENT_STATUSES or order.status == OrderStatus.NEW:
        return
    order_allocation_release(
        order=order, reason=Phrase(gettext_noop("the store changed the order"))
    )
    order.approved_override_at = None
    order_status_set(
        order=order,
        to=OrderStatus.AWAITING_REVIEW,
        message=Phrase(
            gettext_noop("Back to review: the store changed lines or address.")
        ),
        extra_fields=("approved_override_at",),
    )


def order_ingest(*, channel_id: int, data: CanonicalOrder, source: str) -> IngestResult:
    """Upsert one store order by (store, order id) and take it as far as it can go.

    Idempotent: the same content again is a no-op, an older version is ignored.
    A new or changed order is reviewed and, when it passes, allocated; a cancellation
    or full refund from the store releases its stock.
    Locks: advisory (store, order id), then the Order row, then stock rows.
    Raises: InvalidOrderDataError (nothing is written).
    """
    _validate(data)
    return _ingest_one(
        batch=_Batch(channel_id=channel_id, orders=[data]), data=data, source=source
    )


def order_ingest_many(
    *, channel_id: int, orders: Sequence[CanonicalOrder], source: str
) -> list[IngestResult | IngestFailure]:
    """order_ingest for a page of orders (poll, backfill, file import), in file order.

    The same upsert, set-based: the page's new orders are written together in one
    transaction (buyers, orders, lines, events, payments and profit in a few
    multi-row statements), then each new live order is reviewed and allocated as
    order_ingest would; an order already stored is skipped without a write when
    nothing changed, else updated in its own transaction. When the page's
    transaction fails, the page is redone order by order, each in its own
    transaction, so a bad order is returned as an IngestFailure with nothing of it
    written and the others are kept.
    """
    results: list[IngestResult | IngestFailure | None] = [None] * len(orders)
    valid: list[int] = []
    for i, data in enumerate(orders):
        try:
            _validate(data)
        except ApplicationError as exc:
            results[i] = IngestFailure(data.external_id, exc)
        else:
            valid.append(i)
    batch = _Batch(channel_id=channel_id, orders=orders)
    rest = valid
    if len(valid) > 1:
        try:
            done = _page_ingest(
                batch=batch, items=[(i, orders[i]) for i in valid], source=source
            )
        except (ApplicationError, DatabaseError):
            # Redone one by one below, with nothing the failed page read kept.
            done = {}
            batch = _Batch(channel_id=channel_id, orders=orders)
        for i, result in done.items():
            results[i] = result
        rest = [i for i in valid if i not in done]
    for i in rest:
        data = orders[i]
        try:
            results[i] = _ingest_one(batch=batch, data=data, source=source)
        except (ApplicationError, DatabaseError) as exc:
            results[i] = IngestFailure(data.external_id, exc)
    return [r for r in results if r is not None]


def _page_ingest(
    *, batch: _Batch, items: list[tuple[int, CanonicalOrder]], source: str
) -> dict[int, IngestResult]:
    """The page's new orders written together, and its unchanged ones answered.

    Returns results by position; positions it leaves out (an update, a second copy
    of one order in the page) go through the one-order upsert afterwards.
    """
    channel_id = batch.channel_id
    done: dict[int, IngestResult] = {}
    with transaction.atomic(durable=True), order_events_deferred():
        set_local_lock_timeout("5s")
        advisory_xact_locks(
            "order_upsert", [f"{channel_id}:{data.external_id}" for _, data in items]
        )
        stored = {
            order.external_id: order
            for order in Order.objects.filter(
                channel_id=channel_id,
                external_id__in={data.external_id for _, data in items},
            ).only(
                "pk",
                "external_id",
                "status",
                "source",
                "content_hash",
                "store_updated_at",
            )
        }
        seen: set[str] = set()
        new: list[tuple[int, CanonicalOrder, str]] = []
        for i, data in items:
            if data.external_id in seen:
                continue
            seen.add(data.external_id)
            order = stored.get(data.external_id)
            if order is None:
                new.append((i, data, _content_hash(data)))
                continue
            answer = _unchanged_answer(order=order, data=data, source=source)
            if answer is not None:
                done[i] = answer
        if new:
            done.update(_orders_create_many(batch=batch, new=new, source=source))
    return done


def _unchanged_answer(
    *, order: Order, data: CanonicalOrder, source: str
) -> IngestResult | None:
    """The upsert's answer for a stored order that needs no write, else None."""
    if order.store_updated_at and data.store_updated_at < order.store_updated_at:
        return IngestResult(order.pk, False, False, True, order.status)
    if source == OrderSource.IMPORT and not order.is_historical:
        return IngestResult(order.pk, False, False, False, order.status)
    if (
        order.store_updated_at is not None
        and data.store_updated_at <= order.store_updated_at
        and order.content_hash == _content_hash(data)
    ):
        return IngestResult(order.pk, False, False, False, order.status)
    return None


def _orders_create_many(
    *, batch: _Batch, new: list[tuple[int, CanonicalOrder, str]], source: str
) -> dict[int, IngestResult]:
    """_order_create and _payments_record for many orders, in multi-row statements."""
    channel_id = batch.channel_id
    if not batch.channel_exists:
        raise InvalidOrderDataError(
            gettext("That store does not exist."), channel_id=channel_id
        )
    customers = customers_match_or_create_many(
        buyers=[
            Buyer(
                customer=data.customer,
                email=data.email,
                phone=data.shipping_address.phone,
                country_code=data.shipping_address.country_code,
            )
            for _, data, _ in new
        ]
    )
    orders = Order.objects.bulk_create(
        _order_new(
            channel_id=channel_id,
            data=data,
            customer=customer,
            source=source,
            digest=digest,
        )
        for (_, data, digest), customer in zip(new, customers, strict=True)
    )
    products = batch.products
    lines_of = [
        [
            OrderLine(
                order=order,
                external_id=line.external_id,
                **_line_values(line, products),
            )
            for line in data.lines
        ]
        for order, (_, data, _) in zip(orders, new, strict=True)
    ]
    OrderLine.objects.bulk_create([line for lines in lines_of for line in lines])
    for order, (_, data, _) in zip(orders, new, strict=True):
        order_event_record(
            order=order,
            type=OrderEventType.CREATED,
            message=Phrase(
                gettext_noop(
                    "Received from the store by %(source)s with %(n)s line(s)."
                ),
                source=OrderSource(source).label,
                n=len(data.lines),
            ),
            data={
                "source": source,
                "store_updated_at": data.store_updated_at.isoformat(),
            },
        )
    _payments_record_many(
        [(order, data) for order, (_, data, _) in zip(orders, new, strict=True)]
    )
    # A new live order the store has not cancelled or refunded goes to review with
    # the page's others, which decides them in page order as one by one would.
    to_review: list[Order] = []
    for order, lines, (_, data, _) in zip(orders, lines_of, new, strict=True):
        if order.is_historical or data.is_cancelled or _refunded_in_store(order, data):
            _take_further(batch=batch, order=order, data=data, lines=lines)
        elif order.status in REVIEWABLE:
            to_review.append(order)
    if to_review:
        orders_review_and_allocate(
            orders=to_review,
            lines={
                order.pk: lines for order, lines in zip(orders, lines_of, strict=True)
            },
            rules=batch.rules,
            warehouses=batch.warehouses,
        )
    return {
        i: IngestResult(order.pk, True, True, False, order.status)
        for order, (i, _, _) in zip(orders, new, strict=True)
    }


def _refunded_in_store(order: Order, data: CanonicalOrder) -> bool:
    return data.financial_status == FinancialStatus.REFUNDED and order_can_move(
        order, OrderStatus.REFUNDED
    )


@transaction.atomic(durable=True)
def _ingest_one(*, batch: _Batch, data: CanonicalOrder, source: str) -> IngestResult:
    """The upsert of one validated order, in its own transaction (see order_ingest)."""
    with order_events_deferred():
        return _upsert(batch=batch, data=data, source=source)


def _upsert(*, batch: _Batch, data: CanonicalOrder, source: str) -> IngestResult:
    channel_id = batch.channel_id
    set_local_lock_timeout("5s")
    advisory_xact_lock("order_upsert", f"{channel_id}:{data.external_id}")
    order = order_lock_by_external_id(
        channel_id=channel_id, external_id=data.external_id
    )
    digest = _content_hash(data)
    created = False
    lines: list[OrderLine] | None = None
    if order is None:
        order, lines = _order_create(
            batch=batch, data=data, source=source, digest=digest
        )
        created = True
        _payments_record(order, data)
    else:
        if order.store_updated_at and data.store_updated_at < order.store_updated_at:
            return IngestResult(order.pk, False, False, True, order.status)
        if source == OrderSource.IMPORT and not order.is_historical:
            # A file export is lossier than what the live sync stored (no line ids,
            # no transactions); the live copy wins.
            return IngestResult(order.pk, False, False, False, order.status)
        if order.content_hash == digest:
            if (
                order.store_updated_at is None
                or data.store_updated_at > order.store_updated_at
            ):
                order.store_updated_at = data.store_updated_at
                order.save(update_fields=["store_updated_at", "updated_at"])
            return IngestResult(order.pk, False, False, False, order.status)
        changed, lines = _order_update(
            batch=batch, order=order, data=data, source=source, digest=digest
        )
        _payments_record(order, data)
        if changed and not order.is_historical:
            _re_review(order)

    _take_further(batch=batch, order=order, data=data, lines=lines)
    return IngestResult(order.pk, created, True, False, order.status)


def _take_further(
    *, batch: _Batch, order: Order, data: CanonicalOrder, lines: list[OrderLine] | None
) -> None:
    """After the write: history mirrors the store; a live order moves on, one by one."""
    if order.is_historical:
        _historical_apply(order, data)
    elif data.is_cancelled:
        reason = (
            Phrase(
                gettext_noop("Cancelled in the store: %(reason)s"),
                reason=data.cancel_reason,
            )
            if data.cancel_reason
            else Phrase(gettext_noop("Cancelled in the store"))
        )
        order.cancelled_at = data.cancelled_at
        order_cancel_apply(order=order, reason=reason, notify_store=False)
    elif _refunded_in_store(order, data):
        order_allocation_release(
            order=order, reason=Phrase(gettext_noop("refunded in the store"))
        )
        order_status_set(
            order=order,
            to=OrderStatus.REFUNDED,
            event_type=OrderEventType.REFUNDED,
            message=Phrase(gettext_noop("Fully refunded in the store.")),
        )
    elif order.status in REVIEWABLE:
        order_review_apply(
            order=order,
            facts=ReviewFacts(order, lines=lines, warehouses=lambda: batch.warehouses),
            rules=batch.rules,
        )
