"""Database helpers that hide the PostgreSQL-only parts behind one call each."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

# One registry of advisory-lock namespaces, so two features never share a key by accident.
ADVISORY_LOCK_NAMESPACES = {
    "channel_sync": 1001,
    "outbox_topic_key": 1002,
    "reconciliation_run": 1003,
    "order_upsert": 1004,
    "customer_match": 1005,
}


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def set_local_lock_timeout(timeout: str) -> None:
    """Make row locks in the current transaction give up after `timeout` (e.g. "3s").

    Worker paths use it so a stuck lock fails fast and the task retries, instead of
    workers piling up behind it. SQLite serialises writers itself and has no such knob.
    """
    if not connection.in_atomic_block:
        raise RuntimeError(
            "set_local_lock_timeout() only makes sense inside a transaction"
        )
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [timeout])


def advisory_xact_lock(namespace: str, key: str | int) -> None:
    """Serialise "one at a time per key" until the current transaction ends.

    Transaction-scoped, so it is safe behind a transaction-pooling PgBouncer. On SQLite
    the write transaction already serialises everything.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_xact_lock() must be called inside a transaction")
    if not is_postgres():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [ADVISORY_LOCK_NAMESPACES[namespace], _advisory_key(key)],
        )


def _advisory_key(key: str | int) -> int:
    digest = hashlib.blake2b(str(key).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def advisory_xact_locks(namespace: str, keys: Iterable[str | int]) -> None:
    """advisory_xact_lock for many keys in one statement (a page of orders).

    The keys are taken in ascending order, so two callers whose sets overlap queue
    instead of deadlocking; a caller holding one key of the namespace waits like one.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_xact_locks() must be called inside a transaction")
    if not is_postgres():
        return
    ordered = sorted({_advisory_key(key) for key in keys})
    if not ordered:
        return
    with connection.cursor() as cursor:
        # The sorted subquery fixes the order in which the locks are taken.
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, k)) FROM"
            " (SELECT k FROM unnest(%s::integer[]) AS k ORDER BY k) AS keys",
            [ADVISORY_LOCK_NAMESPACES[namespace], ordered],
        )


def bulk_update_rows(
    model: type[Model], objs: Sequence[Model], fields: Sequence[str]
) -> None:
    """Write `fields` of many rows in one UPDATE ... FROM (VALUES ...) on PostgreSQL.

    Django's bulk_update builds one CASE per field with a WHEN per row, which costs
    more CPU than the statement itself for a page of a hundred rows. Rows are written
    in the order given (callers sort by pk, the lock order). Other databases fall back
    to bulk_update.
    """
    if not objs:
        return
    if not is_postgres():
        model._default_manager.bulk_update(objs, list(fields))
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    casts = [f"%s::{field.db_type(connection)}" for field in columns]
    row = "(" + ", ".join(casts) + ")"
    params: list[Any] = []
    for obj in objs:
        for field in columns:
            params.append(
                field.get_db_prep_save(getattr(obj, field.attname), connection)
            )
    table = quote(meta.db_table)
    pk = quote(meta.pk.column)
    names = ", ".join(quote(field.column) for field in columns)
    assignments = ", ".join(
        f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:]
    )
    values = ", ".join([row] * len(objs))
    # Only quoted names of the model go into the text; every value is a parameter.
    sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v ({names}) WHERE {table}.{pk} = v.{pk}"  # noqa: S608, E501
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
