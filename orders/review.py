"""Review (审核): the rules ops configure, evaluated in order against one order's facts.

Each rule kind is a function from (rule, facts) to a human-readable finding or None.
Facts are loaded lazily, so an order is only checked for stock when a stock rule runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext_noop

from erp.core.money import quantize
from erp.core.text import Join, Phrase
from inventory.models import Warehouse
from inventory.planning import (
    AllocationRequest,
    BundleMap,
    WarehouseCandidate,
    expand_bundles,
    warehouses_able_to_ship,
)
from inventory.selectors import bundle_map, stock_available_by_warehouse
from orders.canonical import RiskLevel
from orders.choices import FinancialStatus, OrderStatus, ReviewAction, ReviewRuleKind
from orders.models import Order, OrderLine, ReviewRule
from orders.normalize import address_problems

# The closest orders of one customer that a duplicate check compares item by item.
MAX_DUPLICATE_CANDIDATES = 20

UNCAPTURED = {
    FinancialStatus.PENDING,
    FinancialStatus.AUTHORIZED,
    FinancialStatus.PARTIALLY_PAID,
    FinancialStatus.VOIDED,
}


@dataclass(frozen=True)
class ReviewFinding:
    """One rule that fired: what it says to ops, and whether it holds or only flags."""

    code: str
    message: str
    action: str
    rule_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "code": self.code,
            "message": self.message,
            "rule_id": self.rule_id,
        }
        if isinstance(self.message, Phrase):
            # Kept so each reader sees the reason in their own language.
            found.update(self.message.as_dict())
        return found


@dataclass(frozen=True)
class ReviewOutcome:
    """The verdict on one order: reasons to hold it, and flags that do not hold."""

    holds: tuple[ReviewFinding, ...]
    flags: tuple[ReviewFinding, ...]

    @property
    def approved(self) -> bool:
        return not self.holds


def warehouses_active() -> list[Warehouse]:
    """Active warehouses, best first (priority, code): what review and allocation weigh."""
    return list(Warehouse.objects.filter(is_active=True).order_by("priority", "code"))


class ReviewFacts:
    """What the rules look at for one order, each fact loaded on first use.

    Review and allocation of one order share one instance, so the order's lines, the
    warehouses and the stock figures are read once. `lines` and `warehouses` may be
    handed in by a caller that already holds them (a new order's lines, a batch's
    warehouses, loaded when first needed).
    """

    def __init__(
        self,
        order: Order,
        *,
        lines: Sequence[OrderLine] | None = None,
        warehouses: Callable[[], list[Warehouse]] = warehouses_active,
        bundles: BundleMap | None = None,
        sellable: Callable[[set[int]], dict[int, dict[int, int]]] | None = None,
        duplicates: Callable[[int], list[str]] | None = None,
    ) -> None:
        self.order = order
        self._warehouses = warehouses
        # A page of orders hands in what it read for all of them: the bundles, the
        # figures of its locked stock rows, and the duplicate check on one query.
        self._sellable_source = sellable
        self._duplicates_source = duplicates
        if lines is not None:
            self.__dict__["lines"] = [line for line in lines if not line.is_removed]
        if bundles is not None:
            self.__dict__["_bundles"] = {
                product_id: list(bundles[product_id])
                for product_id in self._product_ids
                if product_id in bundles
            }

    @cached_property
    def lines(self) -> list[OrderLine]:
        return [line for line in self.order.lines.all() if not line.is_removed]

    @cached_property
    def warehouses(self) -> list[Warehouse]:
        return self._warehouses()

    @cached_property
    def shipped_lines(self) -> list[OrderLine]:
        return [line for line in self.lines if line.requires_shipping]

    @cached_property
    def unknown_skus(self) -> list[str]:
        return [
            line.sku or f"(no SKU) {line.title}"
            for line in self.shipped_lines
            if line.product_id is None
        ]

    @cached_property
    def address_problems(self) -> list[str]:
        if not self.shipped_lines:
            return []
        return address_problems(self.order.shipping_address or {})

    @property
    def _destination(self) -> tuple[str, str]:
        address = self.order.shipping_address or {}
        return (
            (address.get("country_code") or "").upper(),
            address.get("province_code") or "",
        )

    @cached_property
    def serving_warehouses(self) -> list[Warehouse]:
        """Active warehouses that ship to the order's address, best first."""
        country, region = self._destination
        return [
            wh for wh in self.warehouses if wh.serves(country=country, region=region)
        ]

    @cached_property
    def serving_warehouse_ids(self) -> list[int]:
        return sorted(wh.pk for wh in self.serving_warehouses)

    @property
    def _product_ids(self) -> set[int]:
        return {
            line.product_id
            for line in self.shipped_lines
            if line.product_id is not None
        }

    @cached_property
    def _bundles(self) -> dict[int, list[tuple[int, int]]]:
        product_ids = self._product_ids
        return bundle_map(product_ids=product_ids) if product_ids else {}

    @cached_property
    def sellable(self) -> dict[int, dict[int, int]]:
        """Units that may be allocated now, active warehouse -> product -> units.

        Read once for review and allocation: the order's products, and the components
        of its bundles (allocation checks those), with whole bundles per warehouse.
        """
        product_ids = self._product_ids
        if not product_ids:
            return {}
        for components in self._bundles.values():
            product_ids.update(component_id for component_id, _ in components)
        if self._sellable_source is not None:
            return self._sellable_source(product_ids)
        return stock_available_by_warehouse(product_ids=product_ids)

    @cached_property
    def stock_shortages(self) -> list[tuple[str, int, int]]:
        """(SKU, needed, sellable in serving warehouses) for every short product."""
        needed: dict[int, int] = {}
        skus: dict[int, str] = {}
        for line in self.shipped_lines:
            if line.product_id is None:
                continue
            needed[line.product_id] = needed.get(line.product_id, 0) + line.quantity
            skus[line.product_id] = line.sku
        if not needed:
            return []
        serving = set(self.serving_warehouse_ids)
        by_warehouse = {
            warehouse_id: figures
            for warehouse_id, figures in self.sellable.items()
            if warehouse_id in serving
        }
        short = []
        for product_id, quantity in needed.items():
            sellable = sum(
                figures.get(product_id, 0) for figures in by_warehouse.values()
            )
            if sellable < quantity:
                short.append((skus[product_id], quantity, sellable))
        return short

    def allocation_requests(self) -> list[AllocationRequest]:
        return [
            AllocationRequest(
                order_line_id=line.pk,
                product_id=line.product_id,
                quantity=line.quantity,
            )
            for line in self.shipped_lines
            if line.product_id is not None and line.quantity > 0
        ]

    def allocation_candidates(self) -> list[WarehouseCandidate]:
        """Warehouses that alone can ship every line and serve the address, best first.

        The same choice as inventory's stock_warehouses_for_requests, from the figures
        review already read.
        """
        requests = self.allocation_requests()
        if not requests:
            return []
        country, region = self._destination
        demands = expand_bundles(requests=requests, bundles=self._bundles)
        component_sellable = {
            warehouse_id: {
                product_id: units
                for product_id, units in figures.items()
                if product_id not in self._bundles
            }
            for warehouse_id, figures in self.sellable.items()
        }
        candidates = [
            WarehouseCandidate.for_destination(wh, country=country, region=region)
            for wh in self.warehouses
            if wh.pk in component_sellable
        ]
        return [
            c
            for c in warehouses_able_to_ship(
                demands=demands, sellable=component_sellable, candidates=candidates
            )
            if c.serves_destination
        ]

    def duplicates(self, *, window_hours: int) -> list[str]:
        order = self.order
        if order.customer_id is None or not self.lines:
            return []
        if self._duplicates_source is not None:
            return self._duplicates_source(window_hours)
        items = sorted((line.sku, line.quantity) for line in self.lines)
        window = timedelta(hours=window_hours)
        # Same items means the same line count; counting in SQL keeps a customer with
        # hundreds of orders from loading every one of them.
        candidates = (
            Order.objects.filter(
                customer_id=order.customer_id,
                placed_at__gte=order.placed_at - window,
                placed_at__lte=order.placed_at + window,
            )
            .exclude(pk=order.pk)
            .exclude(status=OrderStatus.CANCELLED)
            .annotate(active_lines=Count("lines", filter=Q(lines__is_removed=False)))
            .filter(active_lines=len(self.lines))
            .order_by("-placed_at")
            .only("pk", "number", "placed_at")
            .prefetch_related(
                Prefetch(
                    "lines",
                    queryset=OrderLine.objects.filter(is_removed=False).only(
                        "order_id", "sku", "quantity"
                    ),
                )
            )[:MAX_DUPLICATE_CANDIDATES]
        )
        found = [
            other
            for other in candidates
            if sorted((line.sku, line.quantity) for line in other.lines.all()) == items
        ]
        return [other.number for other in sorted(found, key=lambda o: o.placed_at)]


def _same_items(lines: Iterable[OrderLine]) -> list[tuple[str, int]]:
    return sorted((line.sku, line.quantity) for line in lines)


class DuplicateIndex:
    """Orders of a page's customers near its dates, read in one query for all of it.

    Gives each order of the page what ReviewFacts.duplicates gives one order, except
    that an order never counts one placed after it in the same page: the page is
    decided in its order, as if each order had arrived alone.
    """

    def __init__(
        self,
        *,
        orders: Sequence[Order],
        lines: Mapping[int, Sequence[OrderLine]],
        window_hours: int,
    ) -> None:
        self._lines = lines
        self._position = {order.pk: n for n, order in enumerate(orders)}
        # customer -> [(placed_at, pk, number, items)], newest first.
        self._by_customer: dict[int, list[tuple[Any, int, str, list]]] = {}
        customers = {o.customer_id for o in orders if o.customer_id is not None}
        if not customers:
            return
        window = timedelta(hours=window_hours)
        # One query over the lines: an order without active lines matches nothing.
        found: dict[int, tuple[Any, int, str, int, list[tuple[str, int]]]] = {}
        for order_id, number, placed_at, customer_id, sku, quantity in (
            OrderLine.objects.filter(
                is_removed=False,
                order__customer_id__in=customers,
                order__placed_at__gte=min(o.placed_at for o in orders) - window,
                order__placed_at__lte=max(o.placed_at for o in orders) + window,
            )
            .exclude(order__status=OrderStatus.CANCELLED)
            .values_list(
                "order_id",
                "order__number",
                "order__placed_at",
                "order__customer_id",
                "sku",
                "quantity",
            )
        ):
            entry = found.setdefault(
                order_id, (placed_at, order_id, number, customer_id, [])
            )
            entry[4].append((sku, quantity))
        for placed_at, order_id, number, customer_id, items in sorted(
            found.values(), key=lambda e: (e[0], e[1]), reverse=True
        ):
            self._by_customer.setdefault(customer_id, []).append(
                (placed_at, order_id, number, sorted(items))
            )

    def numbers(self, *, order: Order, window_hours: int) -> list[str]:
        """Numbers of the orders `order` looks like a duplicate of, oldest first."""
        own = [line for line in self._lines.get(order.pk, ()) if not line.is_removed]
        if order.customer_id is None or not own:
            return []
        items = _same_items(own)
        window = timedelta(hours=window_hours)
        position = self._position.get(order.pk)
        candidates = [
            (placed_at, number, other_items)
            for placed_at, other_id, number, other_items in self._by_customer.get(
                order.customer_id, ()
            )
            if other_id != order.pk
            and abs(placed_at - order.placed_at) <= window
            and not (
                position is not None and self._position.get(other_id, -1) > position
            )
            and len(other_items) == len(own)
        ][:MAX_DUPLICATE_CANDIDATES]
        found = [(p, n) for p, n, other_items in candidates if other_items == items]
        return [number for _, number in sorted(found, key=lambda f: f[0])]


def _payment_not_captured(rule: ReviewRule, facts: ReviewFacts) -> str | None:
    order = facts.order
    if order.financial_status not in UNCAPTURED:
        return None
    return Phrase(
        gettext_noop("Payment not captured: the store reports it as %(status)s."),
        status=FinancialStatus(order.financial_status).label,
    )


def _fraud_risk(rule: ReviewRule, facts: ReviewFacts) -> str | None:
    levels = rule.parameters.get("levels") or [RiskLevel.HIGH]
    if facts.order.risk_level not in levels:
        return None
    level = facts.order.risk_level
    return Phrase(
        gettext_noop("Fraud risk is %(level)s by the store's analysis."),
        level=RiskLevel(level).label if level in RiskLevel.values else level,
    )


def _address_incomplete(rule: ReviewRule, facts: ReviewFacts) -> str | None:
    if not facts.address_problems:
        return None
    return Phrase(
        gettext_noop("Address incomplete: %(problems)s."),
        problems=Join(facts.address_problems, "; "),
    )


def _customer_blocked(rule: ReviewRule, facts: ReviewFacts) -> str | None:
    customer = facts.order.customer
    if customer is None or not customer.is_blocked:
        return None
    if customer.blocked_reason:
        return Phrase(
            gettext_noop("Customer %(customer)s is on the block list: %(reason)s."),
            customer=customer.email or str(customer),
            reason=customer.blocked_reason,
        )
    return Phrase(
        gettext_noop("Customer %(customer)s is on the block list."),
        customer=customer.email or str(customer),
    )


def _order_value_above(rule: ReviewRule, facts: ReviewFacts) -> str | None:
    order = facts.order
    limits = rule.parameters.get("limits") or {}
    raw = limits.get(order.currency)
    if raw is None:
        return None
    try:
        limit = Decimal(str(raw))
    except InvalidOperation:
        return Phrase(
            gettext_noop(
                "Rule '%(rule)s' has an invalid limit %(limit)r for %(currency)s."
            ),
            rule=rule.name,
            limit=raw,
            currency=order.currency,
        )
    if order.total <= limit:
        return None
    return Phrase(
        gettext_noop(
            "Order value %(total)s %(currency)s is above the %(limit)s %(currency)s limit."
        ),
        total=str(quantize(order.total, order.currency)),
        limit=str(quantize(limit, order.currency)),
        currency=order.currency,
    )


def _unknown_sku(rule: ReviewRule, facts: ReviewFacts) -> str | None:
    if not facts.unknown_skus:
        return None
    return Phrase(
        gettext_noop("Unknown SKU: %(skus)s (not in the product list)."),
        skus=Join(facts.unknown_skus),
    )


def _destination_not_served(rule: ReviewRule, facts: ReviewFacts) -> str | None:
    if not facts.shipped_lines or facts.serving_warehouse_ids:
        return None
    address = facts.order.shipping_address or {}
    place = address.get("country_code")
    if not place:
        return Phrase(gettext_noop("No active warehouse ships to an unknown country."))
    if address.get("province_code"):
        place = f"{place}-{address['province_code']}"
    return Phrase(gettext_noop("No active warehouse ships to %(place)s."), place=place)


def _likely_duplicate(rule: ReviewRule, facts: ReviewFacts) -> str | None:
    window = int(rule.parameters.get("window_hours") or 24)
    numbers = facts.duplicates(window_hours=window)
    if not numbers:
        return None
    return Phrase(
        gettext_noop(
            "Looks like a duplicate of %(numbers)s (same customer and items within "
            "%(hours)s h)."
        ),
        numbers=Join(numbers),
        hours=window,
    )


def _stock_short(rule: ReviewRule, facts: ReviewFacts) -> str | None:
    if not facts.stock_shortages:
        return None
    parts = [
        Phrase(
            gettext_noop("%(sku)s needs %(need)s, %(have)s available"),
            sku=sku,
            need=need,
            have=have,
        )
        for sku, need, have in facts.stock_shortages
    ]
    return Phrase(gettext_noop("Stock short: %(parts)s."), parts=Join(parts, "; "))


RULE_CHECKS: dict[str, Callable[[ReviewRule, ReviewFacts], str | None]] = {
    ReviewRuleKind.PAYMENT_NOT_CAPTURED: _payment_not_captured,
    ReviewRuleKind.FRAUD_RISK: _fraud_risk,
    ReviewRuleKind.ADDRESS_INCOMPLETE: _address_incomplete,
    ReviewRuleKind.CUSTOMER_BLOCKED: _customer_blocked,
    ReviewRuleKind.ORDER_VALUE_ABOVE: _order_value_above,
    ReviewRuleKind.UNKNOWN_SKU: _unknown_sku,
    ReviewRuleKind.DESTINATION_NOT_SERVED: _destination_not_served,
    ReviewRuleKind.LIKELY_DUPLICATE: _likely_duplicate,
    ReviewRuleKind.STOCK_SHORT: _stock_short,
}


def review_rules_for(*, channel_id: int) -> list[ReviewRule]:
    """Active rules that apply to this store, in evaluation order."""
    return list(
        ReviewRule.objects.filter(is_active=True)
        .filter(Q(channels__isnull=True) | Q(channels__pk=channel_id))
        .distinct()
        .order_by("position", "pk")
    )


def review_evaluate(
    *,
    order: Order,
    rules: list[ReviewRule] | None = None,
    facts: ReviewFacts | None = None,
) -> ReviewOutcome:
    """Run the rules against one order; nothing is written."""
    facts = facts or ReviewFacts(order)
    holds: list[ReviewFinding] = []
    flags: list[ReviewFinding] = []
    # Lines without a product can never be allocated, so they hold the order even if
    # ops removed the unknown-SKU rule.
    rules = review_rules_for(channel_id=order.channel_id) if rules is None else rules
    for rule in rules:
        message = RULE_CHECKS[rule.kind](rule, facts)
        if message is None:
            continue
        finding = ReviewFinding(
            code=rule.kind, message=message, action=rule.action, rule_id=rule.pk
        )
        (holds if rule.action == ReviewAction.HOLD else flags).append(finding)
    if facts.unknown_skus and not any(
        f.code == ReviewRuleKind.UNKNOWN_SKU for f in holds
    ):
        holds.append(
            ReviewFinding(
                code=ReviewRuleKind.UNKNOWN_SKU,
                message=_unknown_sku(ReviewRule(), facts) or "",
                action=ReviewAction.HOLD,
            )
        )
    return ReviewOutcome(holds=tuple(holds), flags=tuple(flags))


@dataclass(frozen=True)
class DryRunRow:
    """What one rule would have said about one recent order."""

    order_id: int
    number: str
    status: str
    message: str | None

    @property
    def fired(self) -> bool:
        return self.message is not None


def review_rule_dry_run(*, rule: ReviewRule, last_n: int = 100) -> list[DryRunRow]:
    """Run one rule (saved or not) over the last N orders of its stores; writes nothing."""
    orders = (
        Order.objects.select_related("customer")
        .prefetch_related("lines")
        .order_by("-placed_at", "-pk")
    )
    if rule.pk and rule.channels.exists():
        orders = orders.filter(channel__in=rule.channels.all())
    check = RULE_CHECKS[rule.kind]
    return [
        DryRunRow(order.pk, order.number, order.status, check(rule, ReviewFacts(order)))
        for order in orders[:last_n]
    ]
