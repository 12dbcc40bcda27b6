"""The official Shopify Admin GraphQL schema (2025-01), and document validation against it."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    build_client_schema,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoDeprecatedCustomRule

SCHEMA_VERSION = "2025-01"
SCHEMA_PATH = (
    Path(__file__).resolve().parent.parent
    / "tests"
    / "fixtures"
    / f"admin_schema_{SCHEMA_VERSION}.json.gz"
)
# Deprecated fields are refused too: Shopify removes them in a later version, and a
# connector that still asks for one stops working the day it goes.
VALIDATION_RULES = (*specified_rules, NoDeprecatedCustomRule)


@cache
def admin_schema() -> GraphQLSchema:
    """The official introspection schema, loaded once per process (about half a second)."""
    with gzip.open(SCHEMA_PATH, "rt", encoding="utf-8") as handle:
        introspection = json.load(handle)
    # assume_valid: graphql-core's schema checks reject Shopify's own schema (interface
    # fields deprecated on only some implementations); documents are still validated.
    return build_client_schema(introspection["data"], assume_valid=True)


def document_errors(query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
    """Parse and validate a document; (document, []) when Shopify 2025-01 would take it."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, [error]
    return document, list(validate(admin_schema(), document, VALIDATION_RULES))
