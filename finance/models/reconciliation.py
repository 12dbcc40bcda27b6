"""Reconciliation runs, what each checked, and the differences finance works through."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.core.models import TimeStampedModel
from erp.core.money import currency_field, money_field
from finance.choices import (
    DifferenceKind,
    DifferenceStatus,
    ReconciliationRunStatus,
    ReconciliationSubject,
)


class ReconciliationRun(TimeStampedModel):
    """One reconciliation over a period (optionally one store); every run is kept."""

    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    channel = models.ForeignKey(
        "connectors.Channel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
    )
    tolerance_minor_units = models.PositiveIntegerField(
        _("rounding tolerance (minor units)"), default=1
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ReconciliationRunStatus.choices,
        default=ReconciliationRunStatus.RUNNING,
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    items_total = models.PositiveIntegerField(_("items"), default=0)
    items_matched = models.PositiveIntegerField(_("matched"), default=0)
    differences_found = models.PositiveIntegerField(_("differences"), default=0)
    # {difference kind: count}, the run's summary as finance reads it.
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")

    def __str__(self) -> str:
        return f"Reconciliation {self.date_from}…{self.date_to} #{self.pk}"


class ReconciliationDifference(TimeStampedModel):
    """One difference, tracked across runs by what it concerns: note, resolution, history.

    A later run that finds it again updates it (a resolved one stays resolved); a run
    that checks its subject and no longer finds it marks it gone.
    """

    # "<kind>:<subject>:<id>", the identity that makes re-runs find the same row.
    key = models.CharField(_("key"), max_length=100, unique=True)
    subject_key = models.CharField(_("subject"), max_length=60, db_index=True)
    kind = models.CharField(
        _("difference"), max_length=40, choices=DifferenceKind.choices
    )
    subject = models.CharField(
        _("concerns"), max_length=20, choices=ReconciliationSubject.choices
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    payout_line = models.ForeignKey(
        "finance.PayoutLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payout line"),
    )
    refund = models.ForeignKey(
        "finance.Refund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refund"),
    )
    currency = currency_field(verbose_name=_("currency"), blank=True)
    expected = money_field(verbose_name=_("expected"), null=True, blank=True)
    actual = money_field(verbose_name=_("found"), null=True, blank=True)
    message = models.TextField(_("what is wrong"))
    # {"template", "params"} of message, so each reader sees it in their language.
    message_phrase = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=DifferenceStatus.choices,
        default=DifferenceStatus.OPEN,
    )
    # [{"at", "by", "text", "action"}], append-only: the history of the difference.
    notes = models.JSONField(_("notes"), default=list, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    first_run = models.ForeignKey(
        ReconciliationRun,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("first found by"),
    )
    last_run = models.ForeignKey(
        ReconciliationRun,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("last checked by"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("reconciliation difference")
        verbose_name_plural = _("reconciliation differences")
        indexes = [
            models.Index(fields=["status", "kind"], name="recondiff_status_kind_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject_key}"


class ReconciliationItem(models.Model):
    """One thing a run checked (an order, a payout line, a refund) and how it ended."""

    run = models.ForeignKey(
        ReconciliationRun,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("run"),
    )
    subject = models.CharField(
        _("concerns"), max_length=20, choices=ReconciliationSubject.choices
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    payment = models.ForeignKey(
        "finance.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment"),
    )
    payout_line = models.ForeignKey(
        "finance.PayoutLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payout line"),
    )
    refund = models.ForeignKey(
        "finance.Refund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refund"),
    )
    is_matched = models.BooleanField(_("matched"))
    difference = models.ForeignKey(
        ReconciliationDifference,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("difference"),
    )
    difference_kind = models.CharField(
        _("difference"), max_length=40, choices=DifferenceKind.choices, blank=True
    )
    message = models.TextField(_("detail"), blank=True)

    class Meta:
        ordering = ["run_id", "pk"]
        verbose_name = _("reconciliation item")
        verbose_name_plural = _("reconciliation items")
        indexes = [
            models.Index(fields=["run", "is_matched"], name="reconitem_run_matched_idx")
        ]

    def __str__(self) -> str:
        return (
            f"{self.subject} ({'matched' if self.is_matched else self.difference_kind})"
        )
