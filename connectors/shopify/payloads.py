"""Typed Shopify payloads, parsed at the boundary from either shape Shopify sends.

Webhooks carry REST-shaped JSON (snake_case, amounts as strings, the shop's UTC offset);
the GraphQL Admin API answers camelCase with MoneyBag sets, gids and UTC. Both parse into
the same typed ShopifyOrder, so the webhook and the poll of one order map identically
(mappers.py) and a replay never flips a field back and forth. Anything malformed raises
PayloadError naming the path, e.g. "line_items[2].quantity: expected an integer".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_noop

from connectors.exceptions import PayloadError
from erp.core.text import Phrase

_CENT = Decimal("0.01")


# --- typed payloads -----------------------------------------------------------------


@dataclass(frozen=True)
class ShopifyAddress:
    """A mailing address as Shopify sends it (empty strings for missing parts)."""

    name: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    province: str = ""
    province_code: str = ""
    zip: str = ""
    country_code: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ShopifyCustomer:
    """The buyer's Shopify customer record (ids numeric, as strings)."""

    id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ShopifyLineItem:
    """One line; money in shop currency."""

    id: str
    sku: str
    title: str
    variant_title: str
    variant_id: str
    quantity: int
    requires_shipping: bool
    unit_price: Decimal
    discount: Decimal
    tax: Decimal


@dataclass(frozen=True)
class ShopifyShippingLine:
    """A shipping charge: what was quoted and what the customer paid after discounts."""

    title: str
    code: str
    price: Decimal
    discounted_price: Decimal


@dataclass(frozen=True)
class ShopifyRefundLine:
    """A line given back in a refund and whether it went back to stock."""

    line_item_id: str
    quantity: int
    restock_type: str

    @property
    def restocked(self) -> bool:
        return self.restock_type not in ("no_restock", "")


@dataclass(frozen=True)
class ShopifyRefund:
    """A refund: its amount in shop currency and the lines it covered."""

    id: str
    created_at: datetime
    note: str
    amount: Decimal
    lines: tuple[ShopifyRefundLine, ...]
    # The amount in the currency the customer paid in (GraphQL presentmentMoney).
    presentment_amount: Decimal | None = None
    presentment_currency: str = ""


@dataclass(frozen=True)
class ShopifyTransaction:
    """A payment movement (authorisation, capture, sale, refund, void) and its fees."""

    id: str
    kind: str
    status: str
    gateway: str
    amount: Decimal
    currency: str
    processed_at: datetime
    fee: Decimal | None
    fee_currency: str
    authorization_code: str
    parent_id: str
    presentment_amount: Decimal | None = None
    presentment_currency: str = ""


@dataclass(frozen=True)
class ShopifyMoneyPair:
    """An amount in shop currency and in the currency the customer saw."""

    shop: Decimal
    presentment: Decimal


@dataclass(frozen=True)
class ShopifyOrder:
    """A Shopify order, whichever API it came from, in one typed shape."""

    id: str
    name: str
    email: str
    phone: str
    note: str
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str
    currency: str
    presentment_currency: str
    # lowercase Shopify words: "partially_refunded", "partial", ...
    financial_status: str
    fulfillment_status: str
    # lowercase RiskAssessmentResult ("high", "none", "pending") or "" when not sent
    risk_level: str
    payment_gateways: tuple[str, ...]
    discount_codes: tuple[str, ...]
    subtotal: ShopifyMoneyPair
    total: ShopifyMoneyPair
    discounts: ShopifyMoneyPair
    shipping: ShopifyMoneyPair
    tax: ShopifyMoneyPair
    customer: ShopifyCustomer | None
    shipping_address: ShopifyAddress | None
    billing_address: ShopifyAddress | None
    line_items: tuple[ShopifyLineItem, ...]
    shipping_lines: tuple[ShopifyShippingLine, ...]
    refunds: tuple[ShopifyRefund, ...]
    # Only the API sends them; REST order bodies (webhooks) do not.
    transactions: tuple[ShopifyTransaction, ...] = ()


@dataclass(frozen=True)
class ShopifyOrderReference:
    """A webhook that only names an order (refunds/*, fulfillments/*, orders/edited)."""

    order_id: str


@dataclass(frozen=True)
class ShopifyInventoryLevel:
    """inventory_levels/update: the store's available quantity of one item somewhere."""

    inventory_item_id: str
    location_id: str
    available: int | None
    updated_at: datetime | None


# --- a reader that knows where it is -------------------------------------------------


class _Node:
    """A JSON object being read, with its path for error messages."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise PayloadError(
                Phrase(
                    gettext_noop("expected an object, got %(type)s"),
                    type=type(data).__name__,
                ),
                path=path or "$",
            )
        self.data = data
        self.path = path

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def node(self, key: str) -> _Node | None:
        value = self.data.get(key)
        return None if value is None else _Node(value, self._at(key))

    def nodes(self, key: str, *, required: bool = False) -> list[_Node]:
        value = self.data.get(key)
        if value is None:
            if required:
                raise PayloadError(gettext_noop("is missing"), path=self._at(key))
            return []
        if not isinstance(value, list):
            raise PayloadError(gettext_noop("expected a list"), path=self._at(key))
        return [_Node(item, f"{self._at(key)}[{i}]") for i, item in enumerate(value)]

    def list_of_str(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PayloadError(
                gettext_noop("expected a list of strings"), path=self._at(key)
            )
        return tuple(value)

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise PayloadError(gettext_noop("is missing"), path=self._at(key))
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise PayloadError(
                Phrase(
                    gettext_noop("expected text, got %(type)s"),
                    type=type(value).__name__,
                ),
                path=self._at(key),
            )
        return str(value)

    def ident(self, key: str) -> str:
        """A Shopify id: a number, a numeric string or a gid; always the number."""
        value = self.data.get(key)
        if value is None or value == "":
            raise PayloadError(gettext_noop("is missing"), path=self._at(key))
        if isinstance(value, bool):
            raise PayloadError(gettext_noop("expected an id"), path=self._at(key))
        text = str(value).rsplit("/", 1)[-1]
        if not text.isdigit():
            raise PayloadError(
                Phrase(
                    gettext_noop("expected a numeric id, got %(value)r"), value=value
                ),
                path=self._at(key),
            )
        return text

    def optional_ident(self, key: str) -> str:
        return self.ident(key) if self.data.get(key) not in (None, "") else ""

    def integer(self, key: str, *, default: int | None = None) -> int:
        value = self.data.get(key)
        if value is None:
            if default is not None:
                return default
            raise PayloadError(gettext_noop("is missing"), path=self._at(key))
        if isinstance(value, bool):
            raise PayloadError(gettext_noop("expected an integer"), path=self._at(key))
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise PayloadError(
                Phrase(gettext_noop("expected an integer, got %(value)r"), value=value),
                path=self._at(key),
            ) from None
        if number != number.to_integral_value():
            raise PayloadError(
                Phrase(gettext_noop("expected an integer, got %(value)r"), value=value),
                path=self._at(key),
            )
        return int(number)

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise PayloadError(
                gettext_noop("expected true or false"), path=self._at(key)
            )
        return value

    def money(self, key: str, *, default: Decimal | None = None) -> Decimal:
        value = self.data.get(key)
        if value is None or value == "":
            if default is not None:
                return default
            raise PayloadError(gettext_noop("is missing"), path=self._at(key))
        return money(value, path=self._at(key))

    def moment(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.data.get(key)
        if value in (None, ""):
            if required:
                raise PayloadError(gettext_noop("is missing"), path=self._at(key))
            return None
        if not isinstance(value, str):
            raise PayloadError(gettext_noop("expected a date-time"), path=self._at(key))
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PayloadError(
                Phrase(
                    gettext_noop("expected an ISO 8601 date-time, got %(value)r"),
                    value=value,
                ),
                path=self._at(key),
            ) from None
        if parsed.tzinfo is None:
            raise PayloadError(
                Phrase(
                    gettext_noop("date-time %(value)r has no time zone"), value=value
                ),
                path=self._at(key),
            )
        # UTC everywhere: "11:00-05:00" (REST) and "16:00Z" (GraphQL) are one instant.
        return parsed.astimezone(UTC)

    def required_moment(self, key: str) -> datetime:
        moment = self.moment(key, required=True)
        assert moment is not None
        return moment


def money(value: Any, *, path: str = "") -> Decimal:
    """An exact amount with at least two decimals ("199.0", "199.00", 199 → 199.00).

    REST writes "199.00", GraphQL "199.0": one canonical form keeps replays identical.
    Floats are refused; JSON numbers must be read with parse_float=Decimal.
    """
    if isinstance(value, float | bool):
        raise PayloadError(
            Phrase(
                gettext_noop("expected an exact amount, got %(value)r"), value=value
            ),
            path=path,
        )
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PayloadError(
            Phrase(gettext_noop("expected an amount, got %(value)r"), value=value),
            path=path,
        ) from None
    if not amount.is_finite():
        raise PayloadError(
            Phrase(gettext_noop("expected an amount, got %(value)r"), value=value),
            path=path,
        )
    amount = amount.normalize()
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        return amount.quantize(_CENT)
    return amount


# --- REST (webhooks) ------------------------------------------------------------------


def _rest_pair(node: _Node, set_key: str, amount_key: str | None) -> ShopifyMoneyPair:
    money_set = node.node(set_key)
    if money_set is not None:
        shop = money_set.node("shop_money")
        if shop is None:
            raise PayloadError(
                gettext_noop("is missing"), path=money_set._at("shop_money")
            )
        presentment = money_set.node("presentment_money") or shop
        return ShopifyMoneyPair(
            shop=shop.money("amount"), presentment=presentment.money("amount")
        )
    amount = (
        node.money(amount_key, default=Decimal("0.00"))
        if amount_key is not None
        else Decimal("0.00")
    )
    return ShopifyMoneyPair(shop=amount, presentment=amount)


def _rest_address(node: _Node | None) -> ShopifyAddress | None:
    if node is None:
        return None
    first, last = node.text("first_name"), node.text("last_name")
    return ShopifyAddress(
        name=node.text("name") or f"{first} {last}".strip(),
        first_name=first,
        last_name=last,
        company=node.text("company"),
        address1=node.text("address1"),
        address2=node.text("address2"),
        city=node.text("city"),
        province=node.text("province"),
        province_code=node.text("province_code"),
        zip=node.text("zip"),
        country_code=node.text("country_code"),
        phone=node.text("phone"),
    )


def _rest_line(node: _Node) -> ShopifyLineItem:
    return ShopifyLineItem(
        id=node.ident("id"),
        sku=node.text("sku"),
        title=node.text("title") or node.text("name"),
        variant_title=node.text("variant_title"),
        variant_id=node.optional_ident("variant_id"),
        quantity=node.integer("quantity"),
        requires_shipping=node.boolean("requires_shipping", default=True),
        unit_price=node.money("price"),
        discount=sum(
            (a.money("amount") for a in node.nodes("discount_allocations")),
            Decimal("0.00"),
        ),
        tax=sum((t.money("price") for t in node.nodes("tax_lines")), Decimal("0.00")),
    )


def _rest_refund(node: _Node) -> ShopifyRefund:
    amount = sum(
        (
            t.money("amount")
            for t in node.nodes("transactions")
            if t.text("kind") == "refund" and t.text("status") in ("", "success")
        ),
        Decimal("0.00"),
    )
    return ShopifyRefund(
        id=node.ident("id"),
        created_at=node.required_moment("created_at"),
        note=node.text("note"),
        amount=money(amount),
        lines=tuple(
            ShopifyRefundLine(
                line_item_id=item.ident("line_item_id"),
                quantity=item.integer("quantity"),
                restock_type=item.text("restock_type").lower() or "no_restock",
            )
            for item in node.nodes("refund_line_items")
        ),
    )


def parse_rest_order(data: Any) -> ShopifyOrder:
    """An order webhook body (orders/create, updated, paid, cancelled), or a REST order."""
    node = _Node(data, "")
    currency = node.text("currency", required=True)
    customer = node.node("customer")
    tags = node.data.get("tags") or ""
    if not isinstance(tags, str):
        raise PayloadError(gettext_noop("expected comma-separated text"), path="tags")
    return ShopifyOrder(
        id=node.ident("id"),
        name=node.text("name") or f"#{node.text('order_number')}",
        email=node.text("email") or node.text("contact_email"),
        phone=node.text("phone"),
        note=node.text("note"),
        tags=_tags(tags.split(",")),
        created_at=node.required_moment("created_at"),
        updated_at=node.required_moment("updated_at"),
        cancelled_at=node.moment("cancelled_at"),
        cancel_reason=node.text("cancel_reason").lower(),
        currency=currency.upper(),
        presentment_currency=(node.text("presentment_currency") or currency).upper(),
        financial_status=node.text("financial_status").lower(),
        fulfillment_status=node.text("fulfillment_status").lower(),
        risk_level="",
        payment_gateways=node.list_of_str("payment_gateway_names"),
        discount_codes=tuple(d.text("code") for d in node.nodes("discount_codes")),
        subtotal=_rest_pair(node, "subtotal_price_set", "subtotal_price"),
        total=_rest_pair(node, "total_price_set", "total_price"),
        discounts=_rest_pair(node, "total_discounts_set", "total_discounts"),
        shipping=_rest_pair(node, "total_shipping_price_set", None),
        tax=_rest_pair(node, "total_tax_set", "total_tax"),
        customer=(
            ShopifyCustomer(
                id=customer.optional_ident("id"),
                first_name=customer.text("first_name"),
                last_name=customer.text("last_name"),
                phone=customer.text("phone"),
            )
            if customer is not None
            else None
        ),
        shipping_address=_rest_address(node.node("shipping_address")),
        billing_address=_rest_address(node.node("billing_address")),
        # Required: a body trimmed by a subscription's includeFields must not read as
        # "every line was removed".
        line_items=tuple(
            _rest_line(line) for line in node.nodes("line_items", required=True)
        ),
        shipping_lines=tuple(
            ShopifyShippingLine(
                title=s.text("title"),
                code=s.text("code"),
                price=s.money("price"),
                discounted_price=s.money("discounted_price", default=s.money("price")),
            )
            for s in node.nodes("shipping_lines")
        ),
        refunds=tuple(_rest_refund(r) for r in node.nodes("refunds")),
    )


def parse_order_reference(data: Any, *, key: str = "order_id") -> ShopifyOrderReference:
    """The order a refunds/*, fulfillments/* or orders/edited webhook is about."""
    node = _Node(data, "")
    if key == "order_edit":
        edit = node.node("order_edit")
        if edit is None:
            raise PayloadError(gettext_noop("is missing"), path="order_edit")
        return ShopifyOrderReference(order_id=edit.ident("order_id"))
    return ShopifyOrderReference(order_id=node.ident(key))


def parse_inventory_level(data: Any) -> ShopifyInventoryLevel:
    """An inventory_levels/update body."""
    node = _Node(data, "")
    return ShopifyInventoryLevel(
        inventory_item_id=node.ident("inventory_item_id"),
        location_id=node.ident("location_id"),
        available=node.integer("available") if node.has("available") else None,
        updated_at=node.moment("updated_at"),
    )


# --- GraphQL (API) --------------------------------------------------------------------


def _gql_pair(node: _Node, key: str) -> ShopifyMoneyPair:
    bag = node.node(key)
    if bag is None:
        return ShopifyMoneyPair(shop=Decimal("0.00"), presentment=Decimal("0.00"))
    shop = bag.node("shopMoney")
    if shop is None:
        raise PayloadError(gettext_noop("is missing"), path=bag._at("shopMoney"))
    presentment = bag.node("presentmentMoney") or shop
    return ShopifyMoneyPair(
        shop=shop.money("amount"), presentment=presentment.money("amount")
    )


def _gql_shop_amount(node: _Node | None, key: str) -> Decimal:
    if node is None:
        return Decimal("0.00")
    return _gql_pair(node, key).shop


def _gql_address(node: _Node | None) -> ShopifyAddress | None:
    if node is None:
        return None
    first, last = node.text("firstName"), node.text("lastName")
    return ShopifyAddress(
        name=node.text("name") or f"{first} {last}".strip(),
        first_name=first,
        last_name=last,
        company=node.text("company"),
        address1=node.text("address1"),
        address2=node.text("address2"),
        city=node.text("city"),
        province=node.text("province"),
        province_code=node.text("provinceCode"),
        zip=node.text("zip"),
        country_code=node.text("countryCodeV2"),
        phone=node.text("phone"),
    )


def parse_graphql_line_item(node: _Node) -> ShopifyLineItem:
    variant = node.node("variant")
    return ShopifyLineItem(
        id=node.ident("id"),
        sku=node.text("sku"),
        title=node.text("title") or node.text("name"),
        variant_title=node.text("variantTitle"),
        variant_id=variant.ident("id") if variant is not None else "",
        quantity=node.integer("quantity"),
        requires_shipping=node.boolean("requiresShipping", default=True),
        unit_price=_gql_pair(node, "originalUnitPriceSet").shop,
        discount=sum(
            (
                _gql_shop_amount(a, "allocatedAmountSet")
                for a in node.nodes("discountAllocations")
            ),
            Decimal("0.00"),
        ),
        tax=sum(
            (_gql_shop_amount(t, "priceSet") for t in node.nodes("taxLines")),
            Decimal("0.00"),
        ),
    )


def parse_graphql_shipping_line(node: _Node) -> ShopifyShippingLine:
    price = _gql_pair(node, "originalPriceSet").shop
    discounted = (
        _gql_pair(node, "discountedPriceSet").shop
        if node.has("discountedPriceSet")
        else price
    )
    return ShopifyShippingLine(
        title=node.text("title"),
        code=node.text("code"),
        price=price,
        discounted_price=discounted,
    )


def parse_graphql_refund_line(node: _Node) -> ShopifyRefundLine:
    line = node.node("lineItem")
    if line is None:
        raise PayloadError(gettext_noop("is missing"), path=node._at("lineItem"))
    return ShopifyRefundLine(
        line_item_id=line.ident("id"),
        quantity=node.integer("quantity"),
        restock_type=node.text("restockType").lower() or "no_restock",
    )


def parse_graphql_refund(
    node: _Node, *, extra_lines: tuple[ShopifyRefundLine, ...] = ()
) -> ShopifyRefund:
    items = node.node("refundLineItems")
    lines = tuple(
        parse_graphql_refund_line(n) for n in (items.nodes("nodes") if items else [])
    )
    presentment, presentment_currency = _gql_presentment(node, "totalRefundedSet")
    return ShopifyRefund(
        id=node.ident("id"),
        created_at=node.required_moment("createdAt"),
        note=node.text("note"),
        amount=_gql_pair(node, "totalRefundedSet").shop,
        lines=lines + extra_lines,
        presentment_amount=presentment,
        presentment_currency=presentment_currency,
    )


def _gql_presentment(node: _Node, key: str) -> tuple[Decimal | None, str]:
    """A MoneyBag's presentment amount and currency, (None, "") when not sent."""
    bag = node.node(key)
    money_node = bag.node("presentmentMoney") if bag is not None else None
    if money_node is None:
        return None, ""
    return (
        money_node.money("amount"),
        money_node.text("currencyCode", required=True).upper(),
    )


def parse_graphql_transaction(node: _Node) -> ShopifyTransaction:
    amount = node.node("amountSet")
    shop = amount.node("shopMoney") if amount is not None else None
    if shop is None:
        raise PayloadError(
            gettext_noop("is missing"), path=node._at("amountSet.shopMoney")
        )
    fees = [f.node("amount") for f in node.nodes("fees")]
    fee_amounts = [f for f in fees if f is not None]
    parent = node.node("parentTransaction")
    processed = node.moment("processedAt") or node.required_moment("createdAt")
    presentment, presentment_currency = _gql_presentment(node, "amountSet")
    return ShopifyTransaction(
        id=node.ident("id"),
        kind=node.text("kind").lower(),
        status=node.text("status").lower(),
        gateway=node.text("gateway"),
        amount=shop.money("amount"),
        currency=shop.text("currencyCode", required=True).upper(),
        processed_at=processed,
        fee=(
            money(sum((f.money("amount") for f in fee_amounts), Decimal(0)))
            if fee_amounts
            else None
        ),
        fee_currency=fee_amounts[0].text("currencyCode").upper() if fee_amounts else "",
        authorization_code=node.text("authorizationCode"),
        parent_id=parent.ident("id") if parent is not None else "",
        presentment_amount=presentment,
        presentment_currency=presentment_currency,
    )


def _connection_nodes(node: _Node, key: str, *, required: bool = False) -> list[_Node]:
    connection = node.node(key)
    if connection is None:
        if required:
            raise PayloadError(gettext_noop("is missing"), path=node._at(key))
        return []
    return connection.nodes("nodes")


def _risk_level(node: _Node) -> str:
    risk = node.node("risk")
    if risk is None:
        return ""
    levels = [a.text("riskLevel").lower() for a in risk.nodes("assessments")]
    for level in ("high", "medium", "low", "none", "pending"):
        if level in levels:
            return level
    # No assessment yet: Shopify's recommendation says as much as a level would.
    return {"cancel": "high", "investigate": "medium", "accept": "low"}.get(
        risk.text("recommendation").lower(), ""
    )


def parse_graphql_order(data: Any) -> ShopifyOrder:
    """An Order object from the GraphQL Admin API (queries.ORDER fields)."""
    node = _Node(data, "order")
    customer = node.node("customer")
    currency = node.text("currencyCode", required=True)
    fulfillment = node.text("displayFulfillmentStatus").lower()
    return ShopifyOrder(
        id=node.ident("legacyResourceId")
        if node.has("legacyResourceId")
        else node.ident("id"),
        name=node.text("name", required=True),
        email=node.text("email"),
        phone=node.text("phone"),
        note=node.text("note"),
        tags=_tags(node.list_of_str("tags")),
        created_at=node.required_moment("createdAt"),
        updated_at=node.required_moment("updatedAt"),
        cancelled_at=node.moment("cancelledAt"),
        cancel_reason=node.text("cancelReason").lower(),
        currency=currency.upper(),
        presentment_currency=(node.text("presentmentCurrencyCode") or currency).upper(),
        financial_status=node.text("displayFinancialStatus").lower(),
        # GraphQL says "partially_fulfilled" / "unfulfilled" where REST says "partial" / null.
        fulfillment_status={
            "partially_fulfilled": "partial",
            "unfulfilled": "",
        }.get(fulfillment, fulfillment),
        risk_level=_risk_level(node),
        payment_gateways=node.list_of_str("paymentGatewayNames"),
        discount_codes=node.list_of_str("discountCodes"),
        subtotal=_gql_pair(node, "subtotalPriceSet"),
        total=_gql_pair(node, "totalPriceSet"),
        discounts=_gql_pair(node, "totalDiscountsSet"),
        shipping=_gql_pair(node, "totalShippingPriceSet"),
        tax=_gql_pair(node, "totalTaxSet"),
        customer=(
            ShopifyCustomer(
                id=customer.ident("id"),
                first_name=customer.text("firstName"),
                last_name=customer.text("lastName"),
                phone=customer.text("phone"),
            )
            if customer is not None
            else None
        ),
        shipping_address=_gql_address(node.node("shippingAddress")),
        billing_address=_gql_address(node.node("billingAddress")),
        line_items=tuple(
            parse_graphql_line_item(n)
            for n in _connection_nodes(node, "lineItems", required=True)
        ),
        shipping_lines=tuple(
            parse_graphql_shipping_line(n)
            for n in _connection_nodes(node, "shippingLines")
        ),
        refunds=tuple(parse_graphql_refund(r) for r in node.nodes("refunds")),
        transactions=tuple(
            parse_graphql_transaction(t) for t in node.nodes("transactions")
        ),
    )


def graphql_node(data: Any, path: str) -> _Node:
    """Wrap a GraphQL object for the parse_graphql_* helpers (used when paging)."""
    return _Node(data, path)


def _tags(values: Any) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in values if v and v.strip()}))
