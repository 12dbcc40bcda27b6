"""Ops admin for products and warehouses (master data, edited directly)."""

from __future__ import annotations

from django.contrib import admin

from inventory.models import Product, Warehouse


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "title", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["sku", "title"]


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "is_active"]
    list_filter = ["is_active", "country"]
    search_fields = ["code", "name"]
