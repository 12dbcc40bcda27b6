"""Stores we sell through and the state of syncing with them."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
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
