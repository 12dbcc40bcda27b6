"""Enumerations shared by finance models, services, API, admin and reports."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RateSource(models.TextChoices):
    """Who published an exchange rate; on the same day a manual rate beats a file."""

    MANUAL = "manual", _("Entered by finance")
    CSV = "csv", _("CSV import")
    ECB = "ecb", _("ECB reference rate")


# Lower wins when two sources give the same pair on the same day.
RATE_SOURCE_PRIORITY = {RateSource.MANUAL: 0, RateSource.CSV: 1, RateSource.ECB: 2}


class PaymentKind(models.TextChoices):
    """What a payment transaction did (the store's vocabulary, one for all gateways)."""

    AUTHORIZATION = "authorization", _("Authorization")
    CAPTURE = "capture", _("Capture")
    SALE = "sale", _("Sale (authorise and capture)")
    REFUND = "refund", _("Refund")
    VOID = "void", _("Void")


# Kinds that move money from the buyer to us.
MONEY_IN_KINDS = (PaymentKind.CAPTURE, PaymentKind.SALE)


class PayoutSource(models.TextChoices):
    """How a payout reached us."""

    API = "api", _("Gateway API (connector)")
    PAYPAL_SETTLEMENT = "paypal_settlement", _("PayPal settlement report (CSV)")
    STRIPE_ITEMIZED = "stripe_itemized", _("Stripe payout reconciliation (CSV)")
    GENERIC_CSV = "generic_csv", _("Other gateway (CSV with column mapping)")


class PayoutLineKind(models.TextChoices):
    """What one line of a payout is: only charges and refunds are matched to orders."""

    CHARGE = "charge", _("Charge")
    REFUND = "refund", _("Refund")
    DISPUTE = "dispute", _("Dispute / chargeback")
    FEE = "fee", _("Fee")
    ADJUSTMENT = "adjustment", _("Adjustment")
    TRANSFER = "transfer", _("Transfer to bank")
    OTHER = "other", _("Other")


class PayoutImportStatus(models.TextChoices):
    COMMITTED = "committed", _("Imported")
    FAILED = "failed", _("Refused (nothing written)")


class ReconciliationRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")


class ReconciliationSubject(models.TextChoices):
    """What one reconciliation item is about."""

    ORDER = "order", _("Order")
    PAYOUT_LINE = "payout_line", _("Payout line")
    REFUND = "refund", _("Refund")


class DifferenceKind(models.TextChoices):
    """Every way an item can fail to reconcile; an item carries at most one."""

    PAID_WITHOUT_TRANSACTION = (
        "paid_without_transaction",
        _("Marked paid in the store, but no payment transaction"),
    )
    CURRENCY_MISMATCH = "currency_mismatch", _("Currency mismatch")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount mismatch")
    PAID_NO_PAYOUT = "paid_no_payout", _("Paid, but in no payout")
    PAYOUT_LINE_NO_ORDER = "payout_line_no_order", _("Payout line with no order")
    REFUND_NOT_IN_PAYOUT = "refund_not_in_payout", _("Refund not in any payout")


class DifferenceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved by finance")
    GONE = "gone", _("No longer found")


class NoteAction(models.TextChoices):
    """What a note in a difference's history did besides saying something."""

    NOTE = "note", _("Note")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")


class CostKind(models.TextChoices):
    """What a cost figure of an order is."""

    COGS = "cogs", _("Cost of goods")
    SHIPPING = "shipping", _("Shipping cost")
    OTHER = "other", _("Other cost")


class CustomerType(models.TextChoices):
    NEW = "new", _("New customer")
    RETURNING = "returning", _("Returning customer")
    GUEST = "guest", _("No customer record")


class FxStatus(models.TextChoices):
    """How the amounts of a profit row were converted to the base currency."""

    EXACT = "exact", _("Rates of the day")
    EARLIER = "earlier", _("Nearest earlier rates used")
    MISSING = "missing", _("Rates missing")
