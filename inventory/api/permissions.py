"""API permissions of inventory: Django model permissions, so the role groups apply."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class CanViewStock(BasePermission):
    """Ops, finance and admin may read stock."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.has_perm("inventory.view_stockitem"))


class CanChangeStock(BasePermission):
    """Ops and admin may change stock (finance only reads)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(
            request.user and request.user.has_perm("inventory.change_stockitem")
        )


class CanChangeProducts(BasePermission):
    """Ops and admin may import product master data."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(
            request.user
            and request.user.has_perm("inventory.add_product")
            and request.user.has_perm("inventory.change_product")
        )
