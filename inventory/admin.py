"""Ops admin for stock: windows onto rows, and buttons that call the services.

Quantities never change through an edit form: receive, adjust, transfer, release,
import and the transfer outcomes are actions or pages that call one service per
object (each in its own transaction, so one failure does not undo the others).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import F, Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from erp.core.admin import ReadOnlyAdmin
from erp.core.exceptions import ApplicationError
from erp.core.text import Phrase, text_say_again
from inventory.choices import TransferStatus
from inventory.models import (
    Allocation,
    Batch,
    BundleComponent,
    ChannelStockPolicy,
    Product,
    SafetyStockRule,
    StockAlert,
    StockItem,
    StockMovement,
    Transfer,
    TransferLine,
    Warehouse,
)
from inventory.services.allocation import stock_release
from inventory.services.channels import channel_stock_policy_set
from inventory.services.imports import product_import, stock_count_import
from inventory.services.stock import stock_adjust, stock_receive
from inventory.services.transfers import (
    TransferLineInput,
    transfer_cancel,
    transfer_create,
    transfer_receive,
)
from inventory.spreadsheets import (
    FORMATS,
    content_type_for,
    export_filename,
    product_export,
    stock_count_export,
)


def _download(content: bytes, *, prefix: str, file_format: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type_for(file_format))
    response["Content-Disposition"] = (
        f'attachment; filename="{export_filename(prefix, file_format)}"'
    )
    return response


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
    import_valid_rows = forms.BooleanField(
        label=_("Import the valid rows even if some rows are bad"), required=False
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: check everything, write nothing"), required=False
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.name.rsplit(".", 1)[-1].lower() not in FORMATS:
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


def _file_format(upload: Any) -> str:
    return upload.name.rsplit(".", 1)[-1].lower()


# --- products and warehouses (master data, edited directly) -----------------------


class BundleComponentInline(admin.TabularInline):
    model = BundleComponent
    fk_name = "bundle"
    extra = 1
    autocomplete_fields = ["component"]


# Costs are finance figures: ops (no finance permission) see quantities, not what
# goods cost. The figures stay on the rows; the pages just leave them out.
COST_FIELDS = ("unit_cost", "cost_currency")
FINANCE_FIGURES_PERMISSION = "finance.view_orderprofit"


def _sees_costs(request: HttpRequest) -> bool:
    return request.user.has_perm(FINANCE_FIGURES_PERMISSION)


def _without_costs(fields: Any) -> list[Any]:
    kept = []
    for field in fields:
        if isinstance(field, tuple | list):
            inner = [f for f in field if f not in COST_FIELDS]
            if inner:
                kept.append(tuple(inner))
        elif field not in COST_FIELDS:
            kept.append(field)
    return kept


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "sku",
        "title",
        "barcode",
        "is_lot_tracked",
        "is_bundle",
        "unit_cost",
        "cost_currency",
        "is_active",
    ]
    list_filter = ["is_active", "is_lot_tracked", "is_bundle", "country_of_origin"]
    search_fields = ["sku", "title", "barcode"]
    inlines = [BundleComponentInline]
    actions = ["export_csv", "export_xlsx"]
    change_list_template = "admin/inventory/change_list_tools.html"
    fieldsets = [
        (None, {"fields": ["sku", "title", "barcode", "is_active"]}),
        (
            _("Shipping and customs"),
            {
                "fields": [
                    "weight_grams",
                    ("length_mm", "width_mm", "height_mm"),
                    "hs_code",
                    "country_of_origin",
                ]
            },
        ),
        (_("Cost"), {"fields": [("unit_cost", "cost_currency")]}),
        (
            _("Stock keeping"),
            {"fields": ["is_lot_tracked", "shelf_life_days", "is_bundle"]},
        ),
    ]

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if _sees_costs(request) else _without_costs(shown)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if _sees_costs(request):
            return fieldsets
        return [
            (name, {**options, "fields": _without_costs(options["fields"])})
            for name, options in fieldsets
            if _without_costs(options["fields"])
        ]

    def get_urls(self) -> list[Any]:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="inventory_product_import",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = extra_context or {}
        if self.has_add_permission(request):
            extra_context["extra_tools"] = [
                {
                    "url": reverse("admin:inventory_product_import"),
                    "label": _("Import CSV/XLSX"),
                }
            ]
        return super().changelist_view(request, extra_context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not (
            self.has_add_permission(request) and self.has_change_permission(request)
        ):
            return HttpResponseRedirect(reverse("admin:inventory_product_changelist"))
        report = None
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = product_import(
                    content=upload.read(),
                    file_format=_file_format(upload),
                    import_valid_rows=form.cleaned_data["import_valid_rows"],
                    dry_run=form.cleaned_data["dry_run"],
                )
            except ApplicationError as exc:
                form.add_error("file", exc.message)
            else:
                if report.committed:
                    self.message_user(
                        request,
                        _("%(n)d product(s) imported.") % {"n": report.written_rows},
                    )
        return TemplateResponse(
            request,
            "admin/inventory/form_page.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Import products"),
                "intro": _(
                    "Columns: sku, title (required) and any of barcode, weight_grams, "
                    "length_mm, width_mm, height_mm, hs_code, country_of_origin, "
                    "unit_cost, cost_currency, is_lot_tracked, shelf_life_days, "
                    "is_active. Rows are matched by SKU."
                ),
                "form": form,
                "multipart": True,
                "submit_label": _("Import"),
                "report": report,
            },
        )

    @admin.action(description=_("Export selected products (CSV)"))
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Product]
    ) -> HttpResponse:
        return _download(
            product_export(queryset=queryset, file_format="csv"),
            prefix="products",
            file_format="csv",
        )

    @admin.action(description=_("Export selected products (XLSX)"))
    def export_xlsx(
        self, request: HttpRequest, queryset: QuerySet[Product]
    ) -> HttpResponse:
        return _download(
            product_export(queryset=queryset, file_format="xlsx"),
            prefix="products",
            file_format="xlsx",
        )


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "country", "priority", "is_active"]
    list_filter = ["is_active", "kind", "country"]
    search_fields = ["code", "name", "city"]
    ordering = ["priority", "code"]


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = [
        "code",
        "product",
        "expires_on",
        "received_on",
        "unit_cost",
        "cost_currency",
    ]
    list_filter = [("expires_on", admin.DateFieldListFilter)]
    list_select_related = ["product"]
    search_fields = ["code", "product__sku"]
    date_hierarchy = "expires_on"

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if _sees_costs(request) else _without_costs(shown)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        return fields if _sees_costs(request) else _without_costs(fields)


# --- stock rows and the actions that change them ----------------------------------


class InStockFilter(admin.SimpleListFilter):
    title = _("stock")
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("available", _("Has available units")),
            ("allocated", _("Has allocated units")),
            ("empty", _("Nothing on hand")),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[StockItem]
    ) -> QuerySet[StockItem]:
        if self.value() == "available":
            return queryset.filter(quantity_on_hand__gt=F("quantity_allocated"))
        if self.value() == "allocated":
            return queryset.filter(quantity_allocated__gt=0)
        if self.value() == "empty":
            return queryset.filter(quantity_on_hand=0)
        return queryset


def _label(model: type[Model], field: str) -> str:
    """A plain form field's label from the model field's translatable name."""
    return capfirst(model._meta.get_field(field).verbose_name)


class ReceiveForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(is_bundle=False, is_active=True),
        label=_label(StockItem, "product"),
    )
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True),
        label=_label(StockItem, "warehouse"),
    )
    quantity = forms.IntegerField(min_value=1, label=_label(Allocation, "quantity"))
    lot_code = forms.CharField(
        max_length=100,
        required=False,
        label=_label(Batch, "code"),
        help_text=_("Lot-tracked SKUs only."),
    )
    expires_on = forms.DateField(
        required=False,
        label=_label(Batch, "expires_on"),
        help_text=_("YYYY-MM-DD; empty = from the shelf life."),
    )
    unit_cost = forms.DecimalField(
        max_digits=19,
        decimal_places=4,
        min_value=0,
        required=False,
        label=_label(Batch, "unit_cost"),
    )
    cost_currency = forms.CharField(
        max_length=3, required=False, label=_label(Batch, "cost_currency")
    )
    reference = forms.CharField(
        max_length=100,
        required=False,
        label=_label(StockMovement, "reference"),
        help_text=_("e.g. PO number"),
    )


class TransferForm(forms.Form):
    destination = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True),
        label=_label(Transfer, "destination"),
    )
    reference = forms.CharField(
        max_length=100, required=False, label=_label(Transfer, "reference")
    )

    def __init__(self, *args: Any, items: list[StockItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in items:
            self.fields[f"qty_{item.pk}"] = forms.IntegerField(
                label=_("%(sku)s %(lot)s (%(available)s available)")
                % {
                    "sku": item.product.sku,
                    "lot": item.batch.code if item.batch else "",
                    "available": item.quantity_available,
                },
                min_value=0,
                max_value=max(item.quantity_available, 0),
                initial=0,
            )


STOCK_COUNT = gettext_noop("Stock count")


class AdjustForm(forms.Form):
    reason = forms.CharField(
        max_length=255, initial=_(STOCK_COUNT), label=_label(StockMovement, "reason")
    )

    def __init__(self, *args: Any, items: list[StockItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in items:
            self.fields[f"count_{item.pk}"] = forms.IntegerField(
                label=_("%(sku)s @ %(warehouse)s %(lot)s (on hand %(on_hand)s)")
                % {
                    "sku": item.product.sku,
                    "warehouse": item.warehouse.code,
                    "lot": item.batch.code if item.batch else "",
                    "on_hand": item.quantity_on_hand,
                },
                min_value=0,
                initial=item.quantity_on_hand,
            )


@admin.register(StockItem)
class StockItemAdmin(ReadOnlyAdmin):
    list_display = [
        "product",
        "warehouse",
        "batch",
        "lot_expires_on",
        "quantity_on_hand",
        "quantity_allocated",
        "available",
        "updated_at",
    ]
    list_filter = [
        "warehouse",
        InStockFilter,
        "product__is_lot_tracked",
        ("batch__expires_on", admin.DateFieldListFilter),
    ]
    list_select_related = ["product", "warehouse", "batch"]
    search_fields = [
        "product__sku",
        "product__title",
        "product__barcode",
        "batch__code",
    ]
    ordering = ["product__sku", "warehouse__code", "batch__expires_on"]
    actions = [
        "adjust_selected",
        "transfer_selected",
        "export_counts_csv",
        "export_counts_xlsx",
    ]
    change_list_template = "admin/inventory/change_list_tools.html"

    @admin.display(description=_("available"))
    def available(self, obj: StockItem) -> int:
        return obj.quantity_available

    @admin.display(description=_("expires"), ordering="batch__expires_on")
    def lot_expires_on(self, obj: StockItem) -> Any:
        return obj.batch.expires_on if obj.batch else None

    def has_stock_change_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.change_stockitem")

    def get_urls(self) -> list[Any]:
        return [
            path(
                "receive/",
                self.admin_site.admin_view(self.receive_view),
                name="inventory_stockitem_receive",
            ),
            path(
                "import-counts/",
                self.admin_site.admin_view(self.import_counts_view),
                name="inventory_stockitem_import_counts",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = extra_context or {}
        if self.has_stock_change_permission(request):
            extra_context["extra_tools"] = [
                {
                    "url": reverse("admin:inventory_stockitem_receive"),
                    "label": _("Receive stock"),
                },
                {
                    "url": reverse("admin:inventory_stockitem_import_counts"),
                    "label": _("Import stock count"),
                },
            ]
        return super().changelist_view(request, extra_context)

    def _page(self, request: HttpRequest, **context: Any) -> TemplateResponse:
        return TemplateResponse(
            request,
            "admin/inventory/form_page.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                **context,
            },
        )

    def receive_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_stock_change_permission(request):
            return HttpResponseRedirect(reverse("admin:inventory_stockitem_changelist"))
        form = ReceiveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                movement = stock_receive(
                    product_id=data["product"].pk,
                    warehouse_id=data["warehouse"].pk,
                    quantity=data["quantity"],
                    lot_code=data["lot_code"],
                    expires_on=data["expires_on"],
                    unit_cost=data["unit_cost"],
                    cost_currency=data["cost_currency"],
                    reference=data["reference"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("Received %(n)d × %(sku)s; on hand now %(after)d.")
                    % {
                        "n": data["quantity"],
                        "sku": data["product"].sku,
                        "after": movement.quantity_on_hand_after,
                    },
                )
                return HttpResponseRedirect(
                    reverse("admin:inventory_stockitem_changelist")
                )
        return self._page(
            request, title=_("Receive stock"), form=form, submit_label=_("Receive")
        )

    def import_counts_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_stock_change_permission(request):
            return HttpResponseRedirect(reverse("admin:inventory_stockitem_changelist"))
        report = None
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = stock_count_import(
                    content=upload.read(),
                    file_format=_file_format(upload),
                    import_valid_rows=form.cleaned_data["import_valid_rows"],
                    dry_run=form.cleaned_data["dry_run"],
                    reference=f"count-import:{upload.name}"[:100],
                    actor=request.user,
                )
            except ApplicationError as exc:
                form.add_error("file", exc.message)
            else:
                if report.committed:
                    self.message_user(
                        request,
                        _("%(n)d stock row(s) counted.") % {"n": report.written_rows},
                    )
        return self._page(
            request,
            title=_("Import stock count"),
            intro=_(
                "Columns: sku, warehouse (code), lot (lot-tracked SKUs), counted_quantity, "
                "reason. Export a count sheet from the stock list to start from."
            ),
            form=form,
            multipart=True,
            submit_label=_("Import"),
            report=report,
        )

    @admin.action(
        description=_("Adjust to counted quantity…"), permissions=["stock_change"]
    )
    def adjust_selected(
        self, request: HttpRequest, queryset: QuerySet[StockItem]
    ) -> HttpResponse | None:
        items = list(queryset.select_related("product", "warehouse", "batch")[:200])
        form = AdjustForm(
            request.POST if "apply" in request.POST else None, items=items
        )
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            if reason in (STOCK_COUNT, str(_(STOCK_COUNT))):
                # The suggested reason is kept as its msgid, so each reader sees it in theirs.
                reason = Phrase(STOCK_COUNT)
            done = 0
            for item in items:
                counted = form.cleaned_data[f"count_{item.pk}"]
                if counted == item.quantity_on_hand:
                    continue
                try:
                    stock_adjust(
                        product_id=item.product_id,
                        warehouse_id=item.warehouse_id,
                        batch_id=item.batch_id,
                        counted_quantity=counted,
                        reason=reason,
                        actor=request.user,
                    )
                    done += 1
                except ApplicationError as exc:
                    self.message_user(
                        request, f"{item}: {exc.message}", messages.WARNING
                    )
            self.message_user(request, _("%(n)d stock row(s) adjusted.") % {"n": done})
            return None
        return self._page(
            request,
            title=_("Adjust to counted quantity"),
            form=form,
            selected=[item.pk for item in items],
            action="adjust_selected",
            submit_label=_("Adjust"),
        )

    @admin.action(
        description=_("Transfer to another warehouse…"), permissions=["stock_change"]
    )
    def transfer_selected(
        self, request: HttpRequest, queryset: QuerySet[StockItem]
    ) -> HttpResponse | None:
        items = list(queryset.select_related("product", "warehouse", "batch")[:200])
        sources = {item.warehouse_id for item in items}
        if len(sources) != 1:
            self.message_user(
                request,
                _("Select stock rows of one warehouse to transfer."),
                messages.ERROR,
            )
            return None
        form = TransferForm(
            request.POST if "apply" in request.POST else None, items=items
        )
        if form.is_bound and form.is_valid():
            lines = [
                TransferLineInput(
                    product_id=item.product_id,
                    quantity=form.cleaned_data[f"qty_{item.pk}"],
                    batch_id=item.batch_id,
                )
                for item in items
                if form.cleaned_data[f"qty_{item.pk}"] > 0
            ]
            if not lines:
                self.message_user(request, _("Nothing to transfer."), messages.WARNING)
                return None
            try:
                transfer = transfer_create(
                    source_warehouse_id=sources.pop(),
                    destination_warehouse_id=form.cleaned_data["destination"].pk,
                    lines=lines,
                    reference=form.cleaned_data["reference"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(
                    request, _("Transfer %(pk)d is in transit.") % {"pk": transfer.pk}
                )
            return None
        return self._page(
            request,
            title=_("Transfer to another warehouse"),
            form=form,
            selected=[item.pk for item in items],
            action="transfer_selected",
            submit_label=_("Dispatch transfer"),
        )

    @admin.action(description=_("Export count sheet (CSV)"))
    def export_counts_csv(
        self, request: HttpRequest, queryset: QuerySet[StockItem]
    ) -> HttpResponse:
        return _download(
            stock_count_export(queryset=queryset, file_format="csv"),
            prefix="stock-count",
            file_format="csv",
        )

    @admin.action(description=_("Export count sheet (XLSX)"))
    def export_counts_xlsx(
        self, request: HttpRequest, queryset: QuerySet[StockItem]
    ) -> HttpResponse:
        return _download(
            stock_count_export(queryset=queryset, file_format="xlsx"),
            prefix="stock-count",
            file_format="xlsx",
        )


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "type",
        "stock_item",
        "quantity_on_hand_delta",
        "quantity_allocated_delta",
        "quantity_on_hand_after",
        "reason_text",
        "reference",
        "actor",
    ]
    exclude = ["reason"]
    readonly_fields = ["reason_text"]
    list_filter = [
        "type",
        "stock_item__warehouse",
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = [
        "stock_item__product",
        "stock_item__warehouse",
        "stock_item__batch",
        "actor",
    ]
    search_fields = ["stock_item__product__sku", "reference", "reason"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # the ledger grows without end; COUNT(*) gets slow

    @admin.display(description=StockMovement._meta.get_field("reason").verbose_name)
    def reason_text(self, obj: StockMovement) -> str:
        # Stored in English (workers write it); read in the reader's language.
        return text_say_again(obj.reason)


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "stock_item",
        "order_line",
        "quantity",
        "status",
        "reference",
        "created_at",
    ]
    list_filter = ["status", "stock_item__warehouse"]
    list_select_related = [
        "stock_item__product",
        "stock_item__warehouse",
        "stock_item__batch",
        "order_line",
    ]
    search_fields = ["reference", "stock_item__product__sku"]
    actions = ["release_selected"]

    def has_stock_change_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.change_stockitem")

    @admin.action(
        description=_("Release selected allocations"), permissions=["stock_change"]
    )
    def release_selected(
        self, request: HttpRequest, queryset: QuerySet[Allocation]
    ) -> None:
        released = 0
        for allocation_id in queryset.values_list("pk", flat=True):
            try:
                stock_release(
                    allocation_ids=[allocation_id],
                    reason=Phrase(gettext_noop("Released in admin")),
                    actor=request.user,
                )
                released += 1
            except ApplicationError as exc:
                self.message_user(
                    request, f"#{allocation_id}: {exc.message}", messages.WARNING
                )
        self.message_user(request, _("%(n)d allocation(s) released.") % {"n": released})


class TransferLineInline(admin.TabularInline):
    model = TransferLine
    extra = 0
    can_delete = False
    fields = ["product", "batch", "quantity"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "source",
        "destination",
        "status",
        "reference",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "source", "destination"]
    list_select_related = ["source", "destination"]
    search_fields = ["reference"]
    inlines = [TransferLineInline]
    actions = ["receive_selected", "cancel_selected"]

    def has_stock_change_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.change_stockitem")

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Transfer], service: Any
    ) -> int:
        done = 0
        for transfer_id in queryset.filter(
            status=TransferStatus.IN_TRANSIT
        ).values_list("pk", flat=True):
            try:
                service(transfer_id=transfer_id, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(
                    request, f"#{transfer_id}: {exc.message}", messages.WARNING
                )
        return done

    @admin.action(
        description=_("Receive selected transfers"), permissions=["stock_change"]
    )
    def receive_selected(
        self, request: HttpRequest, queryset: QuerySet[Transfer]
    ) -> None:
        n = self._each(request, queryset, transfer_receive)
        self.message_user(request, _("%(n)d transfer(s) received.") % {"n": n})

    @admin.action(
        description=_("Cancel selected transfers"), permissions=["stock_change"]
    )
    def cancel_selected(
        self, request: HttpRequest, queryset: QuerySet[Transfer]
    ) -> None:
        n = self._each(request, queryset, transfer_cancel)
        self.message_user(request, _("%(n)d transfer(s) cancelled.") % {"n": n})


# --- safety stock, alerts and store stock policies --------------------------------


@admin.register(SafetyStockRule)
class SafetyStockRuleAdmin(admin.ModelAdmin):
    list_display = [
        "product",
        "warehouse",
        "minimum_quantity",
        "reorder_quantity",
        "lead_time_days",
        "is_active",
    ]
    list_filter = ["is_active", "warehouse"]
    list_select_related = ["product", "warehouse"]
    search_fields = ["product__sku"]
    autocomplete_fields = ["product"]


@admin.register(StockAlert)
class StockAlertAdmin(ReadOnlyAdmin):
    list_display = [
        "product",
        "warehouse",
        "status",
        "quantity_available",
        "minimum_quantity",
        "suggested_reorder_quantity",
        "recent_daily_sales",
        "created_at",
        "closed_at",
    ]
    list_filter = ["status", "warehouse"]
    list_select_related = ["product", "warehouse"]
    search_fields = ["product__sku"]


class ChannelStockPolicyForm(forms.ModelForm):
    class Meta:
        model = ChannelStockPolicy
        fields = ["channel", "warehouses", "buffer_kind", "buffer_value"]


@admin.register(ChannelStockPolicy)
class ChannelStockPolicyAdmin(admin.ModelAdmin):
    form = ChannelStockPolicyForm
    list_display = ["channel", "buffer_kind", "buffer_value", "updated_at"]
    filter_horizontal = ["warehouses"]

    def save_model(
        self,
        request: HttpRequest,
        obj: ChannelStockPolicy,
        form: forms.ModelForm,
        change: bool,
    ) -> None:
        # The service sets the feed and queues a stock push for every SKU the store sells.
        policy = channel_stock_policy_set(
            channel_id=form.cleaned_data["channel"].pk,
            warehouse_ids=[wh.pk for wh in form.cleaned_data["warehouses"]],
            buffer_kind=form.cleaned_data["buffer_kind"],
            buffer_value=form.cleaned_data["buffer_value"],
        )
        obj.pk = policy.pk
        obj._state.adding = False

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        # The warehouses were set by the service in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
