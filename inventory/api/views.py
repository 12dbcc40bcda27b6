"""Inventory API: reads as list/detail views, each write as its own APIView."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.filters import ProductFilter, StockItemFilter, StockMovementFilter
from inventory.api.permissions import CanChangeProducts, CanChangeStock, CanViewStock
from inventory.api.serializers import (
    AllocationOutputSerializer,
    ProductOutputSerializer,
    StockItemOutputSerializer,
    StockMovementOutputSerializer,
    TransferOutputSerializer,
    WarehouseOutputSerializer,
)
from inventory.models import Allocation, Product, StockItem, Transfer, Warehouse
from inventory.planning import AllocationRequest
from inventory.selectors import (
    channel_available_to_sell,
    product_list,
    stock_item_list,
    stock_movement_list,
    stock_warehouses_for_requests,
)
from inventory.services.allocation import stock_allocate, stock_release, stock_ship
from inventory.services.imports import product_import, stock_count_import
from inventory.services.stock import stock_adjust, stock_receive, stock_return
from inventory.services.transfers import (
    TransferLineInput,
    transfer_cancel,
    transfer_create,
    transfer_receive,
)
from inventory.spreadsheets import (
    FORMATS,
    content_type_for,
    export_filename,
    product_export,
    stock_count_export,
)

# --- reads -------------------------------------------------------------------------


class ProductListApi(ListAPIView):
    """Products (SKUs) with their bundle components."""

    permission_classes = [CanViewStock]
    serializer_class = ProductOutputSerializer
    filterset_class = ProductFilter

    def get_queryset(self) -> QuerySet[Product]:
        return product_list()


class ProductDetailApi(RetrieveAPIView):
    permission_classes = [CanViewStock]
    serializer_class = ProductOutputSerializer

    def get_queryset(self) -> QuerySet[Product]:
        return product_list()


class WarehouseListApi(ListAPIView):
    permission_classes = [CanViewStock]
    serializer_class = WarehouseOutputSerializer
    filterset_fields = ["is_active", "country", "kind"]
    queryset = Warehouse.objects.order_by("priority", "code")


class WarehouseDetailApi(RetrieveAPIView):
    permission_classes = [CanViewStock]
    serializer_class = WarehouseOutputSerializer
    queryset = Warehouse.objects.all()


class StockItemListApi(ListAPIView):
    """Stock levels per SKU × warehouse × lot."""

    permission_classes = [CanViewStock]
    serializer_class = StockItemOutputSerializer
    filterset_class = StockItemFilter

    def get_queryset(self) -> QuerySet[StockItem]:
        return stock_item_list()


class StockMovementListApi(ListAPIView):
    """The stock ledger, newest first."""

    permission_classes = [CanViewStock]
    serializer_class = StockMovementOutputSerializer
    filterset_class = StockMovementFilter

    def get_queryset(self) -> QuerySet[Any]:
        return stock_movement_list()


class AvailableToSellApi(APIView):
    """What one store may sell per SKU: feeding warehouses minus allocations and buffer."""

    permission_classes = [CanViewStock]

    @extend_schema_serializer(component_name="AvailableToSellInput")
    class InputSerializer(serializers.Serializer):
        product_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000
        )

    @extend_schema(
        parameters=[InputSerializer],
        responses=inline_serializer(
            "AvailableToSellOutput",
            fields={
                "channel_id": serializers.IntegerField(),
                "available": inline_serializer(
                    "AvailableToSellLine",
                    fields={
                        "product_id": serializers.IntegerField(),
                        "available_to_sell": serializers.IntegerField(),
                    },
                    many=True,
                ),
            },
        ),
    )
    def get(self, request: Request, channel_id: int) -> Response:
        serializer = self.InputSerializer(
            data={"product_ids": request.query_params.getlist("product_ids")}
        )
        serializer.is_valid(raise_exception=True)
        figures = channel_available_to_sell(
            channel_id=channel_id, product_ids=serializer.validated_data["product_ids"]
        )
        return Response(
            {
                "channel_id": channel_id,
                "available": [
                    {"product_id": pid, "available_to_sell": n}
                    for pid, n in sorted(figures.items())
                ],
            }
        )


class _RequestLineSerializer(serializers.Serializer):
    order_line_id = serializers.IntegerField(required=False, allow_null=True)
    product_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1)


def _requests(lines: list[dict[str, Any]]) -> list[AllocationRequest]:
    return [
        AllocationRequest(
            order_line_id=line.get("order_line_id"),
            product_id=line["product_id"],
            quantity=line["quantity"],
        )
        for line in lines
    ]


class WarehouseChoiceApi(APIView):
    """Which warehouses can ship all these lines now, best first (reads only)."""

    permission_classes = [CanViewStock]

    @extend_schema_serializer(component_name="WarehouseChoiceInput")
    class InputSerializer(serializers.Serializer):
        lines = _RequestLineSerializer(many=True, allow_empty=False)
        country = serializers.CharField(max_length=2, required=False, default="")
        region = serializers.CharField(max_length=10, required=False, default="")

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer(
            "WarehouseChoiceOutput",
            fields={
                "warehouses": inline_serializer(
                    "WarehouseChoiceCandidate",
                    fields={
                        "warehouse_id": serializers.IntegerField(),
                        "code": serializers.CharField(),
                        "priority": serializers.IntegerField(),
                        "serves_destination": serializers.BooleanField(),
                    },
                    many=True,
                )
            },
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        candidates = stock_warehouses_for_requests(
            requests=_requests(data["lines"]),
            country=data["country"],
            region=data["region"],
        )
        return Response(
            {
                "warehouses": [
                    {
                        "warehouse_id": c.warehouse_id,
                        "code": c.code,
                        "priority": c.priority,
                        "serves_destination": c.serves_destination,
                    }
                    for c in candidates
                ]
            }
        )


# --- writes ------------------------------------------------------------------------


class StockReceiveApi(APIView):
    """Receive goods into a warehouse (into a lot for lot-tracked SKUs)."""

    permission_classes = [CanChangeStock]

    @extend_schema_serializer(component_name="StockReceiveInput")
    class InputSerializer(serializers.Serializer):
        product_id = serializers.IntegerField(min_value=1)
        warehouse_id = serializers.IntegerField(min_value=1)
        quantity = serializers.IntegerField(min_value=1)
        lot_code = serializers.CharField(max_length=100, required=False, default="")
        expires_on = serializers.DateField(required=False, allow_null=True)
        unit_cost = serializers.DecimalField(
            max_digits=19, decimal_places=4, required=False, allow_null=True
        )
        cost_currency = serializers.CharField(max_length=3, required=False, default="")
        reference = serializers.CharField(max_length=100, required=False, default="")
        reason = serializers.CharField(max_length=255, required=False, default="")

    @extend_schema(request=InputSerializer, responses=StockMovementOutputSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        movement = stock_receive(actor=request.user, **serializer.validated_data)
        return Response(
            StockMovementOutputSerializer(movement).data, status=status.HTTP_201_CREATED
        )


class StockAdjustApi(APIView):
    """Set a stock row to a counted quantity."""

    permission_classes = [CanChangeStock]

    @extend_schema_serializer(component_name="StockAdjustInput")
    class InputSerializer(serializers.Serializer):
        product_id = serializers.IntegerField(min_value=1)
        warehouse_id = serializers.IntegerField(min_value=1)
        batch_id = serializers.IntegerField(required=False, allow_null=True)
        counted_quantity = serializers.IntegerField(min_value=0)
        reason = serializers.CharField(max_length=255)
        reference = serializers.CharField(max_length=100, required=False, default="")

    @extend_schema(request=InputSerializer, responses=StockMovementOutputSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        movement = stock_adjust(actor=request.user, **serializer.validated_data)
        return Response(
            StockMovementOutputSerializer(movement).data, status=status.HTTP_201_CREATED
        )


class StockReturnApi(APIView):
    """Put returned goods back on hand (against a shipped allocation, or to a SKU)."""

    permission_classes = [CanChangeStock]

    @extend_schema_serializer(component_name="StockReturnInput")
    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=1)
        allocation_id = serializers.IntegerField(required=False, allow_null=True)
        product_id = serializers.IntegerField(required=False, allow_null=True)
        warehouse_id = serializers.IntegerField(required=False, allow_null=True)
        batch_id = serializers.IntegerField(required=False, allow_null=True)
        reason = serializers.CharField(max_length=255, required=False, default="")
        reference = serializers.CharField(max_length=100, required=False, default="")

    @extend_schema(request=InputSerializer, responses=StockMovementOutputSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        movement = stock_return(actor=request.user, **serializer.validated_data)
        return Response(
            StockMovementOutputSerializer(movement).data, status=status.HTTP_201_CREATED
        )


class StockAllocateApi(APIView):
    """Reserve stock in one warehouse for every line, or for none (409 with shortages)."""

    permission_classes = [CanChangeStock]

    @extend_schema_serializer(component_name="StockAllocateInput")
    class InputSerializer(serializers.Serializer):
        warehouse_id = serializers.IntegerField(min_value=1)
        lines = _RequestLineSerializer(many=True, allow_empty=False)
        reference = serializers.CharField(max_length=100, required=False, default="")

    @extend_schema(
        request=InputSerializer, responses=AllocationOutputSerializer(many=True)
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        allocations = stock_allocate(
            requests=_requests(data["lines"]),
            warehouse_id=data["warehouse_id"],
            reference=data["reference"],
            actor=request.user,
        )
        return Response(
            AllocationOutputSerializer(allocations, many=True).data,
            status=status.HTTP_201_CREATED,
        )


class _AllocationIdsSerializer(serializers.Serializer):
    allocation_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000
    )
    reference = serializers.CharField(max_length=100, required=False, default="")


def _allocations_out(allocations: list[Allocation]) -> Response:
    fresh = Allocation.objects.select_related("stock_item").filter(
        pk__in=[a.pk for a in allocations]
    )
    return Response(AllocationOutputSerializer(fresh, many=True).data)


class StockReleaseApi(APIView):
    """Release allocations back to the sellable pool."""

    permission_classes = [CanChangeStock]

    @extend_schema_serializer(component_name="StockReleaseInput")
    class InputSerializer(_AllocationIdsSerializer):
        reason = serializers.CharField(
            max_length=255, required=False, default="Released"
        )

    @extend_schema(
        request=InputSerializer, responses=AllocationOutputSerializer(many=True)
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _allocations_out(
            stock_release(actor=request.user, **serializer.validated_data)
        )


class StockShipApi(APIView):
    """Mark allocations shipped: their units leave on-hand stock."""

    permission_classes = [CanChangeStock]

    @extend_schema_serializer(component_name="StockShipInput")
    class InputSerializer(_AllocationIdsSerializer):
        pass

    @extend_schema(
        request=InputSerializer, responses=AllocationOutputSerializer(many=True)
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _allocations_out(
            stock_ship(actor=request.user, **serializer.validated_data)
        )


class TransferDetailApi(RetrieveAPIView):
    permission_classes = [CanViewStock]
    serializer_class = TransferOutputSerializer
    queryset = Transfer.objects.prefetch_related("lines")


class TransferCreateApi(APIView):
    """Dispatch stock to another warehouse; it is in transit until received."""

    permission_classes = [CanChangeStock]

    @extend_schema_serializer(component_name="TransferCreateInput")
    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            product_id = serializers.IntegerField(min_value=1)
            quantity = serializers.IntegerField(min_value=1)
            batch_id = serializers.IntegerField(required=False, allow_null=True)

        source_warehouse_id = serializers.IntegerField(min_value=1)
        destination_warehouse_id = serializers.IntegerField(min_value=1)
        lines = LineSerializer(many=True, allow_empty=False)
        reference = serializers.CharField(max_length=100, required=False, default="")

    @extend_schema(request=InputSerializer, responses=TransferOutputSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        transfer = transfer_create(
            source_warehouse_id=data["source_warehouse_id"],
            destination_warehouse_id=data["destination_warehouse_id"],
            lines=[TransferLineInput(**line) for line in data["lines"]],
            reference=data["reference"],
            actor=request.user,
        )
        return Response(
            TransferOutputSerializer(transfer).data, status=status.HTTP_201_CREATED
        )


class TransferReceiveApi(APIView):
    """Receive an in-transit transfer at its destination."""

    permission_classes = [CanChangeStock]

    @extend_schema(request=None, responses=TransferOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        transfer = transfer_receive(transfer_id=pk, actor=request.user)
        return Response(TransferOutputSerializer(transfer).data)


class TransferCancelApi(APIView):
    """Call an in-transit transfer back to its source."""

    permission_classes = [CanChangeStock]

    @extend_schema(request=None, responses=TransferOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        transfer = transfer_cancel(transfer_id=pk, actor=request.user)
        return Response(TransferOutputSerializer(transfer).data)


# --- imports and exports -------------------------------------------------------------


class _ImportInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    file_format = serializers.ChoiceField(choices=sorted(FORMATS), required=False)
    import_valid_rows = serializers.BooleanField(required=False, default=False)
    dry_run = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("file_format"):
            suffix = attrs["file"].name.rsplit(".", 1)[-1].lower()
            if suffix not in FORMATS:
                raise serializers.ValidationError(
                    {"file_format": "Say csv or xlsx (the file name does not)."}
                )
            attrs["file_format"] = suffix
        return attrs


def _import_response(report: Any) -> Response:
    body = report.as_dict()
    if report.errors and not report.committed:
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return Response(body, status=status.HTTP_200_OK)


class ProductImportApi(APIView):
    """Create or update products from CSV/XLSX; all rows or none unless asked."""

    permission_classes = [CanChangeProducts]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": _ImportInputSerializer},
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="Import report"),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Import report with row errors; nothing committed",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = _ImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report = product_import(
            content=data["file"].read(),
            file_format=data["file_format"],
            import_valid_rows=data["import_valid_rows"],
            dry_run=data["dry_run"],
        )
        return _import_response(report)


class StockCountImportApi(APIView):
    """Apply a stock count sheet (CSV/XLSX); all rows or none unless asked."""

    permission_classes = [CanChangeStock]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="StockCountImportInput")
    class InputSerializer(_ImportInputSerializer):
        reference = serializers.CharField(max_length=100, required=False, default="")

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
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report = stock_count_import(
            content=data["file"].read(),
            file_format=data["file_format"],
            import_valid_rows=data["import_valid_rows"],
            dry_run=data["dry_run"],
            reference=data["reference"],
            actor=request.user,
        )
        return _import_response(report)


def _download(content: bytes, *, prefix: str, file_format: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type_for(file_format))
    response["Content-Disposition"] = (
        f'attachment; filename="{export_filename(prefix, file_format)}"'
    )
    return response


class _ExportInputSerializer(serializers.Serializer):
    file_format = serializers.ChoiceField(choices=sorted(FORMATS), default="csv")


class ProductExportApi(APIView):
    """All products as CSV/XLSX, in the import's columns."""

    permission_classes = [CanViewStock]

    @extend_schema(
        parameters=[_ExportInputSerializer],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        serializer = _ExportInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        fmt = serializer.validated_data["file_format"]
        return _download(
            product_export(queryset=Product.objects.order_by("sku"), file_format=fmt),
            prefix="products",
            file_format=fmt,
        )


class StockCountExportApi(APIView):
    """Stock rows as a count sheet (optionally one warehouse), CSV/XLSX."""

    permission_classes = [CanViewStock]

    @extend_schema_serializer(component_name="StockCountExportInput")
    class InputSerializer(_ExportInputSerializer):
        warehouse = serializers.CharField(required=False)

    @extend_schema(
        parameters=[InputSerializer],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        queryset = StockItem.objects.all()
        if data.get("warehouse"):
            get_object_or_404(Warehouse, code=data["warehouse"])
            queryset = queryset.filter(warehouse__code=data["warehouse"])
        return _download(
            stock_count_export(queryset=queryset, file_format=data["file_format"]),
            prefix="stock-count",
            file_format=data["file_format"],
        )
