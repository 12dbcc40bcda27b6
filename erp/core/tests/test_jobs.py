"""Long jobs: claimed once, ended with a reason whatever happens, shown in any language."""

import pytest
from django.core.management import call_command
from django.utils import translation

from erp.core.exceptions import ApplicationError
from erp.core.jobs import job_message, job_request, job_run, progress_figures
from erp.core.models import Job, JobStatus
from erp.core.text import Phrase

pytestmark = pytest.mark.django_db


def test_a_job_of_an_unknown_kind_is_refused_before_it_is_recorded():
    with pytest.raises(ApplicationError, match="No runner for jobs of kind nope"):
        job_request(kind="nope", title=Phrase("Nothing"), params={})

    assert not Job.objects.exists()


def test_a_job_whose_runner_is_gone_ends_failed_with_the_reason_in_chinese():
    call_command("compile_catalogues", verbosity=0)
    job = Job.objects.create(kind="retired.kind", title=Phrase("Old job").as_dict())

    ended = job_run(job_id=job.pk)
    again = job_run(job_id=job.pk)  # a redelivered task changes nothing

    assert ended.status == JobStatus.FAILED
    assert ended.finished_at is not None
    assert again.finished_at == ended.finished_at
    with translation.override("zh-hans"):
        said = job_message(ended.error)
    assert said == "没有可执行 retired.kind 类任务的程序。"


def test_progress_figures_give_percent_and_rate():
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)

    figures = progress_figures(
        done=150,
        total=600,
        running=True,
        started_at=start,
        finished_at=None,
        heartbeat_at=start + timedelta(seconds=10),
    )

    assert (figures["percent"], figures["rate"], figures["running"]) == (25, 15, True)
