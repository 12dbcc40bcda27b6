"""Logistics API routes, mounted at /api/v1/logistics/."""

from django.urls import path

from logistics import webhooks
from logistics.api import views

app_name = "logistics"

urlpatterns = [
    path("shipments/", views.ShipmentListApi.as_view(), name="shipment-list"),
    path(
        "shipments/<int:pk>/", views.ShipmentDetailApi.as_view(), name="shipment-detail"
    ),
    path(
        "shipments/<int:pk>/label/",
        views.ShipmentLabelApi.as_view(),
        name="shipment-label",
    ),
    path(
        "shipments/<int:pk>/select-service/",
        views.ShipmentSelectServiceApi.as_view(),
        name="shipment-select-service",
    ),
    path(
        "shipments/<int:pk>/buy-label/",
        views.ShipmentBuyLabelApi.as_view(),
        name="shipment-buy-label",
    ),
    path(
        "shipments/<int:pk>/void/",
        views.ShipmentVoidApi.as_view(),
        name="shipment-void",
    ),
    path(
        "shipments/<int:pk>/tracking-number/",
        views.ShipmentTrackingNumberApi.as_view(),
        name="shipment-tracking-number",
    ),
    path(
        "shipments/tracking-numbers/import/",
        views.ShipmentTrackingNumbersImportApi.as_view(),
        name="shipment-tracking-numbers-import",
    ),
    path(
        "shipments/print/",
        views.ShipmentPrintBatchApi.as_view(),
        name="shipment-print",
    ),
    path("tracking/poll/", views.TrackingPollApi.as_view(), name="tracking-poll"),
    path(
        "webhooks/<slug:carrier>/<slug:account_code>/",
        webhooks.carrier_webhook,
        name="carrier-webhook",
    ),
    path(
        "webhook-deliveries/",
        views.CarrierWebhookDeliveryListApi.as_view(),
        name="webhook-delivery-list",
    ),
    path(
        "webhook-deliveries/<int:pk>/retry/",
        views.CarrierWebhookDeliveryRetryApi.as_view(),
        name="webhook-delivery-retry",
    ),
    path(
        "carrier-accounts/",
        views.CarrierAccountListApi.as_view(),
        name="carrier-account-list",
    ),
    path("services/", views.CarrierServiceListApi.as_view(), name="service-list"),
    path("rate-cards/", views.RateCardListApi.as_view(), name="rate-card-list"),
    path(
        "delivery-promises/",
        views.DeliveryPromiseListApi.as_view(),
        name="delivery-promise-list",
    ),
    path(
        "delivery-promises/<int:pk>/",
        views.DeliveryPromiseDetailApi.as_view(),
        name="delivery-promise-detail",
    ),
    path(
        "incoterm-rules/",
        views.IncotermRuleListApi.as_view(),
        name="incoterm-rule-list",
    ),
    path(
        "incoterm-rules/<int:pk>/",
        views.IncotermRuleDetailApi.as_view(),
        name="incoterm-rule-detail",
    ),
    path(
        "rate-cards/<int:pk>/import/",
        views.RateCardImportApi.as_view(),
        name="rate-card-import",
    ),
]
