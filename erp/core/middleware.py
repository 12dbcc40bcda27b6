"""Request middleware of erp.core."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class UserLanguageMiddleware:
    """Speak the language the signed-in user chose, wherever they sign in from.

    Runs after LocaleMiddleware (browser/cookie choice) and AuthenticationMiddleware;
    a saved preference wins over the browser.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            preference = getattr(user, "preference", None)
            language = getattr(preference, "language", "")
            if language in self.supported:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
