"""Exchange rates by date, from the ECB feed, CSV files or typed in by finance."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from erp.core.models import TimeStampedModel
from erp.core.money import currency_field
from finance.choices import RateSource

# ECB publishes up to 5 significant digits (IDR 18606.59, GBP 0.84770); manual rates
# and inverses need more places, so the column is wider than a money column.
RATE_MAX_DIGITS = 24
RATE_DECIMAL_PLACES = 10


class ExchangeRate(TimeStampedModel):
    """How many units of `quote` one unit of `base` bought on a day, and who said so."""

    source = models.CharField(_("source"), max_length=10, choices=RateSource.choices)
    base = currency_field(verbose_name=_("from (1 unit of)"))
    quote = currency_field(verbose_name=_("to"))
    rate = models.DecimalField(
        _("rate"), max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES
    )
    on = models.DateField(_("date"))
    reference = models.CharField(
        _("reference"),
        max_length=255,
        blank=True,
        help_text=_("File, address or person the rate came from."),
    )

    class Meta:
        ordering = ["-on", "base", "quote", "source"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "base", "quote", "on"],
                name="exchangerate_unique_source_pair_day",
            ),
            models.CheckConstraint(
                condition=Q(rate__gt=0), name="exchangerate_rate_gt_0"
            ),
            models.CheckConstraint(
                condition=~Q(base=F("quote")), name="exchangerate_pair_differs"
            ),
        ]
        indexes = [
            models.Index(
                fields=["base", "quote", "on"], name="exchangerate_pair_day_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.base} = {self.rate.normalize()} {self.quote} on {self.on} ({self.source})"
