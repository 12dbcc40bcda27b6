"""Suite-wide test setup: which services run, PostgreSQL-only tests, shared fixtures."""

from __future__ import annotations

import os

import pytest
from django.conf import settings


def _require_postgres() -> bool:
    return os.environ.get("REQUIRE_POSTGRES") == "1"


def pytest_report_header(config: pytest.Config) -> list[str]:
    services = settings.TEST_SERVICES
    return [
        f"database: {services.database_source} -> {services.database_url.split('@')[-1]}",
        f"redis: {services.redis_source}",
        f"REQUIRE_POSTGRES={'1' if _require_postgres() else '0'}",
    ]


def pytest_configure(config: pytest.Config) -> None:
    # The .mo files are built, not committed; a bare `pytest` builds them as `make test` does.
    from django.core.management import call_command

    call_command("compile_catalogues", verbosity=0)
    if _require_postgres() and not settings.TEST_SERVICES.is_postgres:
        raise pytest.UsageError(
            "REQUIRE_POSTGRES=1 but the tests would run on "
            f"{settings.TEST_SERVICES.database_source}; set DATABASE_URL to PostgreSQL."
        )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if settings.TEST_SERVICES.is_postgres:
        return
    # Never silently skipped in CI: pytest_configure refuses to run when
    # REQUIRE_POSTGRES=1 without PostgreSQL, so this skip only happens on a laptop.
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks / SKIP LOCKED)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _purge_test_broker() -> None:
    """Start every run with an empty test broker so stale tasks from a crashed run vanish."""
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


@pytest.fixture
def outbox_handlers():
    """Register outbox handlers for one test; the handlers they replaced come back after."""
    from erp.core import outbox

    replaced: dict[str, object] = {}

    def register(topic: str, func):  # type: ignore[no-untyped-def]
        if topic not in replaced:
            replaced[topic] = outbox.HANDLERS.get(topic)
        outbox.HANDLERS[topic] = func
        return func

    yield register
    for topic, previous in replaced.items():
        if previous is None:
            outbox.HANDLERS.pop(topic, None)
        else:
            outbox.HANDLERS[topic] = previous


@pytest.fixture(autouse=True)
def _language_back_to_english():
    """A page requested in Chinese leaves Chinese active in this thread: reset it."""
    yield
    from django.utils import translation

    translation.deactivate()
