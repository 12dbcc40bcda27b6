"""The start page for staff: what needs attention now."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from erp.core.selectors import outbox_health

# A worker beats every 60 s; three missed beats means nobody is delivering.
HEARTBEAT_STALE_SECONDS = 180


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    health = outbox_health()
    age = health.heartbeat_age_seconds
    return render(
        request,
        "core/dashboard.html",
        {
            "health": health,
            "workers_ok": age is not None and age <= HEARTBEAT_STALE_SECONDS,
        },
    )
