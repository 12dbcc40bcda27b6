"""Inventory API routes, mounted at /api/v1/inventory/."""

from django.urls import path

from inventory.api import views

app_name = "inventory"

urlpatterns = [
    path("products/", views.ProductListApi.as_view(), name="product-list"),
    path("products/<int:pk>/", views.ProductDetailApi.as_view(), name="product-detail"),
    path("products/import/", views.ProductImportApi.as_view(), name="product-import"),
    path("products/export/", views.ProductExportApi.as_view(), name="product-export"),
    path("warehouses/", views.WarehouseListApi.as_view(), name="warehouse-list"),
    path(
        "warehouses/<int:pk>/",
        views.WarehouseDetailApi.as_view(),
        name="warehouse-detail",
    ),
    path(
        "warehouses/choose/",
        views.WarehouseChoiceApi.as_view(),
        name="warehouse-choose",
    ),
    path("stock/", views.StockItemListApi.as_view(), name="stock-list"),
    path("stock/receive/", views.StockReceiveApi.as_view(), name="stock-receive"),
    path("stock/adjust/", views.StockAdjustApi.as_view(), name="stock-adjust"),
    path("stock/return/", views.StockReturnApi.as_view(), name="stock-return"),
    path("stock/allocate/", views.StockAllocateApi.as_view(), name="stock-allocate"),
    path("stock/release/", views.StockReleaseApi.as_view(), name="stock-release"),
    path("stock/ship/", views.StockShipApi.as_view(), name="stock-ship"),
    path(
        "stock/counts/import/",
        views.StockCountImportApi.as_view(),
        name="stock-count-import",
    ),
    path(
        "stock/counts/export/",
        views.StockCountExportApi.as_view(),
        name="stock-count-export",
    ),
    path("movements/", views.StockMovementListApi.as_view(), name="movement-list"),
    path("transfers/", views.TransferCreateApi.as_view(), name="transfer-create"),
    path(
        "transfers/<int:pk>/", views.TransferDetailApi.as_view(), name="transfer-detail"
    ),
    path(
        "transfers/<int:pk>/receive/",
        views.TransferReceiveApi.as_view(),
        name="transfer-receive",
    ),
    path(
        "transfers/<int:pk>/cancel/",
        views.TransferCancelApi.as_view(),
        name="transfer-cancel",
    ),
    path(
        "channels/<int:channel_id>/available/",
        views.AvailableToSellApi.as_view(),
        name="channel-available",
    ),
]
