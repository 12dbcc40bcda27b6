"""Domain errors: every app raises ApplicationError subclasses with structured extra data."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A business rule refused the request; the message is safe to show to the user."""

    code = "application_error"
    status_code = 400

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra


class ConflictError(ApplicationError):
    """The request clashes with the current state (stale version, duplicate, wrong status)."""

    code = "conflict"
    status_code = 409


class CurrencyMismatchError(ApplicationError):
    """Two amounts in different currencies were combined without a conversion."""

    code = "currency_mismatch"


class InvalidMoneyError(ApplicationError):
    """An amount could not be read as an exact decimal (floats are refused on purpose)."""

    code = "invalid_money"
