"""Which warehouses feed a store's stock levels, and the buffer it holds back."""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction
from django.utils.translation import gettext

from erp.core.outbox import outbox_enqueue
from inventory.choices import BufferKind
from inventory.exceptions import StockObjectNotFoundError, StockRuleError
from inventory.models import ChannelStockPolicy, StockItem, Warehouse
from inventory.selectors import bundles_containing
from inventory.services.levels import AVAILABLE_CHANGED_TOPIC, available_changed_key


@transaction.atomic
def channel_stock_policy_set(
    *,
    channel_id: int,
    warehouse_ids: Collection[int],
    buffer_kind: str = BufferKind.ABSOLUTE,
    buffer_value: int = 0,
) -> ChannelStockPolicy:
    """Set a store's feeding warehouses and buffer; every SKU it may sell is re-pushed.

    Raises: StockRuleError (bad buffer), StockObjectNotFoundError (unknown warehouse).
    """
    if buffer_kind not in BufferKind.values:
        raise StockRuleError(
            gettext("Unknown buffer kind %(buffer_kind)r.")
            % {"buffer_kind": buffer_kind}
        )
    if buffer_value < 0 or (buffer_kind == BufferKind.PERCENT and buffer_value > 100):
        raise StockRuleError(
            gettext("A buffer is at least 0, and a percent buffer at most 100."),
            buffer_value=buffer_value,
        )
    wanted = set(warehouse_ids)
    found = set(Warehouse.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - found:
        raise StockObjectNotFoundError(
            gettext("Some warehouses do not exist."),
            warehouse_ids=sorted(wanted - found),
        )
    policy, _ = ChannelStockPolicy.objects.get_or_create(channel_id=channel_id)
    before = set(policy.warehouses.values_list("pk", flat=True))
    policy.buffer_kind = buffer_kind
    policy.buffer_value = buffer_value
    policy.save(update_fields=["buffer_kind", "buffer_value", "updated_at"])
    policy.warehouses.set(wanted)
    product_ids = set(
        StockItem.objects.filter(warehouse_id__in=before | wanted)
        .values_list("product_id", flat=True)
        .distinct()
    )
    for bundle_ids in bundles_containing(component_ids=product_ids).values():
        product_ids |= bundle_ids
    for product_id in sorted(product_ids):
        outbox_enqueue(
            topic=AVAILABLE_CHANGED_TOPIC,
            key=available_changed_key(channel_id=channel_id, product_id=product_id),
            payload={"channel_id": channel_id, "product_id": product_id},
            coalesce=True,
        )
    return policy
