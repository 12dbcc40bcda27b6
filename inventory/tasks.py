"""Background jobs of inventory."""

from celery import shared_task

from inventory.services.alerts import stock_expiry_sweep


@shared_task(acks_late=True, ignore_result=True)
def stock_expiry_sweep_task() -> int:
    """Daily: lots that expired leave the sellable pool; push store levels, re-check alerts."""
    return stock_expiry_sweep()
