"""Demo data for a first look: two sandbox stores, two warehouses, a few orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from connectors.models import Channel, ChannelKind
from inventory.models import Product, Warehouse
from orders.choices import FinancialStatus, OrderEventType, OrderStatus
from orders.models import Customer, Order, OrderEvent, OrderLine


@dataclass(frozen=True)
class DemoLogin:
    """A demo staff account printed by `make run`."""

    username: str
    password: str
    role: str


DEMO_LOGINS = [
    DemoLogin("admin", "demo-admin-2026", "admin: everything, superuser"),
    DemoLogin("ops", "demo-ops-2026", "ops: orders, stock, shipments"),
    DemoLogin("finance", "demo-finance-2026", "finance: reports, read-only orders"),
]

PRODUCTS = [
    ("TEE-BLK-M", "Organic cotton tee, black, M"),
    ("TEE-BLK-L", "Organic cotton tee, black, L"),
    ("MUG-CER-350", "Ceramic mug 350 ml"),
    ("SERUM-VC-30", "Vitamin C serum 30 ml"),
    ("CABLE-USBC-1M", "USB-C cable 1 m"),
    ("LAMP-LED-DESK", "LED desk lamp"),
]

ORDERS = [
    # channel code, number, email, name, country, city, lines [(sku, qty, unit price)]
    (
        "us-shopify",
        "#1001",
        "ava@example.com",
        ("Ava", "Miller"),
        "US",
        "Austin",
        [("TEE-BLK-M", 2, "19.90"), ("MUG-CER-350", 1, "12.50")],
    ),
    (
        "us-shopify",
        "#1002",
        "li.wei@example.cn",
        ("伟", "李"),
        "US",
        "San Jose",
        [("SERUM-VC-30", 1, "29.00")],
    ),
    (
        "eu-woo",
        "2041",
        "jonas@example.de",
        ("Jonas", "Becker"),
        "DE",
        "Berlin",
        [("LAMP-LED-DESK", 1, "45.00"), ("CABLE-USBC-1M", 3, "6.90")],
    ),
    (
        "eu-woo",
        "2042",
        "marie@example.fr",
        ("Marie", "Dubois"),
        "FR",
        "Lyon",
        [("TEE-BLK-L", 1, "21.00")],
    ),
]


def _logins() -> list[DemoLogin]:
    user_model = get_user_model()
    for login in DEMO_LOGINS:
        user, _ = user_model.objects.get_or_create(username=login.username)
        user.is_staff = True
        user.is_superuser = login.username == "admin"
        user.set_password(login.password)
        user.save()
        user.groups.set([Group.objects.get(name=login.username)])
    return DEMO_LOGINS


@transaction.atomic(durable=True)
def demo_load() -> list[DemoLogin]:
    """Create (or refresh) the demo rows; running it twice changes nothing more."""
    channels = {
        "us-shopify": Channel.objects.update_or_create(
            code="us-shopify",
            defaults={
                "kind": ChannelKind.SHOPIFY,
                "name": "Demo US store (Shopify)",
                "currency": "USD",
                "shop_url": "https://demo-us.myshopify.com",
                "credentials": {"access_token": "shpat_demo_0000000000000000"},
            },
        )[0],
        "eu-woo": Channel.objects.update_or_create(
            code="eu-woo",
            defaults={
                "kind": ChannelKind.WOOCOMMERCE,
                "name": "Demo EU store (WooCommerce)",
                "currency": "EUR",
                "shop_url": "https://demo-eu.example.com",
                "credentials": {
                    "consumer_key": "ck_demo_000000000000",
                    "consumer_secret": "cs_demo_000000000000",
                },
            },
        )[0],
    }
    for code, name, country in [
        ("sz-main", "Shenzhen main warehouse", "CN"),
        ("us-la-3pl", "Los Angeles 3PL", "US"),
    ]:
        Warehouse.objects.update_or_create(
            code=code, defaults={"name": name, "country": country}
        )
    products = {
        sku: Product.objects.update_or_create(sku=sku, defaults={"title": title})[0]
        for sku, title in PRODUCTS
    }
    now = timezone.now()
    for index, (
        channel_code,
        number,
        email,
        (first, last),
        country,
        city,
        lines,
    ) in enumerate(ORDERS):
        channel = channels[channel_code]
        customer, _ = Customer.objects.get_or_create(
            email_normalized=email.lower(),
            defaults={"email": email, "first_name": first, "last_name": last},
        )
        subtotal = sum((Decimal(price) * qty for _, qty, price in lines), Decimal(0))
        order, created = Order.objects.get_or_create(
            channel=channel,
            external_id=f"demo-{number.lstrip('#')}",
            defaults={
                "number": number,
                "status": OrderStatus.NEW,
                "customer": customer,
                "email": email,
                "currency": channel.currency,
                "presentment_currency": channel.currency,
                "subtotal": subtotal,
                "total": subtotal,
                "financial_status": FinancialStatus.PAID,
                "shipping_address": {
                    "first_name": first,
                    "last_name": last,
                    "city": city,
                    "country_code": country,
                },
                "placed_at": now - timedelta(hours=index + 1),
            },
        )
        if created:
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    external_id=f"{order.external_id}-{n}",
                    product=products[sku],
                    sku=sku,
                    title=products[sku].title,
                    quantity=qty,
                    unit_price=Decimal(price),
                )
                for n, (sku, qty, price) in enumerate(lines, start=1)
            )
            OrderEvent.objects.create(
                order=order, type=OrderEventType.CREATED, message="Loaded as demo data."
            )
    return _logins()
