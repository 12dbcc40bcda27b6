"""Finance models, one module per aggregate; Django discovers them through this package."""

from finance.models.fx import ExchangeRate
from finance.models.payments import Payment, Refund, RefundLine
from finance.models.payouts import Payout, PayoutImport, PayoutLine

__all__ = [
    "ExchangeRate",
    "Payment",
    "Payout",
    "PayoutImport",
    "PayoutLine",
    "Refund",
    "RefundLine",
]
