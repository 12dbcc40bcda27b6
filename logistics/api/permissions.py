"""API permissions of logistics: Django model permissions, so the role groups apply."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class CanViewShipments(BasePermission):
    """Ops, finance and admin may read shipments, quotes and carriers."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.has_perm("logistics.view_shipment"))


class CanChangeShipments(BasePermission):
    """Ops and admin may quote, buy, void and print (finance only reads)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.has_perm("logistics.change_shipment"))


class CanChangeRateCards(BasePermission):
    """Ops and admin may replace a rate card's prices."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.has_perm("logistics.change_ratecard"))


class CanChangeShippingTerms(BasePermission):
    """Anyone who reads shipments may read promises and duty terms; ops change them."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(
            request.user and request.user.has_perm("logistics.change_shippingrule")
        )
