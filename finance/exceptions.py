"""Finance errors: each says what is wrong and what is missing, in its extra data."""

from __future__ import annotations

from erp.core.exceptions import ApplicationError, ConflictError


class MissingRateError(ApplicationError):
    """No exchange rate can convert the amount; `extra["missing"]` lists the pairs."""

    code = "fx_rate_missing"


class FxImportError(ApplicationError):
    """An exchange-rate file or feed cannot be read; nothing was imported."""

    code = "fx_import_invalid"


class FxFetchError(ApplicationError):
    """The rate feed did not answer (network, timeout, 5xx): worth retrying later."""

    code = "fx_fetch_failed"
    status_code = 502


class ImportFileError(ApplicationError):
    """An import file cannot be read or has the wrong columns; nothing was imported."""

    code = "import_file_invalid"


class OrderNotFoundError(ApplicationError):
    """The order a finance figure refers to does not exist."""

    code = "order_not_found"
    status_code = 404


class InvalidFinanceDataError(ApplicationError):
    """A payment, refund, payout or cost figure is incomplete or contradictory."""

    code = "finance_data_invalid"


class DifferenceStatusError(ConflictError):
    """A reconciliation difference is not in the state the change needs."""

    code = "difference_status"
