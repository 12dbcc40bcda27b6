"""Orders of the fake store: official REST samples turned into GraphQL Admin objects.

The official samples Shopify publishes for orders are REST bodies (the same shape
webhooks carry); the fake store keeps each order in both shapes so a test can send the
webhook and serve the poll of the very same order.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any


def gid(kind: str, value: Any) -> str:
    return f"gid://shopify/{kind}/{value}"


def gql_decimal(value: Any) -> str:
    """A Decimal scalar as Shopify's GraphQL writes it: "199.0", not "199.00"."""
    text = format(Decimal(str(value)).normalize(), "f")
    return text if "." in text else f"{text}.0"


def gql_datetime(value: str | None) -> str | None:
    """GraphQL DateTime is UTC ("2008-01-10T16:00:00Z"); REST keeps the shop's offset."""
    if not value:
        return None
    moment = datetime.fromisoformat(value).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(amount: Any, currency: str) -> dict[str, str]:
    return {"amount": gql_decimal(amount or "0"), "currencyCode": currency}


def _bag(rest_set: Any, amount: Any, shop: str, presentment: str) -> dict[str, Any]:
    if isinstance(rest_set, dict):
        shop_money = rest_set.get("shop_money") or {}
        presentment_money = rest_set.get("presentment_money") or shop_money
        return {
            "shopMoney": _money(
                shop_money.get("amount"), shop_money.get("currency_code") or shop
            ),
            "presentmentMoney": _money(
                presentment_money.get("amount"),
                presentment_money.get("currency_code") or presentment,
            ),
        }
    return {
        "shopMoney": _money(amount, shop),
        "presentmentMoney": _money(amount, presentment),
    }


def _address(rest: Any, order_id: Any, kind: str) -> dict[str, Any] | None:
    if not isinstance(rest, dict):
        return None
    return {
        "id": gid("MailingAddress", f"{order_id}{kind}"),
        "name": rest.get("name"),
        "firstName": rest.get("first_name"),
        "lastName": rest.get("last_name"),
        "company": rest.get("company"),
        "address1": rest.get("address1"),
        "address2": rest.get("address2"),
        "city": rest.get("city"),
        "province": rest.get("province"),
        "provinceCode": rest.get("province_code"),
        "zip": rest.get("zip"),
        "countryCodeV2": rest.get("country_code"),
        "phone": rest.get("phone"),
    }


def connection(nodes: list[dict[str, Any]]) -> Any:
    """A GraphQL connection over `nodes`, resolved with first/after like Shopify."""

    def resolve(
        _info: Any, first: int | None = None, after: str | None = None, **_: Any
    ):
        start = int(after) if after else 0
        end = len(nodes) if first is None else start + first
        page = nodes[start:end]
        return {
            "nodes": page,
            "edges": [
                {"cursor": str(start + i + 1), "node": node}
                for i, node in enumerate(page)
            ],
            "pageInfo": {
                "hasNextPage": end < len(nodes),
                "hasPreviousPage": start > 0,
                "startCursor": str(start + 1) if page else None,
                "endCursor": str(start + len(page)) if page else None,
            },
        }

    return resolve


def sized_list(items: list[dict[str, Any]]) -> Any:
    """A GraphQL list field that takes `first` (Order.refunds, LineItem.taxLines)."""

    def resolve(_info: Any, first: int | None = None, **_: Any) -> list[dict[str, Any]]:
        return items if first is None else items[:first]

    return resolve


def _line_item(rest: dict[str, Any], shop: str, presentment: str) -> dict[str, Any]:
    return {
        "id": gid("LineItem", rest["id"]),
        "sku": rest.get("sku"),
        "name": rest.get("name") or rest.get("title") or "",
        "title": rest.get("title") or "",
        "variantTitle": rest.get("variant_title"),
        "quantity": int(rest.get("quantity") or 0),
        "requiresShipping": bool(rest.get("requires_shipping", True)),
        "variant": (
            {"id": gid("ProductVariant", rest["variant_id"])}
            if rest.get("variant_id")
            else None
        ),
        "originalUnitPriceSet": _bag(
            rest.get("price_set"), rest.get("price"), shop, presentment
        ),
        "discountAllocations": [
            {
                "allocatedAmountSet": _bag(
                    allocation.get("amount_set"),
                    allocation.get("amount"),
                    shop,
                    presentment,
                )
            }
            for allocation in rest.get("discount_allocations") or []
        ],
        "taxLines": sized_list(
            [
                {
                    "title": tax.get("title") or "",
                    "rate": float(tax["rate"]) if tax.get("rate") is not None else None,
                    "priceSet": _bag(
                        tax.get("price_set"), tax.get("price"), shop, presentment
                    ),
                }
                for tax in rest.get("tax_lines") or []
            ]
        ),
    }


def _refund(rest: dict[str, Any], shop: str, presentment: str) -> dict[str, Any]:
    done = [
        t
        for t in rest.get("transactions") or []
        if t.get("kind") == "refund" and t.get("status", "success") == "success"
    ]
    refunded = sum((Decimal(str(t.get("amount") or "0")) for t in done), Decimal(0))
    # Transactions with an amount_set (shop and presentment money) say both.
    total_set = None
    if done and all(isinstance(t.get("amount_set"), dict) for t in done):
        total_set = {
            side: {
                "amount": sum(
                    (Decimal(str(t["amount_set"][side]["amount"])) for t in done),
                    Decimal(0),
                ),
                "currency_code": done[0]["amount_set"][side]["currency_code"],
            }
            for side in ("shop_money", "presentment_money")
        }
    return {
        "id": gid("Refund", rest["id"]),
        "createdAt": gql_datetime(rest.get("created_at")),
        "note": rest.get("note"),
        "totalRefundedSet": _bag(total_set, refunded, shop, presentment),
        "refundLineItems": connection(
            [
                {
                    "quantity": int(item.get("quantity") or 0),
                    "restockType": str(
                        item.get("restock_type") or "no_restock"
                    ).upper(),
                    "lineItem": {"id": gid("LineItem", item["line_item_id"])},
                }
                for item in rest.get("refund_line_items") or []
            ]
        ),
    }


def _transaction(rest: dict[str, Any]) -> dict[str, Any]:
    currency = rest.get("currency") or "USD"
    return {
        "id": gid("OrderTransaction", rest["id"]),
        "kind": str(rest["kind"]).upper(),
        "status": str(rest.get("status") or "success").upper(),
        "gateway": rest.get("gateway"),
        "processedAt": gql_datetime(rest.get("processed_at")),
        "createdAt": gql_datetime(rest["created_at"]),
        "authorizationCode": rest.get("authorization"),
        "amountSet": _bag(
            rest.get("amount_set"), rest.get("amount"), currency, currency
        ),
        "fees": [
            {"amount": _money(fee["amount"], fee.get("currency") or currency)}
            for fee in rest.get("fees") or []
        ],
        "parentTransaction": (
            {"id": gid("OrderTransaction", rest["parent_id"])}
            if rest.get("parent_id")
            else None
        ),
    }


# Fulfilment statuses (REST) that took quantities out of the fulfilment order.
FULFILLED_STATUSES = {"success", "open", "pending"}


def fulfilled_quantities(rest: dict[str, Any]) -> dict[int, int]:
    """Units fulfilled so far per line item id."""
    done: dict[int, int] = {}
    for fulfillment in rest.get("fulfillments") or []:
        if fulfillment.get("status") not in FULFILLED_STATUSES:
            continue
        for line in fulfillment.get("line_items") or []:
            done[line["id"]] = done.get(line["id"], 0) + int(line.get("quantity") or 0)
    return done


def _fulfillment_order(rest: dict[str, Any]) -> dict[str, Any]:
    """One fulfilment order per order (one location), remaining = ordered - fulfilled."""
    done = fulfilled_quantities(rest)
    items = [
        {
            "id": gid("FulfillmentOrderLineItem", line["id"]),
            "remainingQuantity": max(
                int(line["quantity"]) - done.get(line["id"], 0), 0
            ),
            "lineItem": {"id": gid("LineItem", line["id"])},
        }
        for line in rest["line_items"]
    ]
    remaining = sum(item["remainingQuantity"] for item in items)
    if rest.get("cancelled_at"):
        status = "CANCELLED"
    else:
        status = "OPEN" if remaining else "CLOSED"
    return {
        "id": gid("FulfillmentOrder", rest["id"]),
        "status": status,
        "lineItems": connection(items),
    }


def _fulfillment(rest: dict[str, Any]) -> dict[str, Any]:
    numbers = rest.get("tracking_numbers") or (
        [rest["tracking_number"]] if rest.get("tracking_number") else []
    )
    urls = rest.get("tracking_urls") or (
        [rest["tracking_url"]] if rest.get("tracking_url") else []
    )
    return {
        "id": gid("Fulfillment", rest["id"]),
        "status": str(rest.get("status") or "success").upper(),
        "trackingInfo": sized_list(
            [
                {
                    "number": number,
                    "company": rest.get("tracking_company"),
                    "url": urls[i] if i < len(urls) else None,
                }
                for i, number in enumerate(numbers)
            ]
        ),
    }


FULFILLMENT_STATUS = {
    None: "UNFULFILLED",
    "partial": "PARTIALLY_FULFILLED",
    "fulfilled": "FULFILLED",
    "restocked": "RESTOCKED",
}


def graphql_order_from_rest(
    rest: dict[str, Any], transactions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The GraphQL Admin Order object for a REST order body (what our queries read).

    REST order bodies carry no transactions (they are a separate REST resource); pass
    the order's REST transactions to have them on the GraphQL order.
    """
    shop = rest["currency"]
    presentment = rest.get("presentment_currency") or shop
    order_id = rest["id"]
    customer = rest.get("customer")
    financial = rest.get("financial_status")
    return {
        "__typename": "Order",
        "id": rest.get("admin_graphql_api_id") or gid("Order", order_id),
        "legacyResourceId": str(order_id),
        "name": rest.get("name") or f"#{rest.get('order_number', order_id)}",
        "email": rest.get("email") or rest.get("contact_email"),
        "phone": rest.get("phone"),
        "note": rest.get("note"),
        "tags": [t.strip() for t in (rest.get("tags") or "").split(",") if t.strip()],
        "createdAt": gql_datetime(rest["created_at"]),
        "updatedAt": gql_datetime(rest["updated_at"]),
        "processedAt": gql_datetime(rest.get("processed_at") or rest["created_at"]),
        "cancelledAt": gql_datetime(rest.get("cancelled_at")),
        "cancelReason": (rest.get("cancel_reason") or "").upper() or None,
        "currencyCode": shop,
        "presentmentCurrencyCode": presentment,
        "displayFinancialStatus": financial.upper() if financial else None,
        "displayFulfillmentStatus": FULFILLMENT_STATUS.get(
            rest.get("fulfillment_status"), "UNFULFILLED"
        ),
        "paymentGatewayNames": list(rest.get("payment_gateway_names") or []),
        "discountCodes": [d["code"] for d in rest.get("discount_codes") or []],
        "subtotalPriceSet": _bag(
            rest.get("subtotal_price_set"),
            rest.get("subtotal_price"),
            shop,
            presentment,
        ),
        "totalPriceSet": _bag(
            rest.get("total_price_set"), rest.get("total_price"), shop, presentment
        ),
        "totalDiscountsSet": _bag(
            rest.get("total_discounts_set"),
            rest.get("total_discounts"),
            shop,
            presentment,
        ),
        "totalShippingPriceSet": _bag(
            rest.get("total_shipping_price_set"), "0", shop, presentment
        ),
        "totalTaxSet": _bag(
            rest.get("total_tax_set"), rest.get("total_tax"), shop, presentment
        ),
        "risk": {"recommendation": "NONE", "assessments": []},
        "customer": (
            {
                "id": gid("Customer", customer["id"]),
                "firstName": customer.get("first_name"),
                "lastName": customer.get("last_name"),
                "phone": customer.get("phone"),
            }
            if isinstance(customer, dict)
            else None
        ),
        "shippingAddress": _address(rest.get("shipping_address"), order_id, "s"),
        "billingAddress": _address(rest.get("billing_address"), order_id, "b"),
        "shippingLines": connection(
            [
                {
                    "id": (gid("ShippingLine", line["id"]) if line.get("id") else None),
                    "title": line.get("title") or "",
                    "code": line.get("code"),
                    "originalPriceSet": _bag(
                        line.get("price_set"), line.get("price"), shop, presentment
                    ),
                    "discountedPriceSet": _bag(
                        line.get("discounted_price_set"),
                        line.get("discounted_price", line.get("price")),
                        shop,
                        presentment,
                    ),
                }
                for line in rest.get("shipping_lines") or []
            ]
        ),
        "lineItems": connection(
            [_line_item(line, shop, presentment) for line in rest["line_items"]]
        ),
        "refunds": sized_list(
            [_refund(refund, shop, presentment) for refund in rest.get("refunds") or []]
        ),
        "transactions": sized_list([_transaction(t) for t in transactions or []]),
        "fulfillmentOrders": connection([_fulfillment_order(rest)]),
        "fulfillments": sized_list(
            [_fulfillment(f) for f in rest.get("fulfillments") or []]
        ),
    }


def rest_order_variant(
    base: dict[str, Any],
    *,
    order_id: int,
    number: int,
    updated_at: datetime,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """A copy of an official order with a new id, number and timestamps (same content)."""
    order = copy.deepcopy(base)
    created = created_at or updated_at - timedelta(minutes=5)
    order["id"] = order_id
    order["admin_graphql_api_id"] = gid("Order", order_id)
    order["order_number"] = number
    order["name"] = f"#{number}"
    order["created_at"] = created.isoformat()
    order["processed_at"] = created.isoformat()
    order["updated_at"] = updated_at.isoformat()
    # One buyer per copy, as in a real store (the same buyer 200 times is a fraud
    # pattern the review rules rightly look at).
    email = f"buyer{order_id}@example.com"
    order["email"] = order["contact_email"] = email
    if isinstance(order.get("customer"), dict):
        order["customer"]["id"] = order_id
        order["customer"]["email"] = email
        order["customer"]["phone"] = None
    order["phone"] = None
    for key in ("shipping_address", "billing_address"):
        if isinstance(order.get(key), dict):
            order[key]["phone"] = None
            order[key]["address1"] = f"{order_id % 9000 + 1} Chestnut Street"
    for index, line in enumerate(order.get("line_items") or []):
        # Line ids are unique store-wide in Shopify.
        line["id"] = order_id * 100 + index
        line["admin_graphql_api_id"] = gid("LineItem", line["id"])
    line_ids = {
        old["id"]: new["id"]
        for old, new in zip(
            base.get("line_items") or [], order["line_items"], strict=True
        )
    }
    for r_index, refund in enumerate(order.get("refunds") or []):
        refund["id"] = order_id * 100 + 50 + r_index
        refund["order_id"] = order_id
        for item in refund.get("refund_line_items") or []:
            item["line_item_id"] = line_ids.get(
                item["line_item_id"], item["line_item_id"]
            )
            if isinstance(item.get("line_item"), dict):
                item["line_item"]["id"] = item["line_item_id"]
    order["fulfillments"] = []
    return order


def rest_transactions_variant(
    base: list[dict[str, Any]], *, order_id: int
) -> list[dict[str, Any]]:
    """The official transactions, renumbered for a copied order."""
    ids = {t["id"]: order_id * 100 + 80 + i for i, t in enumerate(base)}
    result = []
    for transaction in copy.deepcopy(base):
        transaction["order_id"] = order_id
        transaction["parent_id"] = ids.get(transaction.get("parent_id"))
        transaction["id"] = ids[transaction["id"]]
        result.append(transaction)
    return result
