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
    "BULK_OPERATION_RUN_QUERY": {"query": "{ orders { edges { node { id } } } }"},
    "BULK_OPERATION_GET": {"id": "gid://shopify/BulkOperation/1"},
    "CURRENT_BULK_OPERATION": {},
    "ORDERS_COUNT": {"query": "created_at:>='2026-01-01T00:00:00Z'"},
    "REFUNDS_LINES": {
        "ids": ["gid://shopify/Refund/1"] * queries.REFUNDS_LINES_BATCH,
        "first": queries.REFUNDS_LINES_FIRST,
    },
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


def test_bulk_orders_query_is_valid_and_keeps_shopifys_bulk_rules():
    from connectors.shopify.testing.bulk import bulk_query_errors

    query = queries.bulk_orders_query(
        "created_at:>='2026-01-01T00:00:00Z' created_at:<='2026-01-31T23:59:59Z'"
    )

    assert document_errors(query)[1] == []
    assert bulk_query_errors(query) == []


def test_bulk_rules_refuse_a_connection_inside_a_list_and_too_many_connections():
    from connectors.shopify.testing.bulk import bulk_query_errors

    inside_list = (
        "{ orders { edges { node { id refunds { refundLineItems "
        "{ edges { node { quantity } } } } } } } }"
    )
    top_level_node = '{ node(id: "gid://shopify/Order/1") { id } }'

    assert bulk_query_errors(inside_list) == [
        "Queries that contain a connection field within a list field are not "
        "currently supported."
    ]
    assert bulk_query_errors(top_level_node)[0] == (
        "Bulk queries cannot contain a top level `node` or `nodes` field."
    )
