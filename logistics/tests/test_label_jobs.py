"""Labels for many shipments: a job a worker runs, a page that follows it to its result."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from erp.core.models import Job, JobItem, JobStatus
from erp.core.tasks import job_run_task
from logistics.choices import ShipmentStatus
from logistics.models import Shipment
from logistics.tests.factories import rate_card_service

CHANGELIST = "/admin/logistics/shipment/"


@pytest.fixture
def ops_client(client):
    user = User.objects.create_user("olivia", password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name="ops"))
    client.force_login(user)
    return client


def _buy(client, shipments):
    return client.post(
        CHANGELIST,
        {"action": "buy_labels", "_selected_action": [s.pk for s in shipments]},
    )


@pytest.mark.django_db
def test_many_labels_become_a_job_whose_page_lists_each_shipment(
    ops_client, draft, settings, django_capture_on_commit_callbacks
):
    # given: five drafts, one to a country no service reaches
    settings.LABELS_INLINE_MAX = 3
    rate_card_service(code="yun_us", price="9.90")
    shipments = [draft() for _ in range(4)] + [draft(country="BR")]

    # when: ops buys their labels from the list
    with django_capture_on_commit_callbacks() as queued:
        response = _buy(ops_client, shipments)
    job = Job.objects.get()
    running = ops_client.get(response["Location"]).content.decode()
    job_run_task(job.pk)  # what the worker does
    done = ops_client.get(response["Location"]).content.decode()

    # then: the request only queued the job; the page reloaded until it ended
    assert response.status_code == 302
    assert response["Location"] == f"/admin/core/job/{job.pk}/change/"
    assert len(queued) == 1
    assert 'http-equiv="refresh"' in running
    assert "0 / 5" in running
    job.refresh_from_db()
    assert (job.status, job.done_count, job.failed_count) == (JobStatus.PARTIAL, 5, 1)
    bought = Shipment.objects.filter(status=ShipmentStatus.LABEL_PURCHASED)
    assert bought.count() == 4
    assert 'http-equiv="refresh"' not in done
    assert "5 / 5" in done
    assert '<td id="job-succeeded">4</td>' in done
    failed = JobItem.objects.get(job=job, is_success=False)
    assert failed.label == f"S{shipments[-1].pk}"
    assert "No allowed service qualifies" in done
    for shipment in bought:
        assert f">S{shipment.pk}</a>" in done
    assert done.count("9.90 USD") == 4


@pytest.mark.django_db
def test_the_result_page_speaks_the_readers_language(
    ops_client, draft, settings, django_capture_on_commit_callbacks
):
    call_command("compile_catalogues", verbosity=0)
    settings.LABELS_INLINE_MAX = 0
    rate_card_service(code="eu_only", price="1.00", countries=("DE",))
    shipment = draft()
    with django_capture_on_commit_callbacks():
        response = _buy(ops_client, [shipment])
    job_run_task(Job.objects.get().pk)

    ops_client.post("/i18n/language/", {"language": "zh-hans", "next": "/admin/"})
    page = ops_client.get(response["Location"]).content.decode()

    assert "1 个发货单的面单" in page
    assert "完成但有失败" in page
    assert "失败项" in page
    assert "Failures" not in page


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_job_the_page_started(draft, settings, client):
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    from erp.celery import app
    from erp.core.roles import roles_sync

    # Transactional tests empty every table, the roles from migrations included.
    ContentType.objects.clear_cache()
    roles_sync(apps)
    settings.LABELS_INLINE_MAX = 1
    user = User.objects.create_user("oskar", password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name="ops"))
    client.force_login(user)
    rate_card_service(code="yun_us", price="9.90")
    shipments = [draft(), draft(), draft()]
    # Messages other tests left on the broker would come first for this one worker.
    app.control.purge()

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        response = _buy(client, shipments)
        job = Job.objects.get()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if not job.is_running:
                break
            time.sleep(0.2)

    page = client.get(response["Location"]).content.decode()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.requested_by == user
    assert set(
        Shipment.objects.filter(pk__in=[s.pk for s in shipments]).values_list(
            "status", flat=True
        )
    ) == {ShipmentStatus.LABEL_PURCHASED}
    assert "3 / 3" in page
    assert 'http-equiv="refresh"' not in page
