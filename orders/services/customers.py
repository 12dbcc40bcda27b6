"""Matching buyers across stores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Q

from erp.core.db import advisory_xact_lock
from orders.canonical import CanonicalCustomer
from orders.models import Customer
from orders.normalize import normalize_email, normalize_phone


def _blanks_fill(
    found: Customer,
    customer: CanonicalCustomer,
    email: str,
    phone: str,
    email_n: str,
    phone_n: str,
) -> None:
    """Complete what we did not know about a matched buyer; never overwrite."""
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


def customers_by_email(*, emails: Iterable[str]) -> dict[str, Customer]:
    """Existing customers by normalised email (the oldest of each), for a batch."""
    normalized = {normalize_email(e) for e in emails} - {""}
    if not normalized:
        return {}
    result: dict[str, Customer] = {}
    for found in Customer.objects.filter(email_normalized__in=normalized).order_by(
        "-pk"
    ):
        result[found.email_normalized] = found
    return result


# No savepoint: nothing here raises after a write, and the ingest calls it per order.
@transaction.atomic(savepoint=False)
def customer_match_or_create(
    *,
    customer: CanonicalCustomer,
    email: str,
    phone: str = "",
    country_code: str = "",
    known: Mapping[str, Customer] | None = None,
) -> Customer | None:
    """The customer with this normalised email (else phone), created if new.

    A guest order with neither email nor phone has no customer. `known` maps
    normalised emails to customers a batch read up front (customers_by_email); a
    buyer found there needs neither the lock nor a query.
    """
    email_n = normalize_email(email or customer.email)
    phone_n = normalize_phone(phone or customer.phone, country_code=country_code)
    if not email_n and not phone_n:
        return None
    found = known.get(email_n) if known and email_n else None
    if found is not None:
        _blanks_fill(found, customer, email, phone, email_n, phone_n)
        return found
    # Two first orders of one new buyer may arrive at once from two stores.
    advisory_xact_lock("customer_match", email_n or phone_n)
    # One query for both keys; an email match wins over a phone match.
    match = Q(email_normalized=email_n) if email_n else Q(pk__in=[])
    if phone_n:
        match |= Q(phone_normalized=phone_n)
    candidates = list(Customer.objects.filter(match).order_by("pk"))
    found = next(
        (c for c in candidates if email_n and c.email_normalized == email_n),
        None,
    ) or next((c for c in candidates if c.phone_normalized == phone_n), None)
    if found is not None:
        _blanks_fill(found, customer, email, phone, email_n, phone_n)
        return found
    return Customer.objects.create(
        email=(email or customer.email).strip(),
        email_normalized=email_n,
        phone=(phone or customer.phone).strip(),
        phone_normalized=phone_n,
        first_name=customer.first_name,
        last_name=customer.last_name,
    )
