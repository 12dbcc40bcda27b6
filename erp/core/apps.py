from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "erp.core"
    label = "core"
    verbose_name = _("System")

    def ready(self) -> None:
        from erp.core import handlers  # noqa: F401  (registers the core outbox topics)
