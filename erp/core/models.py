"""Shared plumbing models: timestamps, the transactional outbox, worker heartbeats."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Abstract base that stamps creation and last update (UTC)."""

    created_at = models.DateTimeField(
        _("created at"), default=timezone.now, editable=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    DELIVERED = "delivered", _("Delivered")
    SUPERSEDED = "superseded", _("Superseded by a newer message")
    DEAD = "dead", _("Dead letter")


class OutboxMessageQuerySet(models.QuerySet["OutboxMessage"]):
    def due(self, *, now: object) -> OutboxMessageQuerySet:
        """Pending messages whose time has come, and claimed ones whose worker went away."""
        return self.filter(
            Q(status=OutboxStatus.PENDING, available_at__lte=now)
            | Q(status=OutboxStatus.PROCESSING, leased_until__lt=now)
        )


class OutboxMessage(models.Model):
    """One change the outside world must learn, written in the transaction that made it.

    Delivered by workers after commit; a message whose worker died is taken over when its
    lease runs out. Coalesced messages (same topic and key) collapse while still pending,
    so a burst of changes to one thing becomes one delivery of its latest state; once a
    worker claims one, the next change starts a new pending message.
    """

    topic = models.CharField(_("topic"), max_length=100)
    key = models.CharField(_("key"), max_length=200, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    is_coalesced = models.BooleanField(_("coalesced"), default=False)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=OutboxStatus.choices,
        default=OutboxStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveIntegerField(_("max attempts"))
    available_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(
        _("created at"), default=timezone.now, editable=False
    )
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["available_at"],
                condition=Q(status="pending"),
                name="outbox_pending_available_idx",
            ),
            models.Index(fields=["topic", "key"], name="outbox_topic_key_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "key"],
                condition=Q(status="pending", is_coalesced=True),
                name="outbox_one_pending_coalesced_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic}:{self.key} ({self.status})"


class WorkerHeartbeat(models.Model):
    """The last time a worker delivered a heartbeat through the outbox, per worker host."""

    hostname = models.CharField(_("worker"), max_length=200, unique=True)
    beat_at = models.DateTimeField(_("last heartbeat"))
    delivered_count = models.PositiveBigIntegerField(
        _("heartbeats delivered"), default=0
    )

    class Meta:
        ordering = ["-beat_at"]
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class UserPreference(models.Model):
    """Per-user settings that follow a person across browsers (the UI language first)."""

    user = models.OneToOneField(
        "auth.User",
        on_delete=models.CASCADE,
        related_name="preference",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=10, blank=True)

    class Meta:
        ordering = ["user_id"]
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language or '-'}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    PARTIAL = "partial", _("Finished with failures")
    FAILED = "failed", _("Failed")


class Job(TimeStampedModel):
    """A long job started from a page (store backfill, batch labels): progress and result.

    A worker runs it (erp.core.jobs); the page that follows it reloads until it ends and
    then lists every item's success or failure.
    """

    kind = models.CharField(_("kind"), max_length=60)
    # {"template", "params"} of a Phrase: the page says it in the reader's language.
    title = models.JSONField(_("title"), default=dict)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    total_count = models.PositiveIntegerField(_("items in all"), default=0)
    done_count = models.PositiveIntegerField(_("items done"), default=0)
    failed_count = models.PositiveIntegerField(_("items failed"), default=0)
    # Why the job stopped before the end, as a stored Phrase.
    error = models.JSONField(_("error"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        "auth.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [models.Index(fields=["kind", "status"], name="job_kind_status_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)


class JobItem(models.Model):
    """One item a job handled (a shipment, an order, a page): done or failed, and why."""

    job = models.ForeignKey(
        Job, on_delete=models.CASCADE, related_name="items", verbose_name=_("job")
    )
    label = models.CharField(_("item"), max_length=200)
    is_success = models.BooleanField(_("succeeded"))
    # A stored Phrase ({"template", "params"}) or {"message": text} when the text
    # comes from elsewhere already written.
    message = models.JSONField(_("message"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["job_id", "pk"]
        verbose_name = _("job item")
        verbose_name_plural = _("job items")

    def __str__(self) -> str:
        return f"{self.job_id}: {self.label} ({'ok' if self.is_success else 'failed'})"
