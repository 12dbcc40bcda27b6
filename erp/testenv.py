"""Which database and Redis the test suite runs against, decided once per run."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

LOCAL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/15"


@dataclass(frozen=True)
class TestServices:
    """The services chosen for this run and why, printed in the pytest header."""

    database_url: str
    redis_url: str
    database_source: str
    redis_source: str

    @property
    def celery_broker_url(self) -> str:
        return self.redis_url or "memory://"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def _postgres_answers() -> bool:
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - psycopg2 is a pinned dependency
        return False
    try:
        psycopg2.connect(LOCAL_POSTGRES_URL, connect_timeout=2).close()
    except psycopg2.Error:
        return False
    return True


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def detect_test_services() -> TestServices:
    """DATABASE_URL/REDIS_URL when set, else the local servers when they answer, else SQLite."""
    if os.environ.get("DATABASE_URL"):
        database_url, database_source = os.environ["DATABASE_URL"], "DATABASE_URL"
    elif _postgres_answers():
        database_url, database_source = LOCAL_POSTGRES_URL, "PostgreSQL on 127.0.0.1"
    else:
        database_url, database_source = (
            "sqlite://:memory:",
            "SQLite (no PostgreSQL answered)",
        )
    if os.environ.get("REDIS_URL"):
        redis_url, redis_source = os.environ["REDIS_URL"], "REDIS_URL"
    elif _redis_answers():
        redis_url, redis_source = LOCAL_REDIS_URL, "Redis on 127.0.0.1"
    else:
        redis_url, redis_source = "", "none (in-memory broker, local-memory cache)"
    return TestServices(database_url, redis_url, database_source, redis_source)
