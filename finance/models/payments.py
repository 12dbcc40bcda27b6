"""Payment transactions and refunds of store orders, as the stores report them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erp.core.models import TimeStampedModel
from erp.core.money import currency_field, money_field
from finance.choices import PaymentKind


class Payment(TimeStampedModel):
    """One payment transaction of an order: gateway, kind, amount, fee and when."""

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("order"),
    )
    channel = models.ForeignKey(
        "connectors.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("store"),
    )
    external_id = models.CharField(_("store transaction id"), max_length=100)
    gateway = models.CharField(_("gateway"), max_length=100)
    # gateway_key(gateway): the name payouts of this gateway are imported under.
    gateway_key = models.CharField(_("gateway key"), max_length=50, db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PaymentKind.choices)
    succeeded = models.BooleanField(_("succeeded"), default=True)
    amount = money_field(verbose_name=_("amount"))
    currency = currency_field(verbose_name=_("currency"))
    # What the customer was charged in the currency they saw (Shopify presentment
    # money), when the store reports it; `amount` stays in the store's currency.
    presentment_amount = money_field(
        verbose_name=_("amount the customer paid"), null=True, blank=True
    )
    presentment_currency = currency_field(
        verbose_name=_("customer's currency"), blank=True
    )
    fee = money_field(verbose_name=_("gateway fee"), null=True, blank=True)
    fee_currency = currency_field(verbose_name=_("fee currency"), blank=True)
    # The gateway's own id (PayPal transaction id, Stripe charge id): payout lines
    # carry it, so it is how a payout line finds its payment.
    gateway_reference = models.CharField(
        _("gateway reference"), max_length=100, blank=True, db_index=True
    )
    parent_external_id = models.CharField(
        _("parent transaction id"), max_length=100, blank=True
    )
    processed_at = models.DateTimeField(_("processed at"))

    class Meta:
        ordering = ["order_id", "processed_at", "pk"]
        verbose_name = _("payment transaction")
        verbose_name_plural = _("payment transactions")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "gateway", "external_id"],
                name="payment_unique_order_gateway_external_id",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="payment_amount_gte_0"
            ),
        ]
        indexes = [
            models.Index(
                fields=["channel", "external_id"], name="payment_channel_ext_idx"
            ),
            models.Index(fields=["processed_at"], name="payment_processed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} ({self.gateway})"


class Refund(TimeStampedModel):
    """A refund made in the store: amount, when, and which lines went back (and restocked)."""

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="refunds",
        verbose_name=_("order"),
    )
    channel = models.ForeignKey(
        "connectors.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("store"),
    )
    external_id = models.CharField(_("store refund id"), max_length=100)
    amount = money_field(verbose_name=_("amount"))
    currency = currency_field(verbose_name=_("currency"))
    presentment_amount = money_field(
        verbose_name=_("amount the customer got back"), null=True, blank=True
    )
    presentment_currency = currency_field(
        verbose_name=_("customer's currency"), blank=True
    )
    refunded_at = models.DateTimeField(_("refunded at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["order_id", "refunded_at", "pk"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "external_id"], name="refund_unique_order_external_id"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="refund_amount_gte_0"
            ),
        ]
        indexes = [models.Index(fields=["refunded_at"], name="refund_refunded_idx")]

    def __str__(self) -> str:
        return f"refund {self.external_id}: {self.amount} {self.currency}"


class RefundLine(models.Model):
    """One order line in a refund: how many units, and whether they go back to stock."""

    refund = models.ForeignKey(
        Refund, on_delete=models.CASCADE, related_name="lines", verbose_name=_("refund")
    )
    line_external_id = models.CharField(_("store line id"), max_length=64)
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order line"),
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    restock = models.BooleanField(_("back to stock"), default=False)

    class Meta:
        ordering = ["refund_id", "pk"]
        verbose_name = _("refund line")
        verbose_name_plural = _("refund lines")
        constraints = [
            models.UniqueConstraint(
                fields=["refund", "line_external_id"], name="refundline_unique_line"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.line_external_id}"
