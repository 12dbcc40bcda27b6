"""Splitting a shipment's goods into parcels that a service accepts.

A carrier service has limits per parcel (weight, longest side, length + girth). When
the goods of one shipment break them, they go as several parcels of one shipment
(karrio sends them as a multi-piece shipment: one request, one label per parcel).
Units are packed first-fit, heaviest first; a box is as long and wide as its largest
unit with the units stacked, the same box model orders uses for a single parcel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_noop

from erp.core.text import Phrase
from logistics.carriers.base import Parcel


@dataclass(frozen=True)
class ParcelLimits:
    """What one service accepts per parcel; None is no limit."""

    max_weight_grams: int | None = None
    max_length_mm: int | None = None
    max_girth_mm: int | None = None

    def breach(self, parcel: Parcel) -> str:
        """Why the parcel breaks these limits, or "" when it fits."""
        if self.max_weight_grams and parcel.weight_grams > self.max_weight_grams:
            return Phrase(
                gettext_noop("parcel of %(grams)s g is over the %(limit)s g limit"),
                grams=parcel.weight_grams,
                limit=self.max_weight_grams,
            )
        if self.max_length_mm and parcel.longest_side_mm > self.max_length_mm:
            return Phrase(
                gettext_noop("side of %(mm)s mm is over the %(limit)s mm limit"),
                mm=parcel.longest_side_mm,
                limit=self.max_length_mm,
            )
        if self.max_girth_mm and parcel.length_plus_girth_mm > self.max_girth_mm:
            return Phrase(
                gettext_noop("length + girth %(mm)s mm is over the %(limit)s mm limit"),
                mm=parcel.length_plus_girth_mm,
                limit=self.max_girth_mm,
            )
        return ""

    @property
    def is_unlimited(self) -> bool:
        return not (self.max_weight_grams or self.max_length_mm or self.max_girth_mm)


@dataclass(frozen=True)
class PackUnit:
    """One unit of goods to pack."""

    sku: str
    weight_grams: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0


def _box(units: Sequence[PackUnit], packaging_grams: int, reference: str) -> Parcel:
    return Parcel(
        weight_grams=packaging_grams + sum(u.weight_grams for u in units),
        length_mm=max((u.length_mm for u in units), default=0),
        width_mm=max((u.width_mm for u in units), default=0),
        height_mm=sum(u.height_mm for u in units),
        reference=reference,
    )


def parcels_pack(
    *,
    units: Sequence[PackUnit],
    limits: ParcelLimits,
    packaging_grams: int,
    reference: str = "",
) -> tuple[Parcel, ...] | None:
    """The fewest parcels first-fit finds within the limits; None if a unit alone breaks them.

    Every parcel carries its own packaging weight.
    """
    if not units:
        return None
    boxes: list[list[PackUnit]] = []
    ordered = sorted(
        units, key=lambda u: (u.weight_grams, u.height_mm, u.sku), reverse=True
    )
    for unit in ordered:
        for box in boxes:
            if not limits.breach(_box([*box, unit], packaging_grams, reference)):
                box.append(unit)
                break
        else:
            if limits.breach(_box([unit], packaging_grams, reference)):
                return None
            boxes.append([unit])
    count = len(boxes)
    return tuple(
        _box(
            box, packaging_grams, f"{reference} {n}/{count}" if count > 1 else reference
        )
        for n, box in enumerate(boxes, start=1)
    )
