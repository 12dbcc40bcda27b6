from django.urls import path

from orders.api import views

urlpatterns = [
    path("", views.OrderListApi.as_view(), name="order-list"),
    path("<int:order_id>/", views.OrderDetailApi.as_view(), name="order-detail"),
    path(
        "<int:order_id>/approve/", views.OrderApproveApi.as_view(), name="order-approve"
    ),
    path("<int:order_id>/hold/", views.OrderHoldApi.as_view(), name="order-hold"),
    path("<int:order_id>/cancel/", views.OrderCancelApi.as_view(), name="order-cancel"),
    path("<int:order_id>/ship/", views.OrderShipApi.as_view(), name="order-ship"),
    path(
        "<int:order_id>/allocate/",
        views.OrderAllocateApi.as_view(),
        name="order-allocate",
    ),
]
