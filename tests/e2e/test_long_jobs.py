"""A long job in a real browser: a store backfill started from the admin, run by a real
worker, followed on its progress page until the result lists what it did."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import login

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_admin_backfills_a_store_and_the_page_follows_the_worker(
    demo, page, screenshot
):
    from celery.contrib.testing.worker import start_worker

    from connectors.models import ChannelKind
    from connectors.tests.factories import ChannelFactory
    from connectors.woocommerce.testing.fake_server import FakeWooStore
    from erp.celery import app
    from erp.core.models import Job, JobStatus
    from orders.models import Order

    with FakeWooStore() as store:
        # given: a WooCommerce store with three March orders, two in the window
        placed = [
            store.add_order(created_at=datetime(2026, 3, day, 12, tzinfo=UTC))
            for day in (1, 10, 20)
        ]
        channel = ChannelFactory(
            kind=ChannelKind.WOOCOMMERCE,
            code="woo-history",
            currency=store.currency,
            shop_url=store.url,
            credentials={
                "consumer_key": store.consumer_key,
                "consumer_secret": store.consumer_secret,
            },
        )
        login(page, "admin", "demo-admin-2026")
        # The demo's own messages (stock pushes to sandbox stores that are not running
        # here) would keep this one worker busy; this test is about the job alone.
        app.control.purge()

        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10
        ):
            # when: admin follows the store's backfill link and asks for 5-31 March
            page.goto(f"{page.base}/admin/connectors/channel/{channel.pk}/change/")
            page.click("#backfill-link")
            page.fill("#id_created_from", "2026-03-05")
            page.fill("#id_created_to", "2026-03-31")
            screenshot(page, "backfill-form")
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/core/job/*/change/")
            screenshot(page, "backfill-progress")

            # then: the page reloads by itself until the worker has finished
            page.wait_for_selector("#job-status[data-status=succeeded]", timeout=60_000)
        screenshot(page, "backfill-result")

    job = Job.objects.get()
    assert (job.status, job.done_count, job.failed_count) == (JobStatus.SUCCEEDED, 2, 0)
    assert "2 / 2" in page.locator("#job-progress").inner_text()
    assert (
        "2 new, 0 changed, 0 unchanged" in page.locator("#job-successes").inner_text()
    )
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert set(
        Order.objects.filter(channel=channel).values_list("external_id", flat=True)
    ) == {str(placed[1]["id"]), str(placed[2]["id"])}
