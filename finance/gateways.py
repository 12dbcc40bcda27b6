"""Payment gateway names in one vocabulary, so payments and payouts can meet.

Stores name gateways freely ("shopify_payments", "paypal", WooCommerce's
"ppcp-gateway" or "stripe_cc"); payouts are imported per gateway. gateway_key() maps
both to the same short key.
"""

from __future__ import annotations

import re

# Gateways that settle to the seller in payouts we import; a payment through any other
# gateway (cash on delivery, bank transfer, manual) is never expected in a payout.
PAYOUT_GATEWAYS = frozenset({"shopify_payments", "paypal", "stripe"})

_ALIASES = {
    "shopify payments": "shopify_payments",
    "shopify_payments": "shopify_payments",
    "ppcp-gateway": "paypal",
    "ppec_paypal": "paypal",
    "paypal_express": "paypal",
    "paypal express checkout": "paypal",
    "stripe_cc": "stripe",
    "woocommerce_stripe": "stripe",
}


def gateway_key(name: str) -> str:
    """The short key of a gateway name ("PPCP-Gateway" -> "paypal")."""
    text = name.strip().lower()
    if text in _ALIASES:
        return _ALIASES[text]
    for family in ("paypal", "stripe"):
        if family in text:
            return family
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:50]
