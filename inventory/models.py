"""The stock pool: SKUs, warehouses, lots, stock rows, allocations and the ledger."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erp.core.models import TimeStampedModel
from erp.core.money import currency_field, money_field
from inventory.choices import (
    AllocationStatus,
    BufferKind,
    StockAlertStatus,
    StockMovementType,
    TransferStatus,
    WarehouseKind,
)


def _base_currency() -> str:
    # A callable so settings are read when a row is created, not at import time.
    return settings.ERP_BASE_CURRENCY


def _today() -> datetime.date:
    return timezone.localdate()


class Product(TimeStampedModel):
    """One SKU we stock and sell, whatever store lists it."""

    sku = models.CharField(_("SKU"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)
    barcode = models.CharField(
        _("barcode"), max_length=64, blank=True, db_index=True, help_text="EAN/UPC/GTIN"
    )
    weight_grams = models.PositiveIntegerField(_("weight (g)"), null=True, blank=True)
    length_mm = models.PositiveIntegerField(_("length (mm)"), null=True, blank=True)
    width_mm = models.PositiveIntegerField(_("width (mm)"), null=True, blank=True)
    height_mm = models.PositiveIntegerField(_("height (mm)"), null=True, blank=True)
    hs_code = models.CharField(_("HS code"), max_length=16, blank=True)
    country_of_origin = models.CharField(
        _("country of origin"),
        max_length=2,
        blank=True,
        help_text=_("ISO 3166-1 alpha-2"),
    )
    unit_cost = money_field(verbose_name=_("standard unit cost"), default=0)
    cost_currency = currency_field(
        verbose_name=_("cost currency"), default=_base_currency
    )
    is_lot_tracked = models.BooleanField(
        _("lot-tracked"),
        default=False,
        help_text=_("Stock is kept per lot (batch) with an expiry date."),
    )
    shelf_life_days = models.PositiveIntegerField(
        _("shelf life (days)"),
        null=True,
        blank=True,
        help_text=_("Used to derive a lot's expiry date when none is given."),
    )
    is_bundle = models.BooleanField(
        _("bundle / kit"),
        default=False,
        help_text=_("Has no stock of its own; allocated as its components."),
    )

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=~Q(is_bundle=True, is_lot_tracked=True),
                name="product_bundle_not_lot_tracked",
                violation_error_message=_(
                    "A bundle has no stock of its own, so it cannot be lot-tracked."
                ),
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="product_unit_cost_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.sku


class BundleComponent(models.Model):
    """One component of a bundle (kit): `quantity` units of `component` per bundle."""

    bundle = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="components",
        verbose_name=_("bundle"),
    )
    component = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="in_bundles",
        verbose_name=_("component"),
    )
    quantity = models.PositiveIntegerField(
        _("quantity per bundle"), default=1, validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["bundle_id", "component_id"]
        verbose_name = _("bundle component")
        verbose_name_plural = _("bundle components")
        constraints = [
            models.UniqueConstraint(
                fields=["bundle", "component"], name="bundlecomponent_unique"
            ),
            models.CheckConstraint(
                condition=~Q(bundle=F("component")),
                name="bundlecomponent_not_itself",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="bundlecomponent_quantity_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bundle_id}: {self.quantity} × {self.component_id}"

    def clean(self) -> None:
        # Bundles of bundles are refused so expansion is one level and can never loop.
        if self.component_id and self.component.is_bundle:
            raise ValidationError(
                {"component": _("A bundle cannot contain another bundle.")}
            )
        if self.bundle_id and not self.bundle.is_bundle:
            raise ValidationError({"bundle": _("Mark the product as a bundle first.")})


class Warehouse(TimeStampedModel):
    """A place stock is kept and shipped from: our own, a 3PL or an overseas warehouse."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=WarehouseKind.choices,
        default=WarehouseKind.OWN,
    )
    country = models.CharField(
        _("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2")
    )
    address_line1 = models.CharField(_("address line 1"), max_length=255, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region / state"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=100,
        help_text=_("Lower ships first when several warehouses can fulfil an order."),
    )
    service_area = models.JSONField(
        _("serves"),
        default=list,
        blank=True,
        help_text=_(
            'Countries ("US") or regions ("US-CA") it ships to; empty means anywhere.'
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")

    def __str__(self) -> str:
        return f"{self.code} ({self.country})"

    def serves(self, *, country: str, region: str = "") -> bool:
        """Whether this warehouse ships to the destination (empty area = anywhere)."""
        if not self.service_area:
            return True
        codes = {str(code).upper() for code in self.service_area}
        country = country.upper()
        return country in codes or (
            bool(region) and f"{country}-{region.upper()}" in codes
        )

    def clean(self) -> None:
        if not isinstance(self.service_area, list) or not all(
            isinstance(code, str) and 2 <= len(code) <= 6 for code in self.service_area
        ):
            raise ValidationError(
                {"service_area": _('Give a list of codes such as ["US", "US-CA"].')}
            )


class Batch(TimeStampedModel):
    """A lot of one SKU: its code, expiry, when it arrived and what a unit cost."""

    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="batches",
    )
    code = models.CharField(_("lot code"), max_length=100)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    received_on = models.DateField(_("received on"), default=_today)
    unit_cost = money_field(verbose_name=_("unit cost"), null=True, blank=True)
    cost_currency = currency_field(verbose_name=_("cost currency"), blank=True)

    class Meta:
        ordering = ["product_id", "expires_on", "received_on", "pk"]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "code"], name="batch_unique_product_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} (exp. {self.expires_on or '—'})"

    def is_expired(self, *, today: datetime.date) -> bool:
        """A lot may not ship on or after its expiry date."""
        return self.expires_on is not None and self.expires_on <= today


class StockItemQuerySet(models.QuerySet["StockItem"]):
    def sellable(self, *, today: datetime.date) -> StockItemQuerySet:
        """Rows whose stock may be allocated: no lot, or a lot that has not expired."""
        return self.filter(
            Q(batch__isnull=True)
            | Q(batch__expires_on__isnull=True)
            | Q(batch__expires_on__gt=today)
        )


class StockItem(models.Model):
    """Stock of one SKU in one warehouse (and one lot, for lot-tracked SKUs).

    `quantity_allocated` is the part of `quantity_on_hand` promised to orders; the
    database refuses any row where it is negative or exceeds what is on hand.
    """

    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="stock_items",
    )
    warehouse = models.ForeignKey(
        Warehouse,
        verbose_name=_("warehouse"),
        on_delete=models.PROTECT,
        related_name="stock_items",
    )
    batch = models.ForeignKey(
        Batch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_items",
        verbose_name=_("lot"),
    )
    quantity_on_hand = models.IntegerField(_("on hand"), default=0)
    quantity_allocated = models.IntegerField(_("allocated"), default=0)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = StockItemQuerySet.as_manager()

    class Meta:
        ordering = ["product_id", "warehouse_id", "pk"]
        verbose_name = _("stock item")
        verbose_name_plural = _("stock items")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_allocated__gte=0),
                name="stockitem_allocated_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(quantity_allocated__lte=F("quantity_on_hand")),
                name="stockitem_allocated_lte_on_hand",
            ),
            models.UniqueConstraint(
                fields=["product", "warehouse"],
                condition=Q(batch__isnull=True),
                name="stockitem_unique_product_warehouse_no_lot",
            ),
            models.UniqueConstraint(
                fields=["product", "warehouse", "batch"],
                condition=Q(batch__isnull=False),
                name="stockitem_unique_product_warehouse_lot",
            ),
        ]
        indexes = [
            models.Index(fields=["warehouse", "product"], name="stockitem_wh_prod_idx")
        ]

    def __str__(self) -> str:
        lot = f" lot {self.batch_id}" if self.batch_id else ""
        return f"{self.product_id}@{self.warehouse_id}{lot}"

    @property
    def quantity_available(self) -> int:
        return self.quantity_on_hand - self.quantity_allocated


class Transfer(TimeStampedModel):
    """Stock moving between two warehouses; while in transit it is in neither."""

    source = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="transfers_out",
        verbose_name=_("from"),
    )
    destination = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="transfers_in",
        verbose_name=_("to"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=TransferStatus.choices,
        default=TransferStatus.IN_TRANSIT,
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    completed_at = models.DateTimeField(_("received / cancelled at"), null=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=F("destination")),
                name="transfer_source_not_destination",
            ),
        ]

    def __str__(self) -> str:
        return f"T{self.pk} {self.source_id}→{self.destination_id} ({self.status})"


class TransferLine(models.Model):
    """One SKU (and lot) on a transfer."""

    transfer = models.ForeignKey(
        Transfer,
        verbose_name=_("transfer"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    batch = models.ForeignKey(
        Batch,
        verbose_name=_("lot"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        ordering = ["transfer_id", "pk"]
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="transferline_quantity_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"


class Allocation(TimeStampedModel):
    """Units of one stock row reserved for an order line until shipped or released."""

    stock_item = models.ForeignKey(
        StockItem,
        verbose_name=_("stock item"),
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
        verbose_name=_("order line"),
    )
    bundle = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("as part of bundle"),
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    quantity_returned = models.PositiveIntegerField(_("returned"), default=0)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AllocationStatus.choices,
        default=AllocationStatus.ALLOCATED,
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="allocation_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(quantity_returned__lte=F("quantity")),
                name="allocation_returned_lte_quantity",
            ),
        ]
        indexes = [
            models.Index(fields=["reference"], name="allocation_reference_idx"),
            models.Index(fields=["status"], name="allocation_status_idx"),
        ]

    def __str__(self) -> str:
        return f"A{self.pk}: {self.quantity} of {self.stock_item_id} ({self.status})"


class StockMovementQuerySet(models.QuerySet["StockMovement"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("The stock ledger is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The stock ledger is append-only.")


class StockMovement(models.Model):
    """One line of the append-only stock ledger: a change to one stock row and why.

    Summing `quantity_on_hand_delta` (and `quantity_allocated_delta`) over a stock
    row's movements gives its current quantities; services write both in one
    transaction.
    """

    stock_item = models.ForeignKey(
        StockItem,
        verbose_name=_("stock item"),
        on_delete=models.PROTECT,
        related_name="movements",
    )
    type = models.CharField(_("type"), max_length=20, choices=StockMovementType.choices)
    quantity_on_hand_delta = models.IntegerField(_("on-hand change"))
    quantity_allocated_delta = models.IntegerField(_("allocated change"), default=0)
    quantity_on_hand_after = models.IntegerField(_("on hand after"))
    quantity_allocated_after = models.IntegerField(_("allocated after"))
    unit_cost = money_field(verbose_name=_("unit cost"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    allocation = models.ForeignKey(
        Allocation,
        verbose_name=_("allocation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements",
    )
    transfer = models.ForeignKey(
        Transfer,
        verbose_name=_("transfer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements",
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    objects = StockMovementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        indexes = [
            models.Index(fields=["type", "created_at"], name="movement_type_at_idx"),
            models.Index(fields=["reference"], name="movement_reference_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.quantity_on_hand_delta:+d} on {self.stock_item_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("The stock ledger is append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("The stock ledger is append-only.")


class SafetyStockRule(TimeStampedModel):
    """Minimum and reorder quantity of one SKU in one warehouse."""

    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="safety_stock_rules",
    )
    warehouse = models.ForeignKey(
        Warehouse,
        verbose_name=_("warehouse"),
        on_delete=models.CASCADE,
        related_name="safety_stock_rules",
    )
    minimum_quantity = models.PositiveIntegerField(
        _("minimum available"),
        help_text=_("An alert opens when available stock falls below this."),
    )
    reorder_quantity = models.PositiveIntegerField(
        _("reorder quantity"),
        default=0,
        help_text=_("The smallest quantity worth ordering (MOQ / case size)."),
    )
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time (days)"),
        default=14,
        help_text=_("Days of sales to cover when suggesting a reorder quantity."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["product_id", "warehouse_id"]
        verbose_name = _("safety stock rule")
        verbose_name_plural = _("safety stock rules")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"], name="safetystockrule_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} @ {self.warehouse}: min {self.minimum_quantity}"


class StockAlert(TimeStampedModel):
    """Available stock of a SKU in a warehouse fell below its minimum.

    Opens when it falls below, closes itself when stock recovers; at most one open
    alert per SKU and warehouse.
    """

    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="stock_alerts",
    )
    warehouse = models.ForeignKey(
        Warehouse,
        verbose_name=_("warehouse"),
        on_delete=models.CASCADE,
        related_name="stock_alerts",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=StockAlertStatus.choices,
        default=StockAlertStatus.OPEN,
    )
    quantity_available = models.IntegerField(_("available"))
    minimum_quantity = models.PositiveIntegerField(_("minimum"))
    suggested_reorder_quantity = models.PositiveIntegerField(_("suggested reorder"))
    recent_daily_sales = models.DecimalField(
        _("recent sales per day"), max_digits=12, decimal_places=2, default=0
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("stock alert")
        verbose_name_plural = _("stock alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"],
                condition=Q(status="open"),
                name="stockalert_one_open_per_product_warehouse",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} @ {self.warehouse}: {self.quantity_available} < {self.minimum_quantity}"


class ChannelStockPolicy(TimeStampedModel):
    """Which warehouses feed a store's stock levels, and how much is held back."""

    channel = models.OneToOneField(
        "connectors.Channel",
        on_delete=models.CASCADE,
        related_name="stock_policy",
        verbose_name=_("store"),
    )
    warehouses = models.ManyToManyField(
        Warehouse,
        related_name="channel_policies",
        blank=True,
        verbose_name=_("feeding warehouses"),
    )
    buffer_kind = models.CharField(
        _("buffer kind"),
        max_length=10,
        choices=BufferKind.choices,
        default=BufferKind.ABSOLUTE,
    )
    buffer_value = models.PositiveIntegerField(
        _("buffer"),
        default=0,
        validators=[MaxValueValidator(1_000_000)],
        help_text=_("Units (or percent) held back from what the store may sell."),
    )

    class Meta:
        ordering = ["channel_id"]
        verbose_name = _("store stock policy")
        verbose_name_plural = _("store stock policies")
        constraints = [
            models.CheckConstraint(
                condition=~Q(buffer_kind="percent") | Q(buffer_value__lte=100),
                name="channelstockpolicy_percent_lte_100",
                violation_error_message=_("A percent buffer is at most 100."),
            ),
        ]

    def __str__(self) -> str:
        return f"Stock policy of store {self.channel_id}"
