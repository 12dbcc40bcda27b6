"""Shopify orders (webhook REST bodies and GraphQL objects) → canonical orders."""

import copy
import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.exceptions import PayloadError
from connectors.shopify import queries
from connectors.shopify.client import ShopifyClient
from connectors.shopify.mappers import (
    canonical_order_from_graphql,
    canonical_order_from_rest,
)
from connectors.shopify.payloads import (
    money,
    parse_inventory_level,
    parse_order_reference,
)
from connectors.shopify.tests.conftest import load_fixture
from orders.canonical import (
    CanonicalAddress,
    CanonicalCustomer,
    CanonicalLine,
    CanonicalRefund,
    CanonicalShippingLine,
    RiskLevel,
    TransactionKind,
)
from orders.choices import FinancialStatus, FulfillmentStatus

ORDER_VARIABLES = {
    "lines": queries.ORDER_LINES_FIRST,
    "shippingLines": queries.ORDER_SHIPPING_LINES_FIRST,
    "refunds": queries.ORDER_REFUNDS_FIRST,
    "refundLines": queries.REFUND_LINES_FIRST,
    "transactions": queries.ORDER_TRANSACTIONS_FIRST,
}


def _graphql_order(store, order_id: str) -> dict:
    client = ShopifyClient(shop_url=store.url, access_token=store.access_token)
    data = client.execute(
        queries.ORDER_GET,
        {"id": f"gid://shopify/Order/{order_id}", **ORDER_VARIABLES},
    )
    return data["order"]


def test_official_order_webhook_maps_every_field(official_order):
    order = canonical_order_from_rest(official_order)

    assert (order.external_id, order.number, order.email) == (
        "450789469",
        "#1001",
        "bob.norman@mail.example.com",
    )
    assert (order.currency, order.presentment_currency) == ("USD", "USD")
    assert order.placed_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert order.store_updated_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert (
        order.subtotal,
        order.discount_total,
        order.shipping_total,
        order.tax_total,
        order.total,
    ) == (
        Decimal("597.00"),
        Decimal("10.00"),
        Decimal("0.00"),
        Decimal("11.94"),
        Decimal("598.94"),
    )
    assert order.financial_status == FinancialStatus.PARTIALLY_REFUNDED
    assert order.fulfillment_status == FulfillmentStatus.UNFULFILLED
    assert order.cancelled_at is None
    # REST order bodies carry no fraud analysis
    assert order.risk_level == RiskLevel.UNKNOWN
    assert order.lines == (
        CanonicalLine(
            external_id="466157049",
            sku="IPOD2008GREEN",
            title="IPod Nano - 8gb",
            variant_title="green",
            quantity=1,
            unit_price=Decimal("199.00"),
            discount_total=Decimal("3.34"),
            tax_total=Decimal("3.98"),
            requires_shipping=True,
        ),
        CanonicalLine(
            external_id="518995019",
            sku="IPOD2008RED",
            title="IPod Nano - 8gb",
            variant_title="red",
            quantity=1,
            unit_price=Decimal("199.00"),
            discount_total=Decimal("3.33"),
            tax_total=Decimal("3.98"),
        ),
        CanonicalLine(
            external_id="703073504",
            sku="IPOD2008BLACK",
            title="IPod Nano - 8gb",
            variant_title="black",
            quantity=1,
            unit_price=Decimal("199.00"),
            discount_total=Decimal("3.33"),
            tax_total=Decimal("3.98"),
        ),
    )
    assert order.shipping_lines == (
        CanonicalShippingLine(
            title="Free Shipping", price=Decimal("0.00"), code="Free Shipping"
        ),
    )
    assert order.refunds == (
        CanonicalRefund(
            external_id="509562969",
            amount=Decimal("209.00"),
            created_at=datetime(2025, 4, 2, 16, 29, 59, tzinfo=UTC),
            note="it broke during shipping",
            lines=(("703073504", 1, True), ("466157049", 1, True)),
        ),
    )
    assert order.customer == CanonicalCustomer(
        external_id="207119551",
        email="bob.norman@mail.example.com",
        phone="+16136120707",
        first_name="Bob",
        last_name="Norman",
    )
    assert order.shipping_address == CanonicalAddress(
        name="Bob Norman",
        line1="Chestnut Street 92",
        city="Louisville",
        province="Kentucky",
        province_code="KY",
        postal_code="40202",
        country_code="US",
        phone="+1(502)-459-2181",
    )
    assert order.billing_address == order.shipping_address
    assert order.payment_gateways == ("bogus",)
    assert order.tags == ()


def test_cancelled_official_order_carries_when_and_why():
    order = canonical_order_from_rest(
        load_fixture("rest/order_cancel.response.json")["order"]
    )
    assert order.cancelled_at == datetime(2025, 4, 2, 16, 31, 25, tzinfo=UTC)
    assert order.cancel_reason == "other"
    assert order.is_cancelled is True


def test_older_official_sample_maps_too():
    order = canonical_order_from_rest(load_fixture("python_api/order.json")["order"])
    assert (order.external_id, order.total, order.financial_status) == (
        "450789469",
        Decimal("409.94"),
        FinancialStatus.AUTHORIZED,
    )
    assert [line.sku for line in order.lines] == [
        "IPOD2008GREEN",
        "IPOD2008RED",
        "IPOD2008BLACK",
    ]


def test_order_body_without_its_lines_is_refused_not_read_as_empty():
    # the python_api orders.json sample is such a trimmed body
    trimmed = load_fixture("python_api/orders.json")["orders"][0]
    with pytest.raises(PayloadError, match="line_items: is missing"):
        canonical_order_from_rest(trimmed)


def test_webhook_and_api_give_the_same_canonical_order(fake_store, official_order):
    # given: the official order in the store, read back through GraphQL
    fake_store.add_rest_order(official_order)

    # when
    from_api = canonical_order_from_graphql(_graphql_order(fake_store, "450789469"))
    from_webhook = canonical_order_from_rest(official_order)

    # then: a webhook replayed after a poll (or the other way round) changes nothing
    assert from_api == from_webhook


def test_api_order_carries_its_payment_transactions_for_finance(fake_store):
    # given: the official order with its official transactions
    fake_store.seed_official_orders()

    # when
    order = canonical_order_from_graphql(_graphql_order(fake_store, "450789469"))

    # then
    assert [
        (t.external_id, t.kind, t.amount, t.parent_external_id, t.succeeded)
        for t in order.transactions
    ] == [
        ("179259969", TransactionKind.REFUND, Decimal("209.00"), "801038806", True),
        ("389404469", TransactionKind.AUTHORIZATION, Decimal("598.94"), "", True),
        ("801038806", TransactionKind.CAPTURE, Decimal("250.94"), "389404469", True),
    ]
    capture = order.transactions[2]
    assert (capture.gateway, capture.currency, capture.gateway_reference) == (
        "bogus",
        "USD",
        "authorization-key",
    )
    assert capture.processed_at == datetime(2005, 8, 5, 14, 22, 51, tzinfo=UTC)
    assert capture.fee is None


def test_api_order_carries_shopifys_fraud_verdict(fake_store, official_order):
    fake_store.add_rest_order(official_order)
    fake_store.set_risk("450789469", level="HIGH", recommendation="CANCEL")

    order = canonical_order_from_graphql(_graphql_order(fake_store, "450789469"))

    assert order.risk_level == RiskLevel.HIGH


@pytest.mark.parametrize(
    ("assessments", "recommendation", "level"),
    [
        (["LOW", "MEDIUM"], "INVESTIGATE", RiskLevel.MEDIUM),
        (["NONE"], "ACCEPT", RiskLevel.LOW),
        ([], "INVESTIGATE", RiskLevel.MEDIUM),
        (["PENDING"], "NONE", RiskLevel.UNKNOWN),
        ([], "NONE", RiskLevel.UNKNOWN),
    ],
)
def test_risk_levels(official_order, fake_store, assessments, recommendation, level):
    fake_store.add_rest_order(official_order)
    node = _graphql_order(fake_store, "450789469")
    node["risk"] = {
        "recommendation": recommendation,
        "assessments": [{"riskLevel": a} for a in assessments],
    }
    assert canonical_order_from_graphql(node).risk_level == level


def test_shop_money_is_kept_when_the_customer_paid_in_another_currency(
    official_order, fake_store
):
    # given: a customer who saw euros in a dollar store
    order = copy.deepcopy(official_order)
    order["presentment_currency"] = "EUR"
    for key in ("total_price_set", "subtotal_price_set", "total_tax_set"):
        order[key]["presentment_money"] = {
            "amount": str(Decimal(order[key]["shop_money"]["amount"]) * Decimal("0.9")),
            "currency_code": "EUR",
        }
    fake_store.add_rest_order(order)

    # when
    from_webhook = canonical_order_from_rest(order)
    from_api = canonical_order_from_graphql(_graphql_order(fake_store, "450789469"))

    # then
    assert (from_webhook.currency, from_webhook.presentment_currency) == ("USD", "EUR")
    assert from_webhook.total == Decimal("598.94")
    # A REST refund has no money set for its total, so only the API says what the
    # customer got back in euros; everything else is the same.
    assert [r.presentment_amount for r in from_webhook.refunds] == [None]
    assert from_api.refunds[0].presentment_amount is not None
    assert (
        dataclasses.replace(
            from_api,
            refunds=tuple(
                dataclasses.replace(r, presentment_amount=None)
                for r in from_api.refunds
            ),
        )
        == from_webhook
    )


@pytest.mark.parametrize(
    ("shopify", "ours"),
    [
        ("pending", FinancialStatus.PENDING),
        ("authorized", FinancialStatus.AUTHORIZED),
        ("partially_paid", FinancialStatus.PARTIALLY_PAID),
        ("paid", FinancialStatus.PAID),
        ("partially_refunded", FinancialStatus.PARTIALLY_REFUNDED),
        ("refunded", FinancialStatus.REFUNDED),
        ("voided", FinancialStatus.VOIDED),
        ("expired", FinancialStatus.VOIDED),
        (None, FinancialStatus.UNKNOWN),
    ],
)
def test_financial_statuses(official_order, fake_store, shopify, ours):
    order = dict(official_order, financial_status=shopify)
    fake_store.add_rest_order(order)

    assert canonical_order_from_rest(order).financial_status == ours
    node = _graphql_order(fake_store, "450789469")
    assert canonical_order_from_graphql(node).financial_status == ours


@pytest.mark.parametrize(
    ("rest", "graphql", "ours"),
    [
        (None, "UNFULFILLED", FulfillmentStatus.UNFULFILLED),
        ("partial", "PARTIALLY_FULFILLED", FulfillmentStatus.PARTIAL),
        ("fulfilled", "FULFILLED", FulfillmentStatus.FULFILLED),
        ("restocked", "RESTOCKED", FulfillmentStatus.UNFULFILLED),
        (None, "ON_HOLD", FulfillmentStatus.UNFULFILLED),
        (None, "IN_PROGRESS", FulfillmentStatus.UNFULFILLED),
    ],
)
def test_fulfillment_statuses(official_order, fake_store, rest, graphql, ours):
    order = dict(official_order, fulfillment_status=rest)
    fake_store.add_rest_order(order)
    node = _graphql_order(fake_store, "450789469")
    node["displayFulfillmentStatus"] = graphql

    assert canonical_order_from_rest(order).fulfillment_status == ours
    assert canonical_order_from_graphql(node).fulfillment_status == ours


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"id": None}, "id: is missing"),
        ({"id": "abc"}, "id: expected a numeric id"),
        ({"currency": None}, "currency: is missing"),
        ({"updated_at": "yesterday"}, "updated_at: expected an ISO 8601 date-time"),
        ({"updated_at": "2026-01-01T10:00:00"}, "updated_at: date-time"),
        ({"line_items": {"not": "a list"}}, "line_items: expected a list"),
        ({"line_items": ["nope"]}, "line_items[0]: expected an object"),
        (
            {"total_price_set": None, "total_price": 1.5},
            "total_price: expected an exact",
        ),
        ({"tags": ["a"]}, "tags: expected comma-separated text"),
    ],
)
def test_malformed_webhook_says_where(official_order, change, path):
    order = dict(official_order, **change)
    with pytest.raises(PayloadError) as error:
        canonical_order_from_rest(order)
    assert path in error.value.message


def test_malformed_line_quantity_names_the_line(official_order):
    order = copy.deepcopy(official_order)
    order["line_items"][2]["quantity"] = "three"
    with pytest.raises(
        PayloadError, match=r"line_items\[2\]\.quantity: expected an integer"
    ):
        canonical_order_from_rest(order)


def test_payload_that_is_not_an_object_is_refused():
    with pytest.raises(PayloadError, match=r"\$: expected an object, got list"):
        canonical_order_from_rest([1, 2])


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("199.00", "199.00"),
        ("199.0", "199.00"),
        (199, "199.00"),
        ("0", "0.00"),
        ("1.234", "1.234"),
        ("1.500", "1.50"),
        (Decimal("1E+2"), "100.00"),
    ],
)
def test_amounts_have_one_canonical_form(raw, amount):
    assert str(money(raw)) == amount


@pytest.mark.parametrize("raw", [1.5, "abc", "NaN", True])
def test_amounts_that_are_not_exact_are_refused(raw):
    with pytest.raises(PayloadError):
        money(raw)


def test_refund_and_fulfillment_webhooks_name_their_order():
    refund = load_fixture("rest/refund_create_restock_return.response.json")["refund"]
    fulfillment = load_fixture("rest/fulfillment_get.response.json")["fulfillment"]

    assert parse_order_reference(refund).order_id == "450789469"
    assert parse_order_reference(fulfillment).order_id == "450789469"
    assert (
        parse_order_reference(
            {"order_edit": {"id": 1, "order_id": 450789469}}, key="order_edit"
        ).order_id
        == "450789469"
    )


def test_inventory_level_webhook():
    level = parse_inventory_level(
        load_fixture("rest/inventory_level_set.response.json")["inventory_level"]
    )
    assert (level.inventory_item_id, level.location_id, level.available) == (
        "808950810",
        "655441491",
        42,
    )
    assert level.updated_at is not None
