"""Carriers, their services and rate cards, shipping rules, shipments and tracking."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedJSONField

from erp.core.models import TimeStampedModel
from erp.core.money import currency_field, money_field, quantize
from erp.core.text import Phrase, phrase_render, text_say_again
from logistics.choices import (
    CarrierKind,
    Incoterm,
    LabelFormat,
    RateCardPricing,
    RateQuoteStatus,
    ShipmentStatus,
    TrackingStatus,
    WebhookDeliveryStatus,
)


def mask_secret(value: object) -> str:
    """Show only the last four characters of a secret, enough to tell two apart."""
    text = str(value)
    if len(text) <= 8:
        return "•" * len(text)
    return f"{'•' * 8}{text[-4:]}"


class CarrierAccount(TimeStampedModel):
    """One account with a carrier (API credentials), or a rate-card carrier of our own."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    carrier = models.CharField(_("carrier"), max_length=20, choices=CarrierKind.choices)
    # Encrypted at rest (Fernet, key derived from SECRET_KEY + FIELD_ENCRYPTION_SALT);
    # shown back only masked.
    credentials = EncryptedJSONField(_("credentials"), default=dict, blank=True)
    is_test_mode = models.BooleanField(
        _("test (sandbox) mode"),
        default=True,
        help_text=_("Use the carrier's sandbox instead of live, billed labels."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    api_base_url = models.URLField(
        _("API address override"),
        blank=True,
        help_text=_(
            "Leave empty for the carrier's own sandbox/live host; set it to send the "
            "calls through a proxy or to a local fake carrier."
        ),
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        _("quote timeout (s)"),
        default=10,
        help_text=_("A carrier slower than this is left out of the quote round."),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=100,
        help_text=_("Lower wins when two quotes cost the same and are equally fast."),
    )
    origin_countries = models.JSONField(
        _("ships from"),
        default=list,
        blank=True,
        help_text=_('Countries parcels may leave from, e.g. ["US"]; empty = any.'),
    )
    tracking_url_template = models.CharField(
        _("tracking page"),
        max_length=300,
        blank=True,
        help_text=_(
            "Customer tracking page with {tracking_number}; empty = carrier's."
        ),
    )

    class Meta:
        ordering = ["priority", "code"]
        verbose_name = _("carrier account")
        verbose_name_plural = _("carrier accounts")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_carrier_display()})"

    def credentials_masked(self) -> dict[str, str]:
        return {
            key: mask_secret(value) for key, value in (self.credentials or {}).items()
        }

    def ships_from(self, country: str) -> bool:
        return not self.origin_countries or country.upper() in {
            str(c).upper() for c in self.origin_countries
        }


class RateCard(TimeStampedModel):
    """A price list of our own (negotiated or for carriers without an API), by zone."""

    name = models.CharField(_("name"), max_length=200)
    currency = currency_field(verbose_name=_("currency"))
    pricing = models.CharField(
        _("pricing"),
        max_length=20,
        choices=RateCardPricing.choices,
        default=RateCardPricing.BRACKETS,
    )
    fuel_surcharge_percent = models.DecimalField(
        _("fuel surcharge %"), max_digits=6, decimal_places=3, default=0
    )
    dim_divisor = models.PositiveIntegerField(
        _("dimensional-weight divisor (cm³/kg)"),
        default=0,
        help_text=_("e.g. 5000 or 6000; 0 charges actual weight only."),
    )
    rounding_step_grams = models.PositiveIntegerField(
        _("round weight up to (g)"),
        default=1,
        help_text=_("Chargeable weight is rounded up to a multiple of this."),
    )
    min_chargeable_grams = models.PositiveIntegerField(
        _("minimum chargeable weight (g)"), default=0
    )
    ddp_duty_percent = models.DecimalField(
        _("DDP duties and taxes %"),
        max_digits=6,
        decimal_places=3,
        default=0,
        help_text=_(
            "What a DDP (tax-included) line charges for duties and taxes, as a "
            "percentage of the declared value; 0 = the line does not do DDP pricing."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("rate card")
        verbose_name_plural = _("rate cards")
        constraints = [
            models.CheckConstraint(
                condition=Q(fuel_surcharge_percent__gte=0),
                name="ratecard_fuel_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(rounding_step_grams__gte=1),
                name="ratecard_rounding_step_gte_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class RateCardZone(models.Model):
    """A group of destinations priced alike on one rate card."""

    rate_card = models.ForeignKey(
        RateCard,
        verbose_name=_("rate card"),
        on_delete=models.CASCADE,
        related_name="zones",
    )
    code = models.CharField(_("zone"), max_length=50)
    countries = models.JSONField(
        _("destinations"),
        default=list,
        help_text=_('Countries ("US") or regions ("US-CA"); a region beats a country.'),
    )
    transit_days_min = models.PositiveSmallIntegerField(
        _("transit days (min)"), null=True, blank=True
    )
    transit_days_max = models.PositiveSmallIntegerField(
        _("transit days (max)"), null=True, blank=True
    )

    class Meta:
        ordering = ["rate_card_id", "code"]
        verbose_name = _("rate card zone")
        verbose_name_plural = _("rate card zones")
        constraints = [
            models.UniqueConstraint(
                fields=["rate_card", "code"], name="ratecardzone_unique_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rate_card_id}/{self.code}"


class RateCardRate(models.Model):
    """One weight bracket of a zone: (weight_from, weight_to] grams and how it is priced.

    price = flat + per_kg × kg + (first + ⌈(w − first)/step⌉ × step price), then the
    card's fuel surcharge on that freight, plus a per-parcel registration fee.
    """

    zone = models.ForeignKey(
        RateCardZone,
        verbose_name=_("zone"),
        on_delete=models.CASCADE,
        related_name="rates",
    )
    weight_from_grams = models.PositiveIntegerField(_("above (g)"), default=0)
    weight_to_grams = models.PositiveIntegerField(_("up to (g)"))
    flat_price = money_field(verbose_name=_("flat price"), default=0)
    per_kg_price = money_field(verbose_name=_("price per kg"), default=0)
    first_weight_grams = models.PositiveIntegerField(_("first weight (g)"), default=0)
    first_weight_price = money_field(verbose_name=_("first weight price"), default=0)
    additional_step_grams = models.PositiveIntegerField(
        _("additional weight step (g)"), default=0
    )
    additional_step_price = money_field(
        verbose_name=_("price per additional step"), default=0
    )
    registration_fee = money_field(
        verbose_name=_("registration fee per parcel"), default=0
    )

    class Meta:
        ordering = ["zone_id", "weight_to_grams"]
        verbose_name = _("rate card price")
        verbose_name_plural = _("rate card prices")
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_to_grams__gt=models.F("weight_from_grams")),
                name="ratecardrate_bracket_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.zone_id}: {self.weight_from_grams}-{self.weight_to_grams} g"


class CarrierService(TimeStampedModel):
    """A service of one carrier account (UPS Standard, YunExpress Global Direct...)."""

    account = models.ForeignKey(
        CarrierAccount,
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("carrier account"),
    )
    code = models.CharField(
        _("service code"),
        max_length=100,
        help_text=_("karrio's service name for API carriers, e.g. ups_standard."),
    )
    name = models.CharField(_("name"), max_length=200)
    transit_days_min = models.PositiveSmallIntegerField(
        _("transit days (min)"), null=True, blank=True
    )
    transit_days_max = models.PositiveSmallIntegerField(
        _("transit days (max)"), null=True, blank=True
    )
    max_weight_grams = models.PositiveIntegerField(
        _("max weight (g)"), null=True, blank=True
    )
    max_length_mm = models.PositiveIntegerField(
        _("max longest side (mm)"), null=True, blank=True
    )
    max_girth_mm = models.PositiveIntegerField(
        _("max length + girth (mm)"), null=True, blank=True
    )
    is_domestic = models.BooleanField(_("domestic"), default=True)
    is_international = models.BooleanField(_("international"), default=True)
    is_economy = models.BooleanField(
        _("economy"),
        default=False,
        help_text=_("Quotes without a transit time still count against a promise."),
    )
    rate_card = models.ForeignKey(
        RateCard,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        verbose_name=_("rate card"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["account_id", "code"]
        verbose_name = _("carrier service")
        verbose_name_plural = _("carrier services")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "code"], name="carrierservice_unique_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account.code}: {self.name}"


class ShippingRule(TimeStampedModel):
    """An ops rule (物流规则): when its conditions hold, these services are allowed.

    Rules are read in position order and the first match decides; empty conditions
    match anything.
    """

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("order of evaluation"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    destinations = models.JSONField(
        _("destinations"),
        default=list,
        blank=True,
        help_text=_('Countries ("US") or regions ("US-CA"); empty = anywhere.'),
    )
    min_weight_grams = models.PositiveIntegerField(
        _("from weight (g)"), null=True, blank=True
    )
    max_weight_grams = models.PositiveIntegerField(
        _("up to weight (g)"), null=True, blank=True
    )
    min_order_value = money_field(
        verbose_name=_("order value from"), null=True, blank=True
    )
    max_order_value = money_field(
        verbose_name=_("order value up to"), null=True, blank=True
    )
    order_value_currency = currency_field(
        verbose_name=_("order value currency"), blank=True
    )
    sku_tags = models.JSONField(
        _("SKU tags"),
        default=list,
        blank=True,
        help_text=_(
            'Matches when the parcel holds any of these tags, e.g. ["battery"].'
        ),
    )
    channels = models.ManyToManyField(
        "connectors.Channel",
        blank=True,
        related_name="+",
        verbose_name=_("only for stores"),
    )
    warehouses = models.ManyToManyField(
        "inventory.Warehouse",
        blank=True,
        related_name="+",
        verbose_name=_("only from warehouses"),
    )
    allowed_services = models.ManyToManyField(
        CarrierService,
        blank=True,
        related_name="allowed_by_rules",
        verbose_name=_("allowed services"),
        help_text=_("Empty = every active service."),
    )
    preferred_services = models.ManyToManyField(
        CarrierService,
        blank=True,
        related_name="preferred_by_rules",
        verbose_name=_("preferred services"),
        help_text=_("Chosen (cheapest first) whenever one of them qualifies."),
    )
    max_transit_days = models.PositiveSmallIntegerField(
        _("delivery promise (days)"),
        null=True,
        blank=True,
        help_text=_("Quotes slower than this are dropped."),
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("shipping rule")
        verbose_name_plural = _("shipping rules")

    def __str__(self) -> str:
        return self.name


class Shipment(TimeStampedModel):
    """What leaves one warehouse for one order: parcels, the chosen service, the label."""

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="shipments",
        verbose_name=_("order"),
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        related_name="shipments",
        verbose_name=_("ships from"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ShipmentStatus.choices,
        default=ShipmentStatus.DRAFT,
    )
    service = models.ForeignKey(
        CarrierService,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
        verbose_name=_("service"),
    )
    chosen_quote = models.ForeignKey(
        "RateQuote",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("chosen quote"),
    )
    selection_reason = models.TextField(_("why this service"), blank=True)
    ship_from = models.JSONField(_("ship from"), default=dict)
    ship_to = models.JSONField(_("ship to"), default=dict)
    channel_id_snapshot = models.BigIntegerField(_("store id"), null=True, blank=True)
    order_value = money_field(verbose_name=_("order value"), default=0)
    currency = currency_field(
        verbose_name=_("compare quotes in"),
        help_text=_("Quotes are converted to this currency before comparing."),
    )
    promise_days = models.PositiveSmallIntegerField(
        _("delivery promise (days)"), null=True, blank=True
    )
    sku_tags = models.JSONField(_("SKU tags"), default=list, blank=True)
    incoterm = models.CharField(
        _("incoterm"), max_length=3, choices=Incoterm.choices, default=Incoterm.DAP
    )
    promise_note = models.CharField(_("delivery promise"), max_length=300, blank=True)
    packaging_grams = models.PositiveIntegerField(
        _("packaging per parcel (g)"),
        default=0,
        help_text=_("Added to every parcel when the goods are split into several."),
    )
    duty_amount = money_field(
        verbose_name=_("duties and taxes (we pay)"), null=True, blank=True
    )
    duty_currency = currency_field(verbose_name=_("duty currency"), blank=True)
    # Stock reservations this shipment takes away; orders hands them to inventory
    # when the shipment is confirmed.
    allocation_ids = models.JSONField(_("allocations"), default=list, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    tracking_number = models.CharField(
        _("tracking number"), max_length=100, blank=True, db_index=True
    )
    carrier_shipment_id = models.CharField(
        _("carrier shipment id"), max_length=100, blank=True
    )
    tracking_url = models.URLField(_("tracking page"), max_length=500, blank=True)
    label_file = models.FileField(
        _("label"), upload_to="labels/%Y/%m/", blank=True, max_length=255
    )
    label_format = models.CharField(
        _("label format"), max_length=3, choices=LabelFormat.choices, blank=True
    )
    label_cost = money_field(verbose_name=_("label cost"), null=True, blank=True)
    label_currency = currency_field(verbose_name=_("label currency"), blank=True)
    tracking_status = models.CharField(
        _("tracking status"),
        max_length=30,
        choices=TrackingStatus.choices,
        blank=True,
    )
    label_purchased_at = models.DateTimeField(_("label bought at"), null=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    last_tracked_at = models.DateTimeField(_("last tracked at"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)
    # The msgid and values behind selection_reason and error, so a page says them in
    # its reader's language; an entry counts only while its English matches the column.
    phrases = models.JSONField(_("texts to translate"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        indexes = [
            models.Index(fields=["status", "created_at"], name="shipment_status_idx"),
            models.Index(fields=["order"], name="shipment_order_idx"),
        ]

    def __str__(self) -> str:
        return f"S{self.pk} {self.tracking_number or self.get_status_display()}"

    @property
    def carrier_account(self) -> CarrierAccount | None:
        return self.service.account if self.service_id and self.service else None

    def text_set(self, name: str, text: str) -> None:
        """Store selection_reason or error, keeping a Phrase's msgid and values."""
        setattr(self, name, str(text))
        phrases = {k: v for k, v in (self.phrases or {}).items() if k != name}
        if isinstance(text, Phrase):
            phrases[name] = {**text.as_dict(), "text": str(text)}
        self.phrases = phrases

    def said(self, name: str) -> str:
        """selection_reason or error in the active language."""
        text = getattr(self, name)
        entry = (self.phrases or {}).get(name) or {}
        if entry.get("template") and entry.get("text") == text:
            return phrase_render(entry, fallback_key="text")
        return text_say_again(text)


class Package(models.Model):
    """One parcel of a shipment: weight with packaging, and outer dimensions."""

    shipment = models.ForeignKey(
        Shipment,
        verbose_name=_("shipment"),
        on_delete=models.CASCADE,
        related_name="packages",
    )
    weight_grams = models.PositiveIntegerField(_("weight (g)"))
    length_mm = models.PositiveIntegerField(_("length (mm)"), default=0)
    width_mm = models.PositiveIntegerField(_("width (mm)"), default=0)
    height_mm = models.PositiveIntegerField(_("height (mm)"), default=0)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)

    class Meta:
        ordering = ["shipment_id", "pk"]
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_grams__gt=0), name="package_weight_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weight_grams} g"


class ShipmentItem(models.Model):
    """One SKU line packed in a shipment, for packing slips and pick lists."""

    shipment = models.ForeignKey(
        Shipment,
        verbose_name=_("shipment"),
        on_delete=models.CASCADE,
        related_name="items",
    )
    sku = models.CharField(_("SKU"), max_length=100)
    title = models.CharField(_("title"), max_length=255, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    barcode = models.CharField(_("barcode"), max_length=64, blank=True)
    unit_weight_grams = models.PositiveIntegerField(_("unit weight (g)"), default=0)
    length_mm = models.PositiveIntegerField(_("length (mm)"), default=0)
    width_mm = models.PositiveIntegerField(_("width (mm)"), default=0)
    height_mm = models.PositiveIntegerField(_("height (mm)"), default=0)

    class Meta:
        ordering = ["shipment_id", "sku", "pk"]
        verbose_name = _("shipment item")
        verbose_name_plural = _("shipment items")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class CustomsItem(models.Model):
    """One customs declaration line of an international shipment."""

    shipment = models.ForeignKey(
        Shipment,
        verbose_name=_("shipment"),
        on_delete=models.CASCADE,
        related_name="customs_items",
    )
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=255)
    hs_code = models.CharField(_("HS code"), max_length=16, blank=True)
    origin_country = models.CharField(_("country of origin"), max_length=2)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_value = money_field(verbose_name=_("unit value"))
    currency = currency_field(verbose_name=_("currency"))
    unit_weight_grams = models.PositiveIntegerField(_("unit weight (g)"), default=0)

    class Meta:
        ordering = ["shipment_id", "pk"]
        verbose_name = _("customs item")
        verbose_name_plural = _("customs items")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.description}"


class RateQuote(models.Model):
    """One quote from one service for one shipment, kept whether chosen or not."""

    shipment = models.ForeignKey(
        Shipment,
        verbose_name=_("shipment"),
        on_delete=models.CASCADE,
        related_name="quotes",
    )
    service = models.ForeignKey(
        CarrierService,
        verbose_name=_("service"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    account = models.ForeignKey(
        CarrierAccount,
        verbose_name=_("carrier account"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    carrier = models.CharField(_("carrier"), max_length=20)
    service_code = models.CharField(_("service code"), max_length=100, blank=True)
    service_name = models.CharField(_("service"), max_length=200, blank=True)
    amount = money_field(verbose_name=_("price"), null=True, blank=True)
    currency = currency_field(verbose_name=_("currency"), blank=True)
    compared_amount = money_field(verbose_name=_("compared as"), null=True, blank=True)
    compared_currency = currency_field(verbose_name=_("compared in"), blank=True)
    transit_days = models.PositiveSmallIntegerField(
        _("transit days"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RateQuoteStatus.choices
    )
    reason = models.CharField(_("why"), max_length=500, blank=True)
    parcel_count = models.PositiveSmallIntegerField(_("parcels"), default=1)
    parcels = models.JSONField(
        _("parcels quoted"),
        default=list,
        blank=True,
        help_text=_("The parcels this price is for, after splitting to the limits."),
    )
    duty_amount = money_field(verbose_name=_("duties and taxes"), null=True, blank=True)
    raw = models.JSONField(_("carrier data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["shipment_id", "compared_amount", "pk"]
        verbose_name = _("rate quote")
        verbose_name_plural = _("rate quotes")

    def __str__(self) -> str:
        price = (
            f"{quantize(self.amount, self.currency)} {self.currency}"
            if self.amount is not None
            else "—"
        )
        return f"{self.carrier}/{self.service_code}: {price} ({self.status})"


class TrackingEvent(models.Model):
    """One carrier scan of a shipment, with its status in our one status set."""

    shipment = models.ForeignKey(
        Shipment,
        verbose_name=_("shipment"),
        on_delete=models.CASCADE,
        related_name="tracking_events",
    )
    occurred_at = models.DateTimeField(_("at"))
    status = models.CharField(
        _("status"), max_length=30, choices=TrackingStatus.choices
    )
    carrier_code = models.CharField(_("carrier code"), max_length=50, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    location = models.CharField(_("location"), max_length=255, blank=True)
    raw = models.JSONField(_("carrier data"), default=dict, blank=True)
    created_at = models.DateTimeField(
        _("recorded at"), default=timezone.now, editable=False
    )

    class Meta:
        ordering = ["shipment_id", "-occurred_at", "-pk"]
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        constraints = [
            # A poll sees every earlier scan again; the same scan is stored once.
            models.UniqueConstraint(
                fields=["shipment", "occurred_at", "carrier_code", "description"],
                name="trackingevent_unique_scan",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.occurred_at:%Y-%m-%d %H:%M} {self.status}"


class DeliveryPromise(TimeStampedModel):
    """A store's promise to its customers, e.g. delivered within 5 business days to the US.

    The cheapest service is only chosen among those fast enough to keep it; a region
    ("US-HI") beats its country, a country beats "anywhere" (no destinations).
    """

    channel = models.ForeignKey(
        "connectors.Channel",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("store"),
    )
    destinations = models.JSONField(
        _("destinations"),
        default=list,
        blank=True,
        help_text=_('Countries ("US") or regions ("US-HI"); empty = anywhere.'),
    )
    business_days = models.PositiveSmallIntegerField(
        _("delivered within (business days)")
    )
    handling_days = models.PositiveSmallIntegerField(
        _("handling (business days)"),
        default=0,
        help_text=_("Days before the parcel leaves; the carrier gets the rest."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["channel_id", "business_days", "pk"]
        verbose_name = _("delivery promise")
        verbose_name_plural = _("delivery promises")
        constraints = [
            models.CheckConstraint(
                condition=Q(business_days__gt=models.F("handling_days")),
                name="deliverypromise_days_gt_handling",
            ),
        ]

    def __str__(self) -> str:
        where = ", ".join(self.destinations) or "*"
        return f"{self.channel_id}: {self.business_days} d to {where}"

    @property
    def carrier_days(self) -> int:
        return self.business_days - self.handling_days


class IncotermRule(TimeStampedModel):
    """Who pays import duties and taxes: DDP (we, the shipper) or DAP (the customer).

    Read in position order, first match wins; cross-border shipments no rule covers
    go DAP.
    """

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("order of evaluation"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    channels = models.ManyToManyField(
        "connectors.Channel",
        blank=True,
        related_name="+",
        verbose_name=_("only for stores"),
    )
    destinations = models.JSONField(
        _("destinations"),
        default=list,
        blank=True,
        help_text=_('Countries ("GB") or regions; empty = anywhere.'),
    )
    incoterm = models.CharField(
        _("incoterm"), max_length=3, choices=Incoterm.choices, default=Incoterm.DDP
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("duty terms rule")
        verbose_name_plural = _("duty terms rules")

    def __str__(self) -> str:
        return f"{self.name} ({self.incoterm})"


class CarrierWebhookDelivery(TimeStampedModel):
    """One push from a carrier's tracking webhook, stored raw before it is acknowledged.

    Rejected (bad credential) and duplicate deliveries keep no body hash, so they never
    stop a genuine delivery from being stored.
    """

    account = models.ForeignKey(
        CarrierAccount,
        on_delete=models.PROTECT,
        related_name="webhook_deliveries",
        verbose_name=_("carrier account"),
    )
    carrier = models.CharField(_("carrier"), max_length=20)
    body = models.TextField(_("raw body"), blank=True)
    # NULL for rejected and duplicate deliveries (see the class docstring).
    body_sha256 = models.CharField(  # noqa: DJ001
        _("body hash"), max_length=64, null=True, blank=True
    )
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.RECEIVED,
    )
    error = models.TextField(_("error"), blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    shipment = models.ForeignKey(
        Shipment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_deliveries",
        verbose_name=_("shipment"),
    )
    events_recorded = models.PositiveSmallIntegerField(_("new scans"), default=0)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("carrier webhook delivery")
        verbose_name_plural = _("carrier webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "body_sha256"],
                name="carrierwebhook_unique_body",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "created_at"], name="carrierwebhook_status_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} #{self.pk} ({self.status})"
