"""Template filters for staff pages: money in the reader's number format, stored phrases."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.formats import number_format

from erp.core.money import minor_units, quantize
from erp.core.text import Phrase, phrase_render

register = template.Library()


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """52.3 USD -> "52.30 USD": the currency's minor units, grouped per language."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    code = (currency or "").upper()
    digits = minor_units(code) if code else 2
    shown = number_format(
        quantize(value, code) if code else value, digits, force_grouping=True
    )
    return f"{shown} {code}".strip()


@register.filter
def phrase(value: Any) -> str:
    """A Phrase or a stored {"template", "params"} said in the active language."""
    if isinstance(value, Phrase):
        return phrase_render(value.as_dict())
    if isinstance(value, dict):
        return phrase_render(value)
    return "" if value is None else str(value)
