"""Stores we sell through and the state of syncing with them."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedJSONField

from erp.core.models import TimeStampedModel
from erp.core.money import currency_field


class ChannelKind(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    WOOCOMMERCE = "woocommerce", "WooCommerce"


def mask_secret(value: object) -> str:
    """Show only the last four characters of a secret, enough to tell two apart."""
    text = str(value)
    if len(text) <= 8:
        return "•" * len(text)
    return f"{'•' * 8}{text[-4:]}"


class Channel(TimeStampedModel):
    """One online store we sell through: a Shopify shop or a WooCommerce site."""

    kind = models.CharField(_("platform"), max_length=20, choices=ChannelKind.choices)
    code = models.SlugField(
        _("code"),
        max_length=50,
        unique=True,
        help_text=_("Short name used in URLs and commands, e.g. 'us-shop'."),
    )
    name = models.CharField(_("name"), max_length=200)
    currency = currency_field(
        verbose_name=_("store currency"),
        validators=[
            RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 code."))
        ],
    )
    shop_url = models.URLField(
        _("store address"),
        help_text=_(
            "https://<shop>.myshopify.com for Shopify, the site address for WooCommerce."
        ),
    )
    # Encrypted at rest (Fernet, key derived from SECRET_KEY + FIELD_ENCRYPTION_SALT);
    # shown back only masked.
    credentials = EncryptedJSONField(_("credentials"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Set when the store answers 401 (token revoked, app uninstalled): every sync and
    # push stops until someone reconnects the store, instead of retrying into a wall.
    requires_reauthorization = models.BooleanField(
        _("needs reconnecting"), default=False
    )
    auth_error = models.TextField(_("authorisation error"), blank=True)
    auth_failed_at = models.DateTimeField(
        _("authorisation failed at"), null=True, blank=True
    )
    poll_interval_minutes = models.PositiveIntegerField(
        _("poll every (minutes)"),
        default=5,
        help_text=_("How often orders changed in the store are fetched."),
    )
    # Shopify retries a failed webhook for up to 4 hours, and an order's updated_at can
    # reach its search index late; re-reading that window costs little because
    # unchanged orders are ignored by the ingest.
    sync_lookback_minutes = models.PositiveIntegerField(
        _("poll look-back (minutes)"),
        default=240,
        help_text=_("Each poll re-reads orders updated this long before the cursor."),
    )
    stock_location_id = models.CharField(
        _("stock location id"),
        max_length=100,
        blank=True,
        help_text=_(
            "The store's location whose available stock we set (Shopify location id)."
        ),
    )
    allow_split_shipments = models.BooleanField(
        _("allow split shipments"),
        default=False,
        help_text=_(
            "Ship one order from several warehouses when no single warehouse has every line."
        ),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("store")
        verbose_name_plural = _("stores")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def credentials_masked(self) -> dict[str, str]:
        return {
            key: mask_secret(value) for key, value in (self.credentials or {}).items()
        }


class WebhookReceiptStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSING = "processing", _("Processing")
    PROCESSED = "processed", _("Processed")
    DUPLICATE = "duplicate", _("Duplicate")
    FAILED = "failed", _("Failed")
    REJECTED = "rejected", _("Rejected (bad signature)")


class WebhookReceiptQuerySet(models.QuerySet["WebhookReceipt"]):
    def waiting(
        self, *, now: object, received_before: object
    ) -> WebhookReceiptQuerySet:
        """Receipts nobody is working on although they should be: lost tasks, dead workers.

        A received one whose retry wait (leased_until) has not passed is not yet due:
        left out, so a store outage's backlog cannot fill the sweep's batch.
        """
        return self.filter(
            Q(
                Q(leased_until__isnull=True) | Q(leased_until__lt=now),
                status=WebhookReceiptStatus.RECEIVED,
                created_at__lt=received_before,
            )
            | Q(status=WebhookReceiptStatus.PROCESSING, leased_until__lt=now)
        )


class WebhookReceipt(TimeStampedModel):
    """One webhook delivery from a store, stored before it is acknowledged.

    Unique per channel and delivery id, so a redelivery is a no-op. Rejected deliveries
    (bad signature) are kept for ops to see but never claim a delivery id, so a forged
    request cannot block the genuine one.
    """

    # No index of its own: the unique (channel, delivery id) and the indexes below
    # all start with the store, and every index costs each delivery's INSERT.
    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        related_name="webhook_receipts",
        verbose_name=_("store"),
        db_index=False,
    )
    topic = models.CharField(_("topic"), max_length=100)
    # NULL (not "") for rejected deliveries: NULLs never collide in the unique
    # constraint, so a forged request cannot take a genuine delivery's id.
    delivery_id = models.CharField(  # noqa: DJ001
        _("delivery id"), max_length=200, null=True, blank=True
    )
    business_key = models.CharField(_("business key"), max_length=200, blank=True)
    body = models.TextField(_("raw body"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=WebhookReceiptStatus.choices,
        default=WebhookReceiptStatus.RECEIVED,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    triggered_at = models.DateTimeField(
        _("triggered in store at"), null=True, blank=True
    )
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    leased_until = models.DateTimeField(_("worker lease until"), null=True, blank=True)

    objects = WebhookReceiptQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("webhook receipt")
        verbose_name_plural = _("webhook receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "delivery_id"],
                name="webhookreceipt_unique_channel_delivery",
            ),
        ]
        indexes = [
            models.Index(
                fields=["channel", "business_key"],
                name="webhookreceipt_bizkey_idx",
            ),
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status__in=["received", "processing"]),
                name="webhookreceipt_open_idx",
            ),
            models.Index(
                fields=["channel", "created_at"], name="webhookreceipt_recent_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk} ({self.status})"


class SyncKind(models.TextChoices):
    """What a cursor tracks; each kind has its own lease."""

    ORDERS = "orders", _("Orders")
    ORDERS_BACKFILL = "orders_backfill", _("Orders backfill")


class SyncCursor(models.Model):
    """How far a channel's poll has read, and who may move it (a lease, one sync at a time)."""

    channel = models.ForeignKey(
        Channel,
        on_delete=models.CASCADE,
        related_name="sync_cursors",
        verbose_name=_("store"),
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=SyncKind.choices, default=SyncKind.ORDERS
    )
    value = models.CharField(_("cursor"), max_length=200, blank=True)
    lease_token = models.UUIDField(_("lease token"), null=True, blank=True)
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    consecutive_failures = models.PositiveIntegerField(
        _("failures in a row"), default=0
    )

    class Meta:
        ordering = ["channel_id", "kind"]
        verbose_name = _("sync cursor")
        verbose_name_plural = _("sync cursors")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "kind"], name="synccursor_unique_channel_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.kind} @ {self.value or '—'}"


class SyncRunKind(models.TextChoices):
    POLL = "poll", _("Poll")
    BACKFILL = "backfill", _("Backfill")
    PUSH = "push", _("Push")


class SyncRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    PARTIAL = "partial", _("Finished with errors")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped (another sync was running)")


class SyncRun(models.Model):
    """What one poll, backfill or push did: counts, errors, and when."""

    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        related_name="sync_runs",
        verbose_name=_("store"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=SyncRunKind.choices)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=SyncRunStatus.choices,
        default=SyncRunStatus.RUNNING,
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    fetched = models.PositiveIntegerField(_("fetched"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        indexes = [
            models.Index(
                fields=["channel", "kind", "started_at"], name="syncrun_channel_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.channel_id} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ChannelListing(TimeStampedModel):
    """One of our products as a store lists it: its variant, inventory item and SKU there.

    Maps a store variant to our SKU when the store's SKU differs (or is empty), and
    keeps what we last set as its stock in the store and what the store last said,
    so a push knows its compare quantity and a hand edit in the store shows as drift.
    """

    channel = models.ForeignKey(
        Channel,
        on_delete=models.CASCADE,
        related_name="listings",
        verbose_name=_("store"),
    )
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.PROTECT,
        related_name="channel_listings",
        verbose_name=_("product"),
    )
    external_variant_id = models.CharField(_("store variant id"), max_length=64)
    external_inventory_item_id = models.CharField(
        _("store inventory item id"), max_length=64, blank=True
    )
    external_sku = models.CharField(_("SKU in the store"), max_length=100, blank=True)
    is_stock_synced = models.BooleanField(_("push stock"), default=True)
    pushed_quantity = models.IntegerField(_("last quantity set"), null=True, blank=True)
    pushed_at = models.DateTimeField(_("last set at"), null=True, blank=True)
    store_quantity = models.IntegerField(
        _("quantity in the store"), null=True, blank=True
    )
    store_quantity_at = models.DateTimeField(
        _("store quantity seen at"), null=True, blank=True
    )
    # With stock locations (ChannelLocation), what we last set at each one:
    # location gid → units. pushed_quantity then holds their sum.
    location_quantities = models.JSONField(
        _("last quantities set per location"), default=dict, blank=True
    )

    class Meta:
        ordering = ["channel_id", "pk"]
        verbose_name = _("store listing")
        verbose_name_plural = _("store listings")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_variant_id"],
                name="channellisting_unique_variant",
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "product"], name="channellisting_prod_idx"),
            models.Index(
                fields=["channel", "external_inventory_item_id"],
                name="channellisting_item_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.external_variant_id} → {self.product_id}"

    @property
    def known_store_quantity(self) -> int | None:
        """What the store holds as far as we know: the newer of our set and its report."""
        if self.store_quantity is not None and (
            self.pushed_at is None
            or (
                self.store_quantity_at is not None
                and self.store_quantity_at > self.pushed_at
            )
        ):
            return self.store_quantity
        return self.pushed_quantity

    def needs_push(self, quantity: int) -> bool:
        """Whether setting `quantity` would change what the store shows (or may show)."""
        return not (
            self.known_store_quantity == quantity and self.pushed_quantity == quantity
        )

    @property
    def has_drift(self) -> bool:
        """The store shows another quantity than we last set (edited by hand there)."""
        return (
            self.pushed_quantity is not None
            and self.store_quantity is not None
            and self.store_quantity != self.pushed_quantity
        )


class ExternalFulfillment(TimeStampedModel):
    """A shipment of ours as a fulfilment in the store: its id there and what it shows.

    Makes the push of a shipment idempotent (a retry finds it instead of fulfilling the
    same lines twice) and lets tracking updates reach the right fulfilment.
    """

    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        related_name="fulfillments",
        verbose_name=_("store"),
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="store_fulfillments",
        verbose_name=_("order"),
    )
    shipment = models.ForeignKey(
        "logistics.Shipment",
        on_delete=models.PROTECT,
        related_name="store_fulfillments",
        verbose_name=_("shipment"),
    )
    external_id = models.CharField(_("store fulfilment id"), max_length=64)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    tracking_company = models.CharField(
        _("tracking company"), max_length=100, blank=True
    )
    tracking_url = models.URLField(_("tracking URL"), max_length=500, blank=True)
    last_event_status = models.CharField(
        _("last status sent"), max_length=40, blank=True
    )

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("store fulfilment")
        verbose_name_plural = _("store fulfilments")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "shipment"], name="externalfulfillment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} (shipment {self.shipment_id})"


class ChannelLocation(TimeStampedModel):
    """A store location (Shopify location) and the warehouses whose stock it shows.

    A store with locations gets one quantity per location: what its warehouses may sell
    (minus the store's buffer). Without any, the store's single stock location shows
    all its feeding warehouses together.
    """

    channel = models.ForeignKey(
        Channel,
        on_delete=models.CASCADE,
        related_name="locations",
        verbose_name=_("store"),
    )
    external_location_id = models.CharField(
        _("store location id"),
        max_length=100,
        help_text=_("The location's id in the store (Shopify location id or gid)."),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    warehouses = models.ManyToManyField(
        "inventory.Warehouse",
        related_name="store_locations",
        blank=True,
        verbose_name=_("warehouses"),
        help_text=_("Their stock is what this location shows as available."),
    )

    class Meta:
        ordering = ["channel_id", "pk"]
        verbose_name = _("store location")
        verbose_name_plural = _("store locations")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_location_id"],
                name="channellocation_unique_location",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.external_location_id
