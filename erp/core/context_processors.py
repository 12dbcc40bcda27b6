"""Template context shared by the admin and the project's own staff pages."""

from __future__ import annotations

from django.http import HttpRequest


def staff_header(request: HttpRequest) -> dict[str, object]:
    """Let non-admin staff pages (dashboard, reports) show the admin header tools.

    The admin's base template shows the user links and the language switcher only when
    has_permission is set, which admin views do through each_context.
    """
    user = getattr(request, "user", None)
    return {"has_permission": bool(user and user.is_active and user.is_staff)}
