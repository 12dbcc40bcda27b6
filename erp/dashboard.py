"""The start page for staff: what needs attention now, each line linking to its list.

It sits above the apps (like erp.urls) because it reads from all of them.
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from connectors.selectors import channel_sync_health_list
from erp.core.selectors import outbox_health
from inventory.choices import StockAlertStatus
from inventory.models import StockAlert
from logistics.choices import ShipmentStatus
from logistics.models import Shipment
from logistics.selectors import shipment_exceptions_list
from orders.choices import OrderStatus, ReviewRuleKind
from orders.selectors import order_dashboard

# A worker beats every 60 s; three missed beats means nobody is delivering.
HEARTBEAT_STALE_SECONDS = 180
HOLD_LABELS = {**dict(ReviewRuleKind.choices), "manual": _("Held by hand")}
ORDERS = "/admin/orders/order/"
SHIPMENTS = "/admin/logistics/shipment/"


def _waiting_to_ship(
    counts: dict[str, int], *, can_see_shipments: bool
) -> list[tuple[Promise, int, str]]:
    """(what, how many, filtered list) for each step between allocation and the carrier."""
    rows = [
        (
            _("Orders allocated, ready to ship"),
            counts.get(OrderStatus.ALLOCATED, 0),
            f"{ORDERS}?status__exact={OrderStatus.ALLOCATED}",
        ),
        (
            _("Orders partially shipped"),
            counts.get(OrderStatus.PARTIALLY_SHIPPED, 0),
            f"{ORDERS}?status__exact={OrderStatus.PARTIALLY_SHIPPED}",
        ),
    ]
    if can_see_shipments:
        shipments = dict(
            Shipment.objects.filter(
                status__in=[
                    ShipmentStatus.DRAFT,
                    ShipmentStatus.RATED,
                    ShipmentStatus.LABEL_PURCHASED,
                ]
            )
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        rows += [
            (
                _("Parcels without a label yet"),
                shipments.get(ShipmentStatus.DRAFT, 0),
                f"{SHIPMENTS}?status__exact={ShipmentStatus.DRAFT}",
            ),
            (
                _("Parcels with a service chosen, label not bought"),
                shipments.get(ShipmentStatus.RATED, 0),
                f"{SHIPMENTS}?status__exact={ShipmentStatus.RATED}",
            ),
            (
                _("Labels bought, not handed to the carrier"),
                shipments.get(ShipmentStatus.LABEL_PURCHASED, 0),
                f"{SHIPMENTS}?status__exact={ShipmentStatus.LABEL_PURCHASED}",
            ),
        ]
    return rows


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    health = outbox_health()
    age = health.heartbeat_age_seconds
    orders = order_dashboard()
    can_see_stock = request.user.has_perm("inventory.view_stockalert")
    open_alerts = StockAlert.objects.filter(status=StockAlertStatus.OPEN)
    alerts = (
        list(
            open_alerts.select_related("product", "warehouse").order_by(
                "quantity_available"
            )[:10]
        )
        if can_see_stock
        else []
    )
    can_see_shipments = request.user.has_perm("logistics.view_shipment")
    exceptions = list(shipment_exceptions_list()[:10]) if can_see_shipments else []
    channels = channel_sync_health_list()
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
            "waiting_to_ship": _waiting_to_ship(
                orders.counts_by_status, can_see_shipments=can_see_shipments
            ),
            "oldest_waiting": orders.oldest_waiting,
            "stock_alerts": alerts,
            "stock_alerts_open": open_alerts.count() if can_see_stock else 0,
            "can_see_stock": can_see_stock,
            "shipment_exceptions": exceptions,
            "can_see_shipments": can_see_shipments,
            "channels": channels,
            "channels_failing": sum(not h.is_healthy for h in channels),
        },
    )
