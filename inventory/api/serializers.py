"""Output serializers shared by inventory API views; inputs nest in their views."""

from __future__ import annotations

from rest_framework import serializers

from erp.core.text import text_say_again
from inventory.models import (
    Allocation,
    BundleComponent,
    Product,
    StockItem,
    StockMovement,
    Transfer,
    TransferLine,
    Warehouse,
)


class BundleComponentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = BundleComponent
        fields = ["component_id", "quantity"]


class ProductOutputSerializer(serializers.ModelSerializer):
    components = BundleComponentOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "title",
            "barcode",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "hs_code",
            "country_of_origin",
            "unit_cost",
            "cost_currency",
            "is_lot_tracked",
            "shelf_life_days",
            "is_bundle",
            "is_active",
            "components",
        ]


class WarehouseOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "country",
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postal_code",
            "priority",
            "service_area",
            "is_active",
        ]


class LotOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    expires_on = serializers.DateField(allow_null=True)
    received_on = serializers.DateField()


class StockItemOutputSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    warehouse_code = serializers.CharField(source="warehouse.code")
    lot = LotOutputSerializer(source="batch", allow_null=True)
    quantity_available = serializers.IntegerField()

    class Meta:
        model = StockItem
        fields = [
            "id",
            "product_id",
            "sku",
            "warehouse_id",
            "warehouse_code",
            "lot",
            "quantity_on_hand",
            "quantity_allocated",
            "quantity_available",
            "updated_at",
        ]


class StockMovementOutputSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="stock_item.product.sku")
    warehouse_code = serializers.CharField(source="stock_item.warehouse.code")
    lot_code = serializers.CharField(
        source="stock_item.batch.code", allow_null=True, default=None
    )
    actor = serializers.CharField(source="actor.get_username", default=None)
    reason = serializers.SerializerMethodField()

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "stock_item_id",
            "sku",
            "warehouse_code",
            "lot_code",
            "type",
            "quantity_on_hand_delta",
            "quantity_allocated_delta",
            "quantity_on_hand_after",
            "quantity_allocated_after",
            "unit_cost",
            "reason",
            "reference",
            "actor",
            "allocation_id",
            "transfer_id",
            "created_at",
        ]

    def get_reason(self, obj: StockMovement) -> str:
        """The reason in the caller's language (it is stored in English)."""
        return text_say_again(obj.reason)


class AllocationOutputSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(source="stock_item.product_id")
    warehouse_id = serializers.IntegerField(source="stock_item.warehouse_id")
    lot_id = serializers.IntegerField(source="stock_item.batch_id", allow_null=True)

    class Meta:
        model = Allocation
        fields = [
            "id",
            "stock_item_id",
            "product_id",
            "warehouse_id",
            "lot_id",
            "order_line_id",
            "bundle_id",
            "quantity",
            "quantity_returned",
            "status",
            "reference",
        ]


class TransferLineOutputSerializer(serializers.ModelSerializer):
    lot_id = serializers.IntegerField(source="batch_id", allow_null=True)

    class Meta:
        model = TransferLine
        fields = ["product_id", "lot_id", "quantity"]


class TransferOutputSerializer(serializers.ModelSerializer):
    lines = TransferLineOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "source_id",
            "destination_id",
            "status",
            "reference",
            "lines",
            "created_at",
            "completed_at",
        ]
