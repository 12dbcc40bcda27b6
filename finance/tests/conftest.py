"""Fixtures for finance tests: sample files, a local HTTP server, users by role."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_bytes():
    """fixture_bytes("name") -> the bytes of finance/tests/fixtures/name."""

    def read(name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    return read


@pytest.fixture(autouse=True)
def _base_currency(settings):
    """Every finance test states its base currency instead of inheriting the env's."""
    settings.ERP_BASE_CURRENCY = "USD"


class _Routes(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes]] = {}
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.hits.append(self.path)
        status, body = self.routes.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def http_server() -> Iterator[tuple[str, dict[str, tuple[int, bytes]], list[str]]]:
    """A real HTTP server on 127.0.0.1: (base url, routes {path: (status, body)}, hits)."""
    routes: dict[str, tuple[int, bytes]] = {}
    hits: list[str] = []
    handler = type("Handler", (_Routes,), {"routes": routes, "hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes, hits
    finally:
        server.shutdown()
        server.server_close()


def _user_in(group: str, username: str):
    user = get_user_model().objects.create_user(
        username=username, password="pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def finance_user(db):
    return _user_in("finance", "fiona")


@pytest.fixture
def ops_user(db):
    return _user_in("ops", "oscar")


# Seeded scenarios shared by the report and API tests.
from finance.tests.test_profit import rates, seeded_order  # noqa: E402, F401
from finance.tests.test_reconciliation import seeded_month  # noqa: E402, F401
