"""Reads of the connectors: how each store's sync is doing, for the dashboard and admin."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from connectors.models import (
    Channel,
    ChannelListing,
    ChannelLocation,
    SyncCursor,
    SyncKind,
    SyncRun,
    SyncRunStatus,
    WebhookReceipt,
    WebhookReceiptStatus,
)
from inventory.models import ChannelStockPolicy
from inventory.planning import apply_buffer
from inventory.selectors import stock_available_by_warehouse
from orders.models import Order

# Failures and rejections older than this no longer count against a store's health.
HEALTH_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class ChannelSyncHealth:
    """One store's sync at a glance: last success, lag, and what failed recently."""

    channel_id: int
    channel_code: str
    is_active: bool
    requires_reauthorization: bool
    auth_error: str
    last_success_at: datetime | None
    cursor: str
    consecutive_failures: int
    last_error: str
    failed_runs_24h: int
    receipts_waiting: int
    receipts_failed_24h: int
    receipts_rejected_24h: int
    poll_interval_minutes: int

    @property
    def lag_seconds(self) -> int | None:
        """Seconds since the last successful poll (None: never synced)."""
        if self.last_success_at is None:
            return None
        return int((timezone.now() - self.last_success_at).total_seconds())

    @property
    def is_healthy(self) -> bool:
        """Synced within three poll intervals, authorised, nothing failing right now."""
        lag = self.lag_seconds
        return (
            self.is_active
            and not self.requires_reauthorization
            and lag is not None
            and lag <= 3 * 60 * self.poll_interval_minutes
            and self.consecutive_failures == 0
            and self.receipts_failed_24h == 0
        )


def channel_sync_health_list(
    *, channel_ids: list[int] | None = None
) -> list[ChannelSyncHealth]:
    """Sync health of every store (or the given ones), in a fixed number of queries."""
    channel_qs = Channel.objects.order_by("code")
    if channel_ids is not None:
        channel_qs = channel_qs.filter(pk__in=channel_ids)
    channels = list(channel_qs)
    ids = [c.pk for c in channels]
    since = timezone.now() - HEALTH_WINDOW
    cursors = {
        c.channel_id: c
        for c in SyncCursor.objects.filter(channel_id__in=ids, kind=SyncKind.ORDERS)
    }
    failed_runs = dict(
        SyncRun.objects.filter(
            channel_id__in=ids, status=SyncRunStatus.FAILED, started_at__gte=since
        )
        .values_list("channel_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    receipts = {
        row["channel_id"]: row
        for row in WebhookReceipt.objects.filter(
            Q(
                status__in=[
                    WebhookReceiptStatus.RECEIVED,
                    WebhookReceiptStatus.PROCESSING,
                ]
            )
            | Q(created_at__gte=since),
            channel_id__in=ids,
        )
        .values("channel_id")
        .annotate(
            waiting=Count(
                "pk",
                filter=Q(
                    status__in=[
                        WebhookReceiptStatus.RECEIVED,
                        WebhookReceiptStatus.PROCESSING,
                    ]
                ),
            ),
            failed=Count(
                "pk",
                filter=Q(status=WebhookReceiptStatus.FAILED, created_at__gte=since),
            ),
            rejected=Count(
                "pk",
                filter=Q(status=WebhookReceiptStatus.REJECTED, created_at__gte=since),
            ),
        )
        .order_by()
    }
    result = []
    for channel in channels:
        cursor = cursors.get(channel.pk)
        counts = receipts.get(channel.pk, {})
        result.append(
            ChannelSyncHealth(
                channel_id=channel.pk,
                channel_code=channel.code,
                is_active=channel.is_active,
                requires_reauthorization=channel.requires_reauthorization,
                auth_error=channel.auth_error,
                last_success_at=cursor.last_success_at if cursor else None,
                cursor=cursor.value if cursor else "",
                consecutive_failures=cursor.consecutive_failures if cursor else 0,
                last_error=cursor.last_error if cursor else "",
                failed_runs_24h=failed_runs.get(channel.pk, 0),
                receipts_waiting=counts.get("waiting", 0),
                receipts_failed_24h=counts.get("failed", 0),
                receipts_rejected_24h=counts.get("rejected", 0),
                poll_interval_minutes=channel.poll_interval_minutes,
            )
        )
    return result


def channel_sync_health(*, channel_id: int) -> ChannelSyncHealth:
    """Sync health of one store."""
    found = channel_sync_health_list(channel_ids=[channel_id])
    if not found:
        raise Channel.DoesNotExist(f"No store with id {channel_id}.")
    return found[0]


def channel_get_by_code(*, code: str, kind: str | None = None) -> Channel | None:
    """The store with this code (and kind), or None."""
    qs = Channel.objects.filter(code=code)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return qs.first()


def listing_skus(*, channel_id: int, variant_ids: Iterable[str]) -> dict[str, str]:
    """Our SKU per store variant id, for the variants mapped in the listing map."""
    ids = {v for v in variant_ids if v}
    if not ids:
        return {}
    return dict(
        ChannelListing.objects.filter(
            channel_id=channel_id, external_variant_id__in=ids
        ).values_list("external_variant_id", "product__sku")
    )


def order_version_is_stored(
    *, channel_id: int, external_id: str, store_updated_at: datetime
) -> bool:
    """Whether this version of the store order (or a newer one) is already stored.

    A webhook body is poorer than the API's answer (no fraud verdict, no transactions);
    the same version read by a poll must not be overwritten by it.
    """
    return Order.objects.filter(
        channel_id=channel_id,
        external_id=external_id,
        store_updated_at__gte=store_updated_at,
    ).exists()


def order_versions_stored(
    *, channel_id: int, versions: Iterable[tuple[str, datetime]]
) -> set[tuple[str, datetime]]:
    """Which of these (store order id, updated_at) are stored already, or newer ones.

    order_version_is_stored for a batch of webhook bodies, in one query.
    """
    wanted = list(versions)
    if not wanted:
        return set()
    newest = dict(
        Order.objects.filter(
            channel_id=channel_id,
            external_id__in={external_id for external_id, _ in wanted},
        ).values_list("external_id", "store_updated_at")
    )
    return {
        (external_id, updated_at)
        for external_id, updated_at in wanted
        if newest.get(external_id) is not None and newest[external_id] >= updated_at
    }


def channel_available_by_location(
    *, channel_id: int, product_ids: Collection[int]
) -> dict[str, dict[int, int]]:
    """What each of a store's locations may show per product: its warehouses' sellable
    stock minus the store's buffer. Keyed by the location's store id; {} without locations.
    """
    locations = list(
        ChannelLocation.objects.filter(channel_id=channel_id)
        .prefetch_related("warehouses")
        .order_by("pk")
    )
    if not locations:
        return {}
    policy = ChannelStockPolicy.objects.filter(channel_id=channel_id).first()
    warehouses = {
        location.pk: [wh.pk for wh in location.warehouses.all() if wh.is_active]
        for location in locations
    }
    by_warehouse = stock_available_by_warehouse(
        product_ids=product_ids,
        warehouse_ids={pk for pks in warehouses.values() for pk in pks},
    )
    result: dict[str, dict[int, int]] = {}
    for location in locations:
        figures = {}
        for product_id in product_ids:
            total = sum(
                by_warehouse.get(wh, {}).get(product_id, 0)
                for wh in warehouses[location.pk]
            )
            figures[product_id] = (
                apply_buffer(
                    total=total, kind=policy.buffer_kind, value=policy.buffer_value
                )
                if policy is not None
                else max(total, 0)
            )
        result[location.external_location_id] = figures
    return result
