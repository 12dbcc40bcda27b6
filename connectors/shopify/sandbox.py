"""The Shopify sandbox store of the demo: the fake store on the channel's local port.

Seeded from the demo channel: its access token, currency, the products it lists (with
their variant and inventory item ids) stocked at its stock location. New orders are
the official order sample with the channel's products, buyers and prices, placed in
the store (so a poll finds them) and announced by a signed orders/create webhook.
"""

from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.models import Channel
from connectors.sandbox import Delivery, sandbox_port
from connectors.shopify.testing.fake_server import FakeShopifyStore, official_order
from connectors.shopify.testing.orders import rest_order_variant
from connectors.shopify.testing.webhooks import webhook_body, webhook_headers
from connectors.shopify.webhooks import webhook_secret_for

# Buyers of the sandbox: mostly in the US (the LA warehouse serves them), some in
# Europe (shipped from Shenzhen), one with a postal code that does not fit its country.
BUYERS = [
    ("Olivia", "Johnson", "350 5th Ave", "New York", "NY", "10118", "US"),
    ("Liam", "Garcia", "1600 Amphitheatre Pkwy", "Mountain View", "CA", "94043", "US"),
    ("Emma", "Chen", "233 S Wacker Dr", "Chicago", "IL", "60606", "US"),
    ("Noah", "Smith", "1 Microsoft Way", "Redmond", "WA", "98052", "US"),
    ("Mia", "Wang", "100 Queen St W", "Toronto", "ON", "M5H 2N2", "CA"),
    ("Lukas", "Schmidt", "Marienplatz 8", "München", "", "80331", "DE"),
    ("Chloé", "Martin", "10 Rue de Rivoli", "Paris", "", "75001", "FR"),
    ("Ethan", "Brown", "400 Broad St", "Seattle", "WA", "9810", "US"),
]
# One order in PENDING_SHARE is unpaid (held for payment), the others are paid.
PENDING_SHARE = 0.2


@dataclass(frozen=True)
class SandboxProduct:
    """A product the sandbox store sells: our SKU and its ids in the store."""

    sku: str
    title: str
    price: Decimal
    variant_id: int
    inventory_item_id: int


def _money_set(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": f"{amount:.2f}", "currency_code": currency}
    return {"shop_money": money, "presentment_money": dict(money)}


def _location_number(location_id: str) -> int:
    return int(str(location_id).rsplit("/", 1)[-1])


class ShopifySandbox:
    """A fake Shopify store serving one demo channel."""

    def __init__(
        self,
        *,
        channel: Channel,
        products: list[SandboxProduct],
        seed: int | None = None,
    ) -> None:
        port = sandbox_port(channel)
        if port is None:
            raise ValueError(f"{channel.code} does not point at a local port")
        credentials = channel.credentials or {}
        self.channel_code = channel.code
        self.currency = channel.currency
        self.secret = webhook_secret_for(channel)
        self.location_id = channel.stock_location_id
        self.products = products
        self.store = FakeShopifyStore(
            access_token=str(credentials.get("access_token") or ""),
            shop_name=channel.name,
            shop_domain=f"{channel.code}.myshopify.com",
            currency=channel.currency,
            port=port,
            restore_rate=100.0,
        )
        self._random = random.Random(seed)
        # Ids from the clock, so a sandbox started again never repeats an order.
        self._next_id = int(time.time() * 10)

    @property
    def url(self) -> str:
        return self.store.url

    def start(self) -> None:
        self.store.start()
        if self.location_id:
            for product in self.products:
                self.store.set_inventory(
                    inventory_item_id=product.inventory_item_id,
                    location_id=_location_number(self.location_id),
                    available=0,
                )

    def stop(self) -> None:
        self.store.stop()

    def _order(self) -> dict[str, Any]:
        self._next_id += 1
        order_id = self._next_id
        now = datetime.now(tz=UTC).replace(microsecond=0)
        rest = rest_order_variant(
            official_order(),
            order_id=order_id,
            number=order_id % 100_000,
            updated_at=now,
            created_at=now,
        )
        currency = self.currency
        chosen = self._random.sample(
            self.products, k=min(len(self.products), self._random.choice([1, 1, 2]))
        )
        lines = []
        subtotal = Decimal(0)
        for index, product in enumerate(chosen):
            quantity = self._random.choice([1, 1, 1, 2, 3])
            line = copy.deepcopy(rest["line_items"][0])
            line.update(
                id=order_id * 100 + index,
                admin_graphql_api_id=f"gid://shopify/LineItem/{order_id * 100 + index}",
                sku=product.sku,
                title=product.title,
                name=product.title,
                variant_title=None,
                variant_id=product.variant_id,
                product_id=product.variant_id,
                quantity=quantity,
                price=f"{product.price:.2f}",
                price_set=_money_set(product.price, currency),
                total_discount="0.00",
                total_discount_set=_money_set(Decimal(0), currency),
                discount_allocations=[],
                tax_lines=[],
                properties=[],
            )
            lines.append(line)
            subtotal += product.price * quantity
        first, last, street, city, province, postal, country = self._random.choice(
            BUYERS
        )
        address = {
            **(rest.get("shipping_address") or {}),
            "first_name": first,
            "last_name": last,
            "name": f"{first} {last}",
            "address1": street,
            "address2": None,
            "city": city,
            "province": province or None,
            "province_code": province or None,
            "zip": postal,
            "country": country,
            "country_code": country,
            "company": None,
            "phone": None,
        }
        paid = self._random.random() >= PENDING_SHARE
        zero = _money_set(Decimal(0), currency)
        rest.update(
            line_items=lines,
            shipping_address=address,
            billing_address=dict(address),
            currency=currency,
            presentment_currency=currency,
            financial_status="paid" if paid else "pending",
            fulfillment_status=None,
            refunds=[],
            discount_codes=[],
            discount_applications=[],
            tax_lines=[],
            shipping_lines=[],
            subtotal_price=f"{subtotal:.2f}",
            subtotal_price_set=_money_set(subtotal, currency),
            total_line_items_price=f"{subtotal:.2f}",
            total_price=f"{subtotal:.2f}",
            total_price_set=_money_set(subtotal, currency),
            total_discounts="0.00",
            total_discounts_set=zero,
            total_tax="0.00",
            total_tax_set=zero,
            total_shipping_price_set=zero,
            current_total_price=f"{subtotal:.2f}",
            current_total_price_set=_money_set(subtotal, currency),
            total_outstanding="0.00" if paid else f"{subtotal:.2f}",
            email=f"{first.lower()}.{order_id % 1000}@example.com",
            contact_email=f"{first.lower()}.{order_id % 1000}@example.com",
            tags="sandbox",
            note=None,
        )
        if isinstance(rest.get("customer"), dict):
            rest["customer"].update(
                first_name=first, last_name=last, email=rest["email"]
            )
        transactions = (
            [
                {
                    "id": order_id * 100 + 90,
                    "order_id": order_id,
                    "kind": "sale",
                    "status": "success",
                    "gateway": "shopify_payments",
                    "amount": f"{subtotal:.2f}",
                    "currency": currency,
                    "created_at": now.isoformat(),
                    "processed_at": now.isoformat(),
                    "authorization": f"ch_{order_id}",
                    "parent_id": None,
                }
            ]
            if paid
            else []
        )
        self.store.add_rest_order(rest, transactions=transactions)
        return rest

    def next_order(self) -> Delivery:
        rest = self._order()
        body = webhook_body(rest)
        headers = webhook_headers(
            secret=self.secret,
            body=body,
            topic="orders/create",
            shop_domain=self.store.shop["myshopifyDomain"],
        )
        skus = ", ".join(
            f"{line['quantity']}x {line['sku']}" for line in rest["line_items"]
        )
        return Delivery(
            url_path=f"/webhooks/shopify/{self.channel_code}/",
            body=body,
            headers=headers,
            summary=(
                f"orders/create {rest['name']} ({skus}; {rest['total_price']} "
                f"{rest['currency']}, {rest['financial_status']}, to "
                f"{rest['shipping_address']['country_code']})"
            ),
        )


def sandbox_for(channel: Channel) -> ShopifySandbox:
    """The sandbox of a demo Shopify channel, selling the products it lists."""
    products = [
        SandboxProduct(
            sku=listing.product.sku,
            title=listing.product.title,
            # Sale price: a demo figure, three times the unit cost.
            price=(listing.product.unit_cost or Decimal("5")) * 3,
            variant_id=int(listing.external_variant_id),
            inventory_item_id=int(listing.external_inventory_item_id or 0),
        )
        for listing in channel.listings.select_related("product").order_by("pk")
        if listing.external_variant_id.isdigit()
    ]
    if not products:
        raise ValueError(f"{channel.code} lists no products to sell in its sandbox")
    return ShopifySandbox(channel=channel, products=products)
