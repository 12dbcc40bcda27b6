"""Import jobs run by a worker: claim, progress, result, error report, takeover."""

from datetime import timedelta

import pytest
from celery import current_app
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from connectors.importers.tasks import order_import_run_task
from orders.models import Order, OrderImport, OrderImportFormat, OrderImportStatus
from orders.services.imports import ORDER_IMPORT_RUN_TASK, order_import_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Tasks handed to the broker, by name and arguments."""
    calls: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args: calls.append((name, args))
    )
    return calls


def upload(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def test_a_queued_job_runs_to_a_result_with_errors_and_month_check(
    fixture_path, inr_store, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = order_import_request(
            channel_id=inr_store.pk,
            file=upload(fixture_path("shopify_orders_export_broken.csv")),
            file_format=OrderImportFormat.SHOPIFY_CSV,
        )
    assert sent == [(ORDER_IMPORT_RUN_TASK, [job.pk])]
    assert job.status == OrderImportStatus.QUEUED

    order_import_run_task(job.pk)

    job.refresh_from_db()
    assert job.status == OrderImportStatus.FINISHED
    assert (
        job.total_count,
        job.done_count,
        job.created_count,
        job.changed_count,
        job.failed_count,
    ) == (2, 2, 1, 0, 1)
    assert job.started_at <= job.finished_at
    assert job.error == ""
    with job.error_report.open("rb") as report:
        assert report.read().decode() == (
            "row,column,problem\r\n"
            "8,Lineitem quantity,'two' is not a whole number of 0 or more.\r\n"
        )
    assert job.check_report["matches"] is False
    assert job.check_report["months"][0]["file"] == {
        "orders": 2,
        "gross": "29352.28",
        "refunds": "0.00",
    }
    assert list(Order.objects.values_list("number", flat=True)) == ["#1050"]


def test_running_the_job_again_changes_nothing(fixture_path, inr_store, sent):
    job = order_import_request(
        channel_id=inr_store.pk,
        file=upload(fixture_path("shopify_orders_export_sample.csv")),
        file_format=OrderImportFormat.SHOPIFY_CSV,
    )
    order_import_run_task(job.pk)
    OrderImport.objects.filter(pk=job.pk).update(status=OrderImportStatus.QUEUED)

    order_import_run_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.created_count, job.unchanged_count) == (
        OrderImportStatus.FINISHED,
        0,
        2,
    )
    assert job.check_report["matches"] is True
    assert not job.error_report
    assert Order.objects.count() == 2


def test_a_file_that_cannot_be_read_fails_the_job_with_the_reason(inr_store, sent):
    job = order_import_request(
        channel_id=inr_store.pk,
        file=SimpleUploadedFile("orders.csv", b"Name,Email\n#1,a@example.com\n"),
        file_format=OrderImportFormat.SHOPIFY_CSV,
    )

    order_import_run_task(job.pk)

    job.refresh_from_db()
    assert job.status == OrderImportStatus.FAILED
    assert job.error == (
        "The file lacks the column(s) Id, Created at, Currency, Total, "
        "Lineitem quantity, Lineitem name, Lineitem price."
    )
    assert Order.objects.exists() is False


def test_a_job_a_live_worker_runs_is_left_alone_and_a_dead_ones_taken_over(
    fixture_path, inr_store, sent
):
    job = order_import_request(
        channel_id=inr_store.pk,
        file=upload(fixture_path("shopify_orders_export_sample.csv")),
        file_format=OrderImportFormat.SHOPIFY_CSV,
    )
    OrderImport.objects.filter(pk=job.pk).update(
        status=OrderImportStatus.RUNNING,
        run_token="other-worker",
        heartbeat_at=timezone.now(),
    )

    order_import_run_task(job.pk)  # a duplicate delivery while the job runs

    job.refresh_from_db()
    assert (job.status, job.run_token, Order.objects.count()) == (
        OrderImportStatus.RUNNING,
        "other-worker",
        0,
    )

    OrderImport.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    order_import_run_task(job.pk)  # redelivered after the worker died

    job.refresh_from_db()
    assert job.status == OrderImportStatus.FINISHED
    assert job.run_token != "other-worker"
    assert Order.objects.count() == 2


def test_a_generic_job_reads_its_mapping_file(fixture_path, usd_store, sent):
    job = order_import_request(
        channel_id=usd_store.pk,
        file=upload(fixture_path("generic_orders.csv")),
        file_format=OrderImportFormat.GENERIC,
        mapping_file=upload(fixture_path("generic_mapping.json")),
    )

    order_import_run_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.created_count, job.failed_count) == (
        OrderImportStatus.FINISHED,
        2,
        0,
    )
    assert set(Order.objects.values_list("external_id", flat=True)) == {
        "A1001",
        "A1002",
    }
