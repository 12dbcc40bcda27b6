"""A fake Shopify store: the GraphQL Admin API over real HTTP on 127.0.0.1.

Every document is validated against the official 2025-01 schema (deprecated fields
refused) and executed by graphql-core against that same schema, so an answer has exactly
the shape Shopify would give. Requested cost is charged to a leaky bucket (THROTTLED when
short), and tests can inject 401s, 429s, 5xx answers and hangs. State is seeded from the
official samples in connectors/shopify/tests/fixtures/.

    with FakeShopifyStore() as store:
        store.seed_official_orders()
        client = ShopifyClient(shop_url=store.url, access_token=store.access_token)
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    graphql_sync,
)

from connectors.shopify.testing.bulk import FakeBulkOperations
from connectors.shopify.testing.cost import LeakyBucket, actual_cost, requested_cost
from connectors.shopify.testing.orders import (
    gid,
    graphql_order_from_rest,
    rest_order_variant,
    rest_transactions_variant,
)
from connectors.shopify.testing.payouts import FakePaymentsAccount
from connectors.shopify.testing.schema import (
    SCHEMA_VERSION,
    admin_schema,
    document_errors,
)
from connectors.testing import FakeStoreServer, StoreHTTPServer

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
MAX_QUERY_COST = 1000
INVALID_TOKEN_BODY = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
_SEARCH_TERM = re.compile(r"^(\w+):(>=|<=|>|<)?['\"]?([^'\"]+)['\"]?$")


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def official_order() -> dict[str, Any]:
    """The newest official order sample, unwrapped: what an order webhook carries."""
    return load_fixture("rest/order_get.response.json")["order"]


def official_transactions() -> list[dict[str, Any]]:
    """The official transactions of that order (REST transactions_list)."""
    return load_fixture("rest/transactions_list.response.json")["transactions"]


@dataclass(frozen=True)
class RecordedCall:
    """One request the fake store answered."""

    operation: str | None
    query: str
    variables: dict[str, Any]
    status: int
    requested_cost: int | None = None
    throttled: bool = False
    errors: tuple[str, ...] = ()


@dataclass
class Fault:
    """What the next matching request gets instead of an answer."""

    status: int = 503
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    operation: str | None = None


@dataclass
class FakeOrder:
    """An order in both shapes: the REST body (webhooks) and the GraphQL object (API)."""

    rest: dict[str, Any]
    graphql: dict[str, Any]
    transactions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def updated_at(self) -> datetime:
        return datetime.fromisoformat(self.rest["updated_at"]).astimezone(UTC)

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.rest["created_at"]).astimezone(UTC)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class _Handler(BaseHTTPRequestHandler):
    server: StoreHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return  # tests read store.calls instead of stderr

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        status, body, headers = self.server.store.handle(
            path=self.path, headers=self.headers, raw=raw
        )
        self._send(status, body, headers)

    def do_GET(self) -> None:  # noqa: N802
        answer = self.server.store.bulk.download(self.path, self.headers)
        if answer is None:
            self._send(404, {"errors": "Not Found"}, {})
            return
        status, data, headers = answer
        self._send(status, data, headers)

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        data = (
            body
            if isinstance(body, bytes)
            else json.dumps(body, default=_json_default).encode()
        )
        try:
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left; that is what a hang test wants


class FakeShopifyStore(FakeStoreServer):
    """The fake store: its state, its faults, and the HTTP server in a thread."""

    handler_class = _Handler
    thread_name = "fake-shopify"

    def __init__(
        self,
        *,
        access_token: str = "shpat_fake_store_token",  # noqa: S107 (a test double)
        api_version: str = SCHEMA_VERSION,
        bucket_maximum: float = 1000.0,
        restore_rate: float = 50.0,
        max_query_cost: int = MAX_QUERY_COST,
        shop_name: str = "Fake Store",
        shop_domain: str = "fake-store.myshopify.com",
        currency: str = "USD",
        port: int = 0,
    ) -> None:
        self.access_token = access_token
        self.port = port
        self.api_version = api_version
        self.bucket = LeakyBucket(maximum=bucket_maximum, restore_rate=restore_rate)
        self.max_query_cost = max_query_cost
        self.shop = {
            "id": gid("Shop", 548380009),
            "name": shop_name,
            "myshopifyDomain": shop_domain,
            "currencyCode": currency,
        }
        self.orders: dict[str, FakeOrder] = {}
        self.payments_account = FakePaymentsAccount(currency=currency)
        self.inventory: dict[tuple[str, str], dict[str, int]] = {}
        self.inventory_mutations: list[dict[str, Any]] = []
        self.cancellations: list[dict[str, Any]] = []
        self.fulfillment_events: list[dict[str, Any]] = []
        self.webhook_subscriptions: dict[str, dict[str, Any]] = {}
        self.calls: list[RecordedCall] = []
        self.invalid_documents: list[tuple[str, list[str]]] = []
        self.execution_errors: list[str] = []
        self._faults: deque[Fault] = deque()
        # OAuth: the app's client id → secret, and install codes not yet exchanged.
        self.oauth_apps: dict[str, str] = {}
        self.oauth_codes: set[str] = set()
        self._revoked = False
        self.bulk = FakeBulkOperations(self)
        self._lock = threading.RLock()

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeShopifyStore:
        admin_schema()  # load once before the first request races the clock
        return super().start()

    # --- faults ----------------------------------------------------------------------

    def fail_next(
        self,
        status: int = 503,
        *,
        times: int = 1,
        body: Any = None,
        headers: dict[str, str] | None = None,
        operation: str | None = None,
    ) -> None:
        """Answer the next `times` requests (of `operation`, if given) with `status`."""
        for _ in range(times):
            self._faults.append(
                Fault(
                    status=status,
                    body=body if body is not None else {"errors": f"HTTP {status}"},
                    headers=dict(headers or {}),
                    operation=operation,
                )
            )

    def hang_next(self, seconds: float, *, times: int = 1) -> None:
        """Hold the next requests for `seconds` before answering normally."""
        for _ in range(times):
            self._faults.append(Fault(status=0, delay=seconds))

    def revoke_token(self) -> None:
        """The merchant uninstalled the app: every request answers 401 from now on."""
        self._revoked = True

    def calls_of(self, operation: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.operation == operation]

    # --- state -------------------------------------------------------------------------

    def add_rest_order(
        self,
        rest: dict[str, Any],
        *,
        transactions: list[dict[str, Any]] | None = None,
    ) -> FakeOrder:
        """Add (or replace) an order from a REST body such as an official sample.

        `transactions` (REST shape) default to the ones the order already had.
        """
        with self._lock:
            existing = self.orders.get(str(rest["id"]))
            if transactions is None:
                transactions = existing.transactions if existing else []
            order = FakeOrder(
                rest=copy.deepcopy(rest),
                graphql=graphql_order_from_rest(rest, transactions),
                transactions=copy.deepcopy(transactions),
            )
            self.orders[str(rest["id"])] = order
            return order

    def seed_official_orders(self) -> list[FakeOrder]:
        """The newest official order sample (REST 2026-07 order_get, order 450789469)
        with its official transactions (transactions_list)."""
        return [
            self.add_rest_order(official_order(), transactions=official_transactions())
        ]

    def add_orders_like(
        self,
        base: dict[str, Any],
        *,
        count: int,
        first_id: int = 7_000_000_000,
        first_number: int = 5001,
        updated_from: datetime,
        step_seconds: float = 1.0,
        transactions: list[dict[str, Any]] | None = None,
    ) -> list[FakeOrder]:
        """`count` copies of an official order with new ids and spaced updated_at."""
        orders = []
        for i in range(count):
            rest = rest_order_variant(
                base,
                order_id=first_id + i,
                number=first_number + i,
                updated_at=_after(updated_from, step_seconds * i),
            )
            orders.append(
                self.add_rest_order(
                    rest,
                    transactions=rest_transactions_variant(
                        transactions or [], order_id=first_id + i
                    ),
                )
            )
        return orders

    def change_order(
        self, order_id: int | str, *, updated_at: datetime | None = None, **changes: Any
    ) -> FakeOrder:
        """Change an order as the merchant would; updated_at moves on. Returns it."""
        with self._lock:
            rest = copy.deepcopy(self.orders[str(order_id)].rest)
            rest.update(changes)
            rest["updated_at"] = (updated_at or datetime.now(tz=UTC)).isoformat()
            return self.add_rest_order(rest)

    def set_risk(self, order_id: int | str, *, level: str, recommendation: str) -> None:
        """Shopify's fraud analysis of an order (RiskAssessmentResult, recommendation)."""
        with self._lock:
            self.orders[str(order_id)].graphql["risk"] = {
                "recommendation": recommendation,
                "assessments": [{"riskLevel": level}],
            }

    def set_inventory(
        self, *, inventory_item_id: int | str, location_id: int | str, available: int
    ) -> None:
        """Stock an item at a location (numeric ids or gids)."""
        key = (
            _as_gid("InventoryItem", inventory_item_id),
            _as_gid("Location", location_id),
        )
        with self._lock:
            self.inventory.setdefault(key, {"available": 0, "on_hand": 0})
            self.inventory[key]["available"] = available
            self.inventory[key]["on_hand"] = available

    def available(self, *, inventory_item_id: int | str, location_id: int | str) -> int:
        key = (
            _as_gid("InventoryItem", inventory_item_id),
            _as_gid("Location", location_id),
        )
        return self.inventory[key]["available"]

    # --- HTTP ----------------------------------------------------------------------------

    def handle(
        self, *, path: str, headers: Any, raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        """Answer one POST; returns (status, body, headers)."""
        if path.split("?")[0] == "/admin/oauth/access_token":
            return self._oauth_token(raw)
        if path.split("?")[0] != f"/admin/api/{self.api_version}/graphql.json":
            return 404, {"errors": "Not Found"}, {}
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"errors": "Bad Request: body is not JSON"}, {}
        query = str(request.get("query") or "")
        variables = request.get("variables") or {}
        operation = request.get("operationName") or _operation_name(query)

        fault = self._take_fault(operation)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
            fault = None
        if fault is not None:
            self._record(operation, query, variables, fault.status)
            return fault.status, fault.body, fault.headers
        if self._revoked or headers.get("X-Shopify-Access-Token") != self.access_token:
            self._record(operation, query, variables, 401)
            return 401, INVALID_TOKEN_BODY, {}

        document, errors = document_errors(query)
        if errors or document is None:
            messages = [e.message for e in errors]
            with self._lock:
                self.invalid_documents.append((query, messages))
            self._record(operation, query, variables, 200, errors=messages)
            return 200, {"errors": [e.formatted for e in errors]}, {}

        cost = requested_cost(
            admin_schema(), document, variables=variables, operation_name=operation
        )
        if cost > self.max_query_cost:
            message = (
                f"Query cost is {cost}, which exceeds the single query max cost limit "
                f"({self.max_query_cost})."
            )
            self._record(operation, query, variables, 200, cost, errors=[message])
            return (
                200,
                {
                    "errors": [
                        {
                            "message": message,
                            "extensions": {"code": "MAX_COST_EXCEEDED"},
                        }
                    ]
                },
                {},
            )
        if not self.bucket.take(cost):
            self._record(operation, query, variables, 200, cost, throttled=True)
            return (
                200,
                {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": {
                        "cost": {
                            "requestedQueryCost": cost,
                            "actualQueryCost": None,
                            "throttleStatus": self.bucket.status(),
                        }
                    },
                },
                {},
            )

        with self._lock:
            result = graphql_sync(
                admin_schema(),
                query,
                root_value=self._root(),
                variable_values=variables,
                operation_name=operation,
            )
        body: dict[str, Any] = {"data": result.data}
        messages = []
        if result.errors:
            messages = [e.message for e in result.errors]
            with self._lock:
                self.execution_errors.extend(messages)
            body["errors"] = [e.formatted for e in result.errors]
        # Mutations cost their flat price; queries are refunded what they did not use.
        actual = (
            cost
            if _is_mutation(document, operation)
            else min(actual_cost(result.data), cost)
        )
        self.bucket.refund(cost - actual)
        body["extensions"] = {
            "cost": {
                "requestedQueryCost": cost,
                "actualQueryCost": actual,
                "throttleStatus": self.bucket.status(),
            }
        }
        self._record(operation, query, variables, 200, cost, errors=messages)
        return 200, body, {}

    def oauth_install_code(self, *, client_id: str, client_secret: str) -> str:
        """A merchant approved the app: the code Shopify puts in the callback."""
        code = uuid.uuid4().hex
        with self._lock:
            self.oauth_apps[client_id] = client_secret
            self.oauth_codes.add(code)
        return code

    def _oauth_token(self, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"error": "invalid_request"}, {}
        with self._lock:
            app_secret = self.oauth_apps.get(str(request.get("client_id")))
            code = str(request.get("code"))
            if app_secret is None or app_secret != request.get("client_secret"):
                return 400, {"error": "invalid_client"}, {}
            if code not in self.oauth_codes:
                return (
                    400,
                    {"error": "invalid_request", "error_description": "code"},
                    {},
                )
            self.oauth_codes.discard(code)  # a code works once
            self.access_token = f"shpat_{uuid.uuid4().hex}"
            self._revoked = False
        return (
            200,
            {"access_token": self.access_token, "scope": "read_orders,write_orders"},
            {},
        )

    def _take_fault(self, operation: str | None) -> Fault | None:
        with self._lock:
            for fault in list(self._faults):
                if fault.operation is None or fault.operation == operation:
                    self._faults.remove(fault)
                    return fault
        return None

    def _record(
        self,
        operation: str | None,
        query: str,
        variables: dict[str, Any],
        status: int,
        cost: int | None = None,
        *,
        throttled: bool = False,
        errors: Iterable[str] = (),
    ) -> None:
        with self._lock:
            self.calls.append(
                RecordedCall(
                    operation=operation,
                    query=query,
                    variables=variables,
                    status=status,
                    requested_cost=cost,
                    throttled=throttled,
                    errors=tuple(errors),
                )
            )

    # --- resolvers -------------------------------------------------------------------------

    def _root(self) -> dict[str, Callable[..., Any]]:
        return {
            **self.bulk.resolvers(),
            "shop": lambda _info: self.shop,
            "orders": self._orders,
            "order": lambda _info, id: self._order_by_gid(id),  # noqa: A006
            "refund": lambda _info, id: self._refund_by_gid(id),  # noqa: A006
            "nodes": lambda _info, ids: [self._node(i) for i in ids],
            "inventorySetQuantities": self._inventory_set_quantities,
            "orderCancel": self._order_cancel,
            "fulfillmentCreate": self._fulfillment_create,
            "fulfillmentTrackingInfoUpdate": self._fulfillment_tracking_update,
            "fulfillmentEventCreate": self._fulfillment_event_create,
            "webhookSubscriptions": self._webhook_subscriptions,
            "webhookSubscriptionCreate": self._webhook_subscription_create,
            "shopifyPaymentsAccount": lambda _info: self.payments_account.graphql(),
        }

    def _order_by_gid(self, order_gid: str) -> dict[str, Any] | None:
        order = self.orders.get(order_gid.rsplit("/", 1)[-1])
        return order.graphql if order else None

    def _refund_by_gid(self, refund_gid: str) -> dict[str, Any] | None:
        for order in self.orders.values():
            for refund in order.graphql["refunds"](None):
                if refund["id"] == refund_gid:
                    return refund
        return None

    def _orders(
        self,
        _info: Any,
        first: int | None = None,
        after: str | None = None,
        query: str | None = None,
        sortKey: str | None = None,  # noqa: N803 (GraphQL argument name)
        reverse: bool = False,
        **_: Any,
    ) -> dict[str, Any]:
        if first is None or first > 250:
            raise GraphQLError("first must be given and at most 250")
        matches = [o for o in self.orders.values() if _matches(o, query or "")]

        def key(order: FakeOrder) -> tuple[str, int]:
            if sortKey == "UPDATED_AT":
                moment = order.updated_at
            elif sortKey == "CREATED_AT":
                moment = order.created_at
            else:
                moment = datetime.min.replace(tzinfo=UTC)
            return (moment.isoformat(), int(order.rest["id"]))

        matches.sort(key=key, reverse=reverse)
        if after:
            cursor = tuple(json.loads(base64.b64decode(after)))
            matches = [
                o for o in matches if (key(o) < cursor if reverse else key(o) > cursor)
            ]
        page = matches[:first]
        cursors = [base64.b64encode(json.dumps(key(o)).encode()).decode() for o in page]
        return {
            "nodes": [o.graphql for o in page],
            "edges": [
                {"cursor": c, "node": o.graphql}
                for c, o in zip(cursors, page, strict=True)
            ],
            "pageInfo": {
                "hasNextPage": len(matches) > first,
                "hasPreviousPage": bool(after),
                "startCursor": cursors[0] if cursors else None,
                "endCursor": cursors[-1] if cursors else None,
            },
        }

    def _node(self, node_id: str) -> dict[str, Any] | None:
        if node_id.startswith("gid://shopify/Refund/"):
            refund = self._refund_by_gid(node_id)
            return {"__typename": "Refund", **refund} if refund else None
        if not node_id.startswith("gid://shopify/InventoryItem/"):
            return None
        levels = {
            loc: q for (item, loc), q in self.inventory.items() if item == node_id
        }
        if not levels:
            return None

        def inventory_level(_info: Any, locationId: str) -> dict[str, Any] | None:  # noqa: N803
            quantities = levels.get(locationId)
            if quantities is None:
                return None
            return {
                "id": f"gid://shopify/InventoryLevel/{node_id.rsplit('/', 1)[-1]}",
                "quantities": lambda _info, names: [
                    {"name": name, "quantity": quantities.get(name, 0)}
                    for name in names
                ],
            }

        return {
            "__typename": "InventoryItem",
            "id": node_id,
            "inventoryLevel": inventory_level,
        }

    def _inventory_set_quantities(
        self, _info: Any, input: dict[str, Any]
    ) -> dict[str, Any]:  # noqa: A002
        self.inventory_mutations.append(copy.deepcopy(input))
        errors = []
        name = input.get("name")
        if name not in ("available", "on_hand"):
            errors.append(
                {
                    "code": "INVALID_NAME",
                    "field": ["input", "name"],
                    "message": "Invalid name",
                }
            )
        seen = set()
        ignore_compare = bool(input.get("ignoreCompareQuantity"))
        for index, quantity in enumerate(input.get("quantities") or []):
            key = (quantity["inventoryItemId"], quantity["locationId"])
            where = ["input", "quantities", str(index)]
            if key in seen:
                errors.append(
                    {
                        "code": "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                        "field": where,
                        "message": "Duplicate item and location.",
                    }
                )
                continue
            seen.add(key)
            if key not in self.inventory:
                errors.append(
                    {
                        "code": "ITEM_NOT_STOCKED_AT_LOCATION",
                        "field": where,
                        "message": "The item is not stocked at the location.",
                    }
                )
                continue
            if quantity["quantity"] < 0:
                errors.append(
                    {
                        "code": "INVALID_QUANTITY_NEGATIVE",
                        "field": [*where, "quantity"],
                        "message": "The quantity can't be negative.",
                    }
                )
            if ignore_compare:
                continue
            if quantity.get("compareQuantity") is None:
                errors.append(
                    {
                        "code": "COMPARE_QUANTITY_REQUIRED",
                        "field": [*where, "compareQuantity"],
                        "message": "A compare quantity is required.",
                    }
                )
            elif quantity["compareQuantity"] != self.inventory[key].get(name, 0):
                errors.append(
                    {
                        "code": "COMPARE_QUANTITY_STALE",
                        "field": [*where, "compareQuantity"],
                        "message": "The compare quantity does not match the stored quantity.",
                    }
                )
        if errors:
            # All or nothing, so a caller never has to work out which half applied.
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        for quantity in input["quantities"]:
            key = (quantity["inventoryItemId"], quantity["locationId"])
            self.inventory[key][name] = quantity["quantity"]
        return {
            "inventoryAdjustmentGroup": {
                "id": gid("InventoryAdjustmentGroup", len(self.inventory_mutations)),
                "reason": input["reason"],
                "referenceDocumentUri": input.get("referenceDocumentUri"),
                "createdAt": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "userErrors": [],
        }

    def _order_cancel(
        self, _info: Any, orderId: str, reason: str, **options: Any
    ) -> dict[str, Any]:  # noqa: N803
        order = self.orders.get(orderId.rsplit("/", 1)[-1])
        if order is None:
            return {
                "job": None,
                "orderCancelUserErrors": [
                    {
                        "code": "NOT_FOUND",
                        "field": ["orderId"],
                        "message": "Order not found",
                    }
                ],
            }
        if order.rest.get("cancelled_at"):
            return {
                "job": None,
                "orderCancelUserErrors": [
                    {
                        "code": "INVALID",
                        "field": ["orderId"],
                        "message": "Order has already been cancelled",
                    }
                ],
            }
        self.cancellations.append({"orderId": orderId, "reason": reason, **options})
        now = datetime.now(tz=UTC).isoformat()
        self.change_order(
            order.rest["id"],
            cancelled_at=now,
            cancel_reason=reason.lower(),
            updated_at=datetime.now(tz=UTC),
        )
        return {
            "job": {"id": gid("Job", uuid.uuid4()), "done": False},
            "orderCancelUserErrors": [],
        }

    def remove_subscription(self, topic: str) -> None:
        """Shopify removed a subscription (after failed deliveries, or by hand)."""
        with self._lock:
            for sub_id, sub in list(self.webhook_subscriptions.items()):
                if sub["topic"] == topic:
                    del self.webhook_subscriptions[sub_id]

    def _webhook_subscriptions(
        self,
        _info: Any,
        first: int,
        after: str | None = None,
        callbackUrl: str | None = None,  # noqa: N803
        **_: Any,
    ) -> dict[str, Any]:
        nodes = [
            sub
            for sub in self.webhook_subscriptions.values()
            if callbackUrl is None or sub["endpoint"]["callbackUrl"] == callbackUrl
        ]
        start = int(after) if after else 0
        page = nodes[start : start + first]
        return {
            "nodes": page,
            "pageInfo": {
                "hasNextPage": start + first < len(nodes),
                "hasPreviousPage": start > 0,
                "endCursor": str(start + len(page)),
                "startCursor": str(start),
            },
        }

    def _webhook_subscription_create(
        self,
        _info: Any,
        topic: str,
        webhookSubscription: dict[str, Any],  # noqa: N803
    ) -> dict[str, Any]:
        url = webhookSubscription.get("callbackUrl")
        if not url:
            return {
                "webhookSubscription": None,
                "userErrors": [_user_error("Address can't be blank", "callbackUrl")],
            }
        for sub in self.webhook_subscriptions.values():
            if sub["topic"] == topic and sub["endpoint"]["callbackUrl"] == url:
                return {
                    "webhookSubscription": None,
                    "userErrors": [
                        _user_error(
                            "Address for this topic has already been taken",
                            "webhookSubscription",
                            "callbackUrl",
                        )
                    ],
                }
        sub_id = gid("WebhookSubscription", 4_759_306 + len(self.webhook_subscriptions))
        self.webhook_subscriptions[sub_id] = {
            "id": sub_id,
            "topic": topic,
            "format": webhookSubscription.get("format") or "JSON",
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": url},
        }
        return {
            "webhookSubscription": self.webhook_subscriptions[sub_id],
            "userErrors": [],
        }

    def _find_fulfillment(
        self, fulfillment_gid: str
    ) -> tuple[FakeOrder, dict[str, Any]] | None:
        wanted = _numeric(fulfillment_gid)
        for order in self.orders.values():
            for fulfillment in order.rest.get("fulfillments") or []:
                if fulfillment["id"] == wanted:
                    return order, fulfillment
        return None

    def _fulfillment_create(
        self, _info: Any, fulfillment: dict[str, Any], **_: Any
    ) -> dict[str, Any]:
        groups = fulfillment.get("lineItemsByFulfillmentOrder") or []
        if not groups:
            return {
                "fulfillment": None,
                "userErrors": [_user_error("No line items to fulfil.")],
            }
        order_ids = {_numeric(g["fulfillmentOrderId"]) for g in groups}
        order = self.orders.get(str(next(iter(order_ids))))
        if order is None or len(order_ids) != 1:
            return {
                "fulfillment": None,
                "userErrors": [_user_error("Fulfillment order does not exist.")],
            }
        remaining = {
            item["id"]: item["remainingQuantity"]
            for item in order.graphql["fulfillmentOrders"](None)["nodes"][0][
                "lineItems"
            ](None)["nodes"]
        }
        lines: dict[int, int] = {}
        for g_index, group in enumerate(groups):
            for i_index, item in enumerate(
                group.get("fulfillmentOrderLineItems") or []
            ):
                left = remaining.get(item["id"])
                if left is None or item["quantity"] > left or item["quantity"] <= 0:
                    return {
                        "fulfillment": None,
                        "userErrors": [
                            _user_error(
                                f"Invalid quantity for {item['id']} (remaining {left}).",
                                "fulfillment",
                                "lineItemsByFulfillmentOrder",
                                str(g_index),
                                "fulfillmentOrderLineItems",
                                str(i_index),
                            )
                        ],
                    }
                remaining[item["id"]] = left - item["quantity"]
                line_id = _numeric(item["id"])
                lines[line_id] = lines.get(line_id, 0) + item["quantity"]
        rest = copy.deepcopy(order.rest)
        new_id = 1_069_000_000 + sum(
            len(o.rest.get("fulfillments") or []) for o in self.orders.values()
        )
        rest.setdefault("fulfillments", []).append(
            _fulfillment_rest(
                new_id, rest["id"], lines, fulfillment.get("trackingInfo") or {}
            )
        )
        rest["fulfillment_status"] = (
            "fulfilled" if not any(remaining.values()) else "partial"
        )
        rest["updated_at"] = datetime.now(tz=UTC).isoformat()
        updated = self.add_rest_order(rest)
        created = next(
            f
            for f in updated.graphql["fulfillments"](None)
            if f["id"] == gid("Fulfillment", new_id)
        )
        return {"fulfillment": created, "userErrors": []}

    def _fulfillment_tracking_update(
        self,
        _info: Any,
        fulfillmentId: str,  # noqa: N803
        trackingInfoInput: dict[str, Any],  # noqa: N803
        **_: Any,
    ) -> dict[str, Any]:
        found = self._find_fulfillment(fulfillmentId)
        if found is None:
            return {
                "fulfillment": None,
                "userErrors": [
                    _user_error("Fulfillment does not exist.", "fulfillmentId")
                ],
            }
        order, _fulfillment = found
        rest = copy.deepcopy(order.rest)
        for fulfillment in rest["fulfillments"]:
            if fulfillment["id"] == _numeric(fulfillmentId):
                fresh = _fulfillment_rest(
                    fulfillment["id"], rest["id"], {}, trackingInfoInput
                )
                for key in (
                    "tracking_company",
                    "tracking_number",
                    "tracking_numbers",
                    "tracking_url",
                    "tracking_urls",
                ):
                    fulfillment[key] = fresh[key]
        updated = self.add_rest_order(rest)
        return {
            "fulfillment": next(
                f
                for f in updated.graphql["fulfillments"](None)
                if f["id"] == fulfillmentId
            ),
            "userErrors": [],
        }

    def _fulfillment_event_create(
        self,
        _info: Any,
        fulfillmentEvent: dict[str, Any],  # noqa: N803
    ) -> dict[str, Any]:
        if self._find_fulfillment(fulfillmentEvent["fulfillmentId"]) is None:
            return {
                "fulfillmentEvent": None,
                "userErrors": [
                    _user_error("Fulfillment does not exist.", "fulfillmentId")
                ],
            }
        self.fulfillment_events.append(copy.deepcopy(fulfillmentEvent))
        return {
            "fulfillmentEvent": {
                "id": gid("FulfillmentEvent", len(self.fulfillment_events)),
                "status": fulfillmentEvent["status"],
            },
            "userErrors": [],
        }


def _numeric(value: str) -> int:
    return int(str(value).rsplit("/", 1)[-1])


def _user_error(message: str, *field_path: str) -> dict[str, Any]:
    return {"field": list(field_path) or None, "message": message}


def _as_gid(kind: str, value: int | str) -> str:
    text = str(value)
    return text if text.startswith("gid://") else gid(kind, text)


def _fulfillment_rest(
    fulfillment_id: int, order_id: int, lines: dict[int, int], tracking: dict[str, Any]
) -> dict[str, Any]:
    now = datetime.now(tz=UTC).isoformat()
    numbers = tracking.get("numbers") or (
        [tracking["number"]] if tracking.get("number") else []
    )
    urls = tracking.get("urls") or ([tracking["url"]] if tracking.get("url") else [])
    return {
        "id": fulfillment_id,
        "admin_graphql_api_id": gid("Fulfillment", fulfillment_id),
        "order_id": order_id,
        "status": "success",
        "created_at": now,
        "updated_at": now,
        "tracking_company": tracking.get("company"),
        "tracking_number": numbers[0] if numbers else None,
        "tracking_numbers": numbers,
        "tracking_url": urls[0] if urls else None,
        "tracking_urls": urls,
        "line_items": [{"id": line_id, "quantity": q} for line_id, q in lines.items()],
    }


def _after(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)


def _is_mutation(document: Any, operation: str | None) -> bool:
    operations = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    chosen = next(
        (o for o in operations if o.name and o.name.value == operation), operations[0]
    )
    return chosen.operation == OperationType.MUTATION


def _operation_name(query: str) -> str | None:
    match = re.search(r"\b(?:query|mutation)\s+(\w+)", query)
    return match.group(1) if match else None


def _matches(order: FakeOrder, query: str) -> bool:
    """Shopify search syntax, the part the connector uses: field:>=value terms, ANDed."""
    for term in query.split():
        if term.upper() == "AND":
            continue
        match = _SEARCH_TERM.match(term)
        if match is None:
            raise GraphQLError(f"The fake store cannot read the search term {term!r}")
        name, op, value = match.groups()
        if name == "updated_at":
            actual = order.updated_at
        elif name == "created_at":
            actual = order.created_at
        else:
            raise GraphQLError(f"The fake store cannot search by {name!r}")
        wanted = datetime.fromisoformat(value)
        if wanted.tzinfo is None:
            wanted = wanted.replace(tzinfo=UTC)
        ok = {
            ">=": actual >= wanted,
            "<=": actual <= wanted,
            ">": actual > wanted,
            "<": actual < wanted,
            None: actual == wanted,
        }[op]
        if not ok:
            return False
    return True
