"""Query cost as Shopify computes it (approximately) and the leaky bucket it spends from.

Shopify's documented rules (shopify.dev, "Shopify API rate limits"): scalars and enums
cost 0, objects 1, a connection 2 plus `first` times the cost of one node, mutations 10.
Lists that take `first` are sized by it as well. The single-query limit of 1000 points
was seen only in third-party material; the fake enforces it so our page sizes stay
under it. Real costs differ in detail; the point is that our documents respect a bucket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

MUTATION_COST = 10


def _argument(field: FieldNode, name: str, variables: Mapping[str, Any]) -> Any:
    for argument in field.arguments or ():
        if argument.name.value == name:
            return value_from_ast_untyped(argument.value, variables)
    return None


class _CostWalker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selection_cost(
        self, selection_set: SelectionSetNode | None, parent: Any
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                inner = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                total += self.selection_cost(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                inner = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selection_cost(fragment.selection_set, inner)
        return total

    def field_cost(self, field: FieldNode, parent: Any) -> int:
        name = field.name.value
        if name.startswith("__") or not hasattr(parent, "fields"):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        inner = self.selection_cost(field.selection_set, named)
        first = _argument(field, "first", self.variables) or _argument(
            field, "last", self.variables
        )
        ids = _argument(field, "ids", self.variables)
        if first is None and isinstance(ids, list):
            first = len(ids)
        if named.name.endswith("Connection"):
            # `inner` already counts one node (edges/nodes below cost one item each).
            return 2 + int(first or 1) * inner
        if parent.name.endswith("Connection") and name == "nodes":
            return 1 + inner
        if parent.name.endswith("Connection") and name == "edges":
            return inner
        if parent.name.endswith("Edge") and name == "node":
            return 1 + inner
        if isinstance(named, GraphQLObjectType) and named.name == "PageInfo":
            return 0
        if first is not None:
            return int(first) * (1 + inner)
        return 1 + inner


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """The cost Shopify would reserve for this document before running it."""
    fragments = {
        d.name.value: d
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    operations = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    operation = next(
        (o for o in operations if o.name and o.name.value == operation_name),
        operations[0],
    )
    walker = _CostWalker(schema, fragments, variables or {})
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(operation.selection_set.selections)
    return max(walker.selection_cost(operation.selection_set, schema.query_type), 1)


def actual_cost(data: Any) -> int:
    """Objects actually returned: Shopify refunds the difference to the bucket."""
    if isinstance(data, dict):
        return 1 + sum(actual_cost(v) for v in data.values())
    if isinstance(data, list):
        return sum(actual_cost(v) for v in data)
    return 0


class LeakyBucket:
    """A store's GraphQL bucket: `maximum` points, refilled at `restore_rate` per second."""

    def __init__(
        self,
        *,
        maximum: float = 1000.0,
        restore_rate: float = 50.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._clock = clock
        self._available = maximum
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._available = min(
            self.maximum, self._available + (now - self._at) * self.restore_rate
        )
        self._at = now

    def take(self, cost: float) -> bool:
        """Spend `cost` points if they are there; False means THROTTLED."""
        with self._lock:
            self._refill()
            if self._available < cost:
                return False
            self._available -= cost
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + max(points, 0))

    def drain(self, to: float = 0.0) -> None:
        """Empty the bucket (as if another app had spent it)."""
        with self._lock:
            self._refill()
            self._available = to

    def status(self) -> dict[str, float]:
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": self.maximum,
                "currentlyAvailable": round(self._available, 1),
                "restoreRate": self.restore_rate,
            }
