"""Bulk operations of the fake store: bulkOperationRunQuery, polling, the JSONL file.

Shopify runs a bulk query in the background, then offers the result as a JSONL file at
a signed URL on another host: one object a line, objects of a nested connection on
their own lines after their parent with `__parentId`. The fake does the same: the query
is validated against the official schema and Shopify's bulk rules, executed by
graphql-core in a thread, flattened to JSONL and served over HTTP by the fake's server
(without the access token, as a storage bucket would).
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    GraphQLList,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    get_nullable_type,
    graphql_sync,
    parse,
    visit,
)

from connectors.shopify.testing.orders import gid
from connectors.shopify.testing.schema import admin_schema, document_errors

if TYPE_CHECKING:
    from connectors.shopify.testing.fake_server import FakeShopifyStore

MAX_CONNECTIONS = 5
MAX_CONNECTION_DEPTH = 2
DOWNLOAD_PREFIX = "/bulk-results/"


class _BulkRules(Visitor):
    """Shopify's bulk query restrictions, checked with the schema's type information."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.errors: list[str] = []
        self.connections = 0
        # One entry per field entered: (is a connection, is a list of objects).
        self.stack: list[tuple[bool, bool]] = []

    def enter_operation_definition(
        self, node: OperationDefinitionNode, *_: Any
    ) -> None:
        if node.operation != OperationType.QUERY:
            self.errors.append("Bulk operations can only run queries.")
        roots = [s for s in node.selection_set.selections if isinstance(s, FieldNode)]
        if any(f.name.value in ("node", "nodes") for f in roots):
            self.errors.append(
                "Bulk queries cannot contain a top level `node` or `nodes` field."
            )

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        definition = self.type_info.get_field_def()
        if definition is None:
            self.stack.append((False, False))
            return
        nullable = get_nullable_type(definition.type)
        named = get_named_type(definition.type)
        is_connection = named.name.endswith("Connection")
        parent = self.type_info.get_parent_type()
        # A connection's own edges/nodes are how it is read, not a list field.
        in_connection = parent is not None and parent.name.endswith("Connection")
        is_list = (
            isinstance(nullable, GraphQLList)
            and hasattr(named, "fields")
            and not in_connection
        )
        if is_connection:
            self.connections += 1
            if any(is_list_field for _c, is_list_field in self.stack):
                self.errors.append(
                    "Queries that contain a connection field within a list field "
                    "are not currently supported."
                )
            depth = 1 + sum(1 for c, _l in self.stack if c)
            if depth > MAX_CONNECTION_DEPTH:
                self.errors.append(
                    "Bulk queries cannot nest connections more than "
                    f"{MAX_CONNECTION_DEPTH} levels deep."
                )
        self.stack.append((is_connection, is_list))

    def leave_field(self, *_: Any) -> None:
        self.stack.pop()


def bulk_query_errors(query: str) -> list[str]:
    """Why Shopify would refuse this bulk query ([] when it would run it)."""
    document, errors = document_errors(query)
    if errors or document is None:
        return [e.message for e in errors]
    type_info = TypeInfo(admin_schema())
    rules = _BulkRules(type_info)
    visit(parse(query), TypeInfoVisitor(type_info, rules))
    problems = list(dict.fromkeys(rules.errors))
    if rules.connections == 0:
        problems.append("Bulk queries must contain at least one connection.")
    if rules.connections > MAX_CONNECTIONS:
        problems.append(
            f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
        )
    return problems


def _connection_nodes(value: Any) -> list[Any] | None:
    if not isinstance(value, dict) or not ({"edges", "nodes"} & set(value)):
        return None
    if not set(value) <= {"edges", "nodes", "pageInfo"}:
        return None
    if "edges" in value:
        return [edge["node"] for edge in value["edges"] or []]
    return list(value["nodes"] or [])


def jsonl_rows(node: dict[str, Any], parent_id: str | None = None) -> Iterator[dict]:
    """One object and its nested connections as JSONL rows, the object first."""
    row: dict[str, Any] = {}
    children: list[dict[str, Any]] = []
    for key, value in node.items():
        nodes = _connection_nodes(value)
        if nodes is None:
            row[key] = value
        else:
            children.extend(nodes)
    if parent_id is not None:
        row["__parentId"] = parent_id
    yield row
    for child in children:
        yield from jsonl_rows(child, parent_id=node.get("id"))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@dataclass
class FakeBulkOperation:
    """One bulk query and, once it ran, its JSONL file."""

    id: str
    query: str
    created_at: str
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    data: bytes = b""
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    polls: int = 0
    done: threading.Event = field(default_factory=threading.Event)


class FakeBulkOperations:
    """The bulk operations of one fake store (one query at a time, as in 2025-01)."""

    def __init__(self, store: FakeShopifyStore) -> None:
        self.store = store
        self.operations: dict[str, FakeBulkOperation] = {}
        self.downloads: list[dict[str, str]] = []
        # Polls answered RUNNING before a finished operation shows COMPLETED, so a
        # client that does not poll is caught.
        self.running_polls = 1
        self._fail_with: str | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- test controls -------------------------------------------------------------

    def fail_next(self, error_code: str = "INTERNAL_SERVER_ERROR") -> None:
        """The next bulk operation ends FAILED with this BulkOperationErrorCode."""
        self._fail_with = error_code

    def start_elsewhere(self) -> str:
        """Another run of the app started a bulk query that is still running; its id."""
        operation = FakeBulkOperation(
            id=gid("BulkOperation", next(self._ids)),
            query="{ orders { edges { node { id } } } }",
            created_at=_now(),
            status="RUNNING",
        )
        operation.done.set()
        self.operations[operation.id] = operation
        return operation.id

    def wait(self, timeout: float = 30.0) -> None:
        """Block until every operation started has finished running."""
        for operation in list(self.operations.values()):
            operation.done.wait(timeout)

    # --- GraphQL resolvers -----------------------------------------------------------

    def resolvers(self) -> dict[str, Callable[..., Any]]:
        return {
            "bulkOperationRunQuery": self._run_query,
            "currentBulkOperation": self._current,
            "node": lambda _info, id: self._node(id),  # noqa: A006
            # A backfill asks how many orders a range holds before it picks paging
            # or a bulk operation.
            "ordersCount": self._orders_count,
        }

    def _orders_count(
        self, _info: Any, query: str | None = None, limit: int | None = 10_000, **_: Any
    ) -> dict[str, Any]:
        count = 0
        after = None
        with self.store._lock:
            while True:
                page = self.store._orders(None, first=250, after=after, query=query)
                count += len(page["nodes"])
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
        if limit is not None and count > limit:
            return {"count": limit, "precision": "AT_LEAST"}
        return {"count": count, "precision": "EXACT"}

    def _run_query(self, _info: Any, query: str, **_: Any) -> dict[str, Any]:
        with self._lock:
            running = [
                op
                for op in self.operations.values()
                if op.status in ("CREATED", "RUNNING")
            ]
            if running:
                return _refused(
                    "OPERATION_IN_PROGRESS",
                    "A bulk query operation for this app and shop is already in "
                    f"progress: {running[0].id}.",
                )
            problems = bulk_query_errors(query)
            if problems:
                return _refused("INVALID", "; ".join(problems))
            operation = FakeBulkOperation(
                id=gid("BulkOperation", next(self._ids)),
                query=query,
                created_at=_now(),
            )
            self.operations[operation.id] = operation
            fail_with, self._fail_with = self._fail_with, None
        threading.Thread(
            target=self._execute,
            args=(operation, fail_with),
            name="fake-shopify-bulk",
            daemon=True,
        ).start()
        return {"bulkOperation": self._view(operation), "userErrors": []}

    def _current(self, _info: Any, type: str = "QUERY") -> dict[str, Any] | None:  # noqa: A002
        if type != "QUERY" or not self.operations:
            return None
        return self._polled(list(self.operations.values())[-1])

    def _node(self, node_id: str) -> dict[str, Any] | None:
        operation = self.operations.get(node_id)
        return self._polled(operation) if operation is not None else None

    def _polled(self, operation: FakeBulkOperation) -> dict[str, Any]:
        with self._lock:
            operation.polls += 1
        return self._view(operation)

    def _view(self, operation: FakeBulkOperation) -> dict[str, Any]:
        status = operation.status
        if status == "COMPLETED" and operation.polls <= self.running_polls:
            status = "RUNNING"
        finished = status == "COMPLETED"
        return {
            "__typename": "BulkOperation",
            "id": operation.id,
            "type": "QUERY",
            "query": operation.query,
            "status": status,
            "errorCode": operation.error_code,
            "createdAt": operation.created_at,
            "completedAt": operation.completed_at if finished else None,
            "objectCount": str(operation.object_count if finished else 0),
            "rootObjectCount": str(operation.root_object_count if finished else 0),
            "fileSize": str(len(operation.data)) if finished else None,
            "url": self._url(operation) if finished and operation.data else None,
            "partialDataUrl": None,
        }

    def _url(self, operation: FakeBulkOperation) -> str:
        number = operation.id.rsplit("/", 1)[-1]
        return (
            f"{self.store.url}{DOWNLOAD_PREFIX}{number}.jsonl?token={operation.token}"
        )

    # --- running -----------------------------------------------------------------------

    def _execute(self, operation: FakeBulkOperation, fail_with: str | None) -> None:
        with self._lock:
            operation.status = "RUNNING"
        try:
            if fail_with:
                raise RuntimeError(fail_with)
            result = graphql_sync(
                admin_schema(), operation.query, root_value=self._bulk_root()
            )
            if result.errors:
                with self.store._lock:
                    self.store.execution_errors.extend(e.message for e in result.errors)
                raise RuntimeError("INTERNAL_SERVER_ERROR")
            lines = []
            roots = 0
            for value in (result.data or {}).values():
                for node in _connection_nodes(value) or []:
                    roots += 1
                    for row in jsonl_rows(node):
                        lines.append(
                            json.dumps(
                                row, default=_json_default, separators=(",", ":")
                            )
                        )
            data = ("\n".join(lines) + "\n").encode() if lines else b""
            with self._lock:
                operation.data = data
                operation.object_count = len(lines)
                operation.root_object_count = roots
                operation.completed_at = _now()
                operation.status = "COMPLETED"
        except RuntimeError as exc:
            with self._lock:
                operation.status = "FAILED"
                operation.error_code = str(exc)
        finally:
            operation.done.set()

    def _bulk_root(self) -> dict[str, Callable[..., Any]]:
        """The store's resolvers, with `orders` read whole (a bulk query has no pages)."""
        root = self.store._root()

        def orders(_info: Any, **arguments: Any) -> dict[str, Any]:
            arguments.pop("first", None)
            arguments.pop("after", None)
            nodes: list[Any] = []
            after = None
            with self.store._lock:
                while True:
                    page = self.store._orders(None, first=250, after=after, **arguments)
                    nodes.extend(page["nodes"])
                    if not page["pageInfo"]["hasNextPage"]:
                        break
                    after = page["pageInfo"]["endCursor"]
            return {
                "edges": [{"cursor": str(i), "node": n} for i, n in enumerate(nodes)],
                "nodes": nodes,
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
            }

        root["orders"] = orders
        return root

    # --- the download --------------------------------------------------------------------

    def download(
        self, path: str, headers: Any
    ) -> tuple[int, bytes, dict[str, str]] | None:
        """Answer GET of a result file; None when the path is not one."""
        route, _, query = path.partition("?")
        if not route.startswith(DOWNLOAD_PREFIX):
            return None
        number = route[len(DOWNLOAD_PREFIX) :].removesuffix(".jsonl")
        operation = self.operations.get(gid("BulkOperation", number))
        token = dict(
            part.split("=", 1) for part in query.split("&") if "=" in part
        ).get("token")
        with self._lock:
            self.downloads.append(
                {
                    "path": route,
                    "access_token": headers.get("X-Shopify-Access-Token") or "",
                }
            )
        if operation is None or token != operation.token or not operation.data:
            return 403, b"AccessDenied", {"Content-Type": "application/xml"}
        return 200, operation.data, {"Content-Type": "application/jsonl"}


def _refused(code: str, message: str) -> dict[str, Any]:
    return {
        "bulkOperation": None,
        "userErrors": [{"code": code, "field": ["query"], "message": message}],
    }


def _now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
