"""Shipping an allocated order: shipments per warehouse, labels, stock out, the store told.

The only place that needs orders, inventory and logistics together. Carriers are
called with no lock held; the order is locked only for the two short writes
(recording the drafts, then confirming what shipped).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from erp.core.db import set_local_lock_timeout
from erp.core.exceptions import ApplicationError
from erp.core.money import Money
from erp.core.outbox import outbox_enqueue
from erp.core.text import AsIs, Join, Phrase
from finance.choices import CostKind
from finance.exceptions import MissingRateError
from finance.services.fx import money_convert
from finance.services.profit import order_cost_record
from inventory.choices import AllocationStatus
from inventory.models import Allocation, Warehouse
from inventory.services.allocation import stock_ship
from logistics.carriers.base import Address, Customs, CustomsLine, Parcel
from logistics.choices import ShipmentStatus, TrackingStatus
from logistics.fx import FxConverter
from logistics.models import Shipment
from logistics.selectors import incoterm_for, shipments_for_order
from logistics.services.labels import shipment_buy_label, shipment_void
from logistics.services.selection import shipment_select_service
from logistics.services.shipments import (
    ShipmentDraftInput,
    ShipmentItemInput,
    shipment_create_draft,
    shipments_mark_shipped,
)
from orders.choices import OrderEventType, OrderStatus
from orders.exceptions import OrderNotFoundError
from orders.locks import order_lock
from orders.models import Order
from orders.services.events import order_event_record, order_status_set

logger = logging.getLogger(__name__)

ORDER_FULFILLED_TOPIC = "orders.fulfilled"
ORDER_TRACKING_UPDATED_TOPIC = "orders.tracking_updated"
SHIPPABLE = frozenset({OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED})
# Box, filler and tape on top of the goods; a setting so each seller can tune it.
DEFAULT_PACKAGING_GRAMS = 150
# Shipments not voided, not yet handed over: the ones this service may (re)work.
OPEN_SHIPMENT_STATUSES = frozenset(
    {ShipmentStatus.DRAFT, ShipmentStatus.RATED, ShipmentStatus.LABEL_PURCHASED}
)
DONE_SHIPMENT_STATUSES = frozenset(
    {
        ShipmentStatus.SHIPPED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.DELIVERED,
        ShipmentStatus.EXCEPTION,
        ShipmentStatus.RETURNED,
    }
)


class OrderNotShippableError(ApplicationError):
    """The order is not allocated, or nothing of it could get a label."""

    code = "order_not_shippable"


@dataclass
class ShipPrepareResult:
    """What order_ship_prepare did, shipment by shipment."""

    order_id: int
    status: str
    shipped: list[int] = field(default_factory=list)
    problems: dict[int, str] = field(default_factory=dict)


def finance_fx_converter(amount: Money, to_currency: str) -> Money | None:
    """Quotes converted with finance's rate of the day; None when finance has none.

    Selection then refuses with the missing pairs instead of comparing 1:1.
    """
    try:
        return money_convert(
            amount=amount, to=to_currency, on=timezone.localdate()
        ).amount
    except MissingRateError:
        return None


def _packaging_grams() -> int:
    return int(getattr(settings, "LOGISTICS_PACKAGING_GRAMS", DEFAULT_PACKAGING_GRAMS))


def _ship_to(order: Order) -> Address:
    a = order.shipping_address or {}
    return Address(
        name=a.get("name") or str(order.customer or ""),
        company=a.get("company", ""),
        street1=a.get("line1", ""),
        street2=a.get("line2", ""),
        city=a.get("city", ""),
        state_code=a.get("province_code", ""),
        postal_code=a.get("postal_code", ""),
        country_code=(a.get("country_code") or "").upper(),
        phone=a.get("phone", ""),
        email=order.email,
    )


def _ship_from(warehouse: Warehouse) -> Address:
    return Address(
        name=warehouse.name,
        company=warehouse.name,
        street1=warehouse.address_line1,
        street2=warehouse.address_line2,
        city=warehouse.city,
        state_code=warehouse.region,
        postal_code=warehouse.postal_code,
        country_code=warehouse.country.upper(),
        residential=False,
    )


def _draft_input(
    *, order: Order, warehouse: Warehouse, allocations: list[Allocation]
) -> ShipmentDraftInput:
    """One warehouse's allocations as a shipment: weight, box, items, customs."""
    ship_to = _ship_to(order)
    quantities: dict[int, int] = defaultdict(int)
    products = {}
    unit_values: dict[int, Decimal] = {}
    for allocation in allocations:
        product = allocation.stock_item.product
        products[product.pk] = product
        quantities[product.pk] += allocation.quantity
        line = allocation.order_line
        if line is not None and allocation.bundle_id is None:
            unit_values[product.pk] = line.unit_price
    unweighed = sorted(p.sku for p in products.values() if not p.weight_grams)
    if unweighed:
        raise OrderNotShippableError(
            gettext(
                "Order %(number)s: no weight for %(join)s; carriers cannot be asked for a price without it."
            )
            % {"number": order.number, "join": ", ".join(unweighed)},
            order_id=order.pk,
            skus=unweighed,
        )
    weight = _packaging_grams() + sum(
        (products[pk].weight_grams or 0) * qty for pk, qty in quantities.items()
    )
    # The box is as long and wide as the largest item, with the items stacked.
    length = max((p.length_mm or 0) for p in products.values())
    width = max((p.width_mm or 0) for p in products.values())
    height = sum((products[pk].height_mm or 0) * qty for pk, qty in quantities.items())
    customs = None
    if warehouse.country.upper() != ship_to.country_code:
        customs = Customs(
            incoterm=incoterm_for(
                channel_id=order.channel_id,
                country=ship_to.country_code,
                region=ship_to.state_code,
            ),
            invoice_number=order.number,
            lines=tuple(
                CustomsLine(
                    description=products[pk].title[:100],
                    quantity=qty,
                    unit_value=Money(unit_values.get(pk, Decimal(0)), order.currency),
                    origin_country=(
                        products[pk].country_of_origin or warehouse.country
                    ).upper(),
                    hs_code=products[pk].hs_code,
                    unit_weight_grams=products[pk].weight_grams or 0,
                    sku=products[pk].sku,
                )
                for pk, qty in sorted(quantities.items())
            ),
        )
    return ShipmentDraftInput(
        order_id=order.pk,
        warehouse_id=warehouse.pk,
        ship_from=_ship_from(warehouse),
        ship_to=ship_to,
        parcels=(Parcel(weight, length, width, height, order.number),),
        items=tuple(
            ShipmentItemInput(
                sku=products[pk].sku,
                title=products[pk].title,
                quantity=qty,
                barcode=products[pk].barcode,
                unit_weight_grams=products[pk].weight_grams or 0,
                length_mm=products[pk].length_mm or 0,
                width_mm=products[pk].width_mm or 0,
                height_mm=products[pk].height_mm or 0,
            )
            for pk, qty in sorted(quantities.items())
        ),
        order_value=Money(order.total, order.currency),
        currency=order.currency,
        reference=order.number,
        customs=customs,
        allocation_ids=tuple(sorted(a.pk for a in allocations)),
        channel_id=order.channel_id,
        packaging_grams=_packaging_grams(),
    )


@transaction.atomic(durable=True)
def _drafts_prepare(*, order_id: int) -> list[int]:
    """Record a draft per warehouse for allocations no open shipment covers yet.

    Locks: Order. Returns the open shipments to work on (new and resumed).
    """
    set_local_lock_timeout("5s")
    order = order_lock(order_id=order_id)
    if order is None:
        raise OrderNotFoundError(
            gettext("That order does not exist."), order_id=order_id
        )
    if order.status not in SHIPPABLE:
        raise OrderNotShippableError(
            gettext("Order %(number)s is %(status)s; only allocated orders ship.")
            % {"number": order.number, "status": order.get_status_display().lower()},
            order_id=order_id,
            status=order.status,
        )
    shipments = [
        s
        for s in shipments_for_order(order_id=order.pk)
        if s.status != ShipmentStatus.VOIDED
    ]
    covered = {a for s in shipments for a in s.allocation_ids}
    allocations = list(
        Allocation.objects.filter(
            order_line__order=order, status=AllocationStatus.ALLOCATED
        )
        .exclude(pk__in=covered)
        .select_related("stock_item__product", "stock_item__warehouse", "order_line")
        .order_by("pk")
    )
    by_warehouse: dict[int, list[Allocation]] = defaultdict(list)
    for allocation in allocations:
        by_warehouse[allocation.stock_item.warehouse_id].append(allocation)
    open_ids = [s.pk for s in shipments if s.status in OPEN_SHIPMENT_STATUSES]
    for group in by_warehouse.values():
        draft = shipment_create_draft(
            data=_draft_input(
                order=order, warehouse=group[0].stock_item.warehouse, allocations=group
            )
        )
        open_ids.append(draft.pk)
    return sorted(open_ids)


def _label(
    shipment_id: int, *, converter: FxConverter | None, label_format: str
) -> Shipment:
    shipment = Shipment.objects.get(pk=shipment_id)
    if shipment.status == ShipmentStatus.DRAFT:
        shipment = shipment_select_service(shipment_id=shipment_id, converter=converter)
    if shipment.status == ShipmentStatus.RATED:
        shipment = shipment_buy_label(
            shipment_id=shipment_id, label_format=label_format
        )
    return shipment


def _fulfilled_payload(order: Order, shipment: Shipment) -> dict[str, Any]:
    account = shipment.carrier_account
    lines = (
        Allocation.objects.filter(pk__in=shipment.allocation_ids)
        .exclude(order_line=None)
        .values_list(
            "order_line_id",
            "order_line__external_id",
            "order_line__sku",
            "order_line__quantity",
        )
        .distinct()
    )
    return {
        "order_id": order.pk,
        "channel_id": order.channel_id,
        "shipment_id": shipment.pk,
        "tracking_number": shipment.tracking_number,
        "carrier": account.carrier if account else "",
        "carrier_name": account.name if account else "",
        "service": shipment.service.name if shipment.service else "",
        "tracking_url": shipment.tracking_url,
        "lines": [
            {"order_line_id": pk, "external_id": ext, "sku": sku, "quantity": qty}
            for pk, ext, sku, qty in sorted(set(lines))
        ],
    }


@transaction.atomic(durable=True)
def _shipped_record(
    *, order_id: int, shipment_ids: list[int], actor: Any
) -> tuple[Order | None, list[int], list[int]]:
    """Confirm labelled shipments: stock out, order status, outbox. Short, locked.

    Locks: Order, then Shipments, then StockItems and Allocations (inventory).
    Returns (order, shipped ids, ids whose stock is no longer reserved).
    """
    set_local_lock_timeout("5s")
    order = order_lock(order_id=order_id)
    if order is None or order.status not in SHIPPABLE:
        return order, [], shipment_ids
    shipments = {s.pk: s for s in Shipment.objects.filter(pk__in=shipment_ids)}
    reserved = set(
        Allocation.objects.filter(
            order_line__order=order, status=AllocationStatus.ALLOCATED
        ).values_list("pk", flat=True)
    )
    ready = [
        pk
        for pk in shipment_ids
        if shipments[pk].status == ShipmentStatus.LABEL_PURCHASED
        and set(shipments[pk].allocation_ids) <= reserved
    ]
    stale = [
        pk
        for pk in shipment_ids
        if shipments[pk].status == ShipmentStatus.LABEL_PURCHASED and pk not in ready
    ]
    if not ready:
        return order, [], stale
    done = shipments_mark_shipped(shipment_ids=ready)
    shipped_allocations = stock_ship(
        allocation_ids=[a for s in done for a in s.allocation_ids],
        reference=f"order:{order.pk}",
        actor=actor,
    )
    _costs_record(order=order, shipments=done, allocations=shipped_allocations)
    still_reserved = Allocation.objects.filter(
        order_line__order=order, status=AllocationStatus.ALLOCATED
    ).exists()
    to = OrderStatus.PARTIALLY_SHIPPED if still_reserved else OrderStatus.SHIPPED
    summary = Join(
        [
            Phrase(
                gettext_noop(
                    "S%(pk)s from %(warehouse)s by %(service)s, tracking %(tracking)s"
                )
                if s.tracking_number
                else gettext_noop("S%(pk)s from %(warehouse)s by %(service)s"),
                pk=s.pk,
                warehouse=s.warehouse.code,
                service=s.service.name if s.service else "?",
                tracking=s.tracking_number,
            )
            for s in done
        ],
        "; ",
    )
    shipped = Phrase(gettext_noop("Shipped %(summary)s."), summary=summary)
    if order.status == to:
        order_event_record(
            order=order,
            type=OrderEventType.STATUS_CHANGED,
            message=shipped,
            data={"shipment_ids": [s.pk for s in done]},
            actor=actor,
        )
    else:
        order_status_set(
            order=order,
            to=to,
            message=shipped,
            data={"shipment_ids": [s.pk for s in done]},
            actor=actor,
        )
    if not order.is_historical:
        for shipment in done:
            outbox_enqueue(
                topic=ORDER_FULFILLED_TOPIC,
                key=f"{order.pk}:{shipment.pk}",
                payload=_fulfilled_payload(order, shipment),
            )
    return order, [s.pk for s in done], stale


def _costs_record(
    *, order: Order, shipments: list[Shipment], allocations: list[Allocation]
) -> None:
    """Tell finance what the shipped goods and labels cost (same transaction).

    Cost of goods comes from the lot actually shipped, or the product's standard cost
    for stock kept without lots; the label costs what the chosen quote said.
    """
    today = timezone.localdate()
    by_allocation = {
        a.pk: a
        for a in Allocation.objects.filter(
            pk__in=[a.pk for a in allocations]
        ).select_related("stock_item__batch", "stock_item__product")
    }
    shipment_of = {a: s.pk for s in shipments for a in s.allocation_ids}
    for allocation in by_allocation.values():
        batch = allocation.stock_item.batch
        product = allocation.stock_item.product
        if batch is not None and batch.unit_cost is not None and batch.cost_currency:
            unit, currency, source = (
                batch.unit_cost,
                batch.cost_currency,
                f"lot {batch.code}",
            )
        elif product.cost_currency:
            unit, currency, source = (
                product.unit_cost,
                product.cost_currency,
                "standard cost",
            )
        else:
            continue
        order_cost_record(
            order_id=order.pk,
            kind=CostKind.COGS,
            amount=Money(unit * allocation.quantity, currency),
            reference=(
                f"{product.sku} {source} × {allocation.quantity} "
                f"(S{shipment_of.get(allocation.pk, '?')}, allocation {allocation.pk})"
            ),
            on=today,
            order_line_id=allocation.order_line_id,
        )
    for shipment in shipments:
        quote = shipment.chosen_quote
        if quote is None or quote.amount is None or not quote.currency:
            continue
        label = quote.amount
        if shipment.duty_amount and shipment.duty_currency == quote.currency:
            # The duties the carrier priced are part of its quote; they are told
            # to finance on their own line below, not twice.
            label -= shipment.duty_amount
        order_cost_record(
            order_id=order.pk,
            kind=CostKind.SHIPPING,
            amount=Money(label, quote.currency),
            reference=f"shipment S{shipment.pk} {quote.carrier} {quote.service_name}".strip(),
            on=today,
        )
        if shipment.duty_amount and shipment.duty_currency:
            # DDP: the carrier bills us the import duties and taxes; finance has no
            # duty kind, so they are a shipping-related cost with their own reference.
            order_cost_record(
                order_id=order.pk,
                kind=CostKind.SHIPPING,
                amount=Money(shipment.duty_amount, shipment.duty_currency),
                reference=f"shipment S{shipment.pk} duties and taxes paid (DDP)",
                on=today,
            )


def order_ship_prepare(
    *,
    order_id: int,
    actor: Any = None,
    converter: FxConverter | None = None,
    label_format: str = "PDF",
) -> ShipPrepareResult:
    """Ship an allocated order: a shipment per warehouse, cheapest service, label, stock out.

    Quoting and buying happen outside any lock; a shipment that cannot be labelled
    stays for ops with its reason, the rest ship (PARTIALLY_SHIPPED). Labels bought
    for an order that was cancelled meanwhile are voided.
    Raises: OrderNotFoundError; OrderNotShippableError when the order is not
    allocated or no shipment could get a label.
    """
    shipment_ids = _drafts_prepare(order_id=order_id)
    problems: dict[int, str] = {}
    for shipment_id in shipment_ids:
        try:
            _label(
                shipment_id,
                converter=converter or finance_fx_converter,
                label_format=label_format,
            )
        except ApplicationError as exc:
            problems[shipment_id] = exc.message
    labelled = [
        pk
        for pk in shipment_ids
        if pk not in problems
        and Shipment.objects.filter(
            pk=pk, status=ShipmentStatus.LABEL_PURCHASED
        ).exists()
    ]
    order, shipped, stale = (
        _shipped_record(order_id=order_id, shipment_ids=labelled, actor=actor)
        if labelled
        else (None, [], [])
    )
    for shipment_id in stale:
        # The stock was released (order cancelled or edited) while the label was
        # bought: an unused label is voided so it is not billed.
        try:
            shipment_void(
                shipment_id=shipment_id,
                reason=Phrase(gettext_noop("The order changed before shipping.")),
            )
        except ApplicationError as exc:
            problems[shipment_id] = Phrase(
                gettext_noop(
                    "The label was bought but the order changed; voiding it failed: "
                    "%(error)s"
                ),
                error=exc.message,
            )
        else:
            problems[shipment_id] = Phrase(
                gettext_noop("The order changed before shipping; the label was voided.")
            )
    if not shipped:
        raise OrderNotShippableError(
            Phrase(
                gettext_noop("Nothing of order %(order)s could ship. %(problems)s")
                if problems
                else gettext_noop("Nothing of order %(order)s could ship."),
                order=order_id,
                problems=Join(
                    [
                        Phrase(
                            gettext_noop("S%(shipment)s: %(problem)s"),
                            shipment=pk,
                            problem=why,
                        )
                        for pk, why in sorted(problems.items())
                    ],
                    "; ",
                ),
            ),
            order_id=order_id,
            problems={str(k): v for k, v in problems.items()},
        )
    assert order is not None
    return ShipPrepareResult(
        order_id=order_id, status=order.status, shipped=shipped, problems=problems
    )


# --- tracking coming back -------------------------------------------------------------

TRACKING_EVENT_STATUSES = frozenset(
    {
        TrackingStatus.DELIVERED,
        TrackingStatus.EXCEPTION,
        TrackingStatus.FAILED_ATTEMPT,
        TrackingStatus.RETURNED,
    }
)


@transaction.atomic(durable=True)
def order_tracking_apply(*, payload: dict[str, Any]) -> Order | None:
    """React to a parcel's new status: delivered orders move on, the store is told.

    The order becomes DELIVERED once every shipment that was not voided is delivered.
    Locks: Order.
    """
    set_local_lock_timeout("5s")
    order = order_lock(order_id=int(payload["order_id"]))
    if order is None:
        return None
    status = payload.get("status", "")
    if status in TRACKING_EVENT_STATUSES:
        order_event_record(
            order=order,
            type=OrderEventType.STATUS_CHANGED
            if status == TrackingStatus.DELIVERED
            else OrderEventType.NOTE_ADDED,
            message=Phrase(
                gettext_noop("Parcel S%(pk)s (%(carrier)s %(tracking)s): %(status)s."),
                pk=payload["shipment_id"],
                carrier=payload.get("carrier_name", ""),
                tracking=payload.get("tracking_number", ""),
                status=AsIs(TrackingStatus(status).label),
            ),
            data={"tracking": payload},
        )
    shipments = [
        s
        for s in shipments_for_order(order_id=order.pk)
        if s.status != ShipmentStatus.VOIDED
    ]
    if (
        order.status == OrderStatus.SHIPPED
        and shipments
        and all(s.status == ShipmentStatus.DELIVERED for s in shipments)
    ):
        order_status_set(
            order=order,
            to=OrderStatus.DELIVERED,
            message=Phrase(gettext_noop("Every parcel was delivered.")),
            data={"shipment_ids": [s.pk for s in shipments]},
        )
    if not order.is_historical:
        outbox_enqueue(
            topic=ORDER_TRACKING_UPDATED_TOPIC,
            key=f"{order.pk}:{payload['shipment_id']}",
            payload={**payload, "channel_id": order.channel_id},
        )
    return order
