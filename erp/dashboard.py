"""The start page for staff: what needs attention now, each line linking to its list.

It sits above the apps (like erp.urls) because it reads from all of them.
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from connectors.selectors import channel_sync_health_list
from erp.core.selectors import outbox_health
from inventory.choices import StockAlertStatus
from inventory.models import StockAlert
from logistics.selectors import shipment_exceptions_list
from orders.choices import OrderStatus, ReviewRuleKind
from orders.selectors import order_dashboard

# A worker beats every 60 s; three missed beats means nobody is delivering.
HEARTBEAT_STALE_SECONDS = 180
HOLD_LABELS = {**dict(ReviewRuleKind.choices), "manual": "Held by hand"}


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    health = outbox_health()
    age = health.heartbeat_age_seconds
    orders = order_dashboard()
    can_see_stock = request.user.has_perm("inventory.view_stockalert")
    alerts = (
        list(
            StockAlert.objects.filter(status=StockAlertStatus.OPEN)
            .select_related("product", "warehouse")
            .order_by("quantity_available")[:10]
        )
        if can_see_stock
        else []
    )
    can_see_shipments = request.user.has_perm("logistics.view_shipment")
    exceptions = list(shipment_exceptions_list()[:10]) if can_see_shipments else []
    return render(
        request,
        "core/dashboard.html",
        {
            "health": health,
            "workers_ok": age is not None and age <= HEARTBEAT_STALE_SECONDS,
            "status_counts": [
                (value, label, orders.counts_by_status.get(value, 0))
                for value, label in OrderStatus.choices
            ],
            "held_by_reason": sorted(
                (
                    (code, HOLD_LABELS.get(code, code), n)
                    for code, n in orders.held_by_reason.items()
                ),
                key=lambda row: -row[2],
            ),
            "oldest_waiting": orders.oldest_waiting,
            "stock_alerts": alerts,
            "can_see_stock": can_see_stock,
            "shipment_exceptions": exceptions,
            "can_see_shipments": can_see_shipments,
            "channels": channel_sync_health_list(),
        },
    )
