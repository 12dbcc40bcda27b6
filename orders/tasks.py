"""Background jobs of the orders app."""

from celery import shared_task

from orders.services.workflow import orders_awaiting_stock_allocate


@shared_task(ignore_result=True)
def orders_awaiting_stock_allocate_task() -> int:
    """Allocate orders that were waiting for stock, now that some may have arrived."""
    return orders_awaiting_stock_allocate()
