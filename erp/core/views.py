"""Plain Django views of erp.core."""

from __future__ import annotations

from contextlib import suppress

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from erp.core.exceptions import ApplicationError
from erp.core.services import user_language_set


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the UI language now (cookie) and, when signed in, for good (preference)."""
    response = set_language(request)
    if request.user.is_authenticated:
        # set_language has already ignored an unknown code; the preference does too.
        with suppress(ApplicationError):
            user_language_set(
                user_id=request.user.pk, language=request.POST.get("language", "")
            )
    return response
