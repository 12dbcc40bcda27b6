"""What the fake stores share: their HTTP server on a loopback port, in a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class StoreHTTPServer(ThreadingHTTPServer):
    """A threaded server whose handlers reach the fake store as `self.server.store`."""

    daemon_threads = True
    allow_reuse_address = True
    store: Any


class FakeStoreServer:
    """Start/stop and address of a fake store served by `handler_class`.

    Port 0 (any free port) for tests; the demo's sandbox stores use a fixed one.
    """

    handler_class: type[BaseHTTPRequestHandler]
    thread_name = "fake-store"
    port = 0
    _server: StoreHTTPServer | None = None

    def start(self) -> Self:
        self._server = StoreHTTPServer(("127.0.0.1", self.port), self.handler_class)
        self._server.store = self
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.thread_name,
            daemon=True,
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The store address to give a client (stands for the store's https address)."""
        assert self._server is not None, "start() the fake store first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"
