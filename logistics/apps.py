from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = _("Logistics")

    def ready(self) -> None:
        # Registers the runner of batch label purchases (erp.core.jobs).
        from logistics import jobs  # noqa: F401
