from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = _("Stores")

    def ready(self) -> None:
        # Registers the outbox handlers of the topics the stores must learn; lower apps
        # enqueue them without importing connectors.
        # Registers the runner of store backfills started from the admin (erp.core.jobs).
        from connectors import (
            handlers,  # noqa: F401
            jobs,  # noqa: F401
        )
