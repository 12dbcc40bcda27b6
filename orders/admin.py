"""Ops windows onto orders; changes go through services, never through edit forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from erp.core.admin import KeyboardListMixin, ReadOnlyAdmin, money_display
from erp.core.exceptions import ApplicationError
from erp.core.templatetags.erp import money
from erp.core.text import phrase_render, text_say_again
from orders.choices import ReviewRuleKind
from orders.models import Customer, Order, OrderEvent, OrderLine, ReviewRule
from orders.review import review_rule_dry_run
from orders.services.shipping import order_ship_prepare
from orders.services.workflow import (
    order_allocate,
    order_approve,
    order_cancel,
    order_hold,
)


def event_message(event: OrderEvent) -> str:
    """The timeline line in the reader's language (older events: as recorded)."""
    return phrase_render(
        {**(event.data or {}).get("phrase", {}), "message": event.message}
    )


class OrderActionForm(ActionForm):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=500,
        widget=forms.TextInput(
            attrs={"size": 40, "placeholder": _("why (shown in the timeline)")}
        ),
    )


class CountryFilter(admin.SimpleListFilter):
    title = _("destination country")
    parameter_name = "country"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes = (
            Order.objects.order_by()
            .values_list("shipping_address__country_code", flat=True)
            .distinct()
        )
        return [(code, code) for code in sorted(c for c in codes if c)]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Order]
    ) -> QuerySet[Order]:
        if self.value():
            return queryset.filter(shipping_address__country_code=self.value())
        return queryset


class HoldReasonFilter(admin.SimpleListFilter):
    title = _("hold reason")
    parameter_name = "hold_reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [*ReviewRuleKind.choices, ("manual", _("Held by hand"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Order]
    ) -> QuerySet[Order]:
        if self.value():
            return queryset.filter(hold_codes__contains=f",{self.value()},")
        return queryset


class AgeFilter(admin.SimpleListFilter):
    title = _("placed")
    parameter_name = "age"
    HOURS = {"1d": 24, "3d": 72, "7d": 168}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("1d", _("more than 1 day ago")),
            ("3d", _("more than 3 days ago")),
            ("7d", _("more than 7 days ago")),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Order]
    ) -> QuerySet[Order]:
        hours = self.HOURS.get(self.value() or "")
        if hours:
            return queryset.filter(
                placed_at__lt=timezone.now() - timedelta(hours=hours)
            )
        return queryset


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = [
        "sku",
        "title",
        "quantity",
        "unit_price_money",
        "discount_total_money",
        "is_removed",
        "allocated_from",
    ]
    readonly_fields = fields
    unit_price_money = money_display(
        OrderLine, "unit_price", currency=lambda line: line.order.currency
    )
    discount_total_money = money_display(
        OrderLine, "discount_total", currency=lambda line: line.order.currency
    )

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("allocated from"))
    def allocated_from(self, line: OrderLine) -> str:
        rows = [
            (
                a.stock_item.warehouse.code,
                f" lot {a.stock_item.batch.code}" if a.stock_item.batch_id else "",
                a.quantity,
                a.get_status_display(),
            )
            for a in line.allocations.select_related(
                "stock_item__warehouse", "stock_item__batch"
            )
        ]
        if not rows:
            return "—"
        return format_html_join("", "<div>{}{}: {} ({})</div>", rows)


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "type", "message_display", "actor"]
    readonly_fields = fields
    ordering = ["created_at", "pk"]
    verbose_name_plural = _("timeline")

    @admin.display(description=_("message"))
    def message_display(self, event: OrderEvent) -> str:
        return event_message(event)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(KeyboardListMixin, ReadOnlyAdmin):
    list_display = [
        "number",
        "channel",
        "status",
        "why",
        "financial_status",
        "total_display",
        "country",
        "placed_at",
    ]
    list_filter = [
        "status",
        "channel",
        CountryFilter,
        HoldReasonFilter,
        AgeFilter,
        "financial_status",
    ]
    list_select_related = ["channel"]
    search_fields = ["=number", "=external_id", "email", "=customer__email_normalized"]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, OrderEventInline]
    action_form = OrderActionForm
    actions = [
        "approve_selected",
        "hold_selected",
        "allocate_selected",
        "ship_selected",
        "cancel_selected",
    ]
    keyboard_actions = [
        ("a", "approve_selected", True),
        ("h", "hold_selected", True),
        ("l", "allocate_selected", False),
        ("s", "ship_selected", False),
        ("c", "cancel_selected", True),
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "channel",
                    "status",
                    "hold_reasons_display",
                    "review_flags_display",
                    "version",
                ]
            },
        ),
        (
            _("Money"),
            {
                "fields": [
                    "currency",
                    "subtotal_money",
                    "discount_total_money",
                    "shipping_total_money",
                    "tax_total_money",
                    "total_money",
                    "financial_status",
                ]
            },
        ),
        (
            _("Customer and delivery"),
            {
                "fields": [
                    "customer",
                    "email",
                    "shipping_address_display",
                    "shipping_lines_display",
                    "risk_level",
                    "note",
                    "tags",
                ]
            },
        ),
        (
            _("Store"),
            {
                "fields": [
                    "external_id",
                    "source",
                    "placed_at",
                    "store_updated_at",
                    "fulfillment_status",
                    "cancelled_at",
                    "cancel_reason",
                ]
            },
        ),
    ]
    subtotal_money = money_display(Order, "subtotal")
    discount_total_money = money_display(Order, "discount_total")
    shipping_total_money = money_display(Order, "shipping_total")
    tax_total_money = money_display(Order, "tax_total")
    total_money = money_display(Order, "total")
    readonly_fields = [
        "hold_reasons_display",
        "review_flags_display",
        "shipping_address_display",
        "shipping_lines_display",
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ):  # type: ignore[no-untyped-def]
        # Ops type order numbers with or without the store's "#".
        term = search_term.strip()
        if term and not term.startswith("#") and term.isdigit():
            extra = queryset.filter(number=f"#{term}")
            results, distinct = super().get_search_results(request, queryset, term)
            return results | extra, distinct
        return super().get_search_results(request, queryset, term)

    @admin.display(description=_("why"))
    def why(self, order: Order) -> str:
        return "; ".join(phrase_render(r) for r in order.hold_reasons) or "—"

    @admin.display(description=_("total"), ordering="total")
    def total_display(self, order: Order) -> str:
        # The column stores 4 decimals; people read the currency's own (52.30 USD).
        return money(order.total, order.currency)

    @admin.display(description=_("country"))
    def country(self, order: Order) -> str:
        return order.country_code

    @admin.display(description=_("shipping address"))
    def shipping_address_display(self, order: Order) -> str:
        # An address reads as lines on a label, not as the JSON it is stored in.
        address = order.shipping_address or {}
        region = " ".join(
            part
            for part in (
                address.get("city", ""),
                address.get("province_code") or address.get("province", ""),
                address.get("postal_code", ""),
            )
            if part
        )
        lines = [
            address.get("name", ""),
            address.get("company", ""),
            address.get("line1", ""),
            address.get("line2", ""),
            region,
            address.get("country_code", ""),
            address.get("phone", ""),
        ]
        shown = [(line,) for line in lines if line]
        return format_html_join("", "<div>{}</div>", shown) if shown else "—"

    @admin.display(description=_("shipping methods"))
    def shipping_lines_display(self, order: Order) -> str:
        rows = [
            (line.get("title", ""), money(line.get("price", ""), order.currency))
            for line in order.shipping_lines or []
        ]
        return format_html_join("", "<div>{}: {}</div>", rows) if rows else "—"

    @admin.display(description=_("hold reasons"))
    def hold_reasons_display(self, order: Order) -> str:
        if not order.hold_reasons:
            return "—"
        return format_html_join(
            "", "<div>{}</div>", ((phrase_render(r),) for r in order.hold_reasons)
        )

    @admin.display(description=_("flags"))
    def review_flags_display(self, order: Order) -> str:
        if not order.review_flags:
            return "—"
        return format_html_join(
            "", "<div>{}</div>", ((phrase_render(r),) for r in order.review_flags)
        )

    def get_readonly_fields(
        self, request: HttpRequest, obj: Order | None = None
    ) -> list[str]:
        return [f for fs in self.fieldsets for f in fs[1]["fields"]]

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Order],
        verb: str,
        call: Callable[[int, str], object],
        *,
        needs_reason: bool,
    ) -> None:
        reason = (request.POST.get("reason") or "").strip()
        if needs_reason and not reason:
            self.message_user(
                request, _("Give a reason for this action."), messages.ERROR
            )
            return
        done = 0
        for order_id, number in queryset.values_list("pk", "number"):
            try:
                call(order_id, reason)
                done += 1
            except ApplicationError as exc:
                self.message_user(
                    request,
                    f"{number}: {text_say_again(exc.message)}",
                    messages.WARNING,
                )
        if done:
            self.message_user(
                request, _("%(verb)s %(n)d order(s).") % {"verb": verb, "n": done}
            )

    @admin.action(description=_("Approve selected orders"), permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(
            request,
            queryset,
            _("Approved"),
            lambda pk, reason: order_approve(
                order_id=pk, actor=request.user, reason=reason
            ),
            needs_reason=True,
        )

    @admin.action(description=_("Hold selected orders"), permissions=["change"])
    def hold_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(
            request,
            queryset,
            _("Held"),
            lambda pk, reason: order_hold(
                order_id=pk, actor=request.user, reason=reason
            ),
            needs_reason=True,
        )

    @admin.action(description=_("Allocate selected orders"), permissions=["change"])
    def allocate_selected(
        self, request: HttpRequest, queryset: QuerySet[Order]
    ) -> None:
        self._each(
            request,
            queryset,
            _("Tried allocation for"),
            lambda pk, reason: order_allocate(order_id=pk, actor=request.user),
            needs_reason=False,
        )

    @admin.action(
        description=_("Ship selected orders (buy labels)"), permissions=["change"]
    )
    def ship_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        def ship(pk: int, reason: str) -> object:
            result = order_ship_prepare(order_id=pk, actor=request.user)
            for shipment_id, problem in result.problems.items():
                self.message_user(
                    request,
                    f"S{shipment_id}: {text_say_again(problem)}",
                    messages.WARNING,
                )
            return result

        self._each(request, queryset, _("Shipped"), ship, needs_reason=False)

    @admin.action(description=_("Cancel selected orders"), permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(
            request,
            queryset,
            _("Cancelled"),
            lambda pk, reason: order_cancel(
                order_id=pk, actor=request.user, reason=reason
            ),
            needs_reason=True,
        )

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # The page stays read-only; "change" here only gates the actions above.
        return obj is None and request.user.has_perm("orders.change_order")


class CustomerOrderInline(admin.TabularInline):
    model = Order
    fk_name = "customer"
    extra = 0
    can_delete = False
    fields = ["number", "channel", "status", "total_money", "placed_at"]
    readonly_fields = fields
    total_money = money_display(Order, "total")
    ordering = ["-placed_at"]
    show_change_link = True
    verbose_name_plural = _("order history")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    inlines = [CustomerOrderInline]
    list_display = ["__str__", "email", "phone", "is_blocked", "created_at"]
    list_filter = ["is_blocked"]
    search_fields = ["email_normalized", "phone_normalized", "first_name", "last_name"]
    fields = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "is_blocked",
        "blocked_reason",
        "tags",
    ]
    readonly_fields = ["first_name", "last_name", "email", "phone"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "type", "message_display", "actor", "created_at"]
    list_filter = ["type"]
    list_select_related = ["order", "actor"]

    @admin.display(description=_("message"))
    def message_display(self, event: OrderEvent) -> str:
        return event_message(event)


@admin.register(ReviewRule)
class ReviewRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "action", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["kind", "action", "is_active"]
    filter_horizontal = ["channels"]
    actions = ["dry_run"]

    @admin.action(description=_("Dry run on the last 100 orders"))
    def dry_run(
        self, request: HttpRequest, queryset: QuerySet[ReviewRule]
    ) -> HttpResponse:
        results = [
            (rule, review_rule_dry_run(rule=rule, last_n=100)) for rule in queryset
        ]
        return TemplateResponse(
            request,
            "admin/orders/reviewrule/dry_run.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Review rule dry run"),
                "results": [
                    (rule, rows, sum(r.fired for r in rows)) for rule, rows in results
                ],
                "opts": self.model._meta,
            },
        )


# The history import page lives in its own module; importing it registers it.
from orders import admin_imports  # noqa: E402, F401
