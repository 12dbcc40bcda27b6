"""A store backfill started from the admin: a job, its progress page, its result."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, User

from erp.core.models import Job, JobItem, JobStatus
from erp.core.tasks import job_run_task
from orders.canonical import OrderSource
from orders.models import Order

pytestmark = pytest.mark.django_db


def _staff(client, role):
    user = User.objects.create_user(role, password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def test_admin_backfills_a_window_and_the_page_ends_on_the_result(
    client, woo_store, woo_channel, django_capture_on_commit_callbacks
):
    # given: three March orders in the store, two of them in the window
    old = [
        woo_store.add_order(created_at=datetime(2026, 3, day, 12, tzinfo=UTC))
        for day in (1, 10, 20)
    ]
    admin_user = _staff(client, "admin")
    url = f"/admin/connectors/channel/{woo_channel.pk}/backfill/"

    # when: admin opens the store, follows the link and asks for 5-31 March
    store_page = client.get(f"/admin/connectors/channel/{woo_channel.pk}/change/")
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            url, {"created_from": "2026-03-05", "created_to": "2026-03-31"}
        )
    job = Job.objects.get()
    waiting = client.get(response["Location"]).content.decode()
    job_run_task(job.pk)  # what the worker does
    result = client.get(response["Location"]).content.decode()

    # then
    assert url in store_page.content.decode()
    assert response.status_code == 302
    assert len(queued) == 1
    assert job.requested_by == admin_user
    assert 'http-equiv="refresh"' in waiting
    job.refresh_from_db()
    assert (job.status, job.done_count, job.total_count, job.failed_count) == (
        JobStatus.SUCCEEDED,
        2,
        2,
        0,
    )
    assert set(Order.objects.values_list("external_id", "source")) == {
        (str(old[1]["id"]), OrderSource.IMPORT),
        (str(old[2]["id"]), OrderSource.IMPORT),
    }
    assert 'http-equiv="refresh"' not in result
    assert "Backfill of woo-shop: orders placed 2026-03-05 to 2026-03-31" in result
    assert "2 / 2" in result
    assert "2 new, 0 changed, 0 unchanged" in result
    assert JobItem.objects.filter(job=job, is_success=True).count() == 1


def test_a_backfill_the_store_refuses_ends_failed_with_the_reason_in_chinese(
    client, woo_store, woo_channel, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    call_command("compile_catalogues", verbosity=0)
    woo_store.revoke_keys()
    _staff(client, "admin")

    with django_capture_on_commit_callbacks():
        response = client.post(
            f"/admin/connectors/channel/{woo_channel.pk}/backfill/",
            {"created_from": "2026-03-05", "created_to": "2026-03-31"},
        )
    job_run_task(Job.objects.get().pk)
    client.post("/i18n/language/", {"language": "zh-hans", "next": "/admin/"})
    page = client.get(response["Location"]).content.decode()

    assert Job.objects.get().status == JobStatus.FAILED
    assert "WooCommerce 拒绝了 REST API 密钥（401）" in page
    assert "请为该店铺输入新密钥" in page


def test_ops_cannot_start_a_backfill(client, woo_channel):
    _staff(client, "ops")

    response = client.post(
        f"/admin/connectors/channel/{woo_channel.pk}/backfill/",
        {"created_from": "2026-03-05", "created_to": "2026-03-31"},
    )

    assert response.status_code == 403
    assert not Job.objects.exists()
