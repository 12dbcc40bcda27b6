"""Which package speaks to which kind of store, and what the core asks of it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

from connectors.exceptions import ConnectorError

if TYPE_CHECKING:
    from connectors.models import WebhookReceipt

# Looked up lazily: the core must not import a provider at module load (each provider
# imports the core services), and an unused provider costs nothing.
PROVIDER_MODULES = {
    "shopify": "connectors.shopify.provider",
}


class Provider(Protocol):
    """What a store package provides to the provider-agnostic core."""

    def webhook_process(self, *, receipt: WebhookReceipt) -> dict[str, Any]:
        """Act on one stored delivery; returns what was done (stored on the receipt)."""
        ...


class UnknownProviderError(ConnectorError):
    """No package speaks to this kind of store yet."""


def provider_get(kind: str) -> Provider:
    """The provider module for a channel kind."""
    try:
        module_name = PROVIDER_MODULES[kind]
    except KeyError:
        raise UnknownProviderError(
            f"No connector for stores of kind {kind!r}."
        ) from None
    return importlib.import_module(module_name)  # type: ignore[return-value]
