"""Provider-agnostic writes of the connectors: webhook receipts, sync leases and runs.

Provider packages (connectors.shopify, later connectors.woocommerce) do the talking to the
store; these services keep the record of what arrived and what a sync did, so nothing a
store sent is lost and every failure is visible.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from connectors.exceptions import (
    ChannelUnauthorizedError,
    ConnectorError,
    ConnectorTransientError,
    SyncLeaseLostError,
)
from connectors.locks import webhook_receipts_claim_lock
from connectors.models import (
    Channel,
    ChannelListing,
    SyncCursor,
    SyncKind,
    SyncRun,
    SyncRunStatus,
    WebhookReceipt,
    WebhookReceiptStatus,
)
from connectors.providers import provider_get
from erp.core.exceptions import ApplicationError
from erp.core.text import Phrase

logger = logging.getLogger(__name__)

# A receipt whose processing keeps failing transiently is given up after this many
# attempts and marked failed, so it shows up for ops instead of cycling for ever.
RECEIPT_MAX_ATTEMPTS = 10
# Long enough for any one receipt (an order fetch plus the ingest), short enough that a
# receipt of a worker killed mid-way is picked up again within minutes.
RECEIPT_LEASE = timedelta(minutes=5)
# A drain claims this many receipts at a time (one lease for the batch) and stops after
# the limit, waking a fresh drain, so one store's flood cannot pin a worker.
RECEIPT_DRAIN_BATCH = 20
RECEIPT_DRAIN_LIMIT = 2000
# Transient failures in a drain wait base * 2^(attempts-1), at most max.
RECEIPT_RETRY_BASE = timedelta(seconds=10)
RECEIPT_RETRY_MAX = timedelta(minutes=10)
# Rejected deliveries are kept for ops, but anyone can post them: cap what they store.
REJECTED_BODY_LIMIT = 4096
# SyncRun.errors keeps the first errors only; the count is in `failed`.
SYNC_RUN_ERRORS_LIMIT = 100


# --- Webhook receipts -----------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptRecordResult:
    """What recording a delivery did: the receipt and whether it is new work."""

    receipt: WebhookReceipt
    is_new: bool

    @property
    def status(self) -> str:
        return self.receipt.status


def _schedule_processing(receipt_id: int) -> None:
    from connectors.tasks import webhook_receipt_process_task

    # robust: the receipt is committed; a broker outage must not turn the store's
    # delivery into an error. The requeue sweep processes it later.
    transaction.on_commit(
        partial(webhook_receipt_process_task.delay, receipt_id), robust=True
    )


def webhook_receipt_record(
    *,
    channel_id: int,
    topic: str,
    delivery_id: str,
    body: str,
    headers: Mapping[str, str],
    business_key: str = "",
    triggered_at: datetime | None = None,
) -> ReceiptRecordResult:
    """Store a verified delivery once and wake the store's drain after commit.

    One INSERT: a redelivery (same channel and delivery id) returns the stored receipt
    and writes nothing (it wakes the drain again while the receipt still waits). A new delivery of a change already received (same business key)
    is stored too; the worker marks it duplicate (webhook_receipt_process).
    """
    receipt = _receipt_insert(
        channel_id=channel_id,
        topic=topic,
        delivery_id=delivery_id,
        body=body,
        headers=headers,
        business_key=business_key,
        triggered_at=triggered_at,
    )
    if receipt is not None:
        webhook_drain_wake_on_commit(channel_id)
        return ReceiptRecordResult(receipt=receipt, is_new=True)
    # ON CONFLICT DO NOTHING waited for a concurrent insert of this delivery id to
    # commit, so the row it kept is there to read.
    existing = WebhookReceipt.objects.filter(
        channel_id=channel_id, delivery_id=delivery_id
    ).first()
    if existing is None:
        raise ConnectorTransientError(
            gettext_noop(
                "The delivery was stored and removed at the same time; send it again."
            ),
            delivery_id=delivery_id,
        )
    logger.info(
        "connectors.webhook.redelivery",
        extra={"receipt_id": existing.pk, "delivery_id": delivery_id},
    )
    if existing.status == WebhookReceiptStatus.RECEIVED:
        # Still waiting: the wakeup of the first delivery may never have happened (its
        # INSERT committed, then the connection dropped and the retry found the row).
        # One SET NX when a drain is already announced.
        webhook_drain_wake_on_commit(channel_id)
    return ReceiptRecordResult(receipt=existing, is_new=False)


_INSERT_FIELDS = (
    "channel_id",
    "delivery_id",
    "topic",
    "body",
    "headers",
    "business_key",
    "triggered_at",
    "status",
    "attempts",
    "error",
    "result",
    "created_at",
    "updated_at",
)
_JSON_FIELDS = frozenset({"headers", "result"})
_DATETIME_FIELDS = frozenset({"triggered_at", "created_at", "updated_at"})
_insert_sql: dict[str, str] = {}


def _receipt_insert_sql(connection: Any) -> str:
    sql = _insert_sql.get(connection.vendor)
    if sql is None:
        qn = connection.ops.quote_name
        meta = WebhookReceipt._meta
        columns = ", ".join(qn(meta.get_field(name).column) for name in _INSERT_FIELDS)
        # Built from the model's own names only; every value is a parameter.
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(_INSERT_FIELDS))}) "
            f"ON CONFLICT ({qn('channel_id')}, {qn('delivery_id')}) DO NOTHING "
            f"RETURNING {qn(meta.pk.column)}"
        )
        _insert_sql[connection.vendor] = sql
    return sql


def _receipt_insert(
    *,
    channel_id: int,
    topic: str,
    delivery_id: str,
    body: str,
    headers: Mapping[str, str],
    business_key: str,
    triggered_at: datetime | None,
) -> WebhookReceipt | None:
    """INSERT the receipt, or nothing when its delivery id is stored (None).

    One statement in autocommit (outside an atomic block it is committed when it
    returns, so the 200 that follows acknowledges a committed row): no BEGIN, no
    savepoint, no IntegrityError to recover from.
    """
    now = timezone.now()
    values: dict[str, Any] = {
        "channel_id": channel_id,
        "delivery_id": delivery_id,
        "topic": topic,
        "body": body,
        "headers": dict(headers),
        "business_key": business_key,
        "triggered_at": triggered_at,
        "status": WebhookReceiptStatus.RECEIVED.value,
        "attempts": 0,
        "error": "",
        "result": {},
        "created_at": now,
        "updated_at": now,
    }
    connection = transaction.get_connection()
    # Values adapted by hand, not through a model instance and its fields: on this
    # path that was a tenth of the request's CPU. JSON goes as text (jsonb takes it).
    adapt_datetime = connection.ops.adapt_datetimefield_value
    params = [
        json.dumps(values[name])
        if name in _JSON_FIELDS
        else adapt_datetime(values[name])
        if name in _DATETIME_FIELDS
        else values[name]
        for name in _INSERT_FIELDS
    ]
    sql = _receipt_insert_sql(connection)
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    else:
        row = _autocommit_insert(connection, sql, params)
    if row is None:
        return None
    values.update(id=row[0], processed_at=None, leased_until=None)
    return WebhookReceipt.from_db(
        connection.alias,
        None,
        [values[field.attname] for field in WebhookReceipt._meta.concrete_fields],
    )


def _autocommit_insert(connection: Any, sql: str, params: list[Any]) -> Any:
    """Run the INSERT as its own health check: retried once on a dropped connection.

    CONN_HEALTH_CHECKS would send SELECT 1 before it, a second round trip on every
    delivery. The INSERT is idempotent (ON CONFLICT DO NOTHING), so running it again
    on a fresh connection is safe even if the first one committed before the drop.
    """
    connection.health_check_done = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    except (InterfaceError, OperationalError):
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()


# --- Waking the drain: one publish per burst, not one per delivery ----------------------

# A wakeup flag per store lives this long at most: if the drain it announced was lost
# (worker killed before it started), deliveries wake a new one after this.
DRAIN_WAKE_SECONDS = 30
# Short: Redis down must cost a delivery milliseconds, not seconds (the receipt is
# committed either way; the requeue sweep processes it).
DRAIN_WAKE_REDIS_TIMEOUT = 0.25

_wake_redis: Any = None


def _drain_wake_client() -> Any:
    """The process-wide Redis client of the wakeup flags, or None without Redis."""
    global _wake_redis  # noqa: PLW0603 (one client per process, made on first use)
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    if _wake_redis is None:
        import redis

        _wake_redis = redis.Redis.from_url(
            url,
            socket_timeout=DRAIN_WAKE_REDIS_TIMEOUT,
            socket_connect_timeout=DRAIN_WAKE_REDIS_TIMEOUT,
        )
    return _wake_redis


def _drain_wake_key(channel_id: int) -> str:
    # The database name keeps sites (and test runs) sharing one Redis apart.
    database = settings.DATABASES["default"].get("NAME", "")
    return f"erp:{database}:connectors:webhook-drain:{channel_id}"


def webhook_drain_wake(channel_id: int) -> bool:
    """Publish a drain of the store's receipts unless one is announced; True if published.

    SET NX: only the delivery that sets the flag publishes. The drain deletes the flag
    before it claims anything, so a receipt committed before a failed SET is one the
    announced drain still finds. Without Redis (the embedded mode) every delivery
    publishes; drains running side by side are safe.
    """
    from connectors.tasks import webhook_receipts_drain_task

    client = _drain_wake_client()
    key = _drain_wake_key(channel_id)
    if client is not None:
        try:
            # The raw command: redis-py's set() checks its keyword arguments on every
            # call, a tenth of the intake's CPU.
            if not client.execute_command(
                "SET", key, b"1", "NX", "EX", DRAIN_WAKE_SECONDS
            ):
                return False
        except Exception as exc:  # any Redis failure: the sweep heals
            logger.warning(
                "connectors.webhook.wake_failed",
                extra={"channel_id": channel_id, "error": str(exc)},
            )
            return False
    try:
        webhook_receipts_drain_task.delay(channel_id)
    except Exception as exc:  # broker down: the sweep heals
        logger.warning(
            "connectors.webhook.wake_failed",
            extra={"channel_id": channel_id, "error": str(exc)},
        )
        _drain_wake_clear(channel_id)
        return False
    return True


def _drain_wake_clear(channel_id: int) -> None:
    client = _drain_wake_client()
    if client is None:
        return
    try:
        client.delete(_drain_wake_key(channel_id))
    except Exception as exc:  # the flag expires by itself
        logger.warning(
            "connectors.webhook.wake_clear_failed",
            extra={"channel_id": channel_id, "error": str(exc)},
        )


def webhook_drain_wake_on_commit(channel_id: int) -> None:
    """Wake the store's drain once what the caller wrote is committed (now, in autocommit)."""
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(partial(webhook_drain_wake, channel_id), robust=True)
    else:
        webhook_drain_wake(channel_id)


def _earlier_with_key(
    *, channel_id: int, business_key: str, exclude_pk: int | None = None
) -> int | None:
    """The first receipt carrying this change, if one is done or on its way."""
    if not business_key:
        return None
    qs = WebhookReceipt.objects.filter(
        channel_id=channel_id,
        business_key=business_key,
        status__in=[
            WebhookReceiptStatus.RECEIVED,
            WebhookReceiptStatus.PROCESSING,
            WebhookReceiptStatus.PROCESSED,
        ],
    )
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    # MIN over the (channel, business key) index; ORDER BY pk LIMIT 1 would tempt the
    # planner into walking the primary key of the whole table.
    return qs.aggregate(first=Min("pk"))["first"]


@transaction.atomic(durable=True)
def webhook_receipt_reject(
    *,
    channel_id: int,
    topic: str,
    body: str,
    headers: Mapping[str, str],
    reason: str,
    status: str = WebhookReceiptStatus.REJECTED,
) -> WebhookReceipt:
    """Keep a visible record of a delivery we refused.

    REJECTED for a bad or missing signature; FAILED for a signed delivery we cannot
    read (a body that is not JSON), which counts against the store's sync health.
    """
    receipt = WebhookReceipt.objects.create(
        channel_id=channel_id,
        topic=topic[:100],
        delivery_id=None,
        body=body[:REJECTED_BODY_LIMIT],
        headers=dict(headers),
        status=status,
        error=reason,
    )
    logger.warning(
        "connectors.webhook.rejected",
        extra={"receipt_id": receipt.pk, "channel_id": channel_id, "reason": reason},
    )
    return receipt


def _receipt_claim(receipt_id: int) -> bool:
    """Take the receipt for this worker: a conditional UPDATE, one winner.

    A receipt whose lease ran out RECEIPT_MAX_ATTEMPTS times took its worker down
    each time (killed, out of memory): it is failed instead, not tried forever.
    """
    now = timezone.now()
    gave_up = WebhookReceipt.objects.filter(
        pk=receipt_id,
        status=WebhookReceiptStatus.PROCESSING,
        leased_until__lt=now,
        attempts__gte=RECEIPT_MAX_ATTEMPTS,
    ).update(
        status=WebhookReceiptStatus.FAILED,
        error=Phrase(
            gettext_noop(
                "Gave up after %(attempts)s attempts: the worker stopped while "
                "processing it each time."
            ),
            attempts=RECEIPT_MAX_ATTEMPTS,
        ),
        leased_until=None,
        updated_at=now,
    )
    if gave_up:
        logger.error("connectors.webhook.gave_up", extra={"receipt_id": receipt_id})
        return False
    claimable = WebhookReceipt.objects.filter(
        Q(status=WebhookReceiptStatus.RECEIVED, leased_until__isnull=True)
        | Q(status=WebhookReceiptStatus.RECEIVED, leased_until__lt=now)
        | Q(status=WebhookReceiptStatus.PROCESSING, leased_until__lt=now),
        pk=receipt_id,
    )
    return (
        claimable.update(
            status=WebhookReceiptStatus.PROCESSING,
            attempts=F("attempts") + 1,
            leased_until=now + RECEIPT_LEASE,
            updated_at=now,
        )
        == 1
    )


@transaction.atomic(durable=True)
def _receipts_claim(*, channel_id: int, limit: int) -> list[int]:
    """Take up to `limit` of the store's waiting receipts, oldest first, for this drain."""
    now = timezone.now()
    ids = webhook_receipts_claim_lock(channel_id=channel_id, now=now, limit=limit)
    if ids:
        WebhookReceipt.objects.filter(
            pk__in=ids, status=WebhookReceiptStatus.RECEIVED
        ).update(
            status=WebhookReceiptStatus.PROCESSING,
            attempts=F("attempts") + 1,
            leased_until=now + RECEIPT_LEASE,
            updated_at=now,
        )
    return ids


def _retry_backoff(attempts: int) -> timedelta:
    # 10 s, 20 s, 40 s ... at most 10 min: a store outage is not hammered.
    return min(RECEIPT_RETRY_BASE * (2 ** max(attempts - 1, 0)), RECEIPT_RETRY_MAX)


def _receipt_finish(
    receipt: WebhookReceipt,
    *,
    status: str,
    error: str = "",
    result: Mapping[str, Any] | None = None,
) -> None:
    now = timezone.now()
    values: dict[str, Any] = {
        "status": status,
        "error": error,
        "leased_until": None,
        "updated_at": now,
    }
    if result is not None:
        values["result"] = dict(result)
    if status in (WebhookReceiptStatus.PROCESSED, WebhookReceiptStatus.DUPLICATE):
        values["processed_at"] = now
    # Only the claiming worker moves it on (its claim is the attempts count it read):
    # a receipt reset by an admin retry, or taken over by another worker after the
    # lease ran out, keeps what that one gave it.
    _receipt_owned(receipt).update(**values)


def _receipt_owned(receipt: WebhookReceipt) -> Any:
    """The receipt as a one-row queryset while this worker's claim on it holds."""
    return WebhookReceipt.objects.filter(
        pk=receipt.pk,
        status=WebhookReceiptStatus.PROCESSING,
        attempts=receipt.attempts,
    )


def _receipt_lease_renew(receipt: WebhookReceipt) -> bool:
    """Extend this worker's lease before it works on the receipt; False if it lost it.

    A drain's batch shares one lease from its claim; a receipt late in a slow batch
    would otherwise be taken over by the requeue sweep and processed twice.
    """
    now = timezone.now()
    return bool(
        _receipt_owned(receipt).update(leased_until=now + RECEIPT_LEASE, updated_at=now)
    )


def webhook_receipt_process(*, receipt_id: int) -> str | None:
    """Process one stored delivery; safe to call twice, returns the final status or None.

    Not atomic on purpose: the provider calls the store and then the order ingest (its
    own durable transaction). Transient errors put the receipt back and re-raise so the
    task retries; anything else marks it failed with the reason, never crashing a worker.
    """
    if not _receipt_claim(receipt_id):
        return None
    return _receipt_process_claimed(receipt_id, retry_after=None)


def webhook_receipts_drain(
    *, channel_id: int, batch_size: int | None = None, limit: int | None = None
) -> int:
    """Process the store's waiting receipts, a claimed batch at a time, until none is left.

    The wakeup flag goes first, so a delivery committed while this runs either is
    claimed here or wakes another drain. Drains may run side by side: each claims with
    SKIP LOCKED, so no receipt is processed twice. A batch goes to the provider in one
    call when it can take one (webhook_process_many), each receipt keeping its own
    outcome. A receipt whose store did not answer waits (leased_until) and is retried
    later, by a drain or the requeue sweep. Returns how many receipts it took.
    """
    batch_size = batch_size or RECEIPT_DRAIN_BATCH
    limit = limit or RECEIPT_DRAIN_LIMIT
    _drain_wake_clear(channel_id)
    taken = 0
    while taken < limit:
        ids = _receipts_claim(
            channel_id=channel_id, limit=min(batch_size, limit - taken)
        )
        if not ids:
            return taken
        taken += len(ids)
        _receipts_process_claimed(ids)
    # A flood: hand the rest to a fresh task so this worker serves other stores too.
    webhook_drain_wake(channel_id)
    return taken


def _receipt_duplicate_finish(receipt: WebhookReceipt) -> bool:
    """Mark the receipt duplicate if an earlier one carries its change; True if so."""
    if not receipt.business_key:
        _receipt_business_key_fill(receipt)
    original = _earlier_with_key(
        channel_id=receipt.channel_id,
        business_key=receipt.business_key,
        exclude_pk=receipt.pk,
    )
    if original is None or original > receipt.pk:
        return False
    _receipt_finish(
        receipt,
        status=WebhookReceiptStatus.DUPLICATE,
        result={"duplicate_of": original},
    )
    return True


def _receipt_business_key_fill(receipt: WebhookReceipt) -> None:
    """Store the business key of a receipt the intake left without one.

    An intake that does not parse the body (Shopify's: the cheapest request) leaves the
    key to the provider's webhook_business_key here. Stored before the duplicate check,
    so a later delivery of the same change finds this one. Two deliveries of one
    change processed at the same instant by two workers may both pass; the order
    ingest is idempotent, so that costs work, not correctness.
    """
    try:
        provider = provider_get(receipt.channel.kind)
    except ApplicationError:
        return
    key_for = getattr(provider, "webhook_business_key", None)
    if key_for is None:
        return
    key = str(key_for(receipt=receipt) or "")[:200]
    if key:
        WebhookReceipt.objects.filter(pk=receipt.pk).update(business_key=key)
        receipt.business_key = key


def _receipt_process_claimed(
    receipt_id: int, *, retry_after: Callable[[int], timedelta] | None
) -> str:
    """Process a receipt this worker has claimed; the final (or waiting) status.

    retry_after: how long a transient failure waits (by attempts); None leaves the
    wait to the caller's task retry, and the error is raised for it.
    """
    receipt = WebhookReceipt.objects.select_related("channel").get(pk=receipt_id)
    if _receipt_duplicate_finish(receipt):
        return WebhookReceiptStatus.DUPLICATE
    try:
        outcome: Mapping[str, Any] | Exception = provider_get(
            receipt.channel.kind
        ).webhook_process(receipt=receipt)
    # Every error becomes the receipt's outcome (see _receipt_outcome_record).
    except Exception as exc:
        outcome = exc
    status = _receipt_outcome_record(receipt, outcome, retry_after=retry_after)
    if status == WebhookReceiptStatus.RECEIVED and isinstance(outcome, Exception):
        raise outcome
    return status


def _receipts_process_claimed(receipt_ids: Sequence[int]) -> None:
    """Process a batch this drain claimed: one provider call when the provider can."""
    receipts = list(
        WebhookReceipt.objects.select_related("channel")
        .filter(pk__in=receipt_ids)
        .order_by("pk")
    )
    # In pk order, so the first of two deliveries of one change is the one kept.
    todo = [r for r in receipts if not _receipt_duplicate_finish(r)]
    if not todo:
        return
    try:
        provider = provider_get(todo[0].channel.kind)
    except ApplicationError as exc:
        for receipt in todo:
            _receipt_outcome_record(receipt, exc, retry_after=_retry_backoff)
        return
    many = getattr(provider, "webhook_process_many", None)
    if many is not None:
        try:
            outcomes = dict(many(receipts=todo))
        # A bug in the batch path must not lose the batch: each receipt records it.
        except Exception as exc:
            outcomes = {r.pk: exc for r in todo}
        for receipt in todo:
            if receipt.pk in outcomes:
                _receipt_outcome_record(
                    receipt, outcomes[receipt.pk], retry_after=_retry_backoff
                )
        # What the provider does not take together (deliveries that call the store)
        # goes one by one below.
        todo = [r for r in todo if r.pk not in outcomes]
    for receipt in todo:
        # Each store call may take long: renew the lease first, and skip a receipt
        # another worker took over meanwhile.
        if not _receipt_lease_renew(receipt):
            continue
        try:
            outcome: Mapping[str, Any] | Exception = provider.webhook_process(
                receipt=receipt
            )
        except Exception as exc:  # recorded on the receipt
            outcome = exc
        _receipt_outcome_record(receipt, outcome, retry_after=_retry_backoff)


def _receipt_outcome_record(
    receipt: WebhookReceipt,
    outcome: Mapping[str, Any] | Exception,
    *,
    retry_after: Callable[[int], timedelta] | None,
) -> str:
    """Move a claimed receipt on by what processing it gave; the status it got.

    Transient errors (the store did not answer, a lock timeout, a dropped connection)
    put it back as RECEIVED, to wait retry_after (or for the task's own retry), until
    RECEIPT_MAX_ATTEMPTS; anything else marks it failed with the reason, never
    crashing a worker.
    """
    receipt_id = receipt.pk
    if not isinstance(outcome, Exception):
        _receipt_finish(receipt, status=WebhookReceiptStatus.PROCESSED, result=outcome)
        return WebhookReceiptStatus.PROCESSED
    exc = outcome
    if isinstance(exc, ConnectorTransientError | OperationalError):
        message = f"{exc.__class__.__name__}: {exc}"
        if receipt.attempts >= RECEIPT_MAX_ATTEMPTS:
            _receipt_finish(
                receipt,
                status=WebhookReceiptStatus.FAILED,
                error=Phrase(
                    gettext_noop("Gave up after %(attempts)s attempts. %(error)s"),
                    attempts=receipt.attempts,
                    error=message,
                ),
            )
            return WebhookReceiptStatus.FAILED
        now = timezone.now()
        _receipt_owned(receipt).update(
            status=WebhookReceiptStatus.RECEIVED,
            error=message,
            # On a RECEIVED receipt the lease is "not before": no drain takes it
            # sooner, so a store outage is not retried in a tight loop.
            leased_until=now + retry_after(receipt.attempts) if retry_after else None,
            updated_at=now,
        )
        return WebhookReceiptStatus.RECEIVED
    if isinstance(exc, ChannelUnauthorizedError):
        channel_mark_unauthorized(channel_id=receipt.channel_id, reason=exc.message)
        _receipt_finish(receipt, status=WebhookReceiptStatus.FAILED, error=exc.message)
        return WebhookReceiptStatus.FAILED
    if isinstance(exc, ApplicationError):
        _receipt_finish(receipt, status=WebhookReceiptStatus.FAILED, error=exc.message)
        return WebhookReceiptStatus.FAILED
    # The receipt is the boundary between a store's payload and our code: a bug must
    # leave a failed, retryable receipt with its reason, not a crashed worker.
    logger.error(
        "connectors.webhook.process_crashed",
        extra={"receipt_id": receipt_id},
        exc_info=exc,
    )
    _receipt_finish(
        receipt,
        status=WebhookReceiptStatus.FAILED,
        error=Phrase(
            gettext_noop("Unexpected error %(error)s: %(detail)s"),
            error=exc.__class__.__name__,
            detail=str(exc),
        ),
    )
    return WebhookReceiptStatus.FAILED


@transaction.atomic(durable=True)
def webhook_receipt_retry(*, receipt_id: int) -> WebhookReceipt:
    """Put a failed (or stuck) receipt back in line with fresh attempts.

    Raises: ConnectorError for a rejected delivery (its signature was wrong, so its body
    cannot be trusted), one that is already processed, or one a worker holds now.
    """
    receipt = WebhookReceipt.objects.filter(pk=receipt_id).first()
    if receipt is None:
        raise ConnectorError(
            gettext_noop("That webhook receipt no longer exists."), id=receipt_id
        )
    if receipt.status == WebhookReceiptStatus.REJECTED:
        raise ConnectorError(
            gettext_noop(
                "A rejected delivery cannot be retried: its signature did not match."
            ),
            id=receipt_id,
        )
    if receipt.status in (
        WebhookReceiptStatus.PROCESSED,
        WebhookReceiptStatus.DUPLICATE,
    ):
        raise ConnectorError(
            Phrase(
                gettext_noop("That receipt is already %(status)s."),
                status=receipt.status,
            ),
            id=receipt_id,
        )
    now = timezone.now()
    # A worker holding a live lease is processing it now: put back, it would be
    # processed a second time alongside (and its fresh attempts would look like the
    # worker's claim). A stuck one (its lease ran out) may be put back.
    reset = (
        WebhookReceipt.objects.filter(pk=receipt_id)
        .exclude(status=WebhookReceiptStatus.PROCESSING, leased_until__gte=now)
        .update(
            status=WebhookReceiptStatus.RECEIVED,
            attempts=0,
            leased_until=None,
            updated_at=now,
        )
    )
    if not reset:
        raise ConnectorError(
            gettext_noop(
                "That receipt is being processed right now; try again in a few "
                "minutes if it does not finish."
            ),
            id=receipt_id,
        )
    _schedule_processing(receipt_id)
    receipt.refresh_from_db()
    return receipt


def webhook_receipts_requeue(
    *, received_before: timedelta = timedelta(minutes=2), limit: int = 500
) -> int:
    """Schedule processing of receipts whose task was lost or whose worker died."""
    from connectors.tasks import webhook_receipt_process_task

    now = timezone.now()
    ids = list(
        WebhookReceipt.objects.waiting(now=now, received_before=now - received_before)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for receipt_id in ids:
        webhook_receipt_process_task.delay(receipt_id)
    if ids:
        logger.info("connectors.webhook.requeued", extra={"count": len(ids)})
    return len(ids)


# --- Channel authorisation ---------------------------------------------------------------


def channel_mark_unauthorized(*, channel_id: int, reason: str) -> None:
    """Flag the channel as needing re-authorisation; syncs and pushes stop until then.

    A single UPDATE so it can run from any worker path, inside a transaction or not.
    """
    updated = Channel.objects.filter(
        pk=channel_id, requires_reauthorization=False
    ).update(
        requires_reauthorization=True,
        auth_error=reason,
        auth_failed_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if updated:
        logger.warning(
            "connectors.channel.unauthorized",
            extra={"channel_id": channel_id, "reason": reason},
        )


@transaction.atomic(durable=True)
def channel_mark_authorized(*, channel_id: int) -> None:
    """Clear the re-authorisation flag after new credentials were stored."""
    Channel.objects.filter(pk=channel_id).update(
        requires_reauthorization=False,
        auth_error="",
        auth_failed_at=None,
        updated_at=timezone.now(),
    )


# --- Sync leases ------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncLease:
    """Proof that this worker owns a channel's cursor until `leased_until`."""

    cursor_id: int
    channel_id: int
    token: uuid.UUID
    value: str


def sync_cursor_acquire(
    *,
    channel_id: int,
    kind: str = SyncKind.ORDERS,
    lease: timedelta = timedelta(minutes=10),
) -> SyncLease | None:
    """Take the channel's sync lease, or None when another worker holds it.

    A conditional UPDATE (free, or expired) decides the owner: rowcount 1 wins. Works
    the same on PostgreSQL and SQLite and needs no lock held across store calls.
    """
    cursor, _ = SyncCursor.objects.get_or_create(channel_id=channel_id, kind=kind)
    now = timezone.now()
    token = uuid.uuid4()
    won = (
        SyncCursor.objects.filter(pk=cursor.pk)
        .filter(_lease_is_free(now))
        .update(lease_token=token, leased_until=now + lease, last_attempt_at=now)
    )
    if won != 1:
        return None
    cursor.refresh_from_db(fields=["value"])
    return SyncLease(
        cursor_id=cursor.pk, channel_id=channel_id, token=token, value=cursor.value
    )


def _lease_is_free(now: datetime) -> Q:
    return Q(leased_until__isnull=True) | Q(leased_until__lt=now)


def sync_cursor_advance(
    *, lease: SyncLease, value: str, extend: timedelta = timedelta(minutes=10)
) -> None:
    """Save how far the sync got and extend the lease.

    Raises: SyncLeaseLostError when the lease expired and another worker took it.
    """
    now = timezone.now()
    updated = SyncCursor.objects.filter(
        pk=lease.cursor_id, lease_token=lease.token
    ).update(value=value, leased_until=now + extend)
    if updated != 1:
        raise SyncLeaseLostError(
            gettext_noop("Another worker took over this channel's sync."),
            channel_id=lease.channel_id,
        )


def sync_cursor_release(*, lease: SyncLease, succeeded: bool, error: str = "") -> None:
    """Give the lease back and record the outcome on the cursor."""
    now = timezone.now()
    values: dict[str, Any] = {"lease_token": None, "leased_until": None}
    if succeeded:
        values.update(last_success_at=now, last_error="", consecutive_failures=0)
    else:
        values.update(
            last_error=error, consecutive_failures=F("consecutive_failures") + 1
        )
    SyncCursor.objects.filter(pk=lease.cursor_id, lease_token=lease.token).update(
        **values
    )


# --- Sync runs --------------------------------------------------------------------------


@dataclass
class SyncCounts:
    """Counts of one page (or run) of a sync, added to the SyncRun as it goes."""

    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    # For progress only, never added up: what the store is doing while no orders come
    # (a bulk export running) and how many orders to expect in all.
    note: str = ""
    expected_total: int | None = None

    def add(self, other: SyncCounts) -> None:
        self.fetched += other.fetched
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.failed += other.failed
        self.errors.extend(other.errors)


def sync_run_start(
    *, channel_id: int, kind: str, params: Mapping[str, Any] | None = None
) -> SyncRun:
    """Open the record of one poll, backfill or push."""
    return SyncRun.objects.create(
        channel_id=channel_id, kind=kind, params=dict(params or {})
    )


def sync_run_skipped(*, channel_id: int, kind: str, reason: str) -> SyncRun:
    """Record a sync that did not run (another one held the lease, store not connected)."""
    now = timezone.now()
    return SyncRun.objects.create(
        channel_id=channel_id,
        kind=kind,
        status=SyncRunStatus.SKIPPED,
        message=reason,
        started_at=now,
        finished_at=now,
    )


@transaction.atomic
def sync_run_add(*, run_id: int, counts: SyncCounts) -> None:
    """Add one page's counts to a running SyncRun, so progress is visible as it goes."""
    SyncRun.objects.filter(pk=run_id).update(
        fetched=F("fetched") + counts.fetched,
        created=F("created") + counts.created,
        updated=F("updated") + counts.updated,
        unchanged=F("unchanged") + counts.unchanged,
        failed=F("failed") + counts.failed,
    )
    if counts.errors:
        run = SyncRun.objects.only("errors").get(pk=run_id)
        room = SYNC_RUN_ERRORS_LIMIT - len(run.errors)
        if room > 0:
            SyncRun.objects.filter(pk=run_id).update(
                errors=[*run.errors, *counts.errors[:room]]
            )


def sync_run_finish(*, run_id: int, message: str = "", failed: bool = False) -> SyncRun:
    """Close a SyncRun: failed if it stopped early, partial if some items failed."""
    run = SyncRun.objects.get(pk=run_id)
    if failed:
        run.status = SyncRunStatus.FAILED
    elif run.failed:
        run.status = SyncRunStatus.PARTIAL
    else:
        run.status = SyncRunStatus.SUCCEEDED
    run.message = message
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "message", "finished_at"])
    return run


def sync_errors_from(
    failures: Sequence[tuple[str, str]],
) -> list[dict[str, str]]:
    """[(external id, error)] → the JSON shape SyncRun.errors keeps."""
    return [{"external_id": ext, "error": err} for ext, err in failures]


# --- Channels ---------------------------------------------------------------------------


@transaction.atomic(durable=True)
def channel_create(
    *,
    kind: str,
    code: str,
    name: str,
    shop_url: str,
    currency: str,
    credentials: Mapping[str, str],
) -> Channel:
    """Connect a store with its credentials (kept encrypted).

    Raises: ConnectorError when the code is taken or a value is invalid.
    """
    if Channel.objects.filter(code=code).exists():
        raise ConnectorError(
            Phrase(
                gettext_noop("A store with code %(code)r already exists."), code=code
            ),
            code=code,
        )
    channel = Channel(
        kind=kind,
        code=code,
        name=name,
        shop_url=shop_url,
        currency=currency.upper(),
        credentials=dict(credentials),
    )
    try:
        channel.full_clean()
    except ValidationError as exc:
        raise ConnectorError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
            code=code,
        ) from None
    channel.save()
    return channel


def channels_webhooks_ensure() -> dict[str, Any]:
    """Re-check the webhook subscriptions of every active, connected store.

    A store that fails is reported and the others carry on.
    """
    report: dict[str, Any] = {}
    for channel in Channel.objects.filter(
        is_active=True, requires_reauthorization=False
    ).order_by("pk"):
        try:
            report[channel.code] = provider_get(channel.kind).webhooks_ensure(
                channel=channel
            )
        except ChannelUnauthorizedError as exc:
            channel_mark_unauthorized(channel_id=channel.pk, reason=exc.message)
            report[channel.code] = {"error": exc.message}
        except (ApplicationError, OperationalError) as exc:
            logger.warning(
                "connectors.webhooks.ensure_failed",
                extra={"channel_id": channel.pk, "error": str(exc)},
            )
            report[channel.code] = {"error": getattr(exc, "message", str(exc))}
    return report


@transaction.atomic(durable=True)
def channel_access_token_store(
    *, channel_id: int, access_token: str, scope: str = ""
) -> Channel:
    """Keep a store's new access token (encrypted) and clear its reconnect flag."""
    channel = Channel.objects.get(pk=channel_id)
    credentials = dict(channel.credentials or {})
    credentials["access_token"] = access_token
    if scope:
        credentials["scope"] = scope
    channel.credentials = credentials
    channel.requires_reauthorization = False
    channel.auth_error = ""
    channel.auth_failed_at = None
    channel.save(
        update_fields=[
            "credentials",
            "requires_reauthorization",
            "auth_error",
            "auth_failed_at",
            "updated_at",
        ]
    )
    return channel


@transaction.atomic(durable=True)
def channel_credentials_update(
    *, channel_id: int, values: Mapping[str, str]
) -> Channel:
    """Add or replace some of a store's credentials (kept encrypted)."""
    channel = Channel.objects.get(pk=channel_id)
    channel.credentials = {**(channel.credentials or {}), **dict(values)}
    channel.save(update_fields=["credentials", "updated_at"])
    return channel


# --- Listings: what the store shows and what we set -------------------------------------


def listings_store_quantity_record(
    *, channel_id: int, quantities: Mapping[str, int], seen_at: datetime
) -> int:
    """Note the quantity the store reports per store variant id; returns rows changed.

    A late report must not overwrite a newer one. A figure other than the one we last
    set shows as drift on the listing; the next push sets ours again.
    """
    changed = 0
    for variant_id, quantity in quantities.items():
        changed += ChannelListing.objects.filter(
            Q(store_quantity_at__isnull=True) | Q(store_quantity_at__lt=seen_at),
            channel_id=channel_id,
            external_variant_id=variant_id,
        ).update(store_quantity=quantity, store_quantity_at=seen_at)
    return changed


def listings_pushed_record(*, quantities: Mapping[int, int]) -> None:
    """Note what the store holds after a push (listing id → quantity set).

    One UPDATE per distinct quantity: bulk_update writes a CASE per row and field,
    seconds for a batch of hundreds.
    """
    now = timezone.now()
    by_quantity: dict[int, list[int]] = {}
    for listing_id, quantity in quantities.items():
        by_quantity.setdefault(quantity, []).append(listing_id)
    for quantity, listing_ids in sorted(by_quantity.items()):
        ChannelListing.objects.filter(pk__in=listing_ids).update(
            pushed_quantity=quantity,
            pushed_at=now,
            store_quantity=quantity,
            store_quantity_at=now,
            updated_at=now,
        )
