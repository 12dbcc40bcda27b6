"""Canonical orders for tests, as a connector would build them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from orders.canonical import (
    CanonicalAddress,
    CanonicalCustomer,
    CanonicalLine,
    CanonicalOrder,
)
from orders.choices import FinancialStatus

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

US_ADDRESS = CanonicalAddress(
    name="Ava Miller",
    line1="500 Congress Ave",
    city="Austin",
    province_code="TX",
    postal_code="78701",
    country_code="US",
    phone="+1 512 555 0100",
)


def canonical_order(
    external_id: str = "820982911946154508",
    *,
    lines: list[tuple[str, int, str]] | None = None,
    version: int = 1,
    financial_status: str = FinancialStatus.PAID,
    email: str = "ava@example.com",
    address: CanonicalAddress = US_ADDRESS,
    cancelled: bool = False,
    **overrides,
) -> CanonicalOrder:
    """An order whose store version `version` was saved `version` minutes after T0."""
    lines = lines if lines is not None else [("SKU-A", 1, "10.00")]
    canonical_lines = tuple(
        CanonicalLine(
            external_id=f"{external_id}-{n}",
            sku=sku,
            title=f"Item {sku}",
            quantity=qty,
            unit_price=Decimal(price),
        )
        for n, (sku, qty, price) in enumerate(lines, start=1)
    )
    total = sum(
        (line.unit_price * line.quantity for line in canonical_lines), Decimal(0)
    )
    values = {
        "external_id": external_id,
        "number": f"#{external_id[-4:]}",
        "currency": "USD",
        "placed_at": T0,
        "store_updated_at": T0 + timedelta(minutes=version),
        "lines": canonical_lines,
        "subtotal": total,
        "total": total,
        "financial_status": financial_status,
        "email": email,
        "customer": CanonicalCustomer(
            email=email, first_name="Ava", last_name="Miller"
        ),
        "shipping_address": address,
        "billing_address": address,
        "cancelled_at": T0 + timedelta(minutes=version) if cancelled else None,
        "cancel_reason": "customer" if cancelled else "",
    }
    values.update(overrides)
    return CanonicalOrder(**values)
