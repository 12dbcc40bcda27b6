"""Telling ops about low stock, and re-checking stock that expiry made unsellable."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from inventory.choices import StockAlertStatus
from inventory.models import StockAlert, StockItem
from inventory.services.levels import stock_levels_changed

OPS_GROUP = "ops"


def ops_recipients_by_language() -> dict[str, list[str]]:
    """E-mail addresses of active ops users, grouped by the language each one chose."""
    grouped: dict[str, set[str]] = defaultdict(set)
    for email, language in (
        get_user_model()
        .objects.filter(groups__name=OPS_GROUP, is_active=True)
        .exclude(email="")
        .values_list("email", "preference__language")
    ):
        grouped[language or settings.LANGUAGE_CODE].add(email)
    return {language: sorted(emails) for language, emails in sorted(grouped.items())}


def stock_alert_notify(*, alert_id: int) -> int:
    """E-mail the ops group about a newly opened low-stock alert; returns mails sent.

    Runs from the outbox worker, outside any transaction, so no lock is held while
    the mail server is talked to. An alert closed in the meantime is not mailed.
    """
    alert = (
        StockAlert.objects.select_related("product", "warehouse")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None or alert.status != StockAlertStatus.OPEN:
        return 0
    sent = 0
    for language, recipients in ops_recipients_by_language().items():
        # Each person reads the mail in the language they chose for the UI.
        with translation.override(language):
            subject, body = _low_stock_mail(alert)
            sent += send_mail(
                subject,
                body,
                settings.DEFAULT_FROM_EMAIL,
                recipients,
                fail_silently=False,
            )
    return sent


def _low_stock_mail(alert: StockAlert) -> tuple[str, str]:
    values = {
        "sku": alert.product.sku,
        "title": alert.product.title,
        "warehouse": alert.warehouse.code,
        "available": alert.quantity_available,
        "minimum": alert.minimum_quantity,
        "sales": alert.recent_daily_sales,
        "reorder": alert.suggested_reorder_quantity,
    }
    subject = (
        _(
            "Low stock: %(sku)s at %(warehouse)s (%(available)s available, "
            "minimum %(minimum)s)"
        )
        % values
    )
    body = "\n".join(
        [
            _("%(sku)s (%(title)s) in warehouse %(warehouse)s fell below its minimum.")
            % values,
            "",
            _("Available now:       %(available)s") % values,
            _("Minimum:             %(minimum)s") % values,
            _("Recent sales/day:    %(sales)s") % values,
            _("Suggested reorder:   %(reorder)s") % values,
            "",
            _("The alert closes by itself when stock is back above the minimum."),
            _("Admin: %(url)s")
            % {"url": f"/admin/inventory/stockalert/{alert.pk}/change/"},
        ]
    )
    return subject, body


@transaction.atomic(durable=True)
def stock_expiry_sweep(
    *, today: datetime.date | None = None, lookback_days: int = 7
) -> int:
    """Lots that expired recently left the sellable pool: push store levels, re-check.

    Returns how many (SKU, warehouse) pairs were affected. Looking back a few days
    covers sweeps that did not run; repeating one is harmless (coalesced pushes,
    idempotent alerts).
    """
    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=lookback_days)
    pairs = set(
        StockItem.objects.filter(
            batch__expires_on__gt=since,
            batch__expires_on__lte=today,
            quantity_on_hand__gt=0,
        ).values_list("product_id", "warehouse_id")
    )
    stock_levels_changed(pairs=pairs)
    return len(pairs)
