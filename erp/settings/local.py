"""A first look on one machine: SQLite, a broker that needs no server, mail to the console."""

import os
from pathlib import Path

_BASE = Path(__file__).resolve().parent.parent.parent
_VAR = Path(os.environ.setdefault("ERP_VAR_DIR", str(_BASE / "var")))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_VAR / 'db.sqlite3'}")
os.environ.setdefault("DJANGO_SECRET_KEY", "local-development-only-not-secret")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)

from erp.settings.base import *  # noqa: E402, F403
from erp.settings.base import LOGGING, VAR_DIR  # noqa: E402

VAR_DIR.mkdir(parents=True, exist_ok=True)

# Without REDIS_URL the embedded mode uses kombu's filesystem transport: web, worker and
# beat are separate processes, so they need a broker they all see, and a folder is the one
# that needs no server. Set REDIS_URL (or CELERY_BROKER_URL) to use Redis instead.
if not os.environ.get("CELERY_BROKER_URL") and not os.environ.get("REDIS_URL"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }

# The filesystem transport has no host; kombu warns about it on every connection.
LOGGING["loggers"]["kombu.connection"] = {"level": "ERROR"}
