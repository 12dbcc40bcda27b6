"""Enumerations of logistics shared by models, services, API and admin."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CarrierKind(models.TextChoices):
    UPS = "ups", "UPS"
    FEDEX = "fedex", "FedEx"
    DHL_EXPRESS = "dhl_express", "DHL Express"
    USPS = "usps", "USPS"
    RATE_CARD = "rate_card", _("Rate card (offline / negotiated)")


class RateCardPricing(models.TextChoices):
    """How a rate card row prices a parcel; one card may mix columns, see RateCardRate."""

    BRACKETS = "brackets", _("Weight brackets")
    PER_KG = "per_kg", _("Per kg")
    FIRST_ADDITIONAL = "first_additional", _("First + additional weight")


class ShipmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RATED = "rated", _("Service chosen")
    # A label purchase is under way; a second purchase of the same shipment is refused.
    BUYING = "buying", _("Buying label")
    LABEL_PURCHASED = "label_purchased", _("Label bought")
    SHIPPED = "shipped", _("Shipped")
    IN_TRANSIT = "in_transit", _("In transit")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNED = "returned", _("Returned")
    VOIDED = "voided", _("Voided")


class TrackingStatus(models.TextChoices):
    """One status set for every carrier (shared notes §8.4)."""

    PRE_TRANSIT = "pre_transit", _("Label created")
    PICKED_UP = "picked_up", _("Picked up")
    IN_TRANSIT = "in_transit", _("In transit")
    CUSTOMS = "customs", _("In customs")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    AVAILABLE_FOR_PICKUP = "available_for_pickup", _("Ready for pickup")
    DELIVERED = "delivered", _("Delivered")
    FAILED_ATTEMPT = "failed_attempt", _("Delivery attempt failed")
    EXCEPTION = "exception", _("Exception")
    RETURNED = "returned", _("Returned to sender")
    CANCELLED = "cancelled", _("Cancelled")
    UNKNOWN = "unknown", _("Unknown")


class RateQuoteStatus(models.TextChoices):
    CHOSEN = "chosen", _("Chosen")
    ELIGIBLE = "eligible", _("Eligible, not cheapest")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Carrier error")


class LabelFormat(models.TextChoices):
    PDF = "PDF", "PDF"
    ZPL = "ZPL", "ZPL"
    PNG = "PNG", "PNG"


class WebhookDeliveryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSING = "processing", _("Processing")
    PROCESSED = "processed", _("Processed")
    DUPLICATE = "duplicate", _("Duplicate")
    FAILED = "failed", _("Failed")
    REJECTED = "rejected", _("Rejected (bad credential)")


class Incoterm(models.TextChoices):
    DAP = "DAP", _("DAP (recipient pays duties)")
    DDP = "DDP", _("DDP (we pay duties)")


# Tracking statuses after which nothing more happens to a parcel: polling stops.
FINAL_TRACKING_STATUSES = frozenset(
    {TrackingStatus.DELIVERED, TrackingStatus.RETURNED, TrackingStatus.CANCELLED}
)
# Shipment statuses whose parcel is with the carrier and worth tracking.
TRACKABLE_SHIPMENT_STATUSES = frozenset(
    {
        ShipmentStatus.LABEL_PURCHASED,
        ShipmentStatus.SHIPPED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.EXCEPTION,
    }
)
