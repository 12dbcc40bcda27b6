"""Matching buyers across stores."""

from __future__ import annotations

from django.db import transaction

from erp.core.db import advisory_xact_lock
from orders.canonical import CanonicalCustomer
from orders.models import Customer
from orders.normalize import normalize_email, normalize_phone


@transaction.atomic
def customer_match_or_create(
    *, customer: CanonicalCustomer, email: str, phone: str = "", country_code: str = ""
) -> Customer | None:
    """The customer with this normalised email (else phone), created if new.

    A guest order with neither email nor phone has no customer.
    """
    email_n = normalize_email(email or customer.email)
    phone_n = normalize_phone(phone or customer.phone, country_code=country_code)
    if not email_n and not phone_n:
        return None
    # Two first orders of one new buyer may arrive at once from two stores.
    advisory_xact_lock("customer_match", email_n or phone_n)
    found = None
    if email_n:
        found = Customer.objects.filter(email_normalized=email_n).order_by("pk").first()
    if found is None and phone_n:
        found = Customer.objects.filter(phone_normalized=phone_n).order_by("pk").first()
    if found is not None:
        changed = []
        for field, value in (
            ("first_name", customer.first_name),
            ("last_name", customer.last_name),
            ("phone", phone or customer.phone),
            ("phone_normalized", phone_n),
            ("email", email or customer.email),
            ("email_normalized", email_n),
        ):
            if value and not getattr(found, field):
                setattr(found, field, value)
                changed.append(field)
        if changed:
            found.save(update_fields=[*changed, "updated_at"])
        return found
    return Customer.objects.create(
        email=(email or customer.email).strip(),
        email_normalized=email_n,
        phone=(phone or customer.phone).strip(),
        phone_normalized=phone_n,
        first_name=customer.first_name,
        last_name=customer.last_name,
    )
