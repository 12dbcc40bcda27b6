from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from erp.core.auth import ThrottledAdminAuthenticationForm
from erp.core.views import language_set
from erp.dashboard import dashboard

admin.site.site_header = "DTC ERP"
admin.site.site_title = "DTC ERP"
admin.site.index_title = _("Operations")
admin.site.login_form = ThrottledAdminAuthenticationForm

api_v1 = [
    path("", include("erp.core.api.urls")),
    path("inventory/", include("inventory.api.urls")),
    path("orders/", include("orders.api.urls")),
    path("logistics/", include("logistics.api.urls")),
    path("finance/", include("finance.api.urls")),
]

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path("i18n/language/", language_set, name="language-set"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("webhooks/", include("connectors.urls")),
    path("reports/", include("finance.urls")),
]
