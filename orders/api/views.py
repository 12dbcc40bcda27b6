"""Order endpoints: list and detail reads, and one endpoint per action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.core.api.permissions import require_perms
from orders.api.serializers import (
    OrderDetailOutputSerializer,
    OrderListOutputSerializer,
)
from orders.exceptions import OrderNotFoundError
from orders.filters import OrderFilterSet
from orders.selectors import order_get_for_ops, order_list_for_ops
from orders.services.shipping import order_ship_prepare
from orders.services.workflow import (
    order_allocate,
    order_approve,
    order_cancel,
    order_hold,
)

CanViewOrders = require_perms("orders.view_order")
CanChangeOrders = require_perms("orders.view_order", "orders.change_order")


class OrderListApi(ListAPIView):
    """Orders with filters: status, channel, country, hold_reason, older_than_hours, q."""

    permission_classes = [CanViewOrders]
    serializer_class = OrderListOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilterSet

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return order_list_for_ops()


class OrderDetailApi(APIView):
    permission_classes = [CanViewOrders]

    @extend_schema(responses=OrderDetailOutputSerializer)
    def get(self, request: Request, order_id: int) -> Response:
        order = order_get_for_ops(order_id=order_id)
        if order is None:
            raise OrderNotFoundError(
                gettext("That order does not exist."), order_id=order_id
            )
        return Response(OrderDetailOutputSerializer(order).data)


class _ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    expected_version = serializers.IntegerField(required=False, min_value=1)


def _detail(order_id: int) -> Response:
    return Response(
        OrderDetailOutputSerializer(order_get_for_ops(order_id=order_id)).data
    )


class _OrderActionApi(APIView):
    """An action with a reason: input in, one service call, the order out."""

    permission_classes = [CanChangeOrders]
    service: Callable[..., Any]

    @extend_schema(request=_ReasonInput, responses=OrderDetailOutputSerializer)
    def post(self, request: Request, order_id: int) -> Response:
        serializer = _ReasonInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        type(self).service(
            order_id=order_id, actor=request.user, **serializer.validated_data
        )
        return _detail(order_id)


class OrderApproveApi(_OrderActionApi):
    """Approve a held order by hand (overrides its hold reasons) and allocate it."""

    service = staticmethod(order_approve)


class OrderHoldApi(_OrderActionApi):
    """Hold an order by hand; its reserved stock is released."""

    service = staticmethod(order_hold)


class OrderCancelApi(_OrderActionApi):
    """Cancel an unshipped order; the store is told through the outbox."""

    service = staticmethod(order_cancel)


class OrderShipApi(APIView):
    """Ship an allocated order: cheapest suitable service and a label per warehouse."""

    permission_classes = [CanChangeOrders]

    class OrderShipOutputSerializer(serializers.Serializer):
        order = OrderDetailOutputSerializer()
        shipped = serializers.ListField(child=serializers.IntegerField())
        problems = serializers.DictField(child=serializers.CharField())

    @extend_schema(request=None, responses=OrderShipOutputSerializer)
    def post(self, request: Request, order_id: int) -> Response:
        result = order_ship_prepare(order_id=order_id, actor=request.user)
        return Response(
            {
                "order": OrderDetailOutputSerializer(
                    order_get_for_ops(order_id=order_id)
                ).data,
                "shipped": result.shipped,
                "problems": {str(k): v for k, v in result.problems.items()},
            }
        )


class OrderAllocateApi(APIView):
    """Try the allocation of an approved or waiting order again."""

    permission_classes = [CanChangeOrders]

    @extend_schema(request=None, responses=OrderDetailOutputSerializer)
    def post(self, request: Request, order_id: int) -> Response:
        order_allocate(order_id=order_id, actor=request.user)
        return _detail(order_id)
