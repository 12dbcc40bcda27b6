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
    REVIEWED = "reviewed", _("Reviewed")
    HELD = "held", _("Held")
    APPROVED = "approved", _("Approved")
    ALLOCATED = "allocated", _("Allocated")
    AWAITING_STOCK = "awaiting_stock", _("Waiting for stock")
    ALLOCATION_RELEASED = "allocation_released", _("Allocation released")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    NOTE_ADDED = "note_added", _("Note added")


S = OrderStatus
# Allowed moves, kept as data (Oscar's pipeline). Anything else raises
# IllegalOrderTransitionError. Shipped and later states can only move forward.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset(
        {S.AWAITING_REVIEW, S.ON_HOLD, S.APPROVED, S.CANCELLED, S.REFUNDED}
    ),
    S.AWAITING_REVIEW: frozenset({S.ON_HOLD, S.APPROVED, S.CANCELLED, S.REFUNDED}),
    S.ON_HOLD: frozenset({S.AWAITING_REVIEW, S.APPROVED, S.CANCELLED, S.REFUNDED}),
    S.APPROVED: frozenset(
        {
            S.AWAITING_REVIEW,
            S.ON_HOLD,
            S.ALLOCATED,
            S.AWAITING_STOCK,
            S.CANCELLED,
            S.REFUNDED,
        }
    ),
    S.AWAITING_STOCK: frozenset(
        {S.AWAITING_REVIEW, S.ON_HOLD, S.ALLOCATED, S.CANCELLED, S.REFUNDED}
    ),
    S.ALLOCATED: frozenset(
        {
            S.AWAITING_REVIEW,
            S.ON_HOLD,
            S.AWAITING_STOCK,
            S.PARTIALLY_SHIPPED,
            S.SHIPPED,
            S.CANCELLED,
            S.REFUNDED,
        }
    ),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED, S.REFUNDED, S.RETURNED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED, S.RETURNED}),
    S.DELIVERED: frozenset({S.REFUNDED, S.RETURNED}),
    S.RETURNED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset({S.RETURNED}),
}

# Before any parcel left: the order can still be re-reviewed, re-allocated or cancelled.
PRE_SHIPMENT_STATUSES = frozenset(
    {S.NEW, S.AWAITING_REVIEW, S.ON_HOLD, S.APPROVED, S.AWAITING_STOCK, S.ALLOCATED}
)
# Orders that hold (or wait for) a stock reservation.
STOCK_HOLDING_STATUSES = frozenset({S.ALLOCATED})


class ReviewAction(models.TextChoices):
    HOLD = "hold", _("Hold the order")
    FLAG = "flag", _("Flag for attention only")


class ReviewRuleKind(models.TextChoices):
    PAYMENT_NOT_CAPTURED = "payment_not_captured", _("Payment not captured")
    FRAUD_RISK = "fraud_risk", _("Fraud risk level")
    ADDRESS_INCOMPLETE = (
        "address_incomplete",
        _("Address incomplete or postal code invalid"),
    )
    CUSTOMER_BLOCKED = "customer_blocked", _("Customer on the block list")
    ORDER_VALUE_ABOVE = "order_value_above", _("Order value above a limit")
    UNKNOWN_SKU = "unknown_sku", _("Unknown SKU")
    DESTINATION_NOT_SERVED = "destination_not_served", _("Destination not served")
    LIKELY_DUPLICATE = "likely_duplicate", _("Likely duplicate order")
    STOCK_SHORT = "stock_short", _("Stock short")
