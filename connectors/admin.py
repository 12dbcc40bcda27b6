"""Admin for stores (credentials write-only, shown masked) and their sync records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.jobs import BACKFILL_JOB
from connectors.models import (
    Channel,
    ChannelKind,
    ChannelListing,
    ChannelLocation,
    ExternalFulfillment,
    SyncCursor,
    SyncRun,
    WebhookReceipt,
)
from connectors.services import webhook_receipt_retry
from connectors.tasks import channel_sync_task
from erp.core.admin import ReadOnlyAdmin
from erp.core.exceptions import ApplicationError
from erp.core.jobs import job_request
from erp.core.text import Phrase, text_say_again


class ChannelAdminForm(forms.ModelForm):
    shop_url = forms.URLField(label=_("store address"), assume_scheme="https")
    new_credentials = forms.CharField(
        label=_("new credentials (JSON)"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            'Leave empty to keep the stored ones. Example: {"access_token": "shpat_…"}'
        ),
    )

    class Meta:
        model = Channel
        fields = [
            "kind",
            "code",
            "name",
            "currency",
            "shop_url",
            "is_active",
            "allow_split_shipments",
        ]

    def clean_new_credentials(self) -> dict[str, str] | None:
        raw = self.cleaned_data.get("new_credentials", "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Not valid JSON: %(error)s") % {"error": exc.msg}
            ) from None
        if not isinstance(value, dict) or not all(
            isinstance(v, str) for v in value.values()
        ):
            raise forms.ValidationError(_("Give an object of names to text values."))
        return value

    def save(self, commit: bool = True) -> Channel:
        channel = super().save(commit=False)
        if self.cleaned_data.get("new_credentials") is not None:
            channel.credentials = self.cleaned_data["new_credentials"]
        if commit:
            channel.save()
        return channel


class BackfillForm(forms.Form):
    """The window of order history to read from a store."""

    created_from = forms.DateField(
        label=_("Orders placed from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("Orders placed to (inclusive)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The window ends before it starts."))
        return data


@admin.register(ChannelLocation)
class ChannelLocationAdmin(admin.ModelAdmin):
    """A store's locations and the warehouses whose stock each one shows."""

    list_display = ["channel", "name", "external_location_id"]
    list_filter = ["channel"]
    list_select_related = ["channel"]
    fields = ["channel", "external_location_id", "name", "warehouses"]
    filter_horizontal = ["warehouses"]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelAdminForm
    list_display = [
        "code",
        "name",
        "kind",
        "currency",
        "is_active",
        "requires_reauthorization",
    ]
    list_filter = ["kind", "is_active", "requires_reauthorization"]
    search_fields = ["code", "name", "shop_url"]
    readonly_fields = [
        "stored_credentials",
        "requires_reauthorization",
        "auth_error_text",
        "auth_failed_at",
        "connect",
        "backfill",
    ]

    @admin.display(description=_("why it needs reconnecting"))
    def auth_error_text(self, obj: Channel) -> str:
        return text_say_again(obj.auth_error) or "—"

    @admin.display(description=_("connect"))
    def connect(self, obj: Channel) -> str:
        if not obj.pk or obj.kind != ChannelKind.SHOPIFY:
            return "—"
        url = reverse("connectors:shopify-oauth-start", args=[obj.code])
        return format_html('<a href="{}">{}</a>', url, _("Connect with Shopify"))

    @admin.display(description=_("order history"))
    def backfill(self, obj: Channel) -> str:
        url = reverse("admin:connectors_channel_backfill", args=[obj.pk])
        return format_html(
            '<a href="{}" id="backfill-link">{}</a>', url, _("Backfill order history…")
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/backfill/",
                self.admin_site.admin_view(self.backfill_view),
                name="connectors_channel_backfill",
            ),
            *super().get_urls(),
        ]

    def backfill_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask for a window, start the backfill as a job, follow it on its page."""
        channel = self.get_object(request, unquote(object_id))
        if channel is None or not request.user.has_perm("connectors.change_channel"):
            raise PermissionDenied
        form = BackfillForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            start, end = (
                form.cleaned_data["created_from"],
                form.cleaned_data["created_to"],
            )
            job = job_request(
                kind=BACKFILL_JOB,
                title=Phrase(
                    gettext_noop(
                        "Backfill of %(store)s: orders placed %(start)s to %(end)s"
                    ),
                    store=channel.code,
                    start=start.isoformat(),
                    end=end.isoformat(),
                ),
                params={
                    "channel_id": channel.pk,
                    "created_from": datetime.combine(start, time.min, UTC).isoformat(),
                    "created_to": datetime.combine(end, time.max, UTC).isoformat(),
                    "back_url": reverse(
                        "admin:connectors_channel_change", args=[channel.pk]
                    ),
                    "back_label": Phrase(gettext_noop("Back to the store")).as_dict(),
                },
                requested_by_id=request.user.pk,
                queue="connectors",
            )
            return HttpResponseRedirect(reverse("admin:core_job_change", args=[job.pk]))
        return TemplateResponse(
            request,
            "admin/connectors/channel/backfill.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": channel,
                "title": _("Backfill order history of %(store)s") % {"store": channel},
                "form": form,
            },
        )

    @admin.display(description=_("stored credentials"))
    def stored_credentials(self, obj: Channel) -> str:
        masked = obj.credentials_masked() if obj.pk else {}
        if not masked:
            return "—"
        return format_html_join("", "<div>{}: {}</div>", masked.items())

    def get_fields(self, request: HttpRequest, obj: Channel | None = None) -> list[str]:
        fields = [
            "kind",
            "code",
            "name",
            "currency",
            "shop_url",
            "is_active",
            "allow_split_shipments",
            "stored_credentials",
            "connect",
        ]
        if obj is not None and request.user.has_perm("connectors.change_channel"):
            fields.append("backfill")
        if obj is not None and obj.auth_error:
            fields.append("auth_error_text")
        if request.user.has_perm("connectors.change_channel"):
            fields.append("new_credentials")
        return fields


@admin.register(WebhookReceipt)
class WebhookReceiptAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "channel",
        "topic",
        "status",
        "attempts",
        "business_key",
        "created_at",
        "processed_at",
    ]
    list_filter = ["status", "topic", "channel"]
    list_select_related = ["channel"]
    search_fields = ["delivery_id", "business_key", "error"]
    date_hierarchy = "created_at"
    actions = ["retry_selected"]
    fields = [
        "channel",
        "topic",
        "status",
        "delivery_id",
        "business_key",
        "attempts",
        "error_text",
        "result",
        "triggered_at",
        "created_at",
        "processed_at",
        "headers",
        "body",
    ]

    @admin.display(description=_("error"))
    def error_text(self, obj: WebhookReceipt) -> str:
        return text_say_again(obj.error) or "—"

    @admin.action(
        description=_("Process selected receipts again"), permissions=["retry"]
    )
    def retry_selected(
        self, request: HttpRequest, queryset: QuerySet[WebhookReceipt]
    ) -> None:
        retried = 0
        for receipt_id in queryset.values_list("pk", flat=True):
            try:
                webhook_receipt_retry(receipt_id=receipt_id)
                retried += 1
            except ApplicationError as exc:
                self.message_user(
                    request,
                    f"#{receipt_id}: {text_say_again(exc.message)}",
                    messages.WARNING,
                )
        self.message_user(request, _("%(n)d receipt(s) queued again.") % {"n": retried})

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connectors.change_webhookreceipt")


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "channel",
        "kind",
        "status",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "failed",
        "started_at",
        "finished_at",
    ]
    list_filter = ["kind", "status", "channel"]
    list_select_related = ["channel"]
    date_hierarchy = "started_at"
    actions = ["sync_again"]
    fields = [
        "channel",
        "kind",
        "status",
        "params",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "failed",
        "message_text",
        "error_list",
        "started_at",
        "finished_at",
    ]

    @admin.display(description=_("message"))
    def message_text(self, obj: SyncRun) -> str:
        return text_say_again(obj.message) or "—"

    @admin.display(description=_("errors"))
    def error_list(self, obj: SyncRun) -> str:
        if not obj.errors:
            return "—"
        return format_html_join(
            "",
            "<div>{}: {}</div>",
            (
                (entry.get("external_id", "?"), text_say_again(entry.get("error", "")))
                for entry in obj.errors
                if isinstance(entry, dict)
            ),
        )

    @admin.action(description=_("Poll these stores again now"), permissions=["retry"])
    def sync_again(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> None:
        channel_ids = sorted(set(queryset.values_list("channel_id", flat=True)))
        for channel_id in channel_ids:
            channel_sync_task.delay(channel_id)
        self.message_user(
            request, _("%(n)d store(s) will be polled.") % {"n": len(channel_ids)}
        )

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connectors.change_syncrun")


@admin.register(SyncCursor)
class SyncCursorAdmin(ReadOnlyAdmin):
    list_display = [
        "channel",
        "kind",
        "value",
        "last_success_at",
        "consecutive_failures",
        "leased_until",
    ]
    list_select_related = ["channel"]
    fields = [
        "channel",
        "kind",
        "value",
        "last_attempt_at",
        "last_success_at",
        "consecutive_failures",
        "last_error_text",
        "leased_until",
    ]

    @admin.display(description=_("last error"))
    def last_error_text(self, obj: SyncCursor) -> str:
        return text_say_again(obj.last_error) or "—"


@admin.register(ChannelListing)
class ChannelListingAdmin(admin.ModelAdmin):
    """The listing map ops maintain; stock figures are written by pushes only."""

    list_display = [
        "channel",
        "product",
        "external_variant_id",
        "external_sku",
        "is_stock_synced",
        "pushed_quantity",
        "store_quantity",
        "differs",
    ]
    list_filter = ["channel", "is_stock_synced"]
    list_select_related = ["channel", "product"]
    search_fields = ["external_variant_id", "external_sku", "product__sku"]
    autocomplete_fields = ["product"]
    readonly_fields = [
        "pushed_quantity",
        "pushed_at",
        "store_quantity",
        "store_quantity_at",
    ]

    @admin.display(boolean=True, description=_("store differs"))
    def differs(self, obj: ChannelListing) -> bool:
        return obj.has_drift


@admin.register(ExternalFulfillment)
class ExternalFulfillmentAdmin(ReadOnlyAdmin):
    list_display = [
        "external_id",
        "channel",
        "order",
        "shipment",
        "tracking_number",
        "tracking_company",
        "last_event_status",
        "created_at",
    ]
    list_filter = ["channel"]
    list_select_related = ["channel", "order", "shipment"]
    search_fields = ["external_id", "tracking_number", "order__number"]
