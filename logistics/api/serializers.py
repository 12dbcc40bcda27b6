"""Output shapes of the logistics API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from erp.core.text import text_say_again
from logistics.models import (
    CarrierAccount,
    CarrierService,
    CarrierWebhookDelivery,
    CustomsItem,
    DeliveryPromise,
    IncotermRule,
    Package,
    RateCard,
    RateQuote,
    Shipment,
    ShipmentItem,
    TrackingEvent,
)


class CarrierAccountOutputSerializer(serializers.ModelSerializer):
    credentials = serializers.SerializerMethodField()

    class Meta:
        model = CarrierAccount
        fields = [
            "id",
            "code",
            "name",
            "carrier",
            "is_test_mode",
            "is_active",
            "priority",
            "timeout_seconds",
            "origin_countries",
            "credentials",
        ]

    def get_credentials(self, obj: CarrierAccount) -> dict[str, str]:
        return obj.credentials_masked()


class CarrierServiceOutputSerializer(serializers.ModelSerializer):
    account = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = CarrierService
        fields = [
            "id",
            "account",
            "code",
            "name",
            "transit_days_min",
            "transit_days_max",
            "max_weight_grams",
            "max_length_mm",
            "max_girth_mm",
            "is_domestic",
            "is_international",
            "is_economy",
            "rate_card",
            "is_active",
        ]


class RateCardZoneOutputSerializer(serializers.Serializer):
    """One zone as RateCardOutputSerializer.get_zones returns it (schema only)."""

    code = serializers.CharField()
    destinations = serializers.ListField(child=serializers.CharField())
    transit_days_max = serializers.IntegerField(allow_null=True)
    brackets = serializers.IntegerField()


class RateCardOutputSerializer(serializers.ModelSerializer):
    zones = serializers.SerializerMethodField()

    class Meta:
        model = RateCard
        fields = [
            "id",
            "name",
            "currency",
            "pricing",
            "fuel_surcharge_percent",
            "dim_divisor",
            "rounding_step_grams",
            "min_chargeable_grams",
            "ddp_duty_percent",
            "zones",
        ]

    @extend_schema_field(RateCardZoneOutputSerializer(many=True))
    def get_zones(self, obj: RateCard) -> list[dict[str, object]]:
        return [
            {
                "code": z.code,
                "destinations": z.countries,
                "transit_days_max": z.transit_days_max,
                "brackets": len(z.rates.all()),
            }
            for z in obj.zones.all()
        ]


class RateQuoteOutputSerializer(serializers.ModelSerializer):
    reason = serializers.SerializerMethodField()

    class Meta:
        model = RateQuote
        fields = [
            "id",
            "carrier",
            "service",
            "service_code",
            "service_name",
            "amount",
            "currency",
            "compared_amount",
            "compared_currency",
            "transit_days",
            "parcel_count",
            "parcels",
            "duty_amount",
            "status",
            "reason",
            "created_at",
        ]

    def get_reason(self, obj: RateQuote) -> str:
        """Why the quote was dropped, in the caller's language (stored in English)."""
        return text_say_again(obj.reason)


class PackageOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Package
        fields = [
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "tracking_number",
        ]


class ShipmentItemOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShipmentItem
        fields = [
            "sku",
            "title",
            "quantity",
            "barcode",
            "unit_weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
        ]


class CustomsItemOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomsItem
        fields = [
            "sku",
            "description",
            "hs_code",
            "origin_country",
            "quantity",
            "unit_value",
            "currency",
            "unit_weight_grams",
        ]


class TrackingEventOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["occurred_at", "status", "carrier_code", "description", "location"]


class ShipmentOutputSerializer(serializers.ModelSerializer):
    """A shipment as lists show it."""

    warehouse = serializers.SlugRelatedField(slug_field="code", read_only=True)
    carrier = serializers.SerializerMethodField()
    service_name = serializers.SerializerMethodField()
    selection_reason = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = Shipment
        fields = [
            "id",
            "order",
            "warehouse",
            "status",
            "tracking_status",
            "carrier",
            "service",
            "service_name",
            "tracking_number",
            "tracking_url",
            "label_format",
            "label_cost",
            "label_currency",
            "selection_reason",
            "error",
            "created_at",
            "shipped_at",
            "delivered_at",
        ]

    def get_carrier(self, obj: Shipment) -> str:
        return obj.service.account.carrier if obj.service else ""

    def get_service_name(self, obj: Shipment) -> str:
        return obj.service.name if obj.service else ""

    def get_selection_reason(self, obj: Shipment) -> str:
        """Why this service, in the caller's language (the column keeps English)."""
        return obj.said("selection_reason")

    def get_error(self, obj: Shipment) -> str:
        """The last failure, in the caller's language (the column keeps English)."""
        return obj.said("error")


class ShipmentDetailOutputSerializer(ShipmentOutputSerializer):
    """A shipment with its parcels, contents, quotes and scans."""

    packages = PackageOutputSerializer(many=True, read_only=True)
    items = ShipmentItemOutputSerializer(many=True, read_only=True)
    customs_items = CustomsItemOutputSerializer(many=True, read_only=True)
    quotes = RateQuoteOutputSerializer(many=True, read_only=True)
    tracking_events = TrackingEventOutputSerializer(many=True, read_only=True)
    chosen_quote = serializers.PrimaryKeyRelatedField(read_only=True)
    label_url = serializers.SerializerMethodField()
    promise_note = serializers.SerializerMethodField()

    class Meta(ShipmentOutputSerializer.Meta):
        fields = [
            *ShipmentOutputSerializer.Meta.fields,
            "ship_from",
            "ship_to",
            "incoterm",
            "duty_amount",
            "duty_currency",
            "promise_note",
            "packaging_grams",
            "currency",
            "chosen_quote",
            "label_url",
            "packages",
            "items",
            "customs_items",
            "quotes",
            "tracking_events",
        ]

    def get_promise_note(self, obj: Shipment) -> str:
        """Whether the delivery promise is met, in the caller's language."""
        return text_say_again(obj.promise_note)

    def get_label_url(self, obj: Shipment) -> str | None:
        if not obj.label_file:
            return None
        return f"/api/v1/logistics/shipments/{obj.pk}/label/"


def _destinations(value: list[str]) -> list[str]:
    codes = [str(c).strip().upper() for c in value]
    bad = [
        c
        for c in codes
        if not (len(c) == 2 or (len(c) > 3 and c[2] == "-" and len(c[:2]) == 2))
    ]
    if bad:
        raise serializers.ValidationError(
            _("Use country codes (US) or regions (US-HI): %(bad)s")
            % {"bad": ", ".join(bad)}
        )
    return codes


class DeliveryPromiseSerializer(serializers.ModelSerializer):
    """A store's delivery promise to some destinations (read and write)."""

    destinations = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False
    )
    carrier_days = serializers.IntegerField(read_only=True)

    class Meta:
        model = DeliveryPromise
        fields = [
            "id",
            "channel",
            "destinations",
            "business_days",
            "handling_days",
            "carrier_days",
            "is_active",
        ]

    def validate_destinations(self, value: list[str]) -> list[str]:
        return _destinations(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        business = attrs.get(
            "business_days", getattr(self.instance, "business_days", 0)
        )
        handling = attrs.get(
            "handling_days", getattr(self.instance, "handling_days", 0)
        )
        if business <= handling:
            raise serializers.ValidationError(
                {"business_days": _("Must be more than the handling days.")}
            )
        return attrs


class IncotermRuleSerializer(serializers.ModelSerializer):
    """Who pays duties for which stores and destinations (read and write)."""

    destinations = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False
    )

    class Meta:
        model = IncotermRule
        fields = [
            "id",
            "name",
            "position",
            "is_active",
            "channels",
            "destinations",
            "incoterm",
        ]

    def validate_destinations(self, value: list[str]) -> list[str]:
        return _destinations(value)


class CarrierWebhookDeliveryOutputSerializer(serializers.ModelSerializer):
    """A carrier's tracking push as it was received, and what became of it."""

    account = serializers.SlugRelatedField(slug_field="code", read_only=True)
    error = serializers.SerializerMethodField()

    class Meta:
        model = CarrierWebhookDelivery
        fields = [
            "id",
            "account",
            "carrier",
            "status",
            "error",
            "tracking_number",
            "shipment",
            "events_recorded",
            "body",
            "headers",
            "created_at",
            "processed_at",
        ]

    def get_error(self, obj: CarrierWebhookDelivery) -> str:
        """Why the push was not applied, in the caller's language (stored in English)."""
        return text_say_again(obj.error)
