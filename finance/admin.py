"""Finance admin: windows onto rows the services write, and buttons that call them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from erp.core.admin import ReadOnlyAdmin
from erp.core.exceptions import ApplicationError
from erp.core.text import text_say_again
from finance.models import (
    ExchangeRate,
    OrderCost,
    OrderProfit,
    Payment,
    Payout,
    PayoutImport,
    PayoutLine,
    ReconciliationDifference,
    ReconciliationItem,
    ReconciliationRun,
    Refund,
    RefundLine,
)
from finance.selectors.reconciliation import difference_history
from finance.services.fx import exchange_rate_set
from finance.services.profit import order_profit_refresh


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["on", "base", "quote", "rate", "source", "reference"]
    list_filter = ["source", "base", "quote"]
    date_hierarchy = "on"
    search_fields = ["base", "quote", "reference"]
    fields = ["base", "quote", "rate", "on", "reference"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # a correction is a new manual rate of the day

    def save_model(
        self, request: HttpRequest, obj: ExchangeRate, form: object, change: bool
    ) -> None:
        # Manual rates go through the service (validation, profit refresh after commit).
        saved = exchange_rate_set(
            base=obj.base,
            quote=obj.quote,
            rate=obj.rate,
            on=obj.on,
            reference=obj.reference or request.user.get_username(),
        )
        obj.pk = saved.pk


class RefundLineInline(admin.TabularInline):
    model = RefundLine
    extra = 0
    can_delete = False
    readonly_fields = ["line_external_id", "order_line", "quantity", "restock"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "kind",
        "gateway",
        "amount",
        "currency",
        "presentment_amount",
        "presentment_currency",
        "fee",
        "succeeded",
        "processed_at",
    ]
    list_filter = ["kind", "gateway_key", "succeeded"]
    search_fields = ["external_id", "gateway_reference", "order__number"]
    list_select_related = ["order"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "external_id",
        "amount",
        "currency",
        "presentment_amount",
        "presentment_currency",
        "refunded_at",
    ]
    search_fields = ["external_id", "order__number"]
    list_select_related = ["order"]
    inlines = [RefundLineInline]


class PayoutLineInline(admin.TabularInline):
    model = PayoutLine
    extra = 0
    can_delete = False
    fields = [
        "external_id",
        "kind",
        "gross",
        "fee",
        "net",
        "transaction_reference",
        "order_reference",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = [
        "external_id",
        "gateway",
        "paid_on",
        "amount",
        "currency",
        "source",
        "channel",
    ]
    list_filter = ["gateway", "source", "currency"]
    date_hierarchy = "paid_on"
    search_fields = [
        "external_id",
        "lines__transaction_reference",
        "lines__order_reference",
    ]
    inlines = [PayoutLineInline]


@admin.register(PayoutImport)
class PayoutImportAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "source",
        "file_name",
        "status",
        "total_rows",
        "lines_created",
        "lines_updated",
    ]
    list_filter = ["status", "source"]
    exclude = ["errors"]
    readonly_fields = ["error_list"]

    @admin.display(description=PayoutImport._meta.get_field("errors").verbose_name)
    def error_list(self, obj: PayoutImport) -> str:
        entries = [e for e in obj.errors or [] if isinstance(e, dict)]
        if not entries:
            return "—"
        # Written in English by the import; each problem is said in the reader's language.
        return format_html_join(
            "",
            "<div>{}: {}</div>",
            (
                (entry.get("row", "?"), text_say_again(str(entry.get("message", ""))))
                for entry in entries
            ),
        )


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "date_from",
        "date_to",
        "channel",
        "items_total",
        "items_matched",
        "differences_found",
        "created_at",
    ]


@admin.register(ReconciliationItem)
class ReconciliationItemAdmin(ReadOnlyAdmin):
    list_display = ["run", "subject", "order", "is_matched", "difference_kind"]
    list_filter = ["is_matched", "difference_kind", "subject"]
    list_select_related = ["run", "order"]


@admin.register(ReconciliationDifference)
class ReconciliationDifferenceAdmin(ReadOnlyAdmin):
    list_display = [
        "kind",
        "status",
        "order",
        "expected",
        "actual",
        "currency",
        "last_run",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["message", "order__number"]
    list_select_related = ["order", "last_run"]
    readonly_fields = ["history", "report_link"]

    @admin.display(description=_("history"))
    def history(self, obj: ReconciliationDifference) -> str:
        rows = difference_history([obj]).get(obj.pk, [])
        if not rows:
            return "—"
        return format_html_join(
            mark_safe("<br>"),  # noqa: S308 (a constant separator)
            "{} {} · {}: {}",
            (
                (
                    f"{n['at']:%Y-%m-%d %H:%M}",
                    n["by"] or "—",
                    n["action_label"],
                    n["text"],
                )
                for n in rows
            ),
        )

    @admin.display(description=_("resolve or reopen"))
    def report_link(self, obj: ReconciliationDifference) -> str:
        url = f"{reverse('finance:reconciliation')}?status=all&id={obj.pk}"
        return format_html(
            '<a href="{}">{}</a>', url, _("On the reconciliation report")
        )


@admin.register(OrderCost)
class OrderCostAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "amount", "currency", "reference", "incurred_on"]
    list_filter = ["kind"]
    search_fields = ["reference", "order__number"]


@admin.register(OrderProfit)
class OrderProfitAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "channel",
        "country",
        "customer_type",
        "revenue",
        "profit",
        "base_currency",
        "fx_status",
    ]
    list_filter = ["fx_status", "customer_type", "channel"]
    search_fields = ["order__number", "country"]
    list_select_related = ["order", "channel"]
    actions = ["refresh_selected"]

    @admin.action(
        description=_("Recompute profit of selected orders"), permissions=["view"]
    )
    def refresh_selected(
        self, request: HttpRequest, queryset: QuerySet[OrderProfit]
    ) -> None:
        for order_id in queryset.values_list("order_id", flat=True):
            try:
                order_profit_refresh(order_id=order_id)
            except ApplicationError as exc:
                self.message_user(
                    request, f"Order {order_id}: {exc.message}", messages.WARNING
                )
