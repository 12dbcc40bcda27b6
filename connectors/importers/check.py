"""The month check: orders, gross and refunds per month, in the file and in the database.

Months are calendar months of the order's placing time in UTC on both sides, so the
two columns count the same orders. The database side is everything the store holds
for those months (whatever brought it in): an order lost or counted twice, or live
orders the file does not have, show up as a difference.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from connectors.importers.rows import ParsedOrder
from erp.core.money import quantize
from finance.models import Refund
from orders.canonical import CanonicalOrder
from orders.models import Order

ZERO = Decimal(0)
# Where an order goes whose placing time could not be read.
UNKNOWN_MONTH = "unknown"


@dataclass(frozen=True)
class MonthFigures:
    """What one side holds for one month."""

    orders: int = 0
    gross: Decimal = ZERO
    refunds: Decimal = ZERO

    def as_dict(self, currency: str) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "gross": str(quantize(self.gross, currency)),
            "refunds": str(quantize(self.refunds, currency)),
        }


@dataclass(frozen=True)
class MonthCheck:
    """One month of the check: the file's figures next to the database's."""

    month: str  # "2025-12"
    file: MonthFigures
    database: MonthFigures

    @property
    def matches(self) -> bool:
        return self.file == self.database


@dataclass(frozen=True)
class CheckReport:
    """The whole check, in the store's currency."""

    currency: str
    months: tuple[MonthCheck, ...]

    @property
    def matches(self) -> bool:
        return all(m.matches for m in self.months)

    def totals(self, side: str) -> MonthFigures:
        figures = [getattr(m, side) for m in self.months]
        return MonthFigures(
            orders=sum(f.orders for f in figures),
            gross=sum((f.gross for f in figures), ZERO),
            refunds=sum((f.refunds for f in figures), ZERO),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "matches": self.matches,
            "months": [
                {
                    "month": m.month,
                    "file": m.file.as_dict(self.currency),
                    "database": m.database.as_dict(self.currency),
                    "matches": m.matches,
                }
                for m in self.months
            ],
            "totals": {
                "file": self.totals("file").as_dict(self.currency),
                "database": self.totals("database").as_dict(self.currency),
            },
        }

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "month",
                "currency",
                "file_orders",
                "db_orders",
                "file_gross",
                "db_gross",
                "file_refunds",
                "db_refunds",
                "matches",
            ]
        )

        def money(amount: Decimal) -> Decimal:
            return quantize(amount, self.currency)

        for m in self.months:
            writer.writerow(
                [
                    m.month,
                    self.currency,
                    m.file.orders,
                    m.database.orders,
                    money(m.file.gross),
                    money(m.database.gross),
                    money(m.file.refunds),
                    money(m.database.refunds),
                    "yes" if m.matches else "NO",
                ]
            )
        return out.getvalue()

    def as_text(self) -> str:
        """A fixed-width table for a terminal."""
        head = (
            f"{'month':<8} {'orders file':>11} {'orders db':>10} "
            f"{'gross file':>16} {'gross db':>16} {'refunds file':>14} "
            f"{'refunds db':>14}  ok"
        )
        rows = [f"Month check ({self.currency}, months of placing in UTC)", head]

        def money(amount: Decimal) -> str:
            return str(quantize(amount, self.currency))

        for m in self.months:
            rows.append(
                f"{m.month:<8} {m.file.orders:>11} {m.database.orders:>10} "
                f"{money(m.file.gross):>16} {money(m.database.gross):>16} "
                f"{money(m.file.refunds):>14} {money(m.database.refunds):>14}  "
                f"{'yes' if m.matches else 'NO'}"
            )
        f, d = self.totals("file"), self.totals("database")
        rows.append(
            f"{'total':<8} {f.orders:>11} {d.orders:>10} {money(f.gross):>16} "
            f"{money(d.gross):>16} {money(f.refunds):>14} {money(d.refunds):>14}  "
            f"{'yes' if self.matches else 'NO'}"
        )
        return "\n".join(rows)


def month_of(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m")


class MonthTally:
    """Adds up the orders read from a file, month by month."""

    def __init__(self) -> None:
        self._months: dict[str, list[Any]] = {}

    def add(self, order: CanonicalOrder) -> None:
        figures = self._months.setdefault(month_of(order.placed_at), [0, ZERO, ZERO])
        figures[0] += 1
        figures[1] += order.total
        figures[2] += sum((r.amount for r in order.refunds), ZERO)

    def add_refused(self, parsed: ParsedOrder) -> None:
        """Count an order the file holds but that could not be read, as far as it could."""
        if parsed.is_repeat:
            return
        month = month_of(parsed.placed_at) if parsed.placed_at else UNKNOWN_MONTH
        figures = self._months.setdefault(month, [0, ZERO, ZERO])
        figures[0] += 1
        figures[1] += parsed.total or ZERO

    def figures(self) -> dict[str, MonthFigures]:
        return {
            month: MonthFigures(orders=n, gross=gross, refunds=refunds)
            for month, (n, gross, refunds) in self._months.items()
        }


def _month_start(month: str) -> dt.datetime:
    return dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.UTC)


def _next_month(month: str) -> dt.datetime:
    start = _month_start(month)
    return (start + dt.timedelta(days=32)).replace(day=1)


def month_figures_in_db(
    *, channel_id: int, months: Iterable[str]
) -> dict[str, MonthFigures]:
    """Orders, gross and refunds the store holds per month, from the first to the last."""
    months = sorted(months)
    if not months:
        return {}
    window = {
        "placed_at__gte": _month_start(months[0]),
        "placed_at__lt": _next_month(months[-1]),
    }
    orders = (
        Order.objects.filter(channel_id=channel_id, **window)
        .annotate(month=TruncMonth("placed_at", tzinfo=dt.UTC))
        .values("month")
        .annotate(n=Count("pk"), gross=Sum("total"))
        .order_by()
    )
    refunds = (
        Refund.objects.filter(
            order__channel_id=channel_id,
            **{f"order__{k}": v for k, v in window.items()},
        )
        .annotate(month=TruncMonth("order__placed_at", tzinfo=dt.UTC))
        .values("month")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    refunded = {month_of(r["month"]): r["amount"] or ZERO for r in refunds}
    result = {
        month_of(o["month"]): MonthFigures(
            orders=o["n"],
            gross=o["gross"] or ZERO,
            refunds=refunded.pop(month_of(o["month"]), ZERO),
        )
        for o in orders
    }
    for month, amount in refunded.items():
        result[month] = MonthFigures(refunds=amount)
    return result


def check_report_build(
    *, channel_id: int, currency: str, file_figures: dict[str, MonthFigures]
) -> CheckReport:
    """Set the file's month figures against what the database now holds."""
    database = month_figures_in_db(
        channel_id=channel_id, months=[m for m in file_figures if m != UNKNOWN_MONTH]
    )
    months = sorted(set(file_figures) | set(database))
    return CheckReport(
        currency=currency,
        months=tuple(
            MonthCheck(
                month=month,
                file=_normal(file_figures.get(month, MonthFigures())),
                database=_normal(database.get(month, MonthFigures())),
            )
            for month in months
        ),
    )


def _normal(figures: MonthFigures) -> MonthFigures:
    # The database keeps four places; "12.5" from a file and "12.5000" are equal
    # Decimals already, but normalising keeps the report's strings alike.
    return MonthFigures(
        orders=figures.orders,
        gross=figures.gross.quantize(Decimal("0.0001")),
        refunds=figures.refunds.quantize(Decimal("0.0001")),
    )
