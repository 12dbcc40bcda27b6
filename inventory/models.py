"""Products (SKUs) and warehouses: the master data the stock pool is kept against."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.core.models import TimeStampedModel


class Product(TimeStampedModel):
    """One SKU we stock and sell, whatever store lists it."""

    sku = models.CharField(_("SKU"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.sku


class Warehouse(TimeStampedModel):
    """A place stock is kept and shipped from: our own, a 3PL or an overseas warehouse."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(
        _("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")

    def __str__(self) -> str:
        return f"{self.code} ({self.country})"
