"""Sign-in that slows down password guessing: a lockout after repeated failures.

Failures are counted in the cache per username and per client address over a window;
past the limit every attempt is refused (even with the right password) until the window
ends. The admin login form says so; the API's Basic auth gets the same refusal.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import ngettext


def _keys(username: str, request: HttpRequest | None) -> list[str]:
    keys = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        keys.append(f"erp:login-failures:user:{digest}")
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    if address:
        keys.append(f"erp:login-failures:ip:{address}")
    return keys


def _limit(key: str) -> int:
    if ":ip:" in key:
        return settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS
    return settings.LOGIN_FAILURE_LIMIT


def login_locked_out(*, username: str, request: HttpRequest | None) -> bool:
    """True while this username or address has failed too often in the window."""
    keys = _keys(username, request)
    counts = cache.get_many(keys)
    return any(counts.get(key, 0) >= _limit(key) for key in keys)


def login_failure_record(*, username: str, request: HttpRequest | None) -> None:
    """Count one failed sign-in against the username and the address."""
    for key in _keys(username, request):
        # add() starts the window on the first failure; incr() keeps its expiry.
        cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def login_failures_clear(*, username: str, request: HttpRequest | None) -> None:
    """Forget the username's failures after a successful sign-in."""
    cache.delete_many(_keys(username, None))


class ThrottledModelBackend(ModelBackend):
    """Django's username/password check, refused while the lockout lasts."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        name = username or kwargs.get("username") or ""
        if login_locked_out(username=name, request=request):
            # PermissionDenied stops Django trying other backends; the attempt fails.
            raise PermissionDenied
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            login_failure_record(username=name, request=request)
        else:
            login_failures_clear(username=name, request=request)
        return user


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin login form, saying plainly when sign-in is locked for a while."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if login_locked_out(username=username, request=self.request):
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            raise forms.ValidationError(
                ngettext(
                    "Too many failed sign-ins. Wait %(minutes)s minute before trying again.",
                    "Too many failed sign-ins. Wait %(minutes)s minutes before trying again.",
                    minutes,
                )
                % {"minutes": minutes},
                code="locked_out",
            )
        return super().clean()
