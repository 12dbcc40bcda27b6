"""Errors the order pipeline raises; the API maps them to 400/409 with their extra data."""

from erp.core.exceptions import ApplicationError, ConflictError


class IllegalOrderTransitionError(ConflictError):
    """The order's status does not allow this move."""

    code = "illegal_order_transition"


class OrderVersionConflictError(ConflictError):
    """Someone changed the order since the caller loaded it."""

    code = "order_version_conflict"


class OrderNotFoundError(ApplicationError):
    """No such order."""

    code = "order_not_found"
    status_code = 404


class InvalidOrderDataError(ApplicationError):
    """A canonical order that cannot be stored (no lines, bad currency, ...)."""

    code = "invalid_order_data"
