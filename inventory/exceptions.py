"""Errors inventory services raise; each carries structured `extra` for API and callers."""

from __future__ import annotations

from typing import Any

from erp.core.exceptions import ApplicationError, ConflictError


class InsufficientStockError(ApplicationError):
    """Not enough sellable stock for every requested line; nothing was allocated.

    extra["shortages"] lists {"product_id", "sku", "requested", "available"} per SKU.
    """

    code = "insufficient_stock"
    status_code = 409

    def __init__(
        self, *, warehouse_id: int | None, shortages: list[dict[str, Any]]
    ) -> None:
        skus = ", ".join(str(s.get("sku") or s["product_id"]) for s in shortages)
        super().__init__(
            f"Not enough stock for {skus}.",
            warehouse_id=warehouse_id,
            shortages=shortages,
        )
        self.shortages = shortages


class StockBusyError(ConflictError):
    """A stock row stayed locked past the lock timeout; retry shortly."""

    code = "stock_busy"


class AllocationStateError(ConflictError):
    """The allocation is not in a state that allows this (already shipped or released)."""

    code = "allocation_state"


class TransferStateError(ConflictError):
    """The transfer is no longer in transit."""

    code = "transfer_state"


class StockRuleError(ApplicationError):
    """The request breaks a stock rule (lot required, unknown lot, wrong quantity...)."""

    code = "stock_rule"


class StockObjectNotFoundError(ApplicationError):
    """A product, warehouse, lot, allocation or transfer the request names does not exist."""

    code = "not_found"
    status_code = 404
