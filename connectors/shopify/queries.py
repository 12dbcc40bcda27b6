"""Every GraphQL document we send to Shopify (Admin API 2025-01).

Each one is validated in the tests against the official 2025-01 schema, deprecated
fields included (connectors/shopify/tests/test_queries.py), so a field Shopify retires
fails our build before it fails a store.

Page sizes keep each document's requested cost under Shopify's single-query limit
(1000 points): a page of orders carries a few lines, refunds and shipping lines each;
an order with more is completed with the per-order documents below.
"""

from __future__ import annotations

import json

ORDERS_PAGE_SIZE = 5
ORDER_LINES_FIRST = 5
ORDER_SHIPPING_LINES_FIRST = 2
ORDER_REFUNDS_FIRST = 2
REFUND_LINES_FIRST = 5
ORDER_TRANSACTIONS_FIRST = 4
TRANSACTIONS_PAGE_SIZE = 100
LINES_PAGE_SIZE = 50
REFUND_LINES_PAGE_SIZE = 100
INVENTORY_BATCH_SIZE = 250

MONEY_BAG = """
fragment MoneyBagFields on MoneyBag {
  shopMoney { amount currencyCode }
  presentmentMoney { amount currencyCode }
}
"""

# Lines and shipping lines carry shop money only: the order keeps presentment totals,
# and each MoneyBag would cost another point per line. Transactions and refunds carry
# both, since finance reconciles payouts in whichever currency they settle.
SHOP_MONEY = """
fragment ShopMoneyFields on MoneyBag {
  shopMoney { amount currencyCode }
}
"""

ADDRESS = """
fragment AddressFields on MailingAddress {
  name firstName lastName company address1 address2 city province provinceCode
  zip countryCodeV2 phone
}
"""

LINE_ITEM = """
fragment LineItemFields on LineItem {
  id sku name title variantTitle quantity requiresShipping
  variant { id }
  originalUnitPriceSet { ...ShopMoneyFields }
  discountAllocations { allocatedAmountSet { ...ShopMoneyFields } }
  taxLines(first: 3) { priceSet { ...ShopMoneyFields } }
}
"""

SHIPPING_LINE = """
fragment ShippingLineFields on ShippingLine {
  title code
  originalPriceSet { ...ShopMoneyFields }
  discountedPriceSet { ...ShopMoneyFields }
}
"""

REFUND = """
fragment RefundFields on Refund {
  id createdAt note
  totalRefundedSet { ...MoneyBagFields }
  refundLineItems(first: $refundLines) {
    pageInfo { hasNextPage endCursor }
    nodes { quantity restockType lineItem { id } }
  }
}
"""

TRANSACTION = """
fragment TransactionFields on OrderTransaction {
  id kind status gateway processedAt createdAt authorizationCode
  amountSet { ...MoneyBagFields }
  fees { amount { amount currencyCode } }
  parentTransaction { id }
}
"""

ORDER = """
fragment OrderFields on Order {
  id legacyResourceId name email phone note tags
  createdAt updatedAt processedAt cancelledAt cancelReason
  currencyCode presentmentCurrencyCode
  displayFinancialStatus displayFulfillmentStatus
  paymentGatewayNames discountCodes
  subtotalPriceSet { ...MoneyBagFields }
  totalPriceSet { ...MoneyBagFields }
  totalDiscountsSet { ...MoneyBagFields }
  totalShippingPriceSet { ...MoneyBagFields }
  totalTaxSet { ...MoneyBagFields }
  risk { recommendation assessments { riskLevel } }
  customer { id firstName lastName phone }
  shippingAddress { ...AddressFields }
  billingAddress { ...AddressFields }
  shippingLines(first: $shippingLines) {
    pageInfo { hasNextPage endCursor }
    nodes { ...ShippingLineFields }
  }
  lineItems(first: $lines) {
    pageInfo { hasNextPage endCursor }
    nodes { ...LineItemFields }
  }
  refunds(first: $refunds) { ...RefundFields }
  transactions(first: $transactions) { ...TransactionFields }
}
"""

_ORDER_FRAGMENTS = (
    ORDER
    + LINE_ITEM
    + SHIPPING_LINE
    + REFUND
    + TRANSACTION
    + ADDRESS
    + MONEY_BAG
    + SHOP_MONEY
)

ORDERS_PAGE = (
    """
query OrdersPage(
  $first: Int!, $after: String, $query: String, $sortKey: OrderSortKeys!,
  $lines: Int!, $shippingLines: Int!, $refunds: Int!, $refundLines: Int!,
  $transactions: Int!
) {
  orders(first: $first, after: $after, query: $query, sortKey: $sortKey) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OrderFields }
  }
}
"""
    + _ORDER_FRAGMENTS
)

ORDER_GET = (
    """
query OrderGet(
  $id: ID!, $lines: Int!, $shippingLines: Int!, $refunds: Int!, $refundLines: Int!,
  $transactions: Int!
) {
  order(id: $id) { ...OrderFields }
}
"""
    + _ORDER_FRAGMENTS
)

ORDER_LINES_PAGE = (
    """
query OrderLinesPage($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...LineItemFields }
    }
  }
}
"""
    + LINE_ITEM
    + SHOP_MONEY
)

ORDER_SHIPPING_LINES_PAGE = (
    """
query OrderShippingLinesPage($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    shippingLines(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...ShippingLineFields }
    }
  }
}
"""
    + SHIPPING_LINE
    + SHOP_MONEY
)

ORDER_TRANSACTIONS = (
    """
query OrderTransactions($id: ID!, $first: Int!) {
  order(id: $id) { transactions(first: $first) { ...TransactionFields } }
}
"""
    + TRANSACTION
    + MONEY_BAG
)

ORDER_REFUND_IDS = """
query OrderRefundIds($id: ID!) {
  order(id: $id) { refunds(first: 250) { id } }
}
"""

REFUND_GET = (
    """
query RefundGet($id: ID!, $refundLines: Int!) {
  refund(id: $id) { ...RefundFields }
}
"""
    + REFUND
    + MONEY_BAG
)

REFUND_LINES_PAGE = """
query RefundLinesPage($id: ID!, $first: Int!, $after: String) {
  refund(id: $id) {
    refundLineItems(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { quantity restockType lineItem { id } }
    }
  }
}
"""

INVENTORY_LEVELS = """
query InventoryLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) {
        quantities(names: ["available"]) { name quantity }
      }
    }
  }
}
"""

INVENTORY_SET_QUANTITIES = """
mutation InventorySetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri }
    userErrors { code field message }
  }
}
"""

ORDER_CANCEL = """
mutation OrderCancel(
  $orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!,
  $notifyCustomer: Boolean, $staffNote: String
) {
  orderCancel(
    orderId: $orderId, reason: $reason, refund: $refund, restock: $restock,
    notifyCustomer: $notifyCustomer, staffNote: $staffNote
  ) {
    job { id done }
    orderCancelUserErrors { code field message }
  }
}
"""

ORDER_FULFILLMENT_ORDERS = """
query OrderFulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 10) {
      nodes {
        id status
        lineItems(first: 30) {
          pageInfo { hasNextPage }
          nodes { id remainingQuantity lineItem { id } }
        }
      }
    }
    fulfillments(first: 30) { id status trackingInfo(first: 3) { number company url } }
  }
}
"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo(first: 5) { number company url } }
    userErrors { field message }
  }
}
"""

FULFILLMENT_TRACKING_UPDATE = """
mutation FulfillmentTrackingUpdate(
  $fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!,
  $notifyCustomer: Boolean
) {
  fulfillmentTrackingInfoUpdate(
    fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput,
    notifyCustomer: $notifyCustomer
  ) {
    fulfillment { id trackingInfo(first: 5) { number company url } }
    userErrors { field message }
  }
}
"""

FULFILLMENT_EVENT_CREATE = """
mutation FulfillmentEventCreate($fulfillmentEvent: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $fulfillmentEvent) {
    fulfillmentEvent { id status }
    userErrors { field message }
  }
}
"""

WEBHOOK_SUBSCRIPTIONS = """
query WebhookSubscriptions($callbackUrl: URL!, $after: String) {
  webhookSubscriptions(first: 100, after: $after, callbackUrl: $callbackUrl) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id topic format
      endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } }
    }
  }
}
"""

WEBHOOK_SUBSCRIPTION_CREATE = """
mutation WebhookSubscriptionCreate(
  $topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!
) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""

SHOP = """
query Shop {
  shop { id name myshopifyDomain currencyCode }
}
"""

# --- bulk operations (backfill of large histories) ---------------------------------------
#
# A bulk query runs in Shopify's background and is read back as JSONL, one object a line:
# no `first`, no cost per page. Shopify refuses a connection inside a list field (an
# order's refunds are a list, their refundLineItems a connection), so refunds come
# without their lines and REFUNDS_LINES completes them in batches afterwards.

REFUNDS_LINES_BATCH = 25
REFUNDS_LINES_FIRST = 10


def _body(fragment: str) -> str:
    return fragment[fragment.index("{") + 1 : fragment.rindex("}")].strip()


def _inline(selection: str) -> str:
    """A selection with our fragment spreads written out (a bulk query stands alone)."""
    for name, fragment in (
        ("MoneyBagFields", MONEY_BAG),
        ("ShopMoneyFields", SHOP_MONEY),
        ("AddressFields", ADDRESS),
    ):
        selection = selection.replace(f"...{name}", _body(fragment))
    return selection


def _graphql_string(value: str) -> str:
    """A GraphQL string literal (JSON's escaping is GraphQL's)."""
    return json.dumps(value)


def bulk_orders_query(search: str) -> str:
    """The bulk query of every order matching `search`, oldest created first.

    Each order carries what ORDER_FIELDS carries: lines and shipping lines come as
    their own JSONL rows (with __parentId), refunds without their lines.
    """
    line = _inline(_body(LINE_ITEM))
    shipping = _inline(_body(SHIPPING_LINE))
    transaction = _inline(_body(TRANSACTION))
    order = _inline(
        """
  id legacyResourceId name email phone note tags
  createdAt updatedAt processedAt cancelledAt cancelReason
  currencyCode presentmentCurrencyCode
  displayFinancialStatus displayFulfillmentStatus
  paymentGatewayNames discountCodes
  subtotalPriceSet { ...MoneyBagFields }
  totalPriceSet { ...MoneyBagFields }
  totalDiscountsSet { ...MoneyBagFields }
  totalShippingPriceSet { ...MoneyBagFields }
  totalTaxSet { ...MoneyBagFields }
  risk { recommendation assessments { riskLevel } }
  customer { id firstName lastName phone }
  shippingAddress { ...AddressFields }
  billingAddress { ...AddressFields }
  refunds { id createdAt note totalRefundedSet { ...ShopMoneyFields } }
"""
    )
    return (
        "{\n"
        f"  orders(query: {_graphql_string(search)}, sortKey: CREATED_AT) {{\n"
        "    edges { node {\n"
        f"{order}\n"
        f"      transactions {{ {transaction} }}\n"
        f"      lineItems {{ edges {{ node {{ {line} }} }} }}\n"
        f"      shippingLines {{ edges {{ node {{ id {shipping} }} }} }}\n"
        "    } }\n"
        "  }\n"
        "}\n"
    )


BULK_OPERATION_RUN_QUERY = """
mutation BulkOperationRunQuery($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { code field message }
  }
}
"""

BULK_OPERATION_FIELDS = """
fragment BulkOperationFields on BulkOperation {
  id status errorCode createdAt completedAt objectCount rootObjectCount fileSize
  url partialDataUrl
}
"""

BULK_OPERATION_GET = (
    """
query BulkOperationGet($id: ID!) {
  node(id: $id) { ...BulkOperationFields }
}
"""
    + BULK_OPERATION_FIELDS
)

CURRENT_BULK_OPERATION = (
    """
query CurrentBulkOperation {
  currentBulkOperation(type: QUERY) { ...BulkOperationFields }
}
"""
    + BULK_OPERATION_FIELDS
)

ORDERS_COUNT = """
query OrdersCount($query: String) {
  ordersCount(query: $query, limit: null) { count precision }
}
"""

REFUNDS_LINES = """
query RefundsLines($ids: [ID!]!, $first: Int!) {
  nodes(ids: $ids) {
    ... on Refund {
      id
      refundLineItems(first: $first) {
        pageInfo { hasNextPage endCursor }
        nodes { quantity restockType lineItem { id } }
      }
    }
  }
}
"""

ALL_DOCUMENTS = {
    "ORDERS_PAGE": ORDERS_PAGE,
    "ORDER_GET": ORDER_GET,
    "ORDER_LINES_PAGE": ORDER_LINES_PAGE,
    "ORDER_SHIPPING_LINES_PAGE": ORDER_SHIPPING_LINES_PAGE,
    "ORDER_TRANSACTIONS": ORDER_TRANSACTIONS,
    "ORDER_REFUND_IDS": ORDER_REFUND_IDS,
    "REFUND_GET": REFUND_GET,
    "REFUND_LINES_PAGE": REFUND_LINES_PAGE,
    "INVENTORY_LEVELS": INVENTORY_LEVELS,
    "INVENTORY_SET_QUANTITIES": INVENTORY_SET_QUANTITIES,
    "ORDER_CANCEL": ORDER_CANCEL,
    "ORDER_FULFILLMENT_ORDERS": ORDER_FULFILLMENT_ORDERS,
    "FULFILLMENT_CREATE": FULFILLMENT_CREATE,
    "FULFILLMENT_TRACKING_UPDATE": FULFILLMENT_TRACKING_UPDATE,
    "FULFILLMENT_EVENT_CREATE": FULFILLMENT_EVENT_CREATE,
    "WEBHOOK_SUBSCRIPTIONS": WEBHOOK_SUBSCRIPTIONS,
    "WEBHOOK_SUBSCRIPTION_CREATE": WEBHOOK_SUBSCRIPTION_CREATE,
    "SHOP": SHOP,
    "BULK_OPERATION_RUN_QUERY": BULK_OPERATION_RUN_QUERY,
    "BULK_OPERATION_GET": BULK_OPERATION_GET,
    "CURRENT_BULK_OPERATION": CURRENT_BULK_OPERATION,
    "ORDERS_COUNT": ORDERS_COUNT,
    "REFUNDS_LINES": REFUNDS_LINES,
}
