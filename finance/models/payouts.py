"""Payouts (settlement batches) from gateways, their lines, and the imports that brought them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.core.models import TimeStampedModel
from erp.core.money import currency_field, money_field
from finance.choices import PayoutImportStatus, PayoutLineKind, PayoutSource


class PayoutImport(TimeStampedModel):
    """One payout file or API hand-over: what it held, what it changed, every row error."""

    source = models.CharField(_("format"), max_length=30, choices=PayoutSource.choices)
    gateway = models.CharField(_("gateway"), max_length=50, blank=True)
    channel = models.ForeignKey(
        "connectors.Channel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
    )
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    sha256 = models.CharField(_("file hash"), max_length=64, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=PayoutImportStatus.choices
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    payouts_created = models.PositiveIntegerField(_("new payouts"), default=0)
    payouts_updated = models.PositiveIntegerField(_("changed payouts"), default=0)
    lines_created = models.PositiveIntegerField(_("new lines"), default=0)
    lines_updated = models.PositiveIntegerField(_("changed lines"), default=0)
    lines_unchanged = models.PositiveIntegerField(_("unchanged lines"), default=0)
    # [{"row", "column", "message"}], shown to finance as they are.
    errors = models.JSONField(_("errors"), default=list, blank=True)
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
        verbose_name = _("payout import")
        verbose_name_plural = _("payout imports")

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.file_name} ({self.status})"


class Payout(TimeStampedModel):
    """One settlement batch a gateway paid to the seller's bank, in one currency."""

    gateway = models.CharField(
        _("gateway"), max_length=50, help_text=_("Gateway key, e.g. paypal, stripe.")
    )
    external_id = models.CharField(_("gateway payout id"), max_length=100)
    channel = models.ForeignKey(
        "connectors.Channel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
    )
    source = models.CharField(
        _("arrived by"), max_length=30, choices=PayoutSource.choices
    )
    currency = currency_field(verbose_name=_("currency"))
    amount = money_field(verbose_name=_("net amount"))
    paid_on = models.DateField(_("paid on"))
    status = models.CharField(_("gateway status"), max_length=30, default="paid")
    last_import = models.ForeignKey(
        PayoutImport,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last import"),
    )

    class Meta:
        ordering = ["-paid_on", "-pk"]
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "external_id"],
                name="payout_unique_gateway_external_id",
            ),
        ]
        indexes = [models.Index(fields=["paid_on"], name="payout_paid_on_idx")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.external_id} ({self.amount} {self.currency})"


class PayoutLine(models.Model):
    """One balance movement a payout settled: a charge, refund, dispute, fee, adjustment..."""

    payout = models.ForeignKey(
        Payout, on_delete=models.CASCADE, related_name="lines", verbose_name=_("payout")
    )
    external_id = models.CharField(_("gateway line id"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=PayoutLineKind.choices)
    gross = money_field(verbose_name=_("gross"))
    fee = money_field(verbose_name=_("fee"), default=0)
    net = money_field(verbose_name=_("net"))
    currency = currency_field(verbose_name=_("currency"))
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    # The gateway's id of the payment or refund this line settles: how it finds the
    # payment (Payment.gateway_reference / external_id).
    transaction_reference = models.CharField(
        _("transaction reference"), max_length=100, blank=True, db_index=True
    )
    # For refunds and disputes: the gateway id of the original payment.
    related_reference = models.CharField(
        _("original payment reference"), max_length=100, blank=True
    )
    order_reference = models.CharField(
        _("order reference"), max_length=100, blank=True, db_index=True
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["payout_id", "pk"]
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        constraints = [
            models.UniqueConstraint(
                fields=["payout", "external_id"],
                name="payoutline_unique_payout_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.gross} {self.currency} ({self.external_id})"
