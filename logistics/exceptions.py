"""Domain errors of logistics."""

from erp.core.exceptions import ApplicationError, ConflictError


class ShipmentNotFoundError(ApplicationError):
    code = "shipment_not_found"
    status_code = 404


class ShipmentStateError(ConflictError):
    """The shipment is not in a state that allows this (label bought, voided...)."""

    code = "shipment_state"


class NoEligibleServiceError(ApplicationError):
    """No allowed service quoted within the limits and the promise."""

    code = "no_eligible_service"


class CurrencyConversionUnavailableError(ApplicationError):
    """Quotes are in currencies we cannot convert yet; the missing pairs are listed."""

    code = "fx_unavailable"


class ImportFileError(ApplicationError):
    """The file cannot be read or has wrong columns; nothing was imported."""

    code = "import_file_invalid"


class RateCardImportError(ImportFileError):
    """The rate card to import into does not exist."""

    code = "rate_card_import_invalid"


class WebhookDeliveryStateError(ConflictError):
    """The carrier push is not in a state that allows this (only failed ones retry)."""

    code = "webhook_delivery_state"
