"""Static state for finance tests; payments, payouts and costs go through services."""

from __future__ import annotations

import datetime
from decimal import Decimal

from finance.inputs import RefundInput, RefundLineInput, TransactionInput

UTC = datetime.UTC


def at(day: str, hour: int = 12) -> datetime.datetime:
    """An aware UTC datetime on an ISO day."""
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def sale(
    external_id: str,
    amount: str,
    *,
    currency: str = "USD",
    gateway: str = "shopify_payments",
    day: str = "2025-05-09",
    fee: str | None = None,
    kind: str = "sale",
    succeeded: bool = True,
    reference: str = "",
) -> TransactionInput:
    return TransactionInput(
        external_id=external_id,
        kind=kind,
        gateway=gateway,
        amount=Decimal(amount),
        currency=currency,
        processed_at=at(day),
        succeeded=succeeded,
        fee=Decimal(fee) if fee is not None else None,
        fee_currency=currency if fee is not None else "",
        gateway_reference=reference,
    )


def refund(
    external_id: str,
    amount: str,
    *,
    currency: str = "USD",
    day: str = "2025-05-12",
    lines: tuple[tuple[str, int, bool], ...] = (),
) -> RefundInput:
    return RefundInput(
        external_id=external_id,
        amount=Decimal(amount),
        currency=currency,
        created_at=at(day),
        lines=tuple(RefundLineInput(*line) for line in lines),
    )
