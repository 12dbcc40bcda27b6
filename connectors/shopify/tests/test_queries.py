"""Every document we send is valid against the official 2025-01 schema and affordable."""

import pytest
from graphql import parse

from connectors.shopify import queries
from connectors.shopify.testing.cost import requested_cost
from connectors.shopify.testing.fake_server import MAX_QUERY_COST
from connectors.shopify.testing.schema import admin_schema, document_errors

# The variables each document is sent with by the connector, at their largest.
WORST_CASE_VARIABLES = {
    "ORDERS_PAGE": {
        "first": queries.ORDERS_PAGE_SIZE,
        "lines": queries.ORDER_LINES_FIRST,
        "shippingLines": queries.ORDER_SHIPPING_LINES_FIRST,
        "refunds": queries.ORDER_REFUNDS_FIRST,
        "refundLines": queries.REFUND_LINES_FIRST,
        "transactions": queries.ORDER_TRANSACTIONS_FIRST,
        "sortKey": "UPDATED_AT",
    },
    "ORDER_GET": {
        "id": "gid://shopify/Order/1",
        "lines": queries.ORDER_LINES_FIRST,
        "shippingLines": queries.ORDER_SHIPPING_LINES_FIRST,
        "refunds": queries.ORDER_REFUNDS_FIRST,
        "refundLines": queries.REFUND_LINES_FIRST,
        "transactions": queries.ORDER_TRANSACTIONS_FIRST,
    },
    "ORDER_LINES_PAGE": {"id": "x", "first": queries.LINES_PAGE_SIZE},
    "ORDER_SHIPPING_LINES_PAGE": {"id": "x", "first": queries.LINES_PAGE_SIZE},
    "ORDER_TRANSACTIONS": {"id": "x", "first": queries.TRANSACTIONS_PAGE_SIZE},
    "ORDER_REFUND_IDS": {"id": "x"},
    "REFUND_GET": {"id": "x", "refundLines": queries.REFUND_LINES_PAGE_SIZE},
    "REFUND_LINES_PAGE": {"id": "x", "first": queries.REFUND_LINES_PAGE_SIZE},
    "INVENTORY_LEVELS": {
        "ids": ["gid://shopify/InventoryItem/1"] * queries.INVENTORY_BATCH_SIZE,
        "locationId": "gid://shopify/Location/1",
    },
    "INVENTORY_SET_QUANTITIES": {},
    "ORDER_CANCEL": {},
    "ORDER_FULFILLMENT_ORDERS": {"id": "x"},
    "FULFILLMENT_CREATE": {},
    "FULFILLMENT_TRACKING_UPDATE": {},
    "FULFILLMENT_EVENT_CREATE": {},
    "WEBHOOK_SUBSCRIPTIONS": {"callbackUrl": "https://erp.example/webhooks/"},
    "WEBHOOK_SUBSCRIPTION_CREATE": {},
    "SHOP": {},
}


def test_every_document_is_listed():
    documents = {
        name
        for name, value in vars(queries).items()
        if isinstance(value, str)
        and name.isupper()
        and value.lstrip().startswith(("query", "mutation"))
    }
    assert documents == set(queries.ALL_DOCUMENTS)
    assert set(WORST_CASE_VARIABLES) == set(queries.ALL_DOCUMENTS)


@pytest.mark.parametrize("name", sorted(queries.ALL_DOCUMENTS))
def test_document_is_valid_against_the_official_schema(name):
    _document, errors = document_errors(queries.ALL_DOCUMENTS[name])
    assert errors == []


@pytest.mark.parametrize("name", sorted(queries.ALL_DOCUMENTS))
def test_document_stays_under_the_single_query_cost_limit(name):
    cost = requested_cost(
        admin_schema(),
        parse(queries.ALL_DOCUMENTS[name]),
        variables=WORST_CASE_VARIABLES[name],
    )
    assert 0 < cost <= MAX_QUERY_COST


def test_schema_check_catches_a_field_that_does_not_exist():
    _document, errors = document_errors("query { shop { notAField } }")
    assert len(errors) == 1
    assert errors[0].message.startswith(
        "Cannot query field 'notAField' on type 'Shop'."
    )
