"""Logistics API: reads as list/detail views, each write as its own APIView."""

from __future__ import annotations

import mimetypes

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.generics import (
    ListAPIView,
    ListCreateAPIView,
    RetrieveAPIView,
    RetrieveUpdateDestroyAPIView,
)
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from logistics.api.permissions import (
    CanChangeRateCards,
    CanChangeShipments,
    CanChangeShippingTerms,
    CanViewShipments,
)
from logistics.api.serializers import (
    CarrierAccountOutputSerializer,
    CarrierServiceOutputSerializer,
    CarrierWebhookDeliveryOutputSerializer,
    DeliveryPromiseSerializer,
    IncotermRuleSerializer,
    RateCardOutputSerializer,
    ShipmentDetailOutputSerializer,
    ShipmentOutputSerializer,
)
from logistics.choices import LabelFormat
from logistics.models import (
    CarrierAccount,
    CarrierService,
    CarrierWebhookDelivery,
    DeliveryPromise,
    IncotermRule,
    RateCard,
    RateCardZone,
    Shipment,
)
from logistics.selectors import shipment_list
from logistics.services.labels import shipment_buy_label, shipment_void
from logistics.services.printing import shipments_print_batch
from logistics.services.ratecards import rate_card_import
from logistics.services.selection import shipment_select_service
from logistics.services.shipments import (
    shipment_tracking_number_set,
    shipment_tracking_numbers_import,
)
from logistics.services.tracking import shipments_track_poll
from logistics.services.webhooks import carrier_webhook_retry

# --- reads -------------------------------------------------------------------------


class ShipmentListApi(ListAPIView):
    """Shipments, newest first; filter by status, tracking status, order, warehouse."""

    permission_classes = [CanViewShipments]
    serializer_class = ShipmentOutputSerializer
    filterset_fields = ["status", "tracking_status", "order", "warehouse"]

    def get_queryset(self) -> QuerySet[Shipment]:
        return shipment_list()


class ShipmentDetailApi(RetrieveAPIView):
    """One shipment with parcels, contents, every quote and every scan."""

    permission_classes = [CanViewShipments]
    serializer_class = ShipmentDetailOutputSerializer

    def get_queryset(self) -> QuerySet[Shipment]:
        return shipment_list().prefetch_related(
            "packages", "items", "customs_items", "quotes", "tracking_events"
        )


class ShipmentLabelApi(APIView):
    """The stored label file (PDF, ZPL or PNG)."""

    permission_classes = [CanViewShipments]

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "application/zpl"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
        }
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        shipment = get_object_or_404(Shipment, pk=pk)
        if not shipment.label_file:
            raise serializers.ValidationError(
                {"label": gettext("This shipment has no label.")}
            )
        name = shipment.label_file.name.rsplit("/", 1)[-1]
        return FileResponse(
            shipment.label_file.open("rb"),
            filename=name,
            content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        )


class CarrierAccountListApi(ListAPIView):
    """Carrier accounts; credentials only masked."""

    permission_classes = [CanViewShipments]
    serializer_class = CarrierAccountOutputSerializer
    queryset = CarrierAccount.objects.order_by("priority", "code")


class CarrierServiceListApi(ListAPIView):
    """Services of every account with their limits."""

    permission_classes = [CanViewShipments]
    serializer_class = CarrierServiceOutputSerializer
    filterset_fields = ["account", "is_active", "is_international"]
    queryset = CarrierService.objects.select_related("account").order_by(
        "account__code", "code"
    )


class RateCardListApi(ListAPIView):
    """Rate cards with their zones."""

    permission_classes = [CanViewShipments]
    serializer_class = RateCardOutputSerializer
    queryset = RateCard.objects.prefetch_related(
        Prefetch("zones", queryset=RateCardZone.objects.prefetch_related("rates"))
    ).order_by("name")


# --- writes ------------------------------------------------------------------------


def _detail(shipment_id: int) -> Response:
    shipment = ShipmentDetailApi().get_queryset().get(pk=shipment_id)
    return Response(ShipmentDetailOutputSerializer(shipment).data)


class ShipmentSelectServiceApi(APIView):
    """Quote every allowed service and choose the cheapest that qualifies."""

    permission_classes = [CanChangeShipments]

    @extend_schema(request=None, responses=ShipmentDetailOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        shipment_select_service(shipment_id=pk)
        return _detail(pk)


class ShipmentBuyLabelApi(APIView):
    """Buy the label of the chosen service (rate-card lines: with ops' number, if any)."""

    permission_classes = [CanChangeShipments]

    @extend_schema_serializer(component_name="ShipmentBuyLabelInput")
    class InputSerializer(serializers.Serializer):
        tracking_number = serializers.CharField(
            max_length=100, required=False, default="", allow_blank=True
        )
        label_format = serializers.ChoiceField(
            choices=LabelFormat.choices, required=False, default=LabelFormat.PDF
        )

    @extend_schema(request=InputSerializer, responses=ShipmentDetailOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shipment_buy_label(shipment_id=pk, **serializer.validated_data)
        return _detail(pk)


class ShipmentVoidApi(APIView):
    """Cancel a label that has not shipped."""

    permission_classes = [CanChangeShipments]

    @extend_schema_serializer(component_name="ShipmentVoidInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            max_length=255, required=False, default="", allow_blank=True
        )

    @extend_schema(request=InputSerializer, responses=ShipmentDetailOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shipment_void(shipment_id=pk, **serializer.validated_data)
        return _detail(pk)


class ShipmentTrackingNumberApi(APIView):
    """Enter the tracking number of a rate-card (no API) shipment."""

    permission_classes = [CanChangeShipments]

    @extend_schema_serializer(component_name="ShipmentTrackingNumberInput")
    class InputSerializer(serializers.Serializer):
        tracking_number = serializers.CharField(max_length=100)

    @extend_schema(request=InputSerializer, responses=ShipmentDetailOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shipment_tracking_number_set(shipment_id=pk, **serializer.validated_data)
        return _detail(pk)


class ShipmentPrintBatchApi(APIView):
    """One PDF: the labels, then per warehouse the pick list and packing slips."""

    permission_classes = [CanChangeShipments]

    @extend_schema_serializer(component_name="ShipmentPrintBatchInput")
    class InputSerializer(serializers.Serializer):
        shipment_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000
        )
        labels = serializers.BooleanField(required=False, default=True)
        packing_slips = serializers.BooleanField(required=False, default=True)
        pick_lists = serializers.BooleanField(required=False, default=True)

    @extend_schema(request=InputSerializer, responses={(200, "application/pdf"): bytes})
    def post(self, request: Request) -> HttpResponse:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = shipments_print_batch(**serializer.validated_data)
        response = HttpResponse(batch.pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="shipments.pdf"'
        response["X-Labels"] = str(batch.labels)
        response["X-Pages"] = str(batch.pages)
        response["X-Skipped"] = str(len(batch.skipped))
        return response


class TrackingPollApi(APIView):
    """Ask the carriers about every parcel on its way now (beat does it regularly)."""

    permission_classes = [CanChangeShipments]

    @extend_schema_serializer(component_name="TrackingPollOutput")
    class OutputSerializer(serializers.Serializer):
        shipments = serializers.IntegerField()
        updated = serializers.IntegerField()
        carrier_calls = serializers.IntegerField()
        errors = serializers.ListField(child=serializers.CharField())

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request: Request) -> Response:
        report = shipments_track_poll(min_interval_minutes=0)
        return Response(self.OutputSerializer(report).data)


class RateCardImportApi(APIView):
    """Replace a rate card's zones and brackets from CSV/XLSX; all rows or none."""

    permission_classes = [CanChangeRateCards]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="RateCardImportInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        file_format = serializers.ChoiceField(choices=["csv", "xlsx"], required=False)
        dry_run = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="Import report"),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Import report with row errors; nothing committed",
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        file_format = data.get("file_format") or upload.name.rsplit(".", 1)[-1].lower()
        report = rate_card_import(
            rate_card_id=pk,
            content=upload.read(),
            file_format=file_format,
            dry_run=data["dry_run"],
        )
        return Response(report.as_dict(), status=200 if not report.errors else 400)


_TRACKING_IMPORT_OUTPUT = inline_serializer(
    "ShipmentTrackingNumbersImportOutput",
    fields={
        "committed": serializers.BooleanField(),
        "errors": inline_serializer(
            "ShipmentTrackingNumbersImportError",
            fields={
                "row": serializers.IntegerField(),
                "message": serializers.CharField(),
            },
            many=True,
        ),
    },
)


class ShipmentTrackingNumbersImportApi(APIView):
    """Tracking numbers of rate-card shipments from a file; all rows or none."""

    permission_classes = [CanChangeShipments]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="ShipmentTrackingNumbersImportInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        file_format = serializers.ChoiceField(choices=["csv", "xlsx"], required=False)

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={
            (200, "application/json"): _TRACKING_IMPORT_OUTPUT,
            (400, "application/json"): _TRACKING_IMPORT_OUTPUT,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        file_format = (
            serializer.validated_data.get("file_format")
            or upload.name.rsplit(".", 1)[-1].lower()
        )
        errors = shipment_tracking_numbers_import(
            content=upload.read(), file_format=file_format
        )
        body = {
            "committed": not errors,
            "errors": [{"row": e.row, "message": e.message} for e in errors],
        }
        return Response(body, status=400 if errors else 200)


# --- delivery promises and duty terms ------------------------------------------------


class DeliveryPromiseListApi(ListCreateAPIView):
    """Stores' delivery promises; filter with ?channel=<id>."""

    serializer_class = DeliveryPromiseSerializer
    permission_classes = [CanViewShipments, CanChangeShippingTerms]

    def get_queryset(self) -> QuerySet[DeliveryPromise]:
        queryset = DeliveryPromise.objects.order_by("channel_id", "pk")
        channel = self.request.query_params.get("channel")
        if channel and channel.isdigit():
            queryset = queryset.filter(channel_id=int(channel))
        return queryset


class DeliveryPromiseDetailApi(RetrieveUpdateDestroyAPIView):
    """One delivery promise: read, change or remove."""

    serializer_class = DeliveryPromiseSerializer
    permission_classes = [CanViewShipments, CanChangeShippingTerms]
    queryset = DeliveryPromise.objects.all()


class IncotermRuleListApi(ListCreateAPIView):
    """Duty terms rules (DDP/DAP) in evaluation order."""

    serializer_class = IncotermRuleSerializer
    permission_classes = [CanViewShipments, CanChangeShippingTerms]
    queryset = IncotermRule.objects.prefetch_related("channels").order_by(
        "position", "pk"
    )


class IncotermRuleDetailApi(RetrieveUpdateDestroyAPIView):
    """One duty terms rule: read, change or remove."""

    serializer_class = IncotermRuleSerializer
    permission_classes = [CanViewShipments, CanChangeShippingTerms]
    queryset = IncotermRule.objects.prefetch_related("channels")


# --- carrier tracking webhooks -------------------------------------------------------


class CarrierWebhookDeliveryListApi(ListAPIView):
    """Carrier tracking pushes as received, newest first; filter by ?status=."""

    serializer_class = CarrierWebhookDeliveryOutputSerializer
    permission_classes = [CanViewShipments]

    def get_queryset(self) -> QuerySet[CarrierWebhookDelivery]:
        queryset = CarrierWebhookDelivery.objects.select_related("account").order_by(
            "-pk"
        )
        status = self.request.query_params.get("status")
        if status:
            queryset = queryset.filter(status=status)
        return queryset


class CarrierWebhookDeliveryRetryApi(APIView):
    """Process a failed push again (e.g. after its shipment got the tracking number)."""

    permission_classes = [CanChangeShipments]

    @extend_schema(request=None, responses=CarrierWebhookDeliveryOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        delivery = carrier_webhook_retry(delivery_id=pk)
        return Response(CarrierWebhookDeliveryOutputSerializer(delivery).data)
