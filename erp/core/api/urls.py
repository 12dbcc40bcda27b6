from django.urls import path

from erp.core.api.views import HealthApi

urlpatterns = [path("health/", HealthApi.as_view(), name="health")]
