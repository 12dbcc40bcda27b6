"""Ops page for history imports: upload a store export, watch it run, read the result.

The page only collects the upload and shows the job row; the job is created by
`order_import_request` and run by a worker (connectors.importers).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from erp.core.exceptions import ApplicationError
from erp.core.jobs import progress_figures
from erp.core.text import text_say_again
from orders.models import Order, OrderImport, OrderImportFormat, OrderImportStatus
from orders.services.imports import order_import_request, order_import_requeue


class OrderImportUploadForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Order.objects.none(), label=_("Store"))
    file_format = forms.ChoiceField(
        choices=OrderImportFormat.choices, label=_("Format")
    )
    file = forms.FileField(label=_("File"))
    mapping_file = forms.FileField(
        label=_("Column mapping (JSON)"),
        required=False,
        help_text=_(
            "Only for the generic format: which column holds which order field."
        ),
    )
    timezone = forms.CharField(
        label=_("Time zone of the file"),
        initial="UTC",
        max_length=64,
        help_text=_(
            "For times written without an offset (WooCommerce exports, spreadsheets), "
            "e.g. Asia/Shanghai. Shopify exports carry their offset."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # By the model's foreign key: orders never imports connectors.
        channel_model = Order._meta.get_field("channel").related_model
        field = self.fields["channel"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = channel_model.objects.filter(is_active=True)


@admin.register(OrderImport)
class OrderImportAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "channel",
        "status",
        "progress",
        "failed_count",
        "check_matches",
        "requested_by",
        "created_at",
    ]
    list_filter = ["status", "file_format", "channel"]
    list_select_related = ["channel", "requested_by"]
    date_hierarchy = "created_at"
    actions = ["run_again"]

    @admin.display(description=_("progress"))
    def progress(self, obj: OrderImport) -> str:
        return f"{obj.done_count} / {obj.total_count}"

    @admin.display(description=_("month check"), boolean=True)
    def check_matches(self, obj: OrderImport) -> bool | None:
        return (obj.check_report or {}).get("matches")

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # the job is the record of what was imported

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/errors/",
                self.admin_site.admin_view(self.error_report_view),
                name="orders_orderimport_errors",
            ),
            *super().get_urls(),
        ]

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:orders_orderimport_changelist"))
        form = OrderImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                job = order_import_request(
                    channel_id=data["channel"].pk,
                    file=data["file"],
                    file_format=data["file_format"],
                    mapping_file=data["mapping_file"],
                    timezone_name=data["timezone"].strip(),
                    requested_by=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, text_say_again(exc.message))
            else:
                self.message_user(
                    request, _("The import is queued; this page follows its progress.")
                )
                return HttpResponseRedirect(
                    reverse("admin:orders_orderimport_change", args=[job.pk])
                )
        return TemplateResponse(
            request,
            "admin/orders/orderimport/upload.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Import order history"),
                "form": form,
            },
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_or_change_permission(request, job):
            raise Http404
        progress = progress_figures(
            done=job.done_count,
            total=job.total_count,
            running=job.status in (OrderImportStatus.QUEUED, OrderImportStatus.RUNNING),
            started_at=job.started_at,
            finished_at=job.finished_at,
            heartbeat_at=job.heartbeat_at,
        )
        return TemplateResponse(
            request,
            "admin/orders/orderimport/result.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": job,
                "title": str(job),
                "job": job,
                "error_text": text_say_again(job.error),
                "progress": progress,
                "check": job.check_report or None,
                "errors_url": (
                    reverse("admin:orders_orderimport_errors", args=[job.pk])
                    if job.error_report
                    else ""
                ),
            },
        )

    def error_report_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_or_change_permission(request, job):
            raise Http404
        if not job.error_report:
            raise Http404
        filename = f"order-import-{job.pk}-errors.csv"
        language = translation.get_language() or "en"
        if language.split("-")[0] == "en":
            return FileResponse(
                job.error_report.open("rb"),
                as_attachment=True,
                filename=filename,
                content_type="text/csv",
            )
        # The worker wrote the report in English; a reader of another language gets
        # each problem (and the header) said again in theirs.
        with job.error_report.open("rb") as stored:
            rows = csv.reader(io.TextIOWrapper(stored, encoding="utf-8", newline=""))
            out = io.StringIO()
            writer = csv.writer(out)
            for number, row in enumerate(rows):
                if number == 0:
                    writer.writerow(
                        [gettext("row"), gettext("column"), gettext("problem")]
                    )
                elif len(row) == 3:
                    writer.writerow([row[0], row[1], text_say_again(row[2])])
                else:
                    writer.writerow(row)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.action(
        description=_("Run selected imports again (changes nothing twice)"),
        permissions=["change"],
    )
    def run_again(self, request: HttpRequest, queryset: QuerySet[OrderImport]) -> None:
        queued = 0
        for import_id in queryset.values_list("pk", flat=True):
            try:
                order_import_requeue(import_id=import_id)
                queued += 1
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        self.message_user(request, _("%(n)d import(s) queued again.") % {"n": queued})
