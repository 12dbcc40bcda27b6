"""Reads of payments for the payments report: what was charged, in which currencies."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum

from erp.core.money import quantize
from finance.choices import MONEY_IN_KINDS, PaymentKind
from finance.models import Payment


@dataclass(frozen=True)
class PaymentFilters:
    """What the payments report shows: a period, a store, the customer's currency."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    channel_id: int | None = None
    presentment_currency: str = ""
    other_currency_only: bool = False


def payment_list_for_report(*, filters: PaymentFilters) -> QuerySet[Payment]:
    """Successful charges and refunds in the period, newest first, order loaded."""
    qs = Payment.objects.filter(
        succeeded=True, kind__in=(*MONEY_IN_KINDS, PaymentKind.REFUND)
    ).select_related("order", "channel")
    if filters.date_from is not None:
        qs = qs.filter(processed_at__date__gte=filters.date_from)
    if filters.date_to is not None:
        qs = qs.filter(processed_at__date__lte=filters.date_to)
    if filters.channel_id is not None:
        qs = qs.filter(channel_id=filters.channel_id)
    if filters.presentment_currency:
        qs = qs.filter(presentment_currency=filters.presentment_currency.upper())
    if filters.other_currency_only:
        qs = qs.exclude(presentment_currency="").exclude(
            presentment_currency=F("currency")
        )
    return qs.order_by("-processed_at", "-pk")


@dataclass(frozen=True)
class CurrencyPairTotal:
    """Charges and refunds of one (store currency, customer currency) pair."""

    currency: str
    presentment_currency: str
    payments: int
    charged: Decimal
    refunded: Decimal
    charged_presentment: Decimal | None
    refunded_presentment: Decimal | None
    fees: Decimal


def payment_totals_by_currency(*, filters: PaymentFilters) -> list[CurrencyPairTotal]:
    """Totals per store currency and customer currency ("" when the store's own)."""
    money_in = Q(kind__in=MONEY_IN_KINDS)
    refund = Q(kind=PaymentKind.REFUND)
    rows: list[dict[str, Any]] = list(
        payment_list_for_report(filters=filters)
        .order_by()
        .values("currency", "presentment_currency")
        .annotate(
            payments=Count("pk"),
            charged=Sum("amount", filter=money_in, default=Decimal(0)),
            refunded=Sum("amount", filter=refund, default=Decimal(0)),
            charged_presentment=Sum("presentment_amount", filter=money_in),
            refunded_presentment=Sum("presentment_amount", filter=refund),
            fees=Sum("fee", default=Decimal(0)),
        )
        .order_by("currency", "presentment_currency")
    )
    return [
        CurrencyPairTotal(
            currency=row["currency"],
            presentment_currency=row["presentment_currency"],
            payments=row["payments"],
            charged=quantize(row["charged"], row["currency"]),
            refunded=quantize(row["refunded"], row["currency"]),
            charged_presentment=_quantized(
                row["charged_presentment"], row["presentment_currency"]
            ),
            refunded_presentment=_quantized(
                row["refunded_presentment"], row["presentment_currency"]
            ),
            fees=quantize(row["fees"], row["currency"]),
        )
        for row in rows
    ]


def _quantized(amount: Decimal | None, currency: str) -> Decimal | None:
    return None if amount is None else quantize(amount, currency)
