"""Output serializers shared by the order endpoints."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import Order, OrderEvent, OrderLine


class OrderLineAllocationOutputSerializer(serializers.Serializer):
    """Where one line's units were reserved or shipped from."""

    warehouse = serializers.CharField()
    lot = serializers.CharField(allow_null=True)
    quantity = serializers.IntegerField()
    status = serializers.CharField()


class OrderLineOutputSerializer(serializers.ModelSerializer):
    allocations = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "external_id",
            "sku",
            "title",
            "variant_title",
            "quantity",
            "unit_price",
            "discount_total",
            "tax_total",
            "requires_shipping",
            "is_removed",
            "product",
            "allocations",
        ]

    @extend_schema_field(OrderLineAllocationOutputSerializer(many=True))
    def get_allocations(self, line: OrderLine) -> list[dict[str, object]]:
        return [
            {
                "warehouse": a.stock_item.warehouse.code,
                "lot": a.stock_item.batch.code if a.stock_item.batch_id else None,
                "quantity": a.quantity,
                "status": a.status,
            }
            for a in line.allocations.all()
        ]


class OrderEventOutputSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = OrderEvent
        fields = ["type", "message", "data", "actor", "created_at"]


class OrderListOutputSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    country = serializers.CharField(source="country_code")
    line_count = serializers.IntegerField()

    class Meta:
        model = Order
        fields = [
            "id",
            "channel",
            "external_id",
            "number",
            "status",
            "financial_status",
            "fulfillment_status",
            "currency",
            "total",
            "email",
            "country",
            "hold_reasons",
            "review_flags",
            "line_count",
            "placed_at",
            "version",
        ]


class OrderDetailOutputSerializer(OrderListOutputSerializer):
    lines = OrderLineOutputSerializer(many=True)
    events = OrderEventOutputSerializer(many=True)

    class Meta(OrderListOutputSerializer.Meta):
        fields = [
            f for f in OrderListOutputSerializer.Meta.fields if f != "line_count"
        ] + [
            "presentment_currency",
            "subtotal",
            "discount_total",
            "shipping_total",
            "tax_total",
            "shipping_address",
            "billing_address",
            "shipping_lines",
            "risk_level",
            "source",
            "note",
            "tags",
            "cancelled_at",
            "cancel_reason",
            "lines",
            "events",
        ]
