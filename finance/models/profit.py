"""Cost figures of orders and each order's profit in the base currency."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erp.core.models import TimeStampedModel
from erp.core.money import currency_field, money_field
from finance.choices import CostKind, CustomerType, FxStatus


class OrderCost(TimeStampedModel):
    """A cost of one order handed in by orders or logistics: goods, shipping, other.

    Unique per (order, kind, reference), so recording the same lot or shipment again
    updates the figure instead of counting it twice.
    """

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="finance_costs",
        verbose_name=_("order"),
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order line"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CostKind.choices)
    amount = money_field(verbose_name=_("amount"))
    currency = currency_field(verbose_name=_("currency"))
    reference = models.CharField(
        _("reference"),
        max_length=200,
        help_text=_("Lot, shipment or invoice it comes from."),
    )
    incurred_on = models.DateField(_("incurred on"))

    class Meta:
        ordering = ["order_id", "kind", "pk"]
        verbose_name = _("order cost")
        verbose_name_plural = _("order costs")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind", "reference"], name="ordercost_unique_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} ({self.reference})"


class OrderProfit(models.Model):
    """One order's revenue, costs and profit in the base currency, kept current.

    Written only by finance.services.profit; the dimensions reports group by (store,
    country, month, customer type) are copied here so a report over a million orders
    reads one table.
    """

    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.CASCADE,
        related_name="profit",
        verbose_name=_("order"),
    )
    channel = models.ForeignKey(
        "connectors.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("store"),
    )
    placed_at = models.DateTimeField(_("placed at"))
    country = models.CharField(_("country"), max_length=2, blank=True)
    customer_type = models.CharField(
        _("customer"), max_length=10, choices=CustomerType.choices
    )
    order_currency = currency_field(verbose_name=_("order currency"))
    base_currency = currency_field(verbose_name=_("base currency"))
    revenue = money_field(verbose_name=_("revenue"), default=0)
    discounts = money_field(verbose_name=_("discounts"), default=0)
    refunds = money_field(verbose_name=_("refunds"), default=0)
    cogs = money_field(verbose_name=_("cost of goods"), default=0)
    shipping_cost = money_field(verbose_name=_("shipping cost"), default=0)
    fees = money_field(verbose_name=_("payment fees"), default=0)
    other_costs = money_field(verbose_name=_("other costs"), default=0)
    profit = money_field(verbose_name=_("profit"), default=0)
    fx_status = models.CharField(
        _("exchange rates"), max_length=10, choices=FxStatus.choices
    )
    fx_note = models.TextField(_("rates used"), blank=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        verbose_name = _("order profit")
        verbose_name_plural = _("order profits")
        indexes = [
            models.Index(fields=["placed_at"], name="orderprofit_placed_idx"),
            models.Index(
                fields=["country", "placed_at"], name="orderprofit_country_idx"
            ),
            models.Index(
                fields=["channel", "placed_at"], name="orderprofit_channel_idx"
            ),
            models.Index(fields=["fx_status"], name="orderprofit_fx_idx"),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id}: {self.profit} {self.base_currency}"


class OrderProfitTag(models.Model):
    """A customer or order tag of a profit row, so reports can group by tag."""

    profit = models.ForeignKey(
        OrderProfit,
        on_delete=models.CASCADE,
        related_name="tags",
        verbose_name=_("profit"),
    )
    tag = models.CharField(_("tag"), max_length=100)

    class Meta:
        ordering = ["profit_id", "tag"]
        verbose_name = _("profit tag")
        verbose_name_plural = _("profit tags")
        constraints = [
            models.UniqueConstraint(
                fields=["profit", "tag"], name="orderprofittag_unique"
            ),
        ]
        indexes = [models.Index(fields=["tag"], name="orderprofittag_tag_idx")]

    def __str__(self) -> str:
        return self.tag


class OrderLineProfit(models.Model):
    """One order line's revenue and its share of the order's costs, in the base currency.

    Cost of goods recorded for the line is its own; the rest (refunds, shipping cost,
    fees, other costs and unattributed goods) is shared by line revenue.
    """

    order_profit = models.ForeignKey(
        OrderProfit,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("order profit"),
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("order line"),
    )
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=255, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    revenue = money_field(verbose_name=_("revenue"), default=0)
    cogs = money_field(verbose_name=_("cost of goods"), default=0)
    other_costs = money_field(verbose_name=_("share of other costs"), default=0)
    profit = money_field(verbose_name=_("profit"), default=0)

    class Meta:
        ordering = ["order_profit_id", "pk"]
        verbose_name = _("order line profit")
        verbose_name_plural = _("order line profits")
        indexes = [models.Index(fields=["sku"], name="orderlineprofit_sku_idx")]

    def __str__(self) -> str:
        return f"{self.sku}: {self.profit}"
