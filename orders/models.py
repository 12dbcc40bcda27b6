"""Orders from every store, their lines, the customers behind them and their history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erp.core.models import TimeStampedModel
from erp.core.money import currency_field, money_field
from orders.canonical import OrderSource, RiskLevel
from orders.choices import (
    FinancialStatus,
    FulfillmentStatus,
    OrderEventType,
    OrderStatus,
    ReviewAction,
    ReviewRuleKind,
)


class Customer(TimeStampedModel):
    """A buyer, matched across stores by normalised email or phone."""

    email = models.EmailField(_("email"), blank=True)
    email_normalized = models.CharField(
        _("normalised email"), max_length=254, blank=True
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_normalized = models.CharField(
        _("normalised phone"), max_length=40, blank=True
    )
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    is_blocked = models.BooleanField(
        _("blocked"),
        default=False,
        help_text=_("Orders from blocked customers are held."),
    )
    blocked_reason = models.CharField(_("why blocked"), max_length=255, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["email_normalized"], name="customer_email_norm_idx"),
            models.Index(fields=["phone_normalized"], name="customer_phone_norm_idx"),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.phone or f"#{self.pk}"


class Order(TimeStampedModel):
    """One store order, identified by (channel, external id), in the store's currency."""

    channel = models.ForeignKey(
        "connectors.Channel",
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("store"),
    )
    external_id = models.CharField(_("store order id"), max_length=64)
    number = models.CharField(_("order number"), max_length=64)
    status = models.CharField(
        _("status"), max_length=30, choices=OrderStatus.choices, default=OrderStatus.NEW
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("customer"),
    )
    email = models.EmailField(_("email"), blank=True)
    currency = currency_field(verbose_name=_("currency"))
    presentment_currency = currency_field(
        verbose_name=_("presentment currency"), blank=True
    )
    subtotal = money_field(verbose_name=_("subtotal"), default=0)
    discount_total = money_field(verbose_name=_("discounts"), default=0)
    shipping_total = money_field(verbose_name=_("shipping"), default=0)
    tax_total = money_field(verbose_name=_("tax"), default=0)
    total = money_field(verbose_name=_("total"), default=0)
    financial_status = models.CharField(
        _("payment status"),
        max_length=30,
        choices=FinancialStatus.choices,
        default=FinancialStatus.UNKNOWN,
    )
    fulfillment_status = models.CharField(
        _("fulfilment status"),
        max_length=20,
        choices=FulfillmentStatus.choices,
        default=FulfillmentStatus.UNFULFILLED,
    )
    shipping_address = models.JSONField(_("shipping address"), default=dict, blank=True)
    billing_address = models.JSONField(_("billing address"), default=dict, blank=True)
    shipping_lines = models.JSONField(_("shipping methods"), default=list, blank=True)
    risk_level = models.CharField(
        _("fraud risk"),
        max_length=10,
        choices=RiskLevel.choices,
        default=RiskLevel.UNKNOWN,
    )
    source = models.CharField(
        _("arrived by"),
        max_length=10,
        choices=OrderSource.choices,
        default=OrderSource.WEBHOOK,
    )
    note = models.TextField(_("note"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # Why the order is held, and what review flagged without holding: lists of
    # {"code", "message"} shown to ops as they are.
    hold_reasons = models.JSONField(_("hold reasons"), default=list, blank=True)
    # ",code1,code2," of hold_reasons, so lists can filter by reason on any database.
    hold_codes = models.CharField(
        _("hold codes"), max_length=255, blank=True, editable=False, db_index=True
    )
    review_flags = models.JSONField(_("review flags"), default=list, blank=True)
    # Set when staff approve by hand; review then leaves the order alone until the store
    # changes it.
    approved_override_at = models.DateTimeField(
        _("approved by hand at"), null=True, blank=True
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=255, blank=True)
    # Hash of the last canonical order applied: a replay with the same content is a no-op.
    content_hash = models.CharField(
        _("content hash"), max_length=64, blank=True, editable=False
    )
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    store_updated_at = models.DateTimeField(
        _("updated in store at"), null=True, blank=True
    )
    # Bumped on every change; ops edits send it back (If-Match) so two people
    # editing the same order cannot silently overwrite each other.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                name="order_unique_channel_external_id",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "placed_at"], name="order_status_placed_idx"
            ),
            models.Index(fields=["placed_at"], name="order_placed_idx"),
            models.Index(
                fields=["customer", "placed_at"], name="order_customer_placed_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def set_hold_reasons(self, reasons: list[dict[str, object]]) -> None:
        self.hold_reasons = reasons
        self.hold_codes = "".join(f",{r['code']}" for r in reasons) + (
            "," if reasons else ""
        )

    @property
    def country_code(self) -> str:
        return (self.shipping_address or {}).get("country_code", "")

    @property
    def is_historical(self) -> bool:
        """Imported history: counted in finance, never reserves stock or pushes back."""
        return self.source == OrderSource.IMPORT


class OrderLine(TimeStampedModel):
    """One line of an order: a SKU, a quantity and what the customer paid for it."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="lines", verbose_name=_("order")
    )
    external_id = models.CharField(_("store line id"), max_length=64)
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_lines",
        verbose_name=_("product"),
    )
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=255)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = money_field(verbose_name=_("unit price"))
    discount_total = money_field(verbose_name=_("discount"), default=0)
    tax_total = money_field(verbose_name=_("tax"), default=0)
    variant_title = models.CharField(_("variant"), max_length=255, blank=True)
    requires_shipping = models.BooleanField(_("ships"), default=True)
    # A line the store removed in an order edit keeps its row (history, allocations).
    is_removed = models.BooleanField(_("removed in the store"), default=False)

    class Meta:
        ordering = ["order_id", "pk"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "external_id"],
                name="orderline_unique_order_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku or self.title}"


class OrderEvent(models.Model):
    """Append-only history of an order: what happened, who did it, and the details."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="events", verbose_name=_("order")
    )
    type = models.CharField(_("event"), max_length=40, choices=OrderEventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    message = models.TextField(_("message"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["order_id", "created_at", "pk"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.get_type_display()}"


class ReviewRule(TimeStampedModel):
    """One review (审核) rule ops configure: what it checks, and hold or flag when it fires."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("checks"), max_length=40, choices=ReviewRuleKind.choices)
    action = models.CharField(
        _("when it fires"),
        max_length=10,
        choices=ReviewAction.choices,
        default=ReviewAction.HOLD,
    )
    position = models.PositiveIntegerField(_("order of evaluation"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    channels = models.ManyToManyField(
        "connectors.Channel",
        blank=True,
        related_name="+",
        verbose_name=_("only for stores"),
        help_text=_("Leave empty to apply to every store."),
    )
    parameters = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_(
            'fraud_risk: {"levels": ["high"]}; order_value_above: {"limits": {"USD": "500"}}; '
            'likely_duplicate: {"window_hours": 24}'
        ),
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("review rule")
        verbose_name_plural = _("review rules")

    def __str__(self) -> str:
        return self.name


class OrderImportFormat(models.TextChoices):
    """File layouts a history import understands."""

    SHOPIFY_CSV = "shopify_csv", _("Shopify: Export orders (CSV)")
    WOOCOMMERCE_CSV = (
        "woocommerce_csv",
        _("WooCommerce: Customer/Order/Coupon Export, one row per item (CSV)"),
    )
    GENERIC = "generic", _("Any CSV/XLSX with a column mapping (JSON)")


class OrderImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")


class OrderImport(TimeStampedModel):
    """One history-import job: the uploaded file, its progress, errors and month check."""

    file = models.FileField(_("file"), upload_to="imports/orders/%Y/%m/")
    file_format = models.CharField(
        _("format"), max_length=20, choices=OrderImportFormat.choices
    )
    mapping_file = models.FileField(
        _("column mapping"), upload_to="imports/orders/%Y/%m/", blank=True
    )
    # Times in WooCommerce exports and most spreadsheets carry no offset: they are the
    # store's local time.
    timezone = models.CharField(
        _("time zone of the file"), max_length=64, default="UTC"
    )
    channel = models.ForeignKey(
        "connectors.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("store"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=OrderImportStatus.choices,
        default=OrderImportStatus.QUEUED,
    )
    total_count = models.PositiveIntegerField(_("orders in the file"), default=0)
    done_count = models.PositiveIntegerField(_("orders done"), default=0)
    failed_count = models.PositiveIntegerField(_("orders failed"), default=0)
    created_count = models.PositiveIntegerField(_("new orders"), default=0)
    changed_count = models.PositiveIntegerField(_("changed orders"), default=0)
    error_report = models.FileField(
        _("error report"), upload_to="imports/orders/errors/%Y/%m/", blank=True
    )
    # CheckReport.as_dict(): per month, orders/gross/refunds in the file and in the
    # database, in the store's currency.
    check_report = models.JSONField(_("month check"), default=dict, blank=True)
    # Why the job stopped before the end (unreadable file, wrong columns...).
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # A worker that dies leaves the job "running"; a redelivered task may take it over
    # once the heartbeat is old, and the token tells the old worker it lost the job.
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    run_token = models.CharField(
        _("run token"), max_length=32, blank=True, editable=False
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")

    def __str__(self) -> str:
        return f"{self.get_file_format_display()} #{self.pk} ({self.status})"

    @property
    def unchanged_count(self) -> int:
        return max(
            self.done_count
            - self.failed_count
            - self.created_count
            - self.changed_count,
            0,
        )
