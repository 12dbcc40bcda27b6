"""Browser tests: the system Chromium driven by Playwright against pytest-django's live server.

Chromium is the Debian package at /usr/bin/chromium (.ci/run installs it); Playwright never
downloads a browser here. Without it the tests skip on a laptop and fail in CI.
Screenshots land in var/screenshots/<test name>/ and are listed at the end of the run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
_taken: list[Path] = []


def _in_ci() -> bool:
    return os.environ.get("REQUIRE_POSTGRES") == "1" or bool(os.environ.get("CI"))


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if CHROMIUM.exists() or _in_ci():
        return
    skip = pytest.mark.skip(
        reason=f"browser test: {CHROMIUM} is missing (apt-get install chromium)"
    )
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _taken:
        terminalreporter.write_sep("-", f"browser screenshots ({len(_taken)})")
        for path in _taken:
            terminalreporter.write_line(str(path))


@pytest.fixture
def browser() -> Iterator[object]:
    """One headless system Chromium per test."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; .ci/run installs the chromium package")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls
    # are ordinary blocking calls between browser steps.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    """A fresh English-speaking browser tab; page.base is the live server's address."""
    context = browser.new_context(
        locale="en-US", accept_downloads=True, viewport={"width": 1400, "height": 1000}
    )
    # A ceiling, not a measurement: a page that works answers in well under a second,
    # but the live server and the browser share two cores with the rest of a busy box.
    context.set_default_timeout(30_000)
    tab = context.new_page()
    tab.base = live_server.url
    yield tab
    context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """screenshot(page, "name") saves a full-page PNG under var/screenshots/<test>/."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)

    def take(tab, name: str) -> Path:  # type: ignore[no-untyped-def]
        path = folder / f"{len(list(folder.glob('*.png'))) + 1:02d}-{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        _taken.append(path)
        return path

    for old in folder.glob("*.png"):
        old.unlink()
    return take


@pytest.fixture
def demo(transactional_db) -> None:  # type: ignore[no-untyped-def]
    """The demo stores, stock, orders and logins, on a database other tests may have flushed."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command

    from erp.core.roles import roles_sync

    # Transactional tests empty every table, the roles from migrations included.
    ContentType.objects.clear_cache()
    roles_sync(apps)
    # The default review rules come from a data migration too; without them no demo
    # order would be held.
    import_module("orders.migrations.0003_default_review_rules").create_rules(
        apps, None
    )
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)


def login(tab, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the admin login form and land on the dashboard."""
    tab.goto(f"{tab.base}/admin/login/?next=/")
    tab.fill("#id_username", username)
    tab.fill("#id_password", password)
    tab.click("input[type=submit]")
    tab.wait_for_url(f"{tab.base}/")


def run_action(tab, action: str, *, reason: str = "") -> None:  # type: ignore[no-untyped-def]
    """Pick a bulk action on a changelist with rows already ticked, and run it."""
    tab.select_option("select[name=action]", action)
    if reason:
        tab.fill("input[name=reason]", reason)
    tab.click("button[name=index]")
