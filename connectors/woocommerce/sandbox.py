"""The WooCommerce sandbox store of the demo: the fake store on the channel's local port.

Seeded from the demo channel: its REST API keys, webhook secret and currency, and the
products it lists (simple products with their store ids). New orders are the official
order example with the channel's products, buyers and prices, placed in the store (so a
poll finds them) and announced by a signed order.created webhook.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.models import Channel
from connectors.sandbox import Delivery, sandbox_port
from connectors.woocommerce.testing.fake_server import FakeWooStore
from connectors.woocommerce.testing.webhooks import webhook_body, webhook_headers

# Buyers of the sandbox: a European store (the Shenzhen warehouse serves them), one in
# the US, one with a postal code that does not fit its country.
BUYERS = [
    ("Jonas", "Müller", "Unter den Linden 77", "Berlin", "", "10117", "DE"),
    ("Marie", "Dubois", "5 Avenue Anatole France", "Paris", "", "75007", "FR"),
    ("Sanne", "de Vries", "Dam 1", "Amsterdam", "", "1012 JS", "NL"),
    ("Lucía", "García", "Calle de Alcalá 50", "Madrid", "M", "28014", "ES"),
    ("Giulia", "Rossi", "Via del Corso 12", "Roma", "RM", "00186", "IT"),
    ("Oskar", "Nowak", "Rynek Główny 1", "Kraków", "", "31-042", "PL"),
    ("Ava", "Miller", "1 Infinite Loop", "Cupertino", "CA", "95014", "US"),
    ("Finn", "Weber", "Marienplatz 1", "München", "", "8033", "DE"),
]
# Share of orders paid by bank transfer, left on hold in WooCommerce until it arrives.
ON_HOLD_SHARE = 0.2


@dataclass(frozen=True)
class SandboxProduct:
    """A product the sandbox store sells: our SKU, its id in the store, its price."""

    sku: str
    title: str
    price: Decimal
    product_id: int


class WooCommerceSandbox:
    """A fake WooCommerce store serving one demo channel."""

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
        self.secret = str(credentials.get("webhook_secret") or "")
        self.products = products
        self.store = FakeWooStore(
            consumer_key=str(credentials.get("consumer_key") or ""),
            consumer_secret=str(credentials.get("consumer_secret") or ""),
            currency=channel.currency,
            site_name=channel.name,
            port=port,
            # Ids from the clock, so a sandbox started again never repeats an order.
            first_id=int(time.time()),
        )
        self._random = random.Random(seed)

    @property
    def url(self) -> str:
        return self.store.url

    def start(self) -> None:
        self.store.start()
        for product in self.products:
            self.store.add_simple_product(
                product_id=product.product_id,
                sku=product.sku,
                name=product.title,
                price=f"{product.price:.2f}",
            )

    def stop(self) -> None:
        self.store.stop()

    def _order(self) -> dict[str, Any]:
        chosen = self._random.sample(
            self.products, k=min(len(self.products), self._random.choice([1, 1, 2]))
        )
        first, last, street, city, state, postcode, country = self._random.choice(
            BUYERS
        )
        address = {
            "first_name": first,
            "last_name": last,
            "company": "",
            "address_1": street,
            "address_2": "",
            "city": city,
            "state": state,
            "postcode": postcode,
            "country": country,
        }
        on_hold = self._random.random() < ON_HOLD_SHARE
        email = f"{first.lower()}.{self._random.randint(100, 999)}@example.com"
        return self.store.add_order(
            status="on-hold" if on_hold else "processing",
            items=[
                {
                    "product_id": product.product_id,
                    "sku": product.sku,
                    "name": product.title,
                    "quantity": self._random.choice([1, 1, 1, 2, 3]),
                    "price": product.price,
                }
                for product in chosen
            ],
            billing={**address, "email": email, "phone": "+49 30 1234567"},
            shipping=address,
            payment_method="bacs" if on_hold else "stripe",
            payment_method_title="Direct bank transfer" if on_hold else "Credit card",
            transaction_id="" if on_hold else f"ch_{self._random.getrandbits(48):x}",
        )

    def next_order(self) -> Delivery:
        order = self._order()
        body = webhook_body(order)
        headers = webhook_headers(
            secret=self.secret,
            body=body,
            topic="order.created",
            source=f"{self.store.url}/",
        )
        skus = ", ".join(
            f"{line['quantity']}x {line['sku']}" for line in order["line_items"]
        )
        return Delivery(
            url_path=f"/webhooks/woocommerce/{self.channel_code}/",
            body=body,
            headers=headers,
            summary=(
                f"order.created #{order['number']} ({skus}; {order['total']} "
                f"{order['currency']}, {order['status']}, to "
                f"{order['shipping']['country']})"
            ),
        )


def sandbox_for(channel: Channel) -> WooCommerceSandbox:
    """The sandbox of a demo WooCommerce channel, selling the products it lists."""
    products = [
        SandboxProduct(
            sku=listing.product.sku,
            title=listing.product.title,
            # Sale price: a demo figure, five times the unit cost.
            price=(listing.product.unit_cost or Decimal("5")) * 5,
            product_id=int(listing.external_variant_id),
        )
        for listing in channel.listings.select_related("product").order_by("pk")
        if listing.external_variant_id.isdigit()
    ]
    if not products:
        raise ValueError(f"{channel.code} lists no products to sell in its sandbox")
    return WooCommerceSandbox(channel=channel, products=products)
