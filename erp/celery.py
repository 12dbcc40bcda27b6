"""The Celery app: queues per kind of work, and the beat schedule (kept in code, reviewed)."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.local")

app = Celery("erp")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Separate queues so a slow store cannot starve order processing or outbound delivery.
QUEUES = ("default", "connectors", "outbox", "reports")
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.conf.task_routes = {
    "erp.core.tasks.outbox_*": {"queue": "outbox"},
    "connectors.*": {"queue": "connectors"},
    "finance.tasks.report_*": {"queue": "reports"},
    "finance.tasks.order_profits_*": {"queue": "reports"},
}
app.conf.beat_schedule = {
    "outbox-sweep": {
        "task": "erp.core.tasks.outbox_drain_task",
        "schedule": 30.0,
    },
    "orders-awaiting-stock": {
        "task": "orders.tasks.orders_awaiting_stock_allocate_task",
        "schedule": 60.0,
    },
    "inventory-expiry-sweep": {
        # Lots that expired overnight stop being sellable; stores learn the new figure.
        "task": "inventory.tasks.stock_expiry_sweep_task",
        "schedule": crontab(hour=0, minute=15),
    },
    "finance-ecb-rates": {
        # ECB publishes its reference rates around 16:00 CET.
        "task": "finance.tasks.exchange_rates_import_ecb_task",
        "schedule": crontab(hour=15, minute=30),
    },
    "logistics-track-poll": {
        "task": "logistics.tasks.shipments_track_poll_task",
        "schedule": 1800.0,
    },
    "connectors-webhooks-requeue": {
        # Receipts whose processing task was lost (broker down, worker killed).
        "task": "connectors.tasks.webhook_receipts_requeue_task",
        "schedule": 60.0,
    },
    "connectors-sync-due": {
        # The poll that heals missed webhooks; each store has its own interval.
        "task": "connectors.tasks.channels_sync_due_task",
        "schedule": 60.0,
    },
    "connectors-webhooks-ensure": {
        # Shopify deletes subscriptions after repeated failures; put them back.
        "task": "connectors.tasks.channels_webhooks_ensure_task",
        "schedule": crontab(hour=3, minute=0),
    },
    "connectors-shopify-payouts": {
        # Shopify Payments issues at most one payout a day per currency.
        "task": "connectors.shopify.payouts.shopify_payouts_fetch_all_task",
        "schedule": crontab(hour=6, minute=0),
    },
    "worker-heartbeat": {
        "task": "erp.core.tasks.heartbeat_enqueue_task",
        "schedule": 60.0,
    },
}
app.autodiscover_tasks()
# History-import jobs run from connectors.importers.tasks (a package, not an app).
app.autodiscover_tasks(["connectors.importers"])
app.autodiscover_tasks(["connectors.shopify"], related_name="payouts")


@worker_init.connect
def _check_configuration(**_: object) -> None:
    # A worker with a bad DATABASE_URL must say so once at start, not fail every task.
    from erp.startup import exit_on_bad_configuration

    exit_on_bad_configuration(check_database=True)
