"""Test settings: PostgreSQL and Redis when they answer (or are given), else SQLite."""

import os

from erp.testenv import detect_test_services

_services = detect_test_services()
os.environ["DATABASE_URL"] = _services.database_url
if _services.redis_url:
    os.environ["REDIS_URL"] = _services.redis_url
else:
    os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")
os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"

from erp.settings.base import *  # noqa: E402, F403
from erp.settings.base import DATABASES, STATIC_ROOT  # noqa: E402

STATIC_ROOT.mkdir(parents=True, exist_ok=True)

TEST_SERVICES = _services
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Tests must never block on a broker: tasks published by on_commit in tests go to Redis
# db 15 (purged per run) or to the in-memory transport.
CELERY_BROKER_URL = _services.celery_broker_url
LOGGING = {"version": 1, "disable_existing_loggers": False}
