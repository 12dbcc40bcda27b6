"""One error shape for the whole API: {"message", "code", "extra"}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import (
    PermissionDenied,
)
from django.core.exceptions import (
    ValidationError as DjangoValidationError,
)
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from erp.core.exceptions import ApplicationError
from erp.core.text import text_say_again


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain and DRF errors to one JSON body; anything else stays a 500."""
    if isinstance(exc, ApplicationError):
        return Response(
            # Services write some messages in English for storage (Phrase); the
            # caller reads them in the request's language.
            {
                "message": text_say_again(exc.message),
                "code": exc.code,
                "extra": exc.extra,
            },
            status=exc.status_code,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        message = "The request is invalid; see extra.fields."
        extra: dict[str, Any] = {"fields": response.data}
    else:
        detail = exc.detail
        message = (
            str(detail) if not isinstance(detail, dict | list) else exc.default_detail
        )
        extra = {} if isinstance(detail, str) else {"detail": response.data}
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    response.data = {"message": str(message), "code": code, "extra": extra}
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and exc.wait:
        response.data["extra"]["retry_after_seconds"] = int(exc.wait)
    return response
