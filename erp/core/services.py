"""Writes of erp.core beyond the outbox itself: the worker heartbeat."""

from __future__ import annotations

import socket

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from erp.core.exceptions import ApplicationError
from erp.core.models import OutboxMessage, UserPreference, WorkerHeartbeat
from erp.core.outbox import outbox_enqueue

HEARTBEAT_TOPIC = "core.heartbeat"


@transaction.atomic(durable=True)
def heartbeat_enqueue() -> None:
    """Queue one heartbeat; beats that pile up while no worker runs collapse into one."""
    outbox_enqueue(
        topic=HEARTBEAT_TOPIC,
        key="workers",
        payload={"requested_at": timezone.now().isoformat()},
        coalesce=True,
    )


@transaction.atomic(durable=True)
def heartbeat_record(
    *, message: OutboxMessage, hostname: str | None = None
) -> WorkerHeartbeat:
    """Record that this worker host delivered a heartbeat just now."""
    name = hostname or socket.gethostname()
    beat, created = WorkerHeartbeat.objects.get_or_create(
        hostname=name, defaults={"beat_at": timezone.now(), "delivered_count": 1}
    )
    if not created:
        beat.beat_at = timezone.now()
        beat.delivered_count += 1
        beat.save(update_fields=["beat_at", "delivered_count"])
    return beat


@transaction.atomic(durable=True)
def user_language_set(*, user_id: int, language: str) -> UserPreference:
    """Remember the UI language a user chose, for every browser they sign in from."""
    supported = {code for code, _ in settings.LANGUAGES}
    if language not in supported:
        raise ApplicationError(
            gettext("Language %(language)r is not offered.") % {"language": language},
            code="unknown_language",
            supported=sorted(supported),
        )
    preference, _ = UserPreference.objects.update_or_create(
        user_id=user_id, defaults={"language": language}
    )
    return preference
