"""Ops admin for carriers, rate cards, rules and shipments; actions call services."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from erp.core.admin import KeyboardListMixin, ReadOnlyAdmin, money_display
from erp.core.exceptions import ApplicationError
from erp.core.jobs import job_request
from erp.core.text import Phrase, text_say_again
from logistics.jobs import LABELS_JOB, shipment_label_buy_best
from logistics.models import (
    CarrierAccount,
    CarrierService,
    CarrierWebhookDelivery,
    CustomsItem,
    DeliveryPromise,
    IncotermRule,
    Package,
    RateCard,
    RateCardRate,
    RateCardZone,
    RateQuote,
    Shipment,
    ShipmentItem,
    ShippingRule,
    TrackingEvent,
)
from logistics.services.labels import shipment_void
from logistics.services.printing import shipments_print_batch
from logistics.services.shipments import shipment_tracking_number_set
from logistics.services.tracking import shipments_track_poll
from logistics.services.webhooks import carrier_webhook_retry

# Up to this many shipments get their labels within the request; more become a job
# followed on a progress page (settings.LABELS_INLINE_MAX overrides).
LABELS_INLINE_MAX = 3

# --- carriers ----------------------------------------------------------------------


class CarrierAccountAdminForm(forms.ModelForm):
    api_base_url = forms.URLField(
        label=_("API address override"),
        required=False,
        assume_scheme="https",
        help_text=CarrierAccount._meta.get_field("api_base_url").help_text,
    )
    new_credentials = forms.CharField(
        label=_("new credentials (JSON)"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            'Leave empty to keep the stored ones. UPS: {"client_id", "client_secret", '
            '"account_number"}; FedEx: {"api_key", "secret_key", "account_number", '
            '"track_api_key", "track_secret_key"}; DHL Express: {"username", '
            '"password", "account_number"}; USPS: {"client_id", "client_secret", '
            '"account_number", "CRID", "MID", "manifest_MID"}.'
        ),
    )

    class Meta:
        model = CarrierAccount
        fields = [
            "code",
            "name",
            "carrier",
            "is_test_mode",
            "is_active",
            "api_base_url",
            "timeout_seconds",
            "priority",
            "origin_countries",
            "tracking_url_template",
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

    def save(self, commit: bool = True) -> CarrierAccount:
        account = super().save(commit=False)
        if self.cleaned_data.get("new_credentials") is not None:
            account.credentials = self.cleaned_data["new_credentials"]
        if commit:
            account.save()
        return account


class CarrierServiceInline(admin.TabularInline):
    model = CarrierService
    extra = 0
    fields = [
        "code",
        "name",
        "transit_days_max",
        "max_weight_grams",
        "is_domestic",
        "is_international",
        "rate_card",
        "is_active",
    ]


@admin.register(CarrierAccount)
class CarrierAccountAdmin(admin.ModelAdmin):
    form = CarrierAccountAdminForm
    list_display = ["code", "name", "carrier", "is_test_mode", "is_active", "priority"]
    list_filter = ["carrier", "is_active", "is_test_mode"]
    search_fields = ["code", "name"]
    readonly_fields = ["stored_credentials"]
    inlines = [CarrierServiceInline]

    @admin.display(description=_("stored credentials"))
    def stored_credentials(self, obj: CarrierAccount) -> str:
        masked = obj.credentials_masked() if obj.pk else {}
        if not masked:
            return "—"
        return format_html_join("", "<div>{}: {}</div>", masked.items())

    def get_fields(
        self, request: HttpRequest, obj: CarrierAccount | None = None
    ) -> list[str]:
        fields = [*CarrierAccountAdminForm.Meta.fields, "stored_credentials"]
        if request.user.has_perm("logistics.change_carrieraccount"):
            fields.append("new_credentials")
        return fields


@admin.register(CarrierService)
class CarrierServiceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "account",
        "transit_days_max",
        "max_weight_grams",
        "is_international",
        "is_active",
    ]
    list_filter = ["account", "is_active", "is_international"]
    list_select_related = ["account"]
    search_fields = ["code", "name"]


# --- rate cards and rules ----------------------------------------------------------


class RateCardZoneInline(admin.TabularInline):
    model = RateCardZone
    extra = 0
    fields = ["code", "countries", "transit_days_min", "transit_days_max"]
    show_change_link = True


@admin.register(RateCard)
class RateCardAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "fuel_surcharge_percent", "dim_divisor"]
    search_fields = ["name"]
    inlines = [RateCardZoneInline]


class RateCardRateInline(admin.TabularInline):
    model = RateCardRate
    extra = 0


@admin.register(RateCardZone)
class RateCardZoneAdmin(admin.ModelAdmin):
    list_display = ["rate_card", "code", "countries", "transit_days_max"]
    list_filter = ["rate_card"]
    inlines = [RateCardRateInline]


@admin.register(ShippingRule)
class ShippingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "destinations", "max_transit_days", "is_active"]
    list_filter = ["is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["name"]
    filter_horizontal = [
        "channels",
        "warehouses",
        "allowed_services",
        "preferred_services",
    ]


@admin.register(DeliveryPromise)
class DeliveryPromiseAdmin(admin.ModelAdmin):
    list_display = [
        "channel",
        "destinations",
        "business_days",
        "handling_days",
        "is_active",
    ]
    list_filter = ["is_active", "channel"]
    list_select_related = ["channel"]


@admin.register(IncotermRule)
class IncotermRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "destinations", "incoterm", "is_active"]
    list_filter = ["incoterm", "is_active"]
    list_editable = ["position", "is_active"]
    filter_horizontal = ["channels"]


# --- shipments -----------------------------------------------------------------------


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PackageInline(_ReadOnlyInline):
    model = Package
    fields = [
        "weight_grams",
        "length_mm",
        "width_mm",
        "height_mm",
        "reference",
        "tracking_number",
    ]


class ShipmentItemInline(_ReadOnlyInline):
    model = ShipmentItem
    fields = ["sku", "title", "quantity", "barcode", "unit_weight_grams"]


class CustomsItemInline(_ReadOnlyInline):
    model = CustomsItem
    fields = [
        "sku",
        "description",
        "hs_code",
        "origin_country",
        "quantity",
        "unit_value",
        "currency",
    ]


class RateQuoteInline(_ReadOnlyInline):
    model = RateQuote
    fields = [
        "status",
        "carrier",
        "service_name",
        "amount_money",
        "compared_amount_money",
        "transit_days",
        "parcel_count",
        "duty_amount_money",
        "reason_text",
    ]
    readonly_fields = fields
    amount_money = money_display(RateQuote, "amount")
    compared_amount_money = money_display(
        RateQuote, "compared_amount", currency=lambda quote: quote.compared_currency
    )
    # Duties come itemised in the quote's own currency.
    duty_amount_money = money_display(RateQuote, "duty_amount")

    @admin.display(description=RateQuote._meta.get_field("reason").verbose_name)
    def reason_text(self, obj: RateQuote) -> str:
        return text_say_again(obj.reason) or "—"


class TrackingEventInline(_ReadOnlyInline):
    model = TrackingEvent
    fields = ["occurred_at", "status", "carrier_code", "description", "location"]


class ShipmentActionForm(ActionForm):
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"size": 24, "placeholder": _("rate-card lines only")}
        ),
    )


@admin.register(Shipment)
class ShipmentAdmin(KeyboardListMixin, admin.ModelAdmin):
    list_display = [
        "pk",
        "order",
        "warehouse",
        "status",
        "tracking_status",
        "service",
        "tracking_number",
        "label_cost_money",
        "created_at",
    ]
    list_filter = ["status", "tracking_status", "warehouse", "service__account"]
    list_select_related = ["order", "warehouse", "service__account"]
    search_fields = ["tracking_number", "reference", "order__number"]
    date_hierarchy = "created_at"
    action_form = ShipmentActionForm
    actions = [
        "buy_labels",
        "print_batch",
        "void_labels",
        "set_tracking_number",
        "poll_tracking",
    ]
    keyboard_actions = [
        ("b", "buy_labels", False),
        ("p", "print_batch", False),
        ("t", "poll_tracking", False),
    ]
    inlines = [
        PackageInline,
        ShipmentItemInline,
        CustomsItemInline,
        RateQuoteInline,
        TrackingEventInline,
    ]
    fields = [
        "order",
        "warehouse",
        "status",
        "tracking_status",
        "service",
        "selection_reason_text",
        "promise_note_text",
        "tracking_number",
        "tracking_link",
        "label_link",
        "label_cost_money",
        "ship_to",
        "incoterm",
        "duty_amount_money",
        "error_text",
        "label_purchased_at",
        "shipped_at",
        "delivered_at",
        "voided_at",
    ]
    readonly_fields = fields
    label_cost_money = money_display(
        Shipment, "label_cost", currency=lambda shipment: shipment.label_currency
    )
    duty_amount_money = money_display(
        Shipment, "duty_amount", currency=lambda shipment: shipment.duty_currency
    )

    @admin.display(
        description=Shipment._meta.get_field("selection_reason").verbose_name
    )
    def selection_reason_text(self, obj: Shipment) -> str:
        return obj.said("selection_reason") or "—"

    @admin.display(description=Shipment._meta.get_field("promise_note").verbose_name)
    def promise_note_text(self, obj: Shipment) -> str:
        return text_say_again(obj.promise_note) or "—"

    @admin.display(description=Shipment._meta.get_field("error").verbose_name)
    def error_text(self, obj: Shipment) -> str:
        return obj.said("error") or "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # shipments come from orders (order_ship_prepare)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # read-only page (view permission); the actions are the changes

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_ship_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("logistics.change_shipment")

    @admin.display(description=_("label"))
    def label_link(self, obj: Shipment) -> str:
        if not obj.label_file:
            return "—"
        return format_html(
            '<a href="/api/v1/logistics/shipments/{}/label/">{}</a>',
            obj.pk,
            gettext("%(format)s label") % {"format": obj.label_format},
        )

    @admin.display(description=_("tracking page"))
    def tracking_link(self, obj: Shipment) -> str:
        if not obj.tracking_url:
            return "—"
        return format_html(
            '<a href="{}" rel="noopener">{}</a>', obj.tracking_url, obj.tracking_url
        )

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Shipment],
        run: Any,
        done: str,
    ) -> None:
        count = 0
        for shipment_id in queryset.values_list("pk", flat=True):
            try:
                run(shipment_id)
            except ApplicationError as exc:
                self.message_user(
                    request,
                    f"S{shipment_id}: {text_say_again(exc.message)}",
                    messages.WARNING,
                )
            else:
                count += 1
        if count:
            self.message_user(request, done % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Choose service and buy labels"), permissions=["ship"])
    def buy_labels(
        self, request: HttpRequest, queryset: QuerySet[Shipment]
    ) -> HttpResponse | None:
        shipment_ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        inline_max = getattr(settings, "LABELS_INLINE_MAX", LABELS_INLINE_MAX)
        if len(shipment_ids) <= inline_max:
            self._each(
                request,
                queryset,
                lambda pk: shipment_label_buy_best(shipment_id=pk),
                _("%(count)d label(s) bought."),
            )
            return None
        # Many carrier calls would outlast the request: a worker buys them while a
        # page follows the progress and ends on a line per shipment.
        job = job_request(
            kind=LABELS_JOB,
            title=Phrase(
                gettext_noop("Labels for %(count)s shipments"), count=len(shipment_ids)
            ),
            params={
                "shipment_ids": shipment_ids,
                "back_url": reverse("admin:logistics_shipment_changelist"),
                "back_label": Phrase(gettext_noop("Back to the shipments")).as_dict(),
            },
            total=len(shipment_ids),
            requested_by_id=request.user.pk,
        )
        return HttpResponseRedirect(reverse("admin:core_job_change", args=[job.pk]))

    @admin.action(
        description=_("Print labels, pick lists and packing slips"),
        permissions=["view"],
    )
    def print_batch(
        self, request: HttpRequest, queryset: QuerySet[Shipment]
    ) -> HttpResponse | None:
        try:
            batch = shipments_print_batch(
                shipment_ids=list(queryset.order_by("pk").values_list("pk", flat=True))
            )
        except ApplicationError as exc:
            self.message_user(request, text_say_again(exc.message), messages.WARNING)
            return None
        response = HttpResponse(batch.pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="shipments.pdf"'
        return response

    @admin.action(description=_("Void labels"), permissions=["ship"])
    def void_labels(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        self._each(
            request,
            queryset,
            lambda pk: shipment_void(
                shipment_id=pk, reason=Phrase(gettext_noop("Voided in admin."))
            ),
            _("%(count)d label(s) voided."),
        )

    @admin.action(
        description=_("Set tracking number (rate-card line)"), permissions=["ship"]
    )
    def set_tracking_number(
        self, request: HttpRequest, queryset: QuerySet[Shipment]
    ) -> None:
        number = (request.POST.get("tracking_number") or "").strip()
        if not number or queryset.count() != 1:
            self.message_user(
                request,
                _("Select one shipment and type its tracking number."),
                messages.WARNING,
            )
            return
        self._each(
            request,
            queryset,
            lambda pk: shipment_tracking_number_set(
                shipment_id=pk, tracking_number=number
            ),
            _("Tracking number saved."),
        )

    @admin.action(description=_("Ask carriers for tracking now"), permissions=["ship"])
    def poll_tracking(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        report = shipments_track_poll(min_interval_minutes=0)
        self.message_user(
            request,
            _("%(asked)d parcel(s) asked, %(changed)d changed.")
            % {"asked": report.shipments, "changed": report.updated},
            messages.SUCCESS,
        )
        for error in report.errors:
            self.message_user(request, text_say_again(error), messages.WARNING)


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdmin):
    list_display = ["shipment", "occurred_at", "status", "carrier_code", "description"]
    list_filter = ["status"]
    search_fields = ["shipment__tracking_number", "description"]


@admin.register(CarrierWebhookDelivery)
class CarrierWebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "account",
        "status",
        "tracking_number",
        "shipment",
        "events_recorded",
        "created_at",
        "error_text",
    ]
    list_filter = ["status", "carrier", "account"]
    list_select_related = ["account", "shipment"]
    search_fields = ["tracking_number", "error"]
    date_hierarchy = "created_at"
    fields = [
        "account",
        "carrier",
        "status",
        "error_text",
        "tracking_number",
        "shipment",
        "events_recorded",
        "headers",
        "body",
        "created_at",
        "processed_at",
    ]
    readonly_fields = fields
    actions = ["process_again"]

    def has_ship_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("logistics.change_shipment")

    @admin.display(
        description=CarrierWebhookDelivery._meta.get_field("error").verbose_name
    )
    def error_text(self, obj: CarrierWebhookDelivery) -> str:
        return text_say_again(obj.error) or "—"

    @admin.action(description=_("Process again"), permissions=["ship"])
    def process_again(
        self, request: HttpRequest, queryset: QuerySet[CarrierWebhookDelivery]
    ) -> None:
        for delivery in queryset.order_by("pk"):
            try:
                carrier_webhook_retry(delivery_id=delivery.pk)
            except ApplicationError as exc:
                self.message_user(
                    request,
                    f"#{delivery.pk}: {text_say_again(exc.message)}",
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request, _("#%(pk)s queued again.") % {"pk": delivery.pk}
                )
