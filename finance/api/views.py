"""Finance API: reads as list views, each write as its own APIView (one service call)."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.core.api.permissions import require_perms
from erp.core.money import Money, quantize
from finance.choices import CostKind, PayoutSource
from finance.exceptions import InvalidFinanceDataError
from finance.models import (
    ExchangeRate,
    Payment,
    Payout,
    ReconciliationDifference,
    ReconciliationRun,
)
from finance.selectors.profit import (
    GROUPS,
    PERIODS,
    ProfitFilters,
    order_profit_get,
    profit_aggregate,
)
from finance.services.fx import (
    exchange_rate_set,
    exchange_rates_import_csv,
    exchange_rates_import_ecb,
    money_convert,
)
from finance.services.payouts import payout_file_import
from finance.services.profit import order_cost_record
from finance.services.reconciliation import (
    reconciliation_difference_note,
    reconciliation_difference_reopen,
    reconciliation_difference_resolve,
    reconciliation_run,
)

CanViewFinance = require_perms("finance.view_orderprofit")


class ExchangeRateOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExchangeRate
        fields = ["id", "source", "base", "quote", "rate", "on", "reference"]


class ExchangeRateListApi(ListAPIView):
    """Exchange rates, newest day first; filter by base, quote, on, source."""

    permission_classes = [CanViewFinance]
    serializer_class = ExchangeRateOutputSerializer
    filterset_fields = ["base", "quote", "on", "source"]
    queryset = ExchangeRate.objects.all()


class ExchangeRateSetApi(APIView):
    """Enter or correct one rate by hand."""

    permission_classes = [
        require_perms("finance.add_exchangerate", "finance.change_exchangerate")
    ]

    @extend_schema_serializer(component_name="ExchangeRateSetInput")
    class InputSerializer(serializers.Serializer):
        base = serializers.CharField(min_length=3, max_length=3)
        quote = serializers.CharField(min_length=3, max_length=3)
        rate = serializers.DecimalField(max_digits=24, decimal_places=10)
        on = serializers.DateField()
        reference = serializers.CharField(required=False, default="", max_length=255)

    @extend_schema(
        request=InputSerializer, responses={201: ExchangeRateOutputSerializer}
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rate = exchange_rate_set(**data.validated_data)
        return Response(
            ExchangeRateOutputSerializer(rate).data, status=status.HTTP_201_CREATED
        )


class ExchangeRateImportApi(APIView):
    """Upload an ECB reference-rate XML or a date,base,quote,rate CSV."""

    permission_classes = [
        require_perms("finance.add_exchangerate", "finance.change_exchangerate")
    ]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="ExchangeRateImportInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        format = serializers.ChoiceField(choices=["ecb", "csv"])

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
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        importer = (
            exchange_rates_import_ecb
            if data.validated_data["format"] == "ecb"
            else exchange_rates_import_csv
        )
        result = importer(content=upload.read(), reference=upload.name)
        return Response(
            result.as_dict(), status=status.HTTP_200_OK if result.committed else 400
        )


class ConvertApi(APIView):
    """Convert an amount with the rate of a day (or the nearest earlier one, said so)."""

    permission_classes = [CanViewFinance]

    @extend_schema_serializer(component_name="ConvertInput")
    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(max_digits=19, decimal_places=4)
        currency = serializers.CharField(min_length=3, max_length=3)
        to = serializers.CharField(min_length=3, max_length=3)
        on = serializers.DateField()

    @extend_schema(
        parameters=[InputSerializer],
        responses=inline_serializer(
            "ConvertOutput",
            fields={
                "amount": serializers.CharField(),
                "currency": serializers.CharField(),
                "rate": serializers.CharField(),
                "rate_on": serializers.DateField(allow_null=True),
                "is_exact_date": serializers.BooleanField(),
                "note": serializers.CharField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        converted = money_convert(
            amount=Money(v["amount"], v["currency"]), to=v["to"], on=v["on"]
        )
        return Response(
            {
                "amount": str(converted.amount.amount),
                "currency": converted.amount.currency,
                "rate": str(converted.rate),
                "rate_on": converted.rate_on.isoformat() if converted.rate_on else None,
                "is_exact_date": converted.is_exact_date,
                "note": converted.note,
            }
        )


class PayoutOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payout
        fields = [
            "id",
            "gateway",
            "external_id",
            "channel",
            "source",
            "currency",
            "amount",
            "paid_on",
            "status",
        ]


class PayoutListApi(ListAPIView):
    permission_classes = [CanViewFinance]
    serializer_class = PayoutOutputSerializer
    filterset_fields = ["gateway", "channel", "paid_on", "currency"]
    queryset = Payout.objects.all()


class PayoutImportApi(APIView):
    """Upload a PayPal settlement, Stripe itemized payout or mapped CSV report."""

    permission_classes = [require_perms("finance.add_payout", "finance.change_payout")]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="PayoutImportInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        source = serializers.ChoiceField(
            choices=[
                PayoutSource.PAYPAL_SETTLEMENT,
                PayoutSource.STRIPE_ITEMIZED,
                PayoutSource.GENERIC_CSV,
            ]
        )
        channel = serializers.IntegerField(
            required=False, allow_null=True, default=None
        )
        gateway = serializers.CharField(required=False, default="", max_length=50)
        mapping = serializers.CharField(
            required=False, default="{}", help_text="JSON: field -> column"
        )
        date_format = serializers.CharField(required=False, default="", max_length=50)

        def validate_mapping(self, value: str) -> dict[str, str]:
            try:
                mapping = json.loads(value or "{}")
            except json.JSONDecodeError:
                raise serializers.ValidationError(gettext("Not JSON.")) from None
            if not isinstance(mapping, dict) or not all(
                isinstance(v, str) for v in mapping.values()
            ):
                raise serializers.ValidationError(
                    gettext('Give {"field": "column header", ...}.')
                )
            return mapping

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
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        report = payout_file_import(
            source=v["source"],
            content=v["file"].read(),
            file_name=v["file"].name,
            channel_id=v["channel"],
            gateway=v["gateway"],
            mapping=v["mapping"],
            date_format=v["date_format"],
            actor_id=request.user.pk,
        )
        return Response(
            report.as_dict(), status=status.HTTP_200_OK if report.committed else 400
        )


class ReconciliationRunOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReconciliationRun
        fields = [
            "id",
            "date_from",
            "date_to",
            "channel",
            "tolerance_minor_units",
            "status",
            "items_total",
            "items_matched",
            "differences_found",
            "summary",
            "created_at",
            "finished_at",
        ]


class ReconciliationRunListApi(ListAPIView):
    permission_classes = [CanViewFinance]
    serializer_class = ReconciliationRunOutputSerializer
    queryset = ReconciliationRun.objects.all()


class ReconciliationRunStartApi(APIView):
    """Reconcile a period now; answers with the finished run."""

    permission_classes = [require_perms("finance.add_reconciliationrun")]

    @extend_schema_serializer(component_name="ReconciliationRunStartInput")
    class InputSerializer(serializers.Serializer):
        date_from = serializers.DateField()
        date_to = serializers.DateField()
        channel = serializers.IntegerField(
            required=False, allow_null=True, default=None
        )
        tolerance_minor_units = serializers.IntegerField(
            required=False, default=1, min_value=0
        )

    @extend_schema(
        request=InputSerializer, responses={201: ReconciliationRunOutputSerializer}
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        run = reconciliation_run(
            date_from=v["date_from"],
            date_to=v["date_to"],
            channel_id=v["channel"],
            tolerance_minor_units=v["tolerance_minor_units"],
            actor_id=request.user.pk,
        )
        return Response(
            ReconciliationRunOutputSerializer(run).data, status=status.HTTP_201_CREATED
        )


class DifferenceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReconciliationDifference
        fields = [
            "id",
            "kind",
            "subject",
            "status",
            "order",
            "payout_line",
            "refund",
            "currency",
            "expected",
            "actual",
            "message",
            "notes",
            "resolved_at",
            "resolved_by",
            "first_run",
            "last_run",
        ]


class DifferenceListApi(ListAPIView):
    """Reconciliation differences; filter by status, kind, order."""

    permission_classes = [CanViewFinance]
    serializer_class = DifferenceOutputSerializer
    filterset_fields = ["status", "kind", "order"]

    def get_queryset(self) -> QuerySet[ReconciliationDifference]:
        return ReconciliationDifference.objects.order_by("kind", "pk")


class _DifferenceWriteApi(APIView):
    permission_classes = [require_perms("finance.change_reconciliationdifference")]

    @extend_schema_serializer(component_name="DifferenceWriteInput")
    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=2000)


class DifferenceNoteApi(_DifferenceWriteApi):
    """Add a note to a difference."""

    @extend_schema(
        request=_DifferenceWriteApi.InputSerializer,
        responses=DifferenceOutputSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        difference = reconciliation_difference_note(
            difference_id=pk, text=data.validated_data["text"], actor_id=request.user.pk
        )
        return Response(DifferenceOutputSerializer(difference).data)


class DifferenceResolveApi(_DifferenceWriteApi):
    """Mark a difference resolved, saying why."""

    @extend_schema(
        request=_DifferenceWriteApi.InputSerializer,
        responses=DifferenceOutputSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        difference = reconciliation_difference_resolve(
            difference_id=pk, note=data.validated_data["text"], actor_id=request.user.pk
        )
        return Response(DifferenceOutputSerializer(difference).data)


class DifferenceReopenApi(_DifferenceWriteApi):
    """Reopen a resolved difference, saying why (its notes keep the history)."""

    @extend_schema(
        request=_DifferenceWriteApi.InputSerializer,
        responses={
            200: DifferenceOutputSerializer,
            409: OpenApiResponse(
                OpenApiTypes.OBJECT, description="The difference is not resolved"
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        difference = reconciliation_difference_reopen(
            difference_id=pk, note=data.validated_data["text"], actor_id=request.user.pk
        )
        return Response(DifferenceOutputSerializer(difference).data)


def _key(value: Any) -> Any:
    # Period buckets are midnight datetimes; the day is what they mean.
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, datetime.date) else value


def _row(row: Any) -> dict[str, Any]:
    return {
        "key": [_key(v) for v in row.key],
        "label": row.label,
        "orders": row.orders,
        **{f: str(v) for f, v in row.figures.items()},
        "margin": str(row.margin) if row.margin is not None else None,
    }


class ProfitReportApi(APIView):
    """Profit and sales in the base currency, grouped and filtered like the report page."""

    permission_classes = [CanViewFinance]

    @extend_schema_serializer(component_name="ProfitReportInput")
    class InputSerializer(serializers.Serializer):
        group_by = serializers.ChoiceField(choices=GROUPS, default="period")
        period = serializers.ChoiceField(choices=list(PERIODS), default="month")
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)
        channel = serializers.IntegerField(required=False)
        country = serializers.CharField(required=False, default="", max_length=2)
        customer_type = serializers.CharField(required=False, default="")
        tag = serializers.CharField(required=False, default="")

    @extend_schema(
        parameters=[InputSerializer],
        responses=OpenApiResponse(
            OpenApiTypes.OBJECT,
            description=(
                "currency, group_by, period, rows and totals (key, label, orders, "
                "the figures as decimal strings, margin) and orders_missing_rates"
            ),
        ),
    )
    def get(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        table = profit_aggregate(
            filters=ProfitFilters(
                date_from=v.get("date_from"),
                date_to=v.get("date_to"),
                channel_id=v.get("channel"),
                country=v["country"],
                customer_type=v["customer_type"],
                tag=v["tag"],
            ),
            group_by=v["group_by"],
            period=v["period"],
        )
        return Response(
            {
                "currency": table.currency,
                "group_by": table.group_by,
                "period": table.period,
                "rows": [_row(r) for r in table.rows],
                "totals": _row(table.totals),
                "orders_missing_rates": table.orders_missing_rates,
            }
        )


class OrderProfitApi(APIView):
    """One order's profit, its figures, lines and the rates used."""

    permission_classes = [CanViewFinance]

    @extend_schema(
        responses=OpenApiResponse(
            OpenApiTypes.OBJECT,
            description=(
                "order, currency, revenue, discounts, refunds, cogs, shipping_cost, "
                "fees, other_costs, profit (decimal strings), fx_status, fx_note, "
                "lines (sku, quantity, revenue, cogs, profit), payments (kind, "
                "gateway, amount, currency, presentment_amount, presentment_currency, "
                "fee, fee_currency: what the customer paid, in the store's currency "
                "and in theirs)"
            ),
        )
    )
    def get(self, request: Request, order_id: int) -> Response:
        row = order_profit_get(order_id=order_id)
        if row is None:
            raise InvalidFinanceDataError(
                gettext("Order %(order_id)s has no profit figures yet.")
                % {"order_id": order_id},
                order_id=order_id,
            )
        figures = (
            "revenue",
            "discounts",
            "refunds",
            "cogs",
            "shipping_cost",
            "fees",
            "other_costs",
            "profit",
        )
        return Response(
            {
                "order": order_id,
                "currency": row.base_currency,
                **{
                    f: str(quantize(getattr(row, f), row.base_currency))
                    for f in figures
                },
                "fx_status": row.fx_status,
                "fx_note": row.fx_note,
                "lines": [
                    {
                        "sku": ln.sku,
                        "quantity": ln.quantity,
                        "revenue": str(ln.revenue),
                        "cogs": str(ln.cogs),
                        "profit": str(ln.profit),
                    }
                    for ln in row.lines.all()
                ],
                "payments": [
                    {
                        "kind": p.kind,
                        "gateway": p.gateway,
                        "amount": str(quantize(p.amount, p.currency)),
                        "currency": p.currency,
                        "presentment_amount": None
                        if p.presentment_amount is None
                        else str(
                            quantize(p.presentment_amount, p.presentment_currency)
                        ),
                        "presentment_currency": p.presentment_currency,
                        "fee": None
                        if p.fee is None
                        else str(quantize(p.fee, p.fee_currency or p.currency)),
                        "fee_currency": p.fee_currency,
                    }
                    for p in Payment.objects.filter(
                        order_id=order_id, succeeded=True
                    ).order_by("processed_at", "pk")
                ],
            }
        )


class OrderCostRecordApi(APIView):
    """Record a cost of an order by hand (goods, shipping, other)."""

    permission_classes = [
        require_perms("finance.add_ordercost", "finance.change_ordercost")
    ]

    @extend_schema_serializer(component_name="OrderCostRecordInput")
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=CostKind.choices)
        amount = serializers.DecimalField(max_digits=19, decimal_places=4, min_value=0)
        currency = serializers.CharField(min_length=3, max_length=3)
        reference = serializers.CharField(max_length=200)
        on = serializers.DateField()
        order_line = serializers.IntegerField(
            required=False, allow_null=True, default=None
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            201: inline_serializer(
                "OrderCostRecordOutput",
                fields={
                    "id": serializers.IntegerField(),
                    "kind": serializers.ChoiceField(choices=CostKind.choices),
                    "amount": serializers.CharField(),
                    "currency": serializers.CharField(),
                    "reference": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        cost = order_cost_record(
            order_id=order_id,
            kind=v["kind"],
            amount=Money(v["amount"], v["currency"]),
            reference=v["reference"],
            on=v["on"],
            order_line_id=v["order_line"],
        )
        return Response(
            {
                "id": cost.pk,
                "kind": cost.kind,
                "amount": str(cost.amount),
                "currency": cost.currency,
                "reference": cost.reference,
            },
            status=status.HTTP_201_CREATED,
        )
