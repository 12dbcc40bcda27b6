"""Permission classes shared by every app's API."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


def require_perms(*perms: str) -> type[BasePermission]:
    """A permission class that needs every one of these Django permissions."""

    class HasPerms(BasePermission):
        message = "You do not have permission to do this."

        def has_permission(self, request: Request, view: APIView) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.has_perms(perms))

    HasPerms.__name__ = "Has_" + "_".join(p.replace(".", "_") for p in perms)
    return HasPerms
