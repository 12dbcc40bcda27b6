"""Moving stock between warehouses: out of the source, in transit, into the destination."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from erp.core.text import Phrase
from inventory.choices import StockMovementType, TransferStatus
from inventory.exceptions import (
    InsufficientStockError,
    StockObjectNotFoundError,
    StockRuleError,
    TransferStateError,
)
from inventory.locks import (
    stock_items_lock,
    stock_items_lock_for_products,
    transfer_lock,
)
from inventory.models import Product, StockItem, Transfer, TransferLine
from inventory.planning import Lot, fefo_key
from inventory.services.ledger import StockChange, actor_id_of, stock_changes_apply
from inventory.services.stock import stock_item_id_get_or_create, warehouse_get_active

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class TransferLineInput:
    """Move `quantity` of a SKU; a lot-tracked SKU without `batch_id` goes FEFO."""

    product_id: int
    quantity: int
    batch_id: int | None = None


def _pick(
    *, line: TransferLineInput, items: list[StockItem], taken: dict[int, int]
) -> list[tuple[StockItem, int]]:
    """Stock rows to move the line from: the named lot, else lots first-expiry-first.

    Only unallocated units move; expired lots move only when named explicitly.
    """
    today = timezone.localdate()
    rows = [i for i in items if i.product_id == line.product_id]
    if line.batch_id is not None:
        rows = [i for i in rows if i.batch_id == line.batch_id]
    else:
        rows = [
            i for i in rows if i.batch is None or not i.batch.is_expired(today=today)
        ]
    lots = {
        i.pk: Lot(
            stock_item_id=i.pk,
            product_id=i.product_id,
            available=i.quantity_available - taken.get(i.pk, 0),
            expires_on=i.batch.expires_on if i.batch else None,
            received_on=i.batch.received_on if i.batch else None,
        )
        for i in rows
    }
    picks: list[tuple[StockItem, int]] = []
    still = line.quantity
    by_id = {i.pk: i for i in rows}
    for lot in sorted(lots.values(), key=fefo_key):
        take = min(still, max(lot.available, 0))
        if take:
            picks.append((by_id[lot.stock_item_id], take))
            taken[lot.stock_item_id] = taken.get(lot.stock_item_id, 0) + take
            still -= take
        if still == 0:
            return picks
    raise InsufficientStockError(
        warehouse_id=rows[0].warehouse_id if rows else None,
        shortages=[
            {
                "product_id": line.product_id,
                "sku": None,
                "requested": line.quantity,
                "available": line.quantity - still,
            }
        ],
    )


@transaction.atomic
def transfer_create(
    *,
    source_warehouse_id: int,
    destination_warehouse_id: int,
    lines: Sequence[TransferLineInput],
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> Transfer:
    """Dispatch stock from one warehouse to another; it is in transit until received.

    Only unallocated units move. On-hand at the source drops now; the destination
    gains it on receipt, so stock is never counted twice nor lost on the way.
    Locks: the source StockItem rows of the SKUs (pk order).
    Raises: InsufficientStockError (nothing changes), StockRuleError.
    """
    if source_warehouse_id == destination_warehouse_id:
        raise StockRuleError(gettext("Source and destination must differ."))
    if not lines:
        raise StockRuleError(gettext("A transfer needs at least one line."))
    if any(line.quantity <= 0 for line in lines):
        raise StockRuleError(gettext("Transfer positive quantities."))
    source = warehouse_get_active(warehouse_id=source_warehouse_id)
    destination = warehouse_get_active(warehouse_id=destination_warehouse_id)
    product_ids = {line.product_id for line in lines}
    bundles = list(
        Product.objects.filter(pk__in=product_ids, is_bundle=True).values_list(
            "sku", flat=True
        )
    )
    if bundles:
        raise StockRuleError(
            gettext("Bundles have no stock to move: %(join)s.")
            % {"join": ", ".join(bundles)},
            skus=bundles,
        )
    items = stock_items_lock_for_products(
        warehouse_id=source_warehouse_id, product_ids=product_ids
    )
    taken: dict[int, int] = {}
    picks: list[tuple[StockItem, int]] = []
    try:
        for line in lines:
            picks.extend(_pick(line=line, items=items, taken=taken))
    except InsufficientStockError as exc:
        skus = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "sku"))
        for shortage in exc.shortages:
            shortage["sku"] = skus.get(shortage["product_id"])
        raise InsufficientStockError(
            warehouse_id=source_warehouse_id, shortages=exc.shortages
        ) from None
    transfer = Transfer.objects.create(
        source_id=source_warehouse_id,
        destination_id=destination_warehouse_id,
        reference=reference[:100],
        created_by_id=actor_id_of(actor),
    )
    TransferLine.objects.bulk_create(
        [
            TransferLine(
                transfer=transfer,
                product_id=item.product_id,
                batch_id=item.batch_id,
                quantity=quantity,
            )
            for item, quantity in picks
        ]
    )
    stock_changes_apply(
        changes=[
            StockChange(
                stock_item=item,
                type=StockMovementType.TRANSFER_OUT,
                on_hand_delta=-quantity,
                transfer=transfer,
            )
            for item, quantity in picks
        ],
        reason=Phrase(
            gettext_noop("Transfer from %(source)s to %(destination)s"),
            source=source.code,
            destination=destination.code,
        ),
        reference=reference or f"transfer:{transfer.pk}",
        actor=actor,
    )
    return transfer


def _land(
    *,
    transfer_id: int,
    status: TransferStatus,
    movement_type: StockMovementType,
    actor: AbstractBaseUser | None,
) -> Transfer:
    transfer = transfer_lock(transfer_id=transfer_id)
    if transfer is None:
        raise StockObjectNotFoundError(
            gettext("That transfer does not exist."), transfer_id=transfer_id
        )
    if transfer.status != TransferStatus.IN_TRANSIT:
        raise TransferStateError(
            gettext("Transfer %(transfer_id)s is already %(status)s.")
            % {"transfer_id": transfer_id, "status": transfer.status},
            transfer_id=transfer_id,
            status=transfer.status,
        )
    warehouse_id = (
        transfer.destination_id
        if status == TransferStatus.RECEIVED
        else transfer.source_id
    )
    lines = list(transfer.lines.all())
    item_ids = [
        stock_item_id_get_or_create(
            product_id=line.product_id,
            warehouse_id=warehouse_id,
            batch_id=line.batch_id,
        )
        for line in lines
    ]
    items = {item.pk: item for item in stock_items_lock(stock_item_ids=item_ids)}
    stock_changes_apply(
        changes=[
            StockChange(
                stock_item=items[item_id],
                type=movement_type,
                on_hand_delta=line.quantity,
                transfer=transfer,
            )
            for line, item_id in zip(lines, item_ids, strict=True)
        ],
        reason=(
            Phrase(
                gettext_noop("Transfer from %(source)s to %(destination)s"),
                source=transfer.source.code,
                destination=transfer.destination.code,
            )
            if status == TransferStatus.RECEIVED
            else Phrase(
                gettext_noop(
                    "Transfer to %(destination)s cancelled, back to %(source)s"
                ),
                source=transfer.source.code,
                destination=transfer.destination.code,
            )
        ),
        reference=transfer.reference or f"transfer:{transfer.pk}",
        actor=actor,
    )
    transfer.status = status
    transfer.completed_at = timezone.now()
    transfer.save(update_fields=["status", "completed_at", "updated_at"])
    return transfer


@transaction.atomic
def transfer_receive(
    *, transfer_id: int, actor: AbstractBaseUser | None = None
) -> Transfer:
    """Put a transfer's goods on hand at its destination (same lots).

    Locks: the Transfer, then the destination StockItem rows.
    Raises: TransferStateError if it is not in transit, StockObjectNotFoundError.
    """
    return _land(
        transfer_id=transfer_id,
        status=TransferStatus.RECEIVED,
        movement_type=StockMovementType.TRANSFER_IN,
        actor=actor,
    )


@transaction.atomic
def transfer_cancel(
    *, transfer_id: int, actor: AbstractBaseUser | None = None
) -> Transfer:
    """Call a transfer back: its goods return on hand at the source.

    Locks: the Transfer, then the source StockItem rows.
    Raises: TransferStateError if it is not in transit, StockObjectNotFoundError.
    """
    return _land(
        transfer_id=transfer_id,
        status=TransferStatus.CANCELLED,
        movement_type=StockMovementType.TRANSFER_CANCEL,
        actor=actor,
    )
