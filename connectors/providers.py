"""Which package speaks to which kind of store, and what the core asks of it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.translation import gettext_noop

from connectors.exceptions import ConnectorError
from erp.core.text import Phrase

if TYPE_CHECKING:
    from connectors.models import Channel, WebhookReceipt
    from orders.canonical import CanonicalOrder

# Looked up lazily: the core must not import a provider at module load (each provider
# imports the core services), and an unused provider costs nothing.
PROVIDER_MODULES = {
    "shopify": "connectors.shopify.provider",
    "woocommerce": "connectors.woocommerce.provider",
}


@dataclass(frozen=True)
class OrdersWindow:
    """Which orders to read: updated since a moment (poll) or created in a range."""

    updated_since: datetime | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class PageItem:
    """One order of a page: mapped, or the reason it could not be."""

    external_id: str
    order: CanonicalOrder | None = None
    error: str = ""


@dataclass(frozen=True)
class OrdersPage:
    """One page of orders from a store, oldest change first.

    `updated_until` is the newest updated_at on the page: once the page is ingested,
    the poll cursor may move there.
    """

    items: tuple[PageItem, ...]
    updated_until: datetime | None
    # What the store is doing while no orders come (a bulk operation running), and how
    # many orders to expect in all when the store said so: both only for progress.
    note: str = ""
    expected_total: int | None = None


class StockPushOutcome(Protocol):
    """What a stock push reports back (counts and per-item errors)."""

    pushed: int
    unchanged: int
    failed: int
    calls: int
    errors: list[dict[str, str]]


@dataclass
class StockPushResult:
    """A StockPushOutcome to fill in: quantities set, left alone, failed; calls made."""

    pushed: int = 0
    unchanged: int = 0
    failed: int = 0
    calls: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)


class Provider(Protocol):
    """What a store package provides to the provider-agnostic core."""

    def webhook_process(self, *, receipt: WebhookReceipt) -> dict[str, Any]:
        """Act on one stored delivery; returns what was done (stored on the receipt)."""
        ...

    def stock_push(
        self, *, channel: Channel, desired: Mapping[int, int]
    ) -> StockPushOutcome:
        """Set the store's available quantity per product id; returns what it did."""
        ...

    def order_cancel_push(
        self, *, channel: Channel, order_external_id: str, reason: str
    ) -> dict[str, Any]:
        """Cancel the order in the store (done already counts as done)."""
        ...

    def fulfillment_create(
        self,
        *,
        channel: Channel,
        order_external_id: str,
        lines: Sequence[tuple[str, int]],
        tracking: Mapping[str, str],
    ) -> tuple[str, str]:
        """Fulfil these (store line id, quantity); returns (fulfilment id, company)."""
        ...

    def fulfillment_tracking_update(
        self,
        *,
        channel: Channel,
        fulfillment_external_id: str,
        tracking: Mapping[str, str],
    ) -> str:
        """Replace a fulfilment's tracking; returns the company shown."""
        ...

    def fulfillment_event(
        self,
        *,
        channel: Channel,
        fulfillment_external_id: str,
        status: str,
        happened_at: datetime | None = None,
    ) -> str:
        """Send a tracking status; returns the store's status sent ("" if none fits)."""
        ...

    def webhooks_ensure(self, *, channel: Channel) -> dict[str, Any]:
        """Make sure the store sends us every webhook we handle."""
        ...

    def orders_pages(
        self, *, channel: Channel, window: OrdersWindow
    ) -> Iterator[OrdersPage]:
        """The store's orders in the window, a page at a time, oldest change first.

        Raises: ConnectorTransientError, ChannelUnauthorizedError, ConnectorError.
        """
        ...


class BusinessKeyProvider(Protocol):
    """What a provider may add when its intake stores deliveries without a key.

    The worker then asks for the key before its duplicate check (Shopify: the intake
    does not parse bodies).
    """

    def webhook_business_key(self, *, receipt: WebhookReceipt) -> str:
        """What identifies the change the delivery carries ("" if nothing does)."""
        ...


class BatchWebhookProvider(Protocol):
    """What a provider may add to process a drain's batch in one call (Shopify)."""

    def webhook_process_many(
        self, *, receipts: Sequence[WebhookReceipt]
    ) -> Mapping[int, Mapping[str, Any] | Exception]:
        """Each receipt's result (stored on it) or the error it met, by receipt id.

        A receipt left out is processed after, one by one, with webhook_process: the
        batch shares one lease, so deliveries that call the store belong there.
        """
        ...


class BulkOrdersProvider(Protocol):
    """What a provider may add for big histories (Shopify: bulk operations).

    A backfill uses it when the provider has it and the window holds at least
    settings.BACKFILL_BULK_THRESHOLD orders (or when asked to).
    """

    def orders_count(self, *, channel: Channel, window: OrdersWindow) -> int:
        """How many orders the store has in the window."""
        ...

    def orders_bulk_pages(
        self, *, channel: Channel, window: OrdersWindow
    ) -> Iterator[OrdersPage]:
        """The window's orders read in one export, a page at a time."""
        ...


class UnknownProviderError(ConnectorError):
    """No package speaks to this kind of store yet."""


def provider_get(kind: str) -> Provider:
    """The provider module for a channel kind."""
    try:
        module_name = PROVIDER_MODULES[kind]
    except KeyError:
        raise UnknownProviderError(
            Phrase(gettext_noop("No connector for stores of kind %(kind)r."), kind=kind)
        ) from None
    return importlib.import_module(module_name)  # type: ignore[return-value]
