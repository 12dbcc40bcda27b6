"""The ops import page: upload, a worker runs it, the result page, the error report."""

from pathlib import Path

import pytest
from celery import current_app
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from connectors.importers.tasks import order_import_run_task
from connectors.tests.factories import ChannelFactory
from orders.models import Order, OrderImport, OrderImportFormat, OrderImportStatus
from orders.services.imports import ORDER_IMPORT_RUN_TASK

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "connectors/importers/tests/fixtures"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sent(monkeypatch):
    calls: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args: calls.append((name, args))
    )
    return calls


@pytest.fixture
def ops(client):
    user = User.objects.create_user("olga", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="ops"))
    client.force_login(user)
    return user


@pytest.fixture
def store(db):
    return ChannelFactory(code="in-shop", currency="INR")


def upload(client, name, **fields):
    return client.post(
        reverse("admin:orders_orderimport_add"),
        {
            "file_format": OrderImportFormat.SHOPIFY_CSV,
            "timezone": "UTC",
            "file": SimpleUploadedFile(name, (FIXTURES / name).read_bytes()),
            **fields,
        },
    )


def test_ops_upload_a_file_and_a_worker_is_asked_to_run_it(
    client, ops, store, sent, django_capture_on_commit_callbacks
):
    assert client.get(reverse("admin:orders_orderimport_add")).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "shopify_orders_export_sample.csv", channel=store.pk)

    job = OrderImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:orders_orderimport_change", args=[job.pk]
    )
    assert (job.channel, job.file_format, job.status, job.requested_by) == (
        store,
        OrderImportFormat.SHOPIFY_CSV,
        OrderImportStatus.QUEUED,
        ops,
    )
    assert sent == [(ORDER_IMPORT_RUN_TASK, [job.pk])]
    page = client.get(response["Location"]).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Queued" in page


def test_the_result_page_shows_counts_month_check_and_the_error_report(
    client, ops, store, sent
):
    upload(client, "shopify_orders_export_broken.csv", channel=store.pk)
    job = OrderImport.objects.get()

    order_import_run_task(job.pk)  # what the worker does

    page = client.get(reverse("admin:orders_orderimport_change", args=[job.pk]))
    html = page.content.decode()
    assert "http-equiv" not in html  # finished: no more reloading
    assert '<td id="import-status">Finished</td>' in html
    assert '<span id="import-progress">2 / 2</span>' in html
    assert '<td id="import-created">1</td>' in html
    assert '<td id="import-failed">1' in html
    assert "file and database differ" in html
    assert "<td>2025-12</td>" in html
    # money as people read it: grouped, with the store's currency
    assert "<td>29,352.28 INR</td><td>11,594.00 INR</td>" in html
    errors_url = reverse("admin:orders_orderimport_errors", args=[job.pk])
    assert f'href="{errors_url}"' in html

    report = client.get(errors_url)
    assert report["Content-Disposition"] == (
        f'attachment; filename="order-import-{job.pk}-errors.csv"'
    )
    assert b"".join(report.streaming_content).decode() == (
        "row,column,problem\r\n"
        "8,Lineitem quantity,'two' is not a whole number of 0 or more.\r\n"
    )
    assert list(Order.objects.values_list("number", flat=True)) == ["#1050"]


def test_a_chinese_reader_gets_the_error_report_in_chinese(client, ops, store, sent):
    # given: the worker wrote the report (in English, it has no reader)
    upload(client, "shopify_orders_export_broken.csv", channel=store.pk)
    job = OrderImport.objects.get()
    order_import_run_task(job.pk)

    # when
    client.post("/i18n/language/", {"language": "zh-hans", "next": "/admin/"})
    report = client.get(reverse("admin:orders_orderimport_errors", args=[job.pk]))

    # then: the header and each problem are said in Chinese, the values kept
    assert report["Content-Disposition"] == (
        f'attachment; filename="order-import-{job.pk}-errors.csv"'
    )
    assert report.content.decode() == (
        "行,列,问题\r\n8,Lineitem quantity,'two' 不是大于或等于 0 的整数。\r\n"
    )
    job.refresh_from_db()
    with job.error_report.open("rb") as stored:
        assert "'two' is not a whole number" in stored.read().decode()


def test_a_generic_upload_without_mapping_is_refused_on_the_page(
    client, ops, store, sent
):
    response = upload(
        client,
        "generic_orders.csv",
        channel=store.pk,
        file_format=OrderImportFormat.GENERIC,
    )

    assert response.status_code == 200
    assert (
        "The import cannot start: the generic format needs a column mapping file."
        in response.content.decode()
    )
    assert OrderImport.objects.exists() is False
    assert sent == []


def test_run_again_queues_a_finished_import(
    client, ops, store, sent, django_capture_on_commit_callbacks
):
    upload(client, "shopify_orders_export_sample.csv", channel=store.pk)
    job = OrderImport.objects.get()
    order_import_run_task(job.pk)
    sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:orders_orderimport_changelist"),
            {"action": "run_again", "_selected_action": [job.pk]},
        )

    job.refresh_from_db()
    assert job.status == OrderImportStatus.QUEUED
    assert sent == [(ORDER_IMPORT_RUN_TASK, [job.pk])]
    order_import_run_task(job.pk)
    job.refresh_from_db()
    assert (job.status, job.created_count, job.unchanged_count) == (
        OrderImportStatus.FINISHED,
        0,
        2,
    )
