"""The transactional outbox: enqueue in the business transaction, deliver after commit."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from erp.core.exceptions import ApplicationError, ConflictError
from erp.core.locks import outbox_message_lock, outbox_messages_claim_lock
from erp.core.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

OutboxHandler = Callable[[OutboxMessage], None]

# topic -> handler; apps register theirs in AppConfig.ready() so lower apps never import
# the upper ones that react to their changes.
HANDLERS: dict[str, OutboxHandler] = {}

# Beyond this many messages one drain call stops, so a flood cannot pin one worker; the
# periodic sweep and the next after-commit drain carry on.
MAX_MESSAGES_PER_DRAIN = 5000


class OutboxPermanentError(ApplicationError):
    """A handler's verdict that retrying cannot help (rejected payload, revoked access)."""

    code = "outbox_permanent_failure"


def outbox_handler(topic: str) -> Callable[[OutboxHandler], OutboxHandler]:
    """Register the function that delivers messages of `topic`."""

    def register(func: OutboxHandler) -> OutboxHandler:
        existing = HANDLERS.get(topic)
        if existing is not None and existing is not func:
            raise RuntimeError(
                f"outbox topic {topic!r} already has a handler: {existing!r}"
            )
        HANDLERS[topic] = func
        return func

    return register


def _drain_after_commit() -> None:
    from erp.core.tasks import outbox_drain_task

    outbox_drain_task.delay()


def _schedule_drain_on_commit() -> None:
    # One drain per transaction is enough however many messages it wrote.
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(
        func is _drain_after_commit for _sids, func, _robust in conn.run_on_commit
    ):
        return
    # robust: a broker outage must not turn a committed business change into an error;
    # the periodic sweep delivers the message later.
    transaction.on_commit(_drain_after_commit, robust=True)


def outbox_enqueue(
    *,
    topic: str,
    key: str = "",
    payload: dict[str, Any] | None = None,
    coalesce: bool = False,
    max_attempts: int | None = None,
) -> OutboxMessage | None:
    """Write a message in the caller's transaction and schedule delivery after commit.

    With coalesce=True a message with the same topic and key that is still waiting
    absorbs this one (None is returned): handlers of coalesced topics read the current
    state when they deliver, so nothing is lost.
    """
    message = OutboxMessage(
        topic=topic,
        key=key,
        payload=payload or {},
        is_coalesced=coalesce,
        max_attempts=max_attempts or settings.OUTBOX_MAX_ATTEMPTS,
    )
    if coalesce:
        OutboxMessage.objects.bulk_create([message], ignore_conflicts=True)
        result = None
    else:
        message.save()
        result = message
    _schedule_drain_on_commit()
    return result


def outbox_enqueue_many(
    *,
    topic: str,
    messages: Sequence[tuple[str, dict[str, Any]]],
    coalesce: bool = False,
    max_attempts: int | None = None,
) -> None:
    """outbox_enqueue for many (key, payload) of one topic, in one INSERT.

    Rows are written in the order given: callers sort by key, the lock order of
    pending outbox rows.
    """
    if not messages:
        return
    attempts = max_attempts or settings.OUTBOX_MAX_ATTEMPTS
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                topic=topic,
                key=key,
                payload=payload,
                is_coalesced=coalesce,
                max_attempts=attempts,
            )
            for key, payload in messages
        ],
        ignore_conflicts=coalesce,
    )
    _schedule_drain_on_commit()


@dataclass(frozen=True)
class DrainResult:
    """What one drain call did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0


def _backoff_seconds(attempts: int) -> float:
    base = settings.OUTBOX_BACKOFF_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    capped = min(base, settings.OUTBOX_BACKOFF_MAX_SECONDS)
    # Jitter spreads retries of a burst that failed together (store outage) over time.
    return capped * random.uniform(0.8, 1.2)


@transaction.atomic(durable=True)
def _claim(*, limit: int) -> list[OutboxMessage]:
    now = timezone.now()
    messages = outbox_messages_claim_lock(now=now, limit=limit)
    lease_until = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    for message in messages:
        message.status = OutboxStatus.PROCESSING
        message.attempts += 1
        message.leased_until = lease_until
    OutboxMessage.objects.bulk_update(messages, ["status", "attempts", "leased_until"])
    return messages


def _pending_sibling(message: OutboxMessage) -> OutboxMessage | None:
    return (
        OutboxMessage.objects.filter(
            topic=message.topic,
            key=message.key,
            is_coalesced=True,
            status=OutboxStatus.PENDING,
        )
        .exclude(pk=message.pk)
        .first()
    )


@transaction.atomic(durable=True)
def _record_outcome(*, message: OutboxMessage, error: BaseException | None) -> str:
    current = outbox_message_lock(message_id=message.pk)
    if current is None or current.status != OutboxStatus.PROCESSING:
        return "gone"
    now = timezone.now()
    current.leased_until = None
    if error is None:
        current.status = OutboxStatus.DELIVERED
        current.delivered_at = now
        current.last_error = ""
        outcome = "delivered"
    elif (
        isinstance(error, OutboxPermanentError)
        or current.attempts >= current.max_attempts
    ):
        current.status = OutboxStatus.DEAD
        current.last_error = f"{error.__class__.__name__}: {error}"
        outcome = "dead"
    elif current.is_coalesced and (newer := _pending_sibling(current)) is not None:
        # A newer change of the same key is already waiting and will deliver the
        # current state; a second pending row would break the one-per-key rule.
        current.status = OutboxStatus.SUPERSEDED
        current.last_error = (
            f"{error.__class__.__name__}: {error} (superseded by message {newer.pk})"
        )
        outcome = "retried"
    else:
        current.status = OutboxStatus.PENDING
        current.available_at = now + timedelta(
            seconds=_backoff_seconds(current.attempts)
        )
        current.last_error = f"{error.__class__.__name__}: {error}"
        outcome = "retried"
    current.save(
        update_fields=[
            "status",
            "leased_until",
            "delivered_at",
            "last_error",
            "available_at",
        ]
    )
    return outcome


def _deliver(message: OutboxMessage) -> str:
    handler = HANDLERS.get(message.topic)
    error: BaseException | None
    if handler is None:
        error = OutboxPermanentError(
            gettext("No handler is registered for topic %(topic)r.")
            % {"topic": message.topic}
        )
    else:
        try:
            handler(message)
            error = None
        # The drain is the boundary that turns any handler failure into a recorded retry
        # or dead letter; letting it escape would stop delivery of every later message.
        except Exception as exc:
            logger.warning(
                "core.outbox.delivery_failed",
                exc_info=True,
                extra={"message_id": message.pk, "topic": message.topic},
            )
            error = exc
    return _record_outcome(message=message, error=error)


def outbox_drain(*, batch_size: int | None = None) -> DrainResult:
    """Deliver every due message, a claimed batch at a time; returns what happened."""
    limit = batch_size or settings.OUTBOX_BATCH_SIZE
    counts = {"delivered": 0, "retried": 0, "dead": 0, "gone": 0}
    handled = 0
    while handled < MAX_MESSAGES_PER_DRAIN:
        batch = _claim(limit=limit)
        if not batch:
            break
        for message in batch:
            counts[_deliver(message)] += 1
        handled += len(batch)
    return DrainResult(
        delivered=counts["delivered"], retried=counts["retried"], dead=counts["dead"]
    )


@transaction.atomic(durable=True)
def outbox_message_retry(*, message_id: int) -> OutboxMessage:
    """Put a dead (or waiting) message back in line for delivery now, with fresh attempts."""
    message = outbox_message_lock(message_id=message_id)
    if message is None:
        raise ApplicationError(
            gettext("That outbox message no longer exists."), code="not_found"
        )
    if message.status == OutboxStatus.DELIVERED:
        raise ApplicationError(
            gettext("That message was already delivered."),
            code="already_delivered",
            id=message_id,
        )
    if message.is_coalesced and (newer := _pending_sibling(message)) is not None:
        raise ConflictError(
            gettext(
                "A newer message for %(topic)s %(key)s is already waiting (message %(pk)s); it will deliver the current state."
            )
            % {"topic": message.topic, "key": message.key, "pk": newer.pk},
            id=message_id,
            newer_id=newer.pk,
        )
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.available_at = timezone.now()
    message.leased_until = None
    message.save(update_fields=["status", "attempts", "available_at", "leased_until"])
    _schedule_drain_on_commit()
    return message
