"""Admin for the outbox and worker heartbeats: jobs as rows, with a retry action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from erp.core.exceptions import ApplicationError
from erp.core.jobs import job_message, job_progress_figures
from erp.core.models import Job, OutboxMessage, WorkerHeartbeat
from erp.core.outbox import outbox_message_retry
from erp.core.templatetags.erp import money


def money_display(
    model: type[Model], name: str, *, currency: Callable[[Any], str] | None = None
) -> Callable[[Any, Any], str]:
    """A read-only admin field showing a money column as people read it (52.30 USD).

    The column keeps four decimals; the page shows the currency's own, grouped per
    language. `currency` finds the code when the row has no `currency` of its own.
    """

    def show(admin_self: Any, obj: Any) -> str:
        code = currency(obj) if currency else getattr(obj, "currency", "")
        return money(getattr(obj, name), code) or "—"

    show.__name__ = f"{name}_money"
    return admin.display(
        description=model._meta.get_field(name).verbose_name, ordering=name
    )(show)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A window onto rows that only services write."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "topic",
        "key",
        "status",
        "attempts",
        "available_at",
        "created_at",
    ]
    list_filter = ["status", "topic"]
    search_fields = ["topic", "key", "last_error"]
    date_hierarchy = "created_at"
    actions = ["retry_selected"]

    @admin.action(description=_("Retry selected messages now"), permissions=["retry"])
    def retry_selected(
        self, request: HttpRequest, queryset: QuerySet[OutboxMessage]
    ) -> None:
        retried = 0
        for message_id in queryset.values_list("pk", flat=True):
            try:
                outbox_message_retry(message_id=message_id)
                retried += 1
            except ApplicationError as exc:
                self.message_user(
                    request, f"#{message_id}: {exc.message}", messages.WARNING
                )
        self.message_user(request, _("%(n)d message(s) queued again.") % {"n": retried})

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("core.change_outboxmessage")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["hostname", "beat_at", "delivered_count"]


# The result page lists this many items; the counts above it cover them all.
JOB_ITEMS_SHOWN = 500


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Long jobs: the list, and each job's progress page that ends on its result."""

    list_display = [
        "pk",
        "title_display",
        "status",
        "progress",
        "failed_count",
        "requested_by",
        "created_at",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["requested_by"]
    date_hierarchy = "created_at"

    @admin.display(description=_("job"))
    def title_display(self, job: Job) -> str:
        return job_message(job.title) or job.kind

    @admin.display(description=_("progress"))
    def progress(self, job: Job) -> str:
        return f"{job.done_count} / {job.total_count}"

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whoever started a job may follow it, even without the right to see them all.
        if obj is not None and obj.requested_by_id == request.user.pk:
            return True
        return super().has_view_permission(request, obj)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_permission(request, job):
            raise Http404
        items = list(job.items.order_by("is_success", "pk")[: JOB_ITEMS_SHOWN + 1])
        shown = [
            {
                "label": i.label,
                "url": i.url,
                "text": job_message(i.message),
                "ok": i.is_success,
            }
            for i in items[:JOB_ITEMS_SHOWN]
        ]
        listed = job.items.count()
        return TemplateResponse(
            request,
            "admin/core/job/result.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": job,
                "title": self.title_display(job),
                "job": job,
                "progress": job_progress_figures(job),
                "succeeded": job.done_count - job.failed_count,
                "error": job_message(job.error) if job.error else "",
                "failures": [i for i in shown if not i["ok"]],
                "successes": [i for i in shown if i["ok"]],
                "more": max(listed - JOB_ITEMS_SHOWN, 0),
                "back_url": job.params.get("back_url", ""),
                "back_label": job_message(job.params.get("back_label") or {}),
            },
        )


class KeyboardListMixin:
    """Change list used from the keyboard: rows to move through, shortcuts for actions.

    `keyboard_actions` maps keys to this admin's actions: (key, action name, whether
    the action needs a reason). Only the actions the user may run are offered.
    """

    change_list_template = "admin/keyboard_change_list.html"
    keyboard_actions: list[tuple[str, str, bool]] = []

    class Media:
        js = ("erp/keyboard_list.js",)
        css = {"all": ("erp/keyboard_list.css",)}

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        available = self.get_actions(request)  # type: ignore[attr-defined]
        shortcuts = [
            {
                "key": key,
                "action": name,
                "reason": needs_reason,
                "label": str(available[name][2]),
            }
            for key, name, needs_reason in self.keyboard_actions
            if name in available
        ]
        return super().changelist_view(  # type: ignore[misc]
            request, {**(extra_context or {}), "keyboard_actions": shortcuts}
        )
