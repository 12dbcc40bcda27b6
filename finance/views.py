"""Finance reports at /reports/: reconciliation and profit, on screen and as XLSX.

Only finance and admin users see them (money is theirs to see): the check is the
finance view permission the role groups carry, after the admin login.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from erp.core.exceptions import ApplicationError
from erp.core.money import quantize
from erp.core.text import phrase_render, text_say_again
from finance.charts import svg_bars
from finance.choices import (
    CustomerType,
    DifferenceKind,
    DifferenceStatus,
    NoteAction,
)
from finance.exports import XLSX_CONTENT_TYPE, xlsx_table
from finance.models import Payment, ReconciliationDifference, ReconciliationRun
from finance.selectors.payments import (
    PaymentFilters,
    payment_list_for_report,
    payment_totals_by_currency,
)
from finance.selectors.profit import (
    FIGURES,
    GROUPS,
    PERIODS,
    ProfitFilters,
    profit_aggregate,
)
from finance.selectors.reconciliation import difference_history
from finance.services.reconciliation import (
    reconciliation_difference_reopen,
    reconciliation_difference_resolve,
    reconciliation_run,
)

FINANCE_PERMISSION = "finance.view_orderprofit"


def finance_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log in first (admin login), then finance or admin role, else 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not request.user.has_perm(FINANCE_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{datetime.date.today():%Y%m%d}.xlsx"'  # noqa: DTZ011
    )
    return response


@finance_required
def reports_index(request: HttpRequest) -> HttpResponse:
    return render(request, "finance/index.html", {"title": _("Finance reports")})


# --- profit ------------------------------------------------------------------------------


GROUP_LABELS = {
    "period": _("period"),
    "country": _("country"),
    "channel": _("store"),
    "customer_type": _("customer type"),
    "tag": _("tag"),
    "product": _("product"),
    "country_period": _("country and period"),
}
PERIOD_LABELS = {
    "day": _("day"),
    "week": _("week"),
    "month": _("month"),
    "quarter": _("quarter"),
    "year": _("year"),
}
FIGURE_LABELS = {
    "revenue": _("revenue"),
    "discounts": _("discounts"),
    "refunds": _("refunds"),
    "cogs": _("cost of goods"),
    "shipping_cost": _("shipping cost"),
    "fees": _("payment fees"),
    "other_costs": _("other costs"),
    "profit": _("profit"),
}


class ProfitFilterForm(forms.Form):
    """The filters of the profit and sales report."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    channel = forms.ModelChoiceField(
        label=_("Store"),
        required=False,
        queryset=apps.get_model("connectors", "Channel").objects.all(),
    )
    country = forms.CharField(label=_("Country"), required=False, max_length=2)
    customer_type = forms.ChoiceField(
        label=_("Customer"), required=False, choices=[("", "—"), *CustomerType.choices]
    )
    tag = forms.CharField(label=_("Tag"), required=False, max_length=100)
    group_by = forms.ChoiceField(
        label=_("Group by"),
        required=False,
        choices=[(g, GROUP_LABELS.get(g, g)) for g in GROUPS],
        initial="period",
    )
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[(p, PERIOD_LABELS.get(p, p)) for p in PERIODS],
        initial="month",
    )


@finance_required
def profit_report(request: HttpRequest) -> HttpResponse:
    form = ProfitFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = ProfitFilters(
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        channel_id=data["channel"].pk if data.get("channel") else None,
        country=data.get("country", ""),
        customer_type=data.get("customer_type", ""),
        tag=data.get("tag", ""),
    )
    group_by = data.get("group_by") or "period"
    table = profit_aggregate(
        filters=filters, group_by=group_by, period=data.get("period") or "month"
    )
    figures = [
        f
        for f in FIGURES
        if group_by != "product" or f in ("revenue", "cogs", "other_costs", "profit")
    ]
    if request.GET.get("format") == "xlsx":
        content = xlsx_table(
            title=gettext("Profit"),
            header=[
                str(GROUP_LABELS.get(group_by, group_by)),
                gettext("orders"),
                *(str(FIGURE_LABELS.get(f, f)) for f in figures),
                gettext("margin %"),
                gettext("currency"),
            ],
            rows=[
                [
                    r.label,
                    r.orders,
                    *(r.figures[f] for f in figures),
                    r.margin,
                    table.currency,
                ]
                for r in [*table.rows, table.totals]
            ],
        )
        return _xlsx(content, f"profit-by-{group_by}")
    return render(
        request,
        "finance/profit.html",
        {
            "title": _("Profit and sales"),
            "form": form,
            "table": table,
            "figures": [FIGURE_LABELS.get(f, f) for f in figures],
            "group_label": GROUP_LABELS.get(group_by, group_by),
            "rows": [(r, [r.figures[f] for f in figures]) for r in table.rows],
            "totals": [table.totals.figures[f] for f in figures],
            "chart": svg_bars(
                [(r.label, r.figures["profit"]) for r in table.rows[:30]],
                currency=table.currency,
            ),
            "export_query": request.GET.urlencode(),
        },
    )


# --- payments ------------------------------------------------------------------------------


class PaymentFilterForm(forms.Form):
    """The filters of the payments report."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    channel = forms.ModelChoiceField(
        label=_("Store"),
        required=False,
        queryset=apps.get_model("connectors", "Channel").objects.all(),
    )
    presentment_currency = forms.CharField(
        label=_("Customer's currency"), required=False, max_length=3
    )
    other_currency_only = forms.BooleanField(
        label=_("Only customers who paid in another currency"), required=False
    )


def _payment_row(payment: Payment) -> dict[str, Any]:
    """One payment as the report shows it: amounts rounded to their currency."""
    return {
        "payment": payment,
        "amount": quantize(payment.amount, payment.currency),
        "presentment_amount": None
        if payment.presentment_amount is None
        else quantize(payment.presentment_amount, payment.presentment_currency),
        "fee": None
        if payment.fee is None
        else quantize(payment.fee, payment.fee_currency or payment.currency),
    }


@finance_required
def payments_report(request: HttpRequest) -> HttpResponse:
    form = PaymentFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = PaymentFilters(
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        channel_id=data["channel"].pk if data.get("channel") else None,
        presentment_currency=data.get("presentment_currency", ""),
        other_currency_only=bool(data.get("other_currency_only")),
    )
    payments = payment_list_for_report(filters=filters)
    if request.GET.get("format") == "xlsx":
        content = xlsx_table(
            title=gettext("Payments"),
            header=[
                gettext("processed at"),
                gettext("order"),
                gettext("store"),
                gettext("gateway"),
                gettext("kind"),
                gettext("amount"),
                gettext("currency"),
                gettext("customer paid"),
                gettext("customer currency"),
                gettext("fee"),
                gettext("fee currency"),
                gettext("transaction"),
            ],
            rows=[
                [
                    f"{p.processed_at:%Y-%m-%d %H:%M}",
                    p.order.number,
                    p.channel.code,
                    p.gateway,
                    p.kind,
                    p.amount,
                    p.currency,
                    p.presentment_amount,
                    p.presentment_currency,
                    p.fee,
                    p.fee_currency,
                    p.external_id,
                ]
                for p in payments.iterator()
            ],
        )
        return _xlsx(content, "payments")
    return render(
        request,
        "finance/payments.html",
        {
            "title": _("Payments by currency"),
            "form": form,
            "totals": payment_totals_by_currency(filters=filters),
            "payments": [_payment_row(p) for p in payments[:500]],
            "export_query": request.GET.urlencode(),
        },
    )


# --- reconciliation ------------------------------------------------------------------------


class RunForm(forms.Form):
    """Start a reconciliation of a period."""

    date_from = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    channel = forms.ModelChoiceField(
        label=_("Store"),
        required=False,
        queryset=apps.get_model("connectors", "Channel").objects.all(),
    )


def _differences(request: HttpRequest) -> Any:
    qs = ReconciliationDifference.objects.select_related(
        "order", "payout_line__payout", "refund", "last_run"
    )
    status = request.GET.get("status", DifferenceStatus.OPEN)
    if status in DifferenceStatus.values:
        qs = qs.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in DifferenceKind.values:
        qs = qs.filter(kind=kind)
    run_id = request.GET.get("run", "")
    if run_id.isdigit():
        qs = qs.filter(items__run_id=int(run_id)).distinct()
    difference_id = request.GET.get("id", "")
    if difference_id.isdigit():
        qs = qs.filter(pk=int(difference_id))
    return qs.order_by("kind", "pk"), status, kind


@finance_required
def reconciliation_report(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = RunForm(request.POST)
        if form.is_valid():
            try:
                run = reconciliation_run(
                    date_from=form.cleaned_data["date_from"],
                    date_to=form.cleaned_data["date_to"],
                    channel_id=form.cleaned_data["channel"].pk
                    if form.cleaned_data["channel"]
                    else None,
                    actor_id=request.user.pk,
                )
            except ApplicationError as exc:
                messages.error(request, text_say_again(exc.message))
            else:
                messages.success(
                    request,
                    _("Run #%(id)s: %(n)s items, %(d)s differences.")
                    % {"id": run.pk, "n": run.items_total, "d": run.differences_found},
                )
                return HttpResponseRedirect(
                    f"{reverse('finance:reconciliation')}?run={run.pk}&status=all"
                )
    else:
        form = RunForm()
    differences, status, kind = _differences(request)
    if request.GET.get("format") == "xlsx":
        content = xlsx_table(
            title=gettext("Differences"),
            header=[
                gettext("id"),
                gettext("difference"),
                gettext("status"),
                gettext("order"),
                gettext("currency"),
                gettext("expected"),
                gettext("found"),
                gettext("detail"),
                gettext("notes"),
            ],
            rows=[
                [
                    d.pk,
                    d.get_kind_display(),
                    d.get_status_display(),
                    d.order.number if d.order else "",
                    d.currency,
                    d.expected,
                    d.actual,
                    phrase_render({**d.message_phrase, "message": d.message}),
                    " | ".join(
                        f"{n.get('action', NoteAction.NOTE)}: {n['text']}"
                        for n in d.notes
                    ),
                ]
                for d in differences
            ],
        )
        return _xlsx(content, "reconciliation")
    shown = list(differences[:500])
    history = difference_history(shown)
    return render(
        request,
        "finance/reconciliation.html",
        {
            "title": _("Reconciliation"),
            "form": form,
            "runs": ReconciliationRun.objects.select_related("channel")[:10],
            "differences": [(d, history.get(d.pk, [])) for d in shown],
            "status": status,
            "kind": kind,
            "statuses": DifferenceStatus.choices,
            "kinds": DifferenceKind.choices,
            "export_query": request.GET.urlencode(),
            "can_resolve": request.user.has_perm(
                "finance.change_reconciliationdifference"
            ),
        },
    )


@require_POST
@finance_required
def difference_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("finance.change_reconciliationdifference"):
        raise PermissionDenied
    difference = get_object_or_404(ReconciliationDifference, pk=pk)
    try:
        reconciliation_difference_resolve(
            difference_id=difference.pk,
            note=request.POST.get("note", ""),
            actor_id=request.user.pk,
        )
    except ApplicationError as exc:
        messages.error(request, text_say_again(exc.message))
    else:
        messages.success(
            request, _("Difference %(id)s resolved.") % {"id": difference.pk}
        )
    return HttpResponseRedirect(reverse("finance:reconciliation"))


@require_POST
@finance_required
def difference_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("finance.change_reconciliationdifference"):
        raise PermissionDenied
    difference = get_object_or_404(ReconciliationDifference, pk=pk)
    try:
        reconciliation_difference_reopen(
            difference_id=difference.pk,
            note=request.POST.get("note", ""),
            actor_id=request.user.pk,
        )
    except ApplicationError as exc:
        messages.error(request, text_say_again(exc.message))
    else:
        messages.success(
            request, _("Difference %(id)s reopened.") % {"id": difference.pk}
        )
    return HttpResponseRedirect(
        f"{reverse('finance:reconciliation')}?status=all&id={difference.pk}"
    )
