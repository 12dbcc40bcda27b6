"""Finance report pages, mounted at /reports/."""

from django.urls import path

from finance import views

app_name = "finance"

urlpatterns = [
    path("", views.reports_index, name="index"),
    path("profit/", views.profit_report, name="profit"),
    path("payments/", views.payments_report, name="payments"),
    path("reconciliation/", views.reconciliation_report, name="reconciliation"),
    path(
        "reconciliation/differences/<int:pk>/resolve/",
        views.difference_resolve,
        name="difference-resolve",
    ),
    path(
        "reconciliation/differences/<int:pk>/reopen/",
        views.difference_reopen,
        name="difference-reopen",
    ),
]
