"""Sandbox stores for the demo: fake stores on local ports that send us orders.

`manage.py sandbox_stores` (run by `make run`) starts one sandbox per demo store whose
address is a local port, then posts a steady stream of signed order webhooks to the
running app, so ops watch orders arrive, get reviewed and allocated. The app talks
back to the same sandbox as it would to the real store (polls, stock, fulfilments).

Each store kind plugs in a module in SANDBOX_MODULES with a `sandbox_for(channel)`
function returning a SandboxStore. Sandboxes are demo tools built on the test fakes;
nothing in the product imports this module.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import requests

from connectors.models import Channel

logger = logging.getLogger(__name__)

# Channel kind → module with `sandbox_for(channel: Channel) -> SandboxStore`.
SANDBOX_MODULES = {
    "shopify": "connectors.shopify.sandbox",
    "woocommerce": "connectors.woocommerce.sandbox",
}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@dataclass(frozen=True)
class Delivery:
    """One webhook a sandbox store sends: where, what, and a line for the log."""

    url_path: str
    body: bytes
    headers: dict[str, str]
    summary: str


class SandboxStore(Protocol):
    """A fake store serving a demo channel's address, able to make up new orders."""

    channel_code: str
    url: str

    def start(self) -> None:
        """Serve the store's API at the channel's address."""
        ...

    def stop(self) -> None:
        """Stop serving."""
        ...

    def next_order(self) -> Delivery:
        """Place a new order in the store; the webhook announcing it."""
        ...


def sandbox_port(channel: Channel) -> int | None:
    """The local port a channel's address points at, None when it is not local."""
    parts = urlsplit(channel.shop_url)
    if parts.hostname not in LOCAL_HOSTS or parts.port is None:
        return None
    return parts.port


def sandbox_channels(codes: Sequence[str] = ()) -> list[Channel]:
    """Active stores of a kind with a sandbox whose address is a local port."""
    channels = Channel.objects.filter(
        is_active=True, kind__in=list(SANDBOX_MODULES)
    ).order_by("code")
    if codes:
        channels = channels.filter(code__in=codes)
    return [c for c in channels if sandbox_port(c) is not None]


def sandbox_for(channel: Channel) -> SandboxStore:
    """The sandbox store of one channel (not started)."""
    module = importlib.import_module(SANDBOX_MODULES[channel.kind])
    return module.sandbox_for(channel)


@dataclass
class SandboxRunStats:
    """What a run of the sandboxes sent and how the app answered."""

    sent: int = 0
    accepted: int = 0
    refused: int = 0
    unreachable: int = 0
    lines: list[str] = field(default_factory=list)


def sandboxes_send(
    *,
    sandboxes: Iterable[SandboxStore],
    app_url: str,
    every: float,
    count: int = 0,
    stop: threading.Event | None = None,
    log: Callable[[str], None] = print,
    session: requests.Session | None = None,
) -> SandboxRunStats:
    """Send one order every `every` seconds, taking the stores in turn.

    `count` 0 runs until `stop` is set. An app that does not answer yet (still
    starting) is waited for: the order is offered again at the next tick.
    """
    stop = stop or threading.Event()
    session = session or requests.Session()
    stats = SandboxRunStats()
    pending: dict[str, Delivery] = {}
    for sandbox in itertools.cycle(list(sandboxes)):
        if stop.is_set() or (count and stats.sent >= count):
            break
        delivery = pending.pop(sandbox.channel_code, None) or sandbox.next_order()
        try:
            response = session.post(
                app_url.rstrip("/") + delivery.url_path,
                data=delivery.body,
                headers=delivery.headers,
                timeout=10,
            )
        except requests.RequestException as exc:
            stats.unreachable += 1
            pending[sandbox.channel_code] = delivery
            log(
                f"{sandbox.channel_code}: the app is not answering yet ({exc.__class__.__name__})"
            )
            stop.wait(max(every, 1.0))
            continue
        stats.sent += 1
        if response.status_code < 300:
            stats.accepted += 1
        else:
            stats.refused += 1
        line = (
            f"{sandbox.channel_code}: {delivery.summary} -> HTTP {response.status_code}"
        )
        stats.lines.append(line)
        log(line)
        stop.wait(every)
    return stats
