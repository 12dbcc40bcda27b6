"""Demo data for a first look: two sandbox stores, two warehouses, stock and orders.

Orders go through the real pipeline (order_ingest), so the demo shows them reviewed,
held with reasons, allocated or waiting for stock, exactly as live orders would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from connectors.models import Channel, ChannelKind, ChannelListing
from inventory.models import ChannelStockPolicy, Product, StockMovement, Warehouse
from inventory.services.stock import stock_receive
from orders.canonical import (
    CanonicalAddress,
    CanonicalCustomer,
    CanonicalLine,
    CanonicalOrder,
    OrderSource,
    RiskLevel,
)
from orders.choices import FinancialStatus
from orders.services.ingest import order_ingest


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

# sku, title, weight g, unit cost USD
PRODUCTS = [
    ("TEE-BLK-M", "Organic cotton tee, black, M", 180, "4.20"),
    ("TEE-BLK-L", "Organic cotton tee, black, L", 190, "4.30"),
    ("MUG-CER-350", "Ceramic mug 350 ml", 420, "2.10"),
    ("SERUM-VC-30", "Vitamin C serum 30 ml", 90, "3.50"),
    ("CABLE-USBC-1M", "USB-C cable 1 m", 40, "0.80"),
    ("LAMP-LED-DESK", "LED desk lamp", 950, "11.00"),
]

# The demo Shopify store is the sandbox store `manage.py sandbox_stores` serves on this
# local port (`make run` starts it); it signs its webhooks with this secret.
SHOPIFY_SANDBOX_URL = "http://127.0.0.1:8701"
SHOPIFY_SANDBOX_TOKEN = "shpat_demo_0000000000000000"  # noqa: S105 (demo sandbox)
SHOPIFY_SANDBOX_WEBHOOK_SECRET = "whsec_demo_sandbox_0000"  # noqa: S105
SHOPIFY_SANDBOX_LOCATION = "gid://shopify/Location/8701001"
# Store variant and inventory item ids of the demo products: base + position.
SHOPIFY_VARIANT_BASE = 44_870_000_000
SHOPIFY_INVENTORY_ITEM_BASE = 46_870_000_000
# The demo WooCommerce store is the sandbox store on this port; its REST API keys and
# webhook secret are the sandbox's. Product ids of the demo products: base + position.
WOOCOMMERCE_SANDBOX_URL = "http://127.0.0.1:8702"
WOOCOMMERCE_SANDBOX_KEY = "ck_demo_sandbox_00000000000000000000000000"
WOOCOMMERCE_SANDBOX_SECRET = "cs_demo_sandbox_00000000000000000000000000"  # noqa: S105
WOOCOMMERCE_SANDBOX_WEBHOOK_SECRET = "wc_demo_sandbox_webhook_0000"  # noqa: S105
WOOCOMMERCE_PRODUCT_BASE = 8_702_000

# warehouse code, sku, quantity
STOCK = [
    ("us-la-3pl", "TEE-BLK-M", 40),
    ("us-la-3pl", "MUG-CER-350", 25),
    ("us-la-3pl", "SERUM-VC-30", 2),
    ("sz-main", "TEE-BLK-L", 300),
    ("sz-main", "CABLE-USBC-1M", 500),
    ("sz-main", "LAMP-LED-DESK", 3),
    ("sz-main", "TEE-BLK-M", 200),
]

ADDRESSES = {
    "ava": CanonicalAddress(
        name="Ava Miller",
        line1="500 Congress Ave",
        city="Austin",
        province_code="TX",
        postal_code="78701",
        country_code="US",
        phone="+1 512 555 0100",
    ),
    "wei": CanonicalAddress(
        name="李伟",
        line1="1 Infinite Loop",
        city="Cupertino",
        province_code="CA",
        postal_code="95014",
        country_code="US",
    ),
    "jonas": CanonicalAddress(
        name="Jonas Becker",
        line1="Unter den Linden 1",
        city="Berlin",
        postal_code="10117",
        country_code="DE",
    ),
    "marie": CanonicalAddress(
        name="Marie Dubois",
        line1="1 Place Bellecour",
        city="Lyon",
        postal_code="6900",
        country_code="FR",
    ),
}

# store, number, email, address, lines [(sku, qty, price)], payment, risk
ORDERS = [
    (
        "us-shopify",
        "#1001",
        "ava@example.com",
        "ava",
        [("TEE-BLK-M", 2, "19.90"), ("MUG-CER-350", 1, "12.50")],
        FinancialStatus.PAID,
        RiskLevel.LOW,
    ),
    (
        "us-shopify",
        "#1002",
        "li.wei@example.cn",
        "wei",
        [("SERUM-VC-30", 3, "29.00")],
        FinancialStatus.PAID,
        RiskLevel.LOW,
    ),
    (
        "us-shopify",
        "#1003",
        "fraud@example.net",
        "ava",
        [("TEE-BLK-M", 5, "19.90")],
        FinancialStatus.PAID,
        RiskLevel.HIGH,
    ),
    (
        "eu-woo",
        "2041",
        "jonas@example.de",
        "jonas",
        [("LAMP-LED-DESK", 1, "45.00"), ("CABLE-USBC-1M", 3, "6.90")],
        FinancialStatus.PAID,
        RiskLevel.UNKNOWN,
    ),
    (
        "eu-woo",
        "2042",
        "marie@example.fr",
        "marie",
        [("TEE-BLK-L", 1, "21.00")],
        FinancialStatus.PAID,
        RiskLevel.UNKNOWN,
    ),
    (
        "eu-woo",
        "2043",
        "jonas@example.de",
        "jonas",
        [("TEE-BLK-L", 2, "21.00")],
        FinancialStatus.PENDING,
        RiskLevel.UNKNOWN,
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
def _master_data() -> dict[str, Channel]:
    channels = {
        "us-shopify": Channel.objects.update_or_create(
            code="us-shopify",
            defaults={
                "kind": ChannelKind.SHOPIFY,
                "name": "Demo US store (Shopify)",
                "currency": "USD",
                "shop_url": SHOPIFY_SANDBOX_URL,
                "stock_location_id": SHOPIFY_SANDBOX_LOCATION,
                "credentials": {
                    "access_token": SHOPIFY_SANDBOX_TOKEN,
                    "webhook_secret": SHOPIFY_SANDBOX_WEBHOOK_SECRET,
                },
            },
        )[0],
        "eu-woo": Channel.objects.update_or_create(
            code="eu-woo",
            defaults={
                "kind": ChannelKind.WOOCOMMERCE,
                "name": "Demo EU store (WooCommerce)",
                "currency": "EUR",
                "shop_url": WOOCOMMERCE_SANDBOX_URL,
                "allow_split_shipments": True,
                "credentials": {
                    "consumer_key": WOOCOMMERCE_SANDBOX_KEY,
                    "consumer_secret": WOOCOMMERCE_SANDBOX_SECRET,
                    "webhook_secret": WOOCOMMERCE_SANDBOX_WEBHOOK_SECRET,
                },
            },
        )[0],
    }
    warehouses = {}
    for code, name, country, priority, area in [
        ("us-la-3pl", "Los Angeles 3PL", "US", 10, ["US", "CA"]),
        ("sz-main", "Shenzhen main warehouse", "CN", 50, []),
    ]:
        warehouses[code] = Warehouse.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "country": country,
                "priority": priority,
                "service_area": area,
            },
        )[0]
    for position, (sku, title, grams, cost) in enumerate(PRODUCTS, start=1):
        product = Product.objects.update_or_create(
            sku=sku,
            defaults={
                "title": title,
                "weight_grams": grams,
                "unit_cost": Decimal(cost),
                "cost_currency": "USD",
            },
        )[0]
        ChannelListing.objects.update_or_create(
            channel=channels["us-shopify"],
            external_variant_id=str(SHOPIFY_VARIANT_BASE + position),
            defaults={
                "product": product,
                "external_inventory_item_id": str(
                    SHOPIFY_INVENTORY_ITEM_BASE + position
                ),
                "external_sku": sku,
            },
        )
        ChannelListing.objects.update_or_create(
            channel=channels["eu-woo"],
            external_variant_id=str(WOOCOMMERCE_PRODUCT_BASE + position),
            defaults={
                "product": product,
                # A simple product holds its own stock field in the REST API.
                "external_inventory_item_id": str(WOOCOMMERCE_PRODUCT_BASE + position),
                "external_sku": sku,
            },
        )
    for channel in channels.values():
        policy, _ = ChannelStockPolicy.objects.get_or_create(channel=channel)
        policy.warehouses.set(warehouses.values())
    if not StockMovement.objects.filter(reference="demo opening stock").exists():
        for warehouse_code, sku, quantity in STOCK:
            stock_receive(
                product_id=Product.objects.get(sku=sku).pk,
                warehouse_id=warehouses[warehouse_code].pk,
                quantity=quantity,
                reference="demo opening stock",
                reason="Opening stock",
            )
    return channels


def _canonical(
    number: str, email: str, address: str, lines, payment, risk, currency, placed_at
) -> CanonicalOrder:  # type: ignore[no-untyped-def]
    canonical_lines = tuple(
        CanonicalLine(
            external_id=f"{number}-{n}",
            sku=sku,
            title=sku,
            quantity=qty,
            unit_price=Decimal(price),
        )
        for n, (sku, qty, price) in enumerate(lines, start=1)
    )
    total = sum(
        (line.unit_price * line.quantity for line in canonical_lines), Decimal(0)
    )
    first, _, last = ADDRESSES[address].name.partition(" ")
    return CanonicalOrder(
        external_id=f"demo-{number.lstrip('#')}",
        number=number,
        currency=currency,
        placed_at=placed_at,
        store_updated_at=placed_at,
        lines=canonical_lines,
        subtotal=total,
        total=total,
        financial_status=payment,
        risk_level=risk,
        email=email,
        customer=CanonicalCustomer(email=email, first_name=first, last_name=last),
        shipping_address=ADDRESSES[address],
        billing_address=ADDRESSES[address],
    )


def demo_load() -> list[DemoLogin]:
    """Create (or refresh) the demo rows; running it twice changes nothing more."""
    channels = _master_data()
    now = timezone.now().replace(microsecond=0)
    for index, (store, number, email, address, lines, payment, risk) in enumerate(
        ORDERS
    ):
        channel = channels[store]
        placed_at = now - timedelta(hours=len(ORDERS) - index)
        existing = channel.orders.filter(
            external_id=f"demo-{number.lstrip('#')}"
        ).first()
        if existing is not None:
            continue
        order_ingest(
            channel_id=channel.pk,
            data=_canonical(
                number,
                email,
                address,
                lines,
                payment,
                risk,
                channel.currency,
                placed_at,
            ),
            source=OrderSource.WEBHOOK,
        )
    with transaction.atomic(durable=True):
        return _logins()
