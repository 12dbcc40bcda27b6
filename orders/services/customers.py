"""Matching buyers across stores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from erp.core.db import advisory_xact_locks
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
    changed = _blanks_set(found, customer, email, phone, email_n, phone_n)
    if changed:
        found.save(update_fields=[*changed, "updated_at"])


def _blanks_set(
    found: Customer,
    customer: CanonicalCustomer,
    email: str,
    phone: str,
    email_n: str,
    phone_n: str,
) -> list[str]:
    """_blanks_fill without the write: the fields it set."""
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
    return changed


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
    # Two first orders of one new buyer may arrive at once from two stores, one of
    # them perhaps with the phone only: both keys, so either order waits for the other.
    advisory_xact_locks("customer_match", {email_n, phone_n} - {""})
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


@dataclass(frozen=True)
class Buyer:
    """Who placed one order of a page, as customers_match_or_create_many reads it."""

    customer: CanonicalCustomer
    email: str
    phone: str = ""
    country_code: str = ""


def customers_match_or_create_many(*, buyers: Sequence[Buyer]) -> list[Customer | None]:
    """customer_match_or_create for a page of orders, in page order, in a few statements.

    Matches, fills blanks and creates exactly as calling it once per buyer in turn
    would (a buyer created for one order is found by the next), with one lock
    statement, one read, one insert and one update.
    """
    keys = [
        (
            normalize_email(b.email or b.customer.email),
            normalize_phone(b.phone or b.customer.phone, country_code=b.country_code),
        )
        for b in buyers
    ]
    # Email and phone keys both, as customer_match_or_create takes them.
    advisory_xact_locks("customer_match", {key for pair in keys for key in pair} - {""})
    emails = {email_n for email_n, _ in keys} - {""}
    phones = {phone_n for _, phone_n in keys} - {""}
    if not emails and not phones:
        return [None] * len(buyers)
    match = Q(email_normalized__in=emails) | Q(phone_normalized__in=phones)
    # Existing customers rank before new ones, each in pk (creation) order, as the
    # one-buyer query's ORDER BY pk sees them.
    rank: dict[int, tuple[int, int]] = {}
    by_email: dict[str, Customer] = {}
    by_phone: dict[str, Customer] = {}

    def index(found: Customer) -> None:
        for table, key in (
            (by_email, found.email_normalized),
            (by_phone, found.phone_normalized),
        ):
            if key and (key not in table or rank[id(table[key])] > rank[id(found)]):
                table[key] = found

    for found in Customer.objects.filter(match).order_by("pk"):
        rank[id(found)] = (0, found.pk)
        index(found)
    created: list[Customer] = []
    dirty: dict[int, tuple[Customer, set[str]]] = {}
    result: list[Customer | None] = []
    for buyer, (email_n, phone_n) in zip(buyers, keys, strict=True):
        if not email_n and not phone_n:
            result.append(None)
            continue
        found = (by_email.get(email_n) if email_n else None) or (
            by_phone.get(phone_n) if phone_n else None
        )
        if found is None:
            found = Customer(
                email=(buyer.email or buyer.customer.email).strip(),
                email_normalized=email_n,
                phone=(buyer.phone or buyer.customer.phone).strip(),
                phone_normalized=phone_n,
                first_name=buyer.customer.first_name,
                last_name=buyer.customer.last_name,
            )
            rank[id(found)] = (1, len(created))
            created.append(found)
        else:
            changed = _blanks_set(
                found, buyer.customer, buyer.email, buyer.phone, email_n, phone_n
            )
            if changed and found.pk is not None:
                dirty.setdefault(id(found), (found, set()))[1].update(changed)
        index(found)
        result.append(found)
    Customer.objects.bulk_create(created)
    if dirty:
        now = timezone.now()
        fields: set[str] = set()
        for found, changed in dirty.values():
            found.updated_at = now
            fields |= changed
        Customer.objects.bulk_update(
            [found for found, _ in dirty.values()], [*sorted(fields), "updated_at"]
        )
    return result
