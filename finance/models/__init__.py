"""Finance models, one module per aggregate; Django discovers them through this package."""

from finance.models.fx import ExchangeRate
from finance.models.payments import Payment, Refund, RefundLine
from finance.models.payouts import Payout, PayoutImport, PayoutLine
from finance.models.profit import (
    OrderCost,
    OrderLineProfit,
    OrderProfit,
    OrderProfitTag,
)
from finance.models.reconciliation import (
    ReconciliationDifference,
    ReconciliationItem,
    ReconciliationRun,
)

__all__ = [
    "ExchangeRate",
    "OrderCost",
    "OrderLineProfit",
    "OrderProfit",
    "OrderProfitTag",
    "Payment",
    "Payout",
    "PayoutImport",
    "PayoutLine",
    "ReconciliationDifference",
    "ReconciliationItem",
    "ReconciliationRun",
    "Refund",
    "RefundLine",
]
