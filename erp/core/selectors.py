"""Reads of erp.core for the dashboard and health endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min
from django.utils import timezone

from erp.core.models import OutboxMessage, OutboxStatus, WorkerHeartbeat


@dataclass(frozen=True)
class OutboxHealth:
    """How delivery is going: backlog, dead letters, and whether a worker is alive."""

    pending: int
    processing: int
    dead: int
    oldest_pending_at: datetime | None
    last_heartbeat_at: datetime | None

    @property
    def oldest_pending_age_seconds(self) -> int | None:
        if self.oldest_pending_at is None:
            return None
        return int((timezone.now() - self.oldest_pending_at).total_seconds())

    @property
    def heartbeat_age_seconds(self) -> int | None:
        if self.last_heartbeat_at is None:
            return None
        return int((timezone.now() - self.last_heartbeat_at).total_seconds())


def outbox_health() -> OutboxHealth:
    """Counts by status in one query, plus the newest worker heartbeat."""
    by_status = {
        row["status"]: row
        for row in OutboxMessage.objects.filter(
            status__in=[
                OutboxStatus.PENDING,
                OutboxStatus.PROCESSING,
                OutboxStatus.DEAD,
            ]
        )
        .values("status")
        .annotate(n=Count("pk"), oldest=Min("created_at"))
        .order_by()
    }
    beat = (
        WorkerHeartbeat.objects.order_by("-beat_at")
        .values_list("beat_at", flat=True)
        .first()
    )
    pending = by_status.get(OutboxStatus.PENDING, {})
    return OutboxHealth(
        pending=pending.get("n", 0),
        processing=by_status.get(OutboxStatus.PROCESSING, {}).get("n", 0),
        dead=by_status.get(OutboxStatus.DEAD, {}).get("n", 0),
        oldest_pending_at=pending.get("oldest"),
        last_heartbeat_at=beat,
    )
