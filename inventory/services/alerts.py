"""Telling ops about low stock, and re-checking stock that expiry made unsellable."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from inventory.choices import StockAlertStatus
from inventory.models import StockAlert, StockItem
from inventory.services.levels import stock_levels_changed

OPS_GROUP = "ops"


def ops_recipients() -> list[str]:
    """E-mail addresses of active users in the ops group."""
    return sorted(
        get_user_model()
        .objects.filter(groups__name=OPS_GROUP, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


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
    recipients = ops_recipients()
    if not recipients:
        return 0
    sku, code = alert.product.sku, alert.warehouse.code
    subject = (
        f"Low stock: {sku} at {code} ({alert.quantity_available} available, "
        f"minimum {alert.minimum_quantity})"
    )
    body = "\n".join(
        [
            f"{sku} ({alert.product.title}) in warehouse {code} fell below its minimum.",
            "",
            f"Available now:       {alert.quantity_available}",
            f"Minimum:             {alert.minimum_quantity}",
            f"Recent sales/day:    {alert.recent_daily_sales}",
            f"Suggested reorder:   {alert.suggested_reorder_quantity}",
            "",
            "The alert closes by itself when stock is back above the minimum.",
            f"Admin: /admin/inventory/stockalert/{alert.pk}/change/",
        ]
    )
    return send_mail(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        recipients,
        fail_silently=False,
    )


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
