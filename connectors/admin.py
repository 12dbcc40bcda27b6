"""Admin for stores: credentials are write-only and shown back masked."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from connectors.models import Channel


class ChannelAdminForm(forms.ModelForm):
    shop_url = forms.URLField(label=_("store address"), assume_scheme="https")
    new_credentials = forms.CharField(
        label=_("new credentials (JSON)"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            'Leave empty to keep the stored ones. Example: {"access_token": "shpat_…"}'
        ),
    )

    class Meta:
        model = Channel
        fields = [
            "kind",
            "code",
            "name",
            "currency",
            "shop_url",
            "is_active",
            "allow_split_shipments",
        ]

    def clean_new_credentials(self) -> dict[str, str] | None:
        raw = self.cleaned_data.get("new_credentials", "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Not valid JSON: %(error)s") % {"error": exc.msg}
            ) from None
        if not isinstance(value, dict) or not all(
            isinstance(v, str) for v in value.values()
        ):
            raise forms.ValidationError(_("Give an object of names to text values."))
        return value

    def save(self, commit: bool = True) -> Channel:
        channel = super().save(commit=False)
        if self.cleaned_data.get("new_credentials") is not None:
            channel.credentials = self.cleaned_data["new_credentials"]
        if commit:
            channel.save()
        return channel


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelAdminForm
    list_display = ["code", "name", "kind", "currency", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "shop_url"]
    readonly_fields = ["stored_credentials"]

    @admin.display(description=_("stored credentials"))
    def stored_credentials(self, obj: Channel) -> str:
        masked = obj.credentials_masked() if obj.pk else {}
        if not masked:
            return "—"
        return format_html_join("", "<div>{}: {}</div>", masked.items())

    def get_fields(self, request: HttpRequest, obj: Channel | None = None) -> list[str]:
        fields = [
            "kind",
            "code",
            "name",
            "currency",
            "shop_url",
            "is_active",
            "allow_split_shipments",
            "stored_credentials",
        ]
        if request.user.has_perm("connectors.change_channel"):
            fields.append("new_credentials")
        return fields
