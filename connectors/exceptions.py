"""Errors of the connectors: what a store call or payload can go wrong with, split by retry."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from erp.core.exceptions import ApplicationError
from erp.core.text import Phrase, text_template_allow

# Where in a payload, and what is wrong there; said again in the reader's language.
PATH_PROBLEM = text_template_allow(gettext_noop("%(path)s: %(problem)s"))


class ConnectorError(ApplicationError):
    """A store refused or we cannot read what it sent; retrying will not help."""

    code = "connector_error"


class ConnectorTransientError(ApplicationError):
    """A store call failed in a way that may pass on retry (timeout, 429, 5xx, throttled)."""

    code = "connector_transient"


class ChannelUnauthorizedError(ConnectorError):
    """The store rejected our credentials; the channel needs re-authorisation."""

    code = "channel_unauthorized"


class PayloadError(ConnectorError):
    """A payload from a store is malformed; `path` says where."""

    code = "payload_invalid"

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(
            Phrase(PATH_PROBLEM, path=path, problem=message) if path else message,
            path=path,
        )
        self.path = path


class SyncLeaseLostError(ConnectorError):
    """Another worker took over this channel's sync lease; this one must stop."""

    code = "sync_lease_lost"
