"""Finance models, one module per aggregate; Django discovers them through this package."""

from finance.models.fx import ExchangeRate
from finance.models.payments import Payment, Refund, RefundLine

__all__ = ["ExchangeRate", "Payment", "Refund", "RefundLine"]
