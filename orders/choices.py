"""Order statuses and event types shared by models, API and admin."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    AWAITING_REVIEW = "awaiting_review", _("Awaiting review")
    ON_HOLD = "on_hold", _("On hold")
    APPROVED = "approved", _("Approved")
    AWAITING_STOCK = "awaiting_stock", _("Awaiting stock")
    ALLOCATED = "allocated", _("Allocated")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    RETURNED = "returned", _("Returned")


class FinancialStatus(models.TextChoices):
    """The store's payment state, in one vocabulary for every platform."""

    PENDING = "pending", _("Pending")
    AUTHORIZED = "authorized", _("Authorized")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    VOIDED = "voided", _("Voided")
    UNKNOWN = "unknown", _("Unknown")


class FulfillmentStatus(models.TextChoices):
    """The store's shipping state of the order as a whole."""

    UNFULFILLED = "unfulfilled", _("Unfulfilled")
    PARTIAL = "partial", _("Partially fulfilled")
    FULFILLED = "fulfilled", _("Fulfilled")


class OrderEventType(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated from the store")
    STATUS_CHANGED = "status_changed", _("Status changed")
    NOTE_ADDED = "note_added", _("Note added")
