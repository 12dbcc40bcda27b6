"""Query-string filters of the inventory list endpoints."""

from __future__ import annotations

import django_filters

from inventory.choices import StockMovementType
from inventory.models import Product, StockItem, StockMovement


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(lookup_expr="iexact")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Product
        fields = ["sku", "is_active", "is_bundle", "is_lot_tracked", "barcode"]

    def filter_search(self, queryset, name, value):  # type: ignore[no-untyped-def]
        return queryset.filter(sku__icontains=value) | queryset.filter(
            title__icontains=value
        )


class StockItemFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku", lookup_expr="iexact")
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    in_stock = django_filters.BooleanFilter(method="filter_in_stock")

    class Meta:
        model = StockItem
        fields = ["product", "warehouse_id", "batch"]

    def filter_in_stock(self, queryset, name, value):  # type: ignore[no-untyped-def]
        return (
            queryset.filter(quantity_on_hand__gt=0)
            if value
            else queryset.filter(quantity_on_hand=0)
        )


class StockMovementFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(
        field_name="stock_item__product__sku", lookup_expr="iexact"
    )
    product = django_filters.NumberFilter(field_name="stock_item__product_id")
    warehouse = django_filters.CharFilter(field_name="stock_item__warehouse__code")
    type = django_filters.MultipleChoiceFilter(choices=StockMovementType.choices)
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte"
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt"
    )

    class Meta:
        model = StockMovement
        fields = ["reference", "allocation", "transfer"]
