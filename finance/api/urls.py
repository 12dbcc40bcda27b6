"""Finance API routes, mounted at /api/v1/finance/."""

from django.urls import path

from finance.api import views

app_name = "finance-api"

urlpatterns = [
    path("rates/", views.ExchangeRateListApi.as_view(), name="rate-list"),
    path("rates/set/", views.ExchangeRateSetApi.as_view(), name="rate-set"),
    path("rates/import/", views.ExchangeRateImportApi.as_view(), name="rate-import"),
    path("convert/", views.ConvertApi.as_view(), name="convert"),
    path("payouts/", views.PayoutListApi.as_view(), name="payout-list"),
    path("payouts/import/", views.PayoutImportApi.as_view(), name="payout-import"),
    path(
        "reconciliation/runs/",
        views.ReconciliationRunListApi.as_view(),
        name="run-list",
    ),
    path(
        "reconciliation/runs/start/",
        views.ReconciliationRunStartApi.as_view(),
        name="run-start",
    ),
    path(
        "reconciliation/differences/",
        views.DifferenceListApi.as_view(),
        name="difference-list",
    ),
    path(
        "reconciliation/differences/<int:pk>/notes/",
        views.DifferenceNoteApi.as_view(),
        name="difference-note",
    ),
    path(
        "reconciliation/differences/<int:pk>/resolve/",
        views.DifferenceResolveApi.as_view(),
        name="difference-resolve",
    ),
    path(
        "reconciliation/differences/<int:pk>/reopen/",
        views.DifferenceReopenApi.as_view(),
        name="difference-reopen",
    ),
    path("profit/", views.ProfitReportApi.as_view(), name="profit"),
    path(
        "orders/<int:order_id>/profit/",
        views.OrderProfitApi.as_view(),
        name="order-profit",
    ),
    path(
        "orders/<int:order_id>/costs/",
        views.OrderCostRecordApi.as_view(),
        name="order-cost-record",
    ),
]
