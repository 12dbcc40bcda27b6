"""Admin for the outbox and worker heartbeats: jobs as rows, with a retry action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from erp.core.exceptions import ApplicationError
from erp.core.models import OutboxMessage, WorkerHeartbeat
from erp.core.outbox import outbox_message_retry
from erp.core.templatetags.erp import money


def money_display(
    model: type[Model], name: str, *, currency: Callable[[Any], str] | None = None
) -> Callable[[Any, Any], str]:
    """A read-only admin field showing a money column as people read it (52.30 USD).

    The column keeps four decimals; the page shows the currency's own, grouped per
    language. `currency` finds the code when the row has no `currency` of its own.
    """

    def show(admin_self: Any, obj: Any) -> str:
        code = currency(obj) if currency else getattr(obj, "currency", "")
        return money(getattr(obj, name), code) or "—"

    show.__name__ = f"{name}_money"
    return admin.display(
        description=model._meta.get_field(name).verbose_name, ordering=name
    )(show)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A window onto rows that only services write."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "topic",
        "key",
        "status",
        "attempts",
        "available_at",
        "created_at",
    ]
    list_filter = ["status", "topic"]
    search_fields = ["topic", "key", "last_error"]
    date_hierarchy = "created_at"
    actions = ["retry_selected"]

    @admin.action(description=_("Retry selected messages now"), permissions=["retry"])
    def retry_selected(
        self, request: HttpRequest, queryset: QuerySet[OutboxMessage]
    ) -> None:
        retried = 0
        for message_id in queryset.values_list("pk", flat=True):
            try:
                outbox_message_retry(message_id=message_id)
                retried += 1
            except ApplicationError as exc:
                self.message_user(
                    request, f"#{message_id}: {exc.message}", messages.WARNING
                )
        self.message_user(request, _("%(n)d message(s) queued again.") % {"n": retried})

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("core.change_outboxmessage")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["hostname", "beat_at", "delivered_count"]
