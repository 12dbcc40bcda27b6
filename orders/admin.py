"""Ops windows onto orders; changes go through services, never through edit forms."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from erp.core.admin import ReadOnlyAdmin
from orders.models import Customer, Order, OrderEvent, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = [
        "sku",
        "title",
        "quantity",
        "unit_price",
        "discount_total",
        "tax_total",
        "product",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "type", "actor", "message", "data"]
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "channel",
        "status",
        "financial_status",
        "total",
        "currency",
        "placed_at",
    ]
    list_filter = ["status", "financial_status", "fulfillment_status", "channel"]
    list_select_related = ["channel"]
    search_fields = ["number", "external_id", "email", "customer__email_normalized"]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, OrderEventInline]


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "email", "phone", "created_at"]
    search_fields = ["email_normalized", "phone_normalized", "first_name", "last_name"]


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "type", "actor", "created_at"]
    list_filter = ["type"]
    list_select_related = ["order", "actor"]
