"""History-import jobs: ops upload a store export, a worker imports it.

The worker's code (file parsers, the import run) is connector knowledge and lives in
connectors.importers; orders never imports connectors, so the job is handed over by
task name after commit.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery import current_app
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from erp.core.exceptions import ApplicationError, ConflictError
from orders.models import Order, OrderImport, OrderImportFormat, OrderImportStatus

ORDER_IMPORT_RUN_TASK = "connectors.importers.tasks.order_import_run_task"


class InvalidOrderImportError(ApplicationError):
    """The upload cannot become an import job (format, mapping, store, time zone)."""

    code = "invalid_order_import"


def _run_task_send(import_id: int) -> None:
    current_app.send_task(ORDER_IMPORT_RUN_TASK, args=[import_id])


def _validate(
    *, channel_id: int, file_format: str, has_mapping: bool, timezone_name: str
) -> None:
    problems = []
    if file_format not in OrderImportFormat.values:
        problems.append(gettext("unknown format %(format)r") % {"format": file_format})
    if file_format == OrderImportFormat.GENERIC and not has_mapping:
        problems.append(gettext("the generic format needs a column mapping file"))
    channel_model = Order._meta.get_field("channel").related_model
    if not channel_model.objects.filter(pk=channel_id).exists():
        problems.append(gettext("that store does not exist"))
    if timezone_name.upper() != "UTC":
        try:
            ZoneInfo(timezone_name)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                gettext("unknown time zone %(name)r") % {"name": timezone_name}
            )
    if problems:
        raise InvalidOrderImportError(
            gettext("The import cannot start: %(problems)s.")
            % {"problems": "; ".join(problems)},
            problems=problems,
        )


@transaction.atomic
def order_import_request(
    *,
    channel_id: int,
    file: File,
    file_format: str,
    mapping_file: File | None = None,
    timezone_name: str = "UTC",
    requested_by: Any = None,
) -> OrderImport:
    """Store an uploaded history file as a queued job; a worker starts it after commit.

    Raises: InvalidOrderImportError (nothing is stored).
    """
    _validate(
        channel_id=channel_id,
        file_format=file_format,
        has_mapping=mapping_file is not None,
        timezone_name=timezone_name,
    )
    job = OrderImport(
        channel_id=channel_id,
        file_format=file_format,
        timezone=timezone_name,
        requested_by=requested_by if getattr(requested_by, "pk", None) else None,
    )
    job.file.save(file.name or "orders.csv", file, save=False)
    if mapping_file is not None:
        job.mapping_file.save(
            mapping_file.name or "mapping.json", mapping_file, save=False
        )
    job.save()
    transaction.on_commit(partial(_run_task_send, job.pk))
    return job


@transaction.atomic
def order_import_requeue(*, import_id: int) -> OrderImport:
    """Queue a finished or failed import again; re-running a file changes nothing twice.

    Raises: ConflictError if the job is queued or running.
    """
    updated = OrderImport.objects.filter(
        pk=import_id,
        status__in=[OrderImportStatus.FINISHED, OrderImportStatus.FAILED],
    ).update(
        status=OrderImportStatus.QUEUED,
        error="",
        started_at=None,
        finished_at=None,
        updated_at=timezone.now(),
    )
    if not updated:
        raise ConflictError(
            gettext(
                "Import #%(import_id)s is queued or running; it cannot be queued again."
            )
            % {"import_id": import_id},
            import_id=import_id,
        )
    transaction.on_commit(partial(_run_task_send, import_id))
    return OrderImport.objects.get(pk=import_id)
