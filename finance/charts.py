"""A small inline SVG bar chart (no scripts, no CDN), for profit by group."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, BAR_HEIGHT, GAP, LABEL_WIDTH = 640, 18, 6, 180


def svg_bars(items: Sequence[tuple[str, Decimal]], *, currency: str) -> SafeString:
    """Horizontal bars, negative values drawn left of the zero line in red."""
    if not items:
        return mark_safe("")  # noqa: S308 - empty string
    largest = max(abs(v) for _label, v in items) or Decimal(1)
    has_negative = any(v < 0 for _label, v in items)
    plot = WIDTH - LABEL_WIDTH - 90
    zero = LABEL_WIDTH + (plot // 2 if has_negative else 0)
    scale = (plot // 2 if has_negative else plot) / largest
    height = len(items) * (BAR_HEIGHT + GAP) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="Profit by group ({escape(currency)})">'
    ]
    for i, (label, value) in enumerate(items):
        y = GAP + i * (BAR_HEIGHT + GAP)
        length = int(abs(value) * scale)
        x = zero if value >= 0 else zero - length
        colour = "#417690" if value >= 0 else "#ba2121"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end" font-size="12">'
            f"{escape(label[:28])}</text>"
            f'<rect x="{x}" y="{y}" width="{max(length, 1)}" height="{BAR_HEIGHT}" fill="{colour}"/>'
            f'<text x="{x + max(length, 1) + 4 if value >= 0 else zero + 4}" y="{y + 13}" '
            f'font-size="11">{value:,.2f}</text>'
        )
    parts.append(
        f'<line x1="{zero}" y1="0" x2="{zero}" y2="{height}" stroke="#999" stroke-width="1"/></svg>'
    )
    # Every interpolated label is escaped above; numbers are formatted Decimals.
    return mark_safe("".join(parts))  # noqa: S308
