"""Enumerations of inventory shared by models, services, API and admin."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WarehouseKind(models.TextChoices):
    OWN = "own", _("Own warehouse")
    THIRD_PARTY = "3pl", _("Third-party logistics (3PL)")
    OVERSEAS = "overseas", _("Overseas warehouse")


class StockMovementType(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ADJUSTMENT = "adjustment", _("Adjustment / count")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    TRANSFER_CANCEL = "transfer_cancel", _("Transfer cancelled (back to source)")
    ALLOCATION = "allocation", _("Allocation")
    RELEASE = "release", _("Release")
    SHIPMENT = "shipment", _("Shipment")
    RETURN = "return", _("Return / restock")


class AllocationStatus(models.TextChoices):
    ALLOCATED = "allocated", _("Allocated")
    RELEASED = "released", _("Released")
    SHIPPED = "shipped", _("Shipped")


class TransferStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class StockAlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class BufferKind(models.TextChoices):
    ABSOLUTE = "absolute", _("Units held back")
    PERCENT = "percent", _("Percent held back")
