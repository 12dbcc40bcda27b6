"""HTTP to a WooCommerce store's REST API v3 through the `woocommerce` package. No ORM.

The package builds the URLs and the auth (HTTP Basic over https, OAuth 1.0a query
signatures over plain http); this client adds what a merchant's server needs: a timeout,
retries with backoff for 5xx, 429, timeouts and the HTML page a broken plugin or a
maintenance screen answers instead of JSON, and a 401 that stops at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from django.utils.translation import gettext_noop
from woocommerce import API

from connectors.exceptions import (
    ChannelUnauthorizedError,
    ConnectorError,
    ConnectorTransientError,
)
from connectors.http import backoff_seconds, retry_after_seconds
from erp.core.text import Phrase

logger = logging.getLogger(__name__)

API_VERSION = "wc/v3"
# A merchant's WordPress is often slow (shared hosting, heavy plugins): reads get 60 s,
# as long as WooCommerce itself waits for a webhook, before the call is retried.
DEFAULT_TIMEOUT = (10.0, 60.0)
DEFAULT_MAX_RETRIES = 5
DEFAULT_BACKOFF_SECONDS = 1.0
# WordPress's REST convention; WooCommerce's batch endpoints take 100 objects too.
PAGE_SIZE = 100
USER_AGENT = "dtc-erp (WooCommerce REST API v3)"


class _Retry(Exception):
    """One attempt failed in a way that may pass on retry."""

    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


class WooNotFoundError(ConnectorError):
    """The store has no such object (deleted for good, or never there)."""

    code = "woocommerce_not_found"


class WooRequestError(ConnectorError):
    """The store refused the request (4xx other than 401/404); retrying cannot help."""

    code = "woocommerce_request_refused"


@dataclass(frozen=True)
class WooResponse:
    """A JSON answer and the headers that page it (X-WP-Total, X-WP-TotalPages)."""

    status: int
    body: Any
    total: int | None
    total_pages: int | None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers.get(name, ""))
    except ValueError:
        return None


def _error_text(response: requests.Response) -> str:
    """WordPress's error body {code, message, data:{status}} in one line."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict) and "message" in body:
        return f"{body.get('code', '')}: {body['message']}".strip(": ")
    return str(body)[:300]


class WooClient:
    """One store's REST API, with retries; 401 raises ChannelUnauthorizedError at once."""

    def __init__(
        self,
        *,
        shop_url: str,
        consumer_key: str,
        consumer_secret: str,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base: float = DEFAULT_BACKOFF_SECONDS,
        backoff_max: float = 30.0,
        on_unauthorized: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.shop_url = shop_url.rstrip("/")
        self._api = API(
            url=self.shop_url,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            version=API_VERSION,
            timeout=timeout,
            user_agent=USER_AGENT,
        )
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._on_unauthorized = on_unauthorized
        self._sleep = sleep
        self.calls = 0
        self.retries = 0

    def __repr__(self) -> str:
        # Never show the keys.
        return f"WooClient({self.shop_url!r})"

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
    ) -> WooResponse:
        """One call, retried while it may pass.

        Raises: ChannelUnauthorizedError (401), WooNotFoundError (404), WooRequestError
        (other 4xx), ConnectorTransientError (still failing after the retries).
        """
        failures = 0
        while True:
            try:
                return self._attempt(method, endpoint, params=params, data=data)
            except _Retry as retry:
                problem, retry_after = retry.problem, retry.retry_after
            failures += 1
            if failures > self.max_retries:
                raise ConnectorTransientError(
                    Phrase(
                        gettext_noop(
                            "WooCommerce call %(method)s %(endpoint)s failed "
                            "%(failures)s times; last: %(problem)s"
                        ),
                        method=method,
                        endpoint=endpoint,
                        failures=failures,
                        problem=problem,
                    ),
                    shop_url=self.shop_url,
                    endpoint=endpoint,
                )
            self.retries += 1
            logger.info(
                "connectors.woocommerce.retry",
                extra={"endpoint": endpoint, "attempt": failures, "problem": problem},
            )
            wait = (
                retry_after
                if retry_after is not None
                else backoff_seconds(
                    failures, base=self.backoff_base, cap=self.backoff_max
                )
            )
            self._sleep(min(wait, self.backoff_max))

    def _attempt(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None,
        data: Any,
    ) -> WooResponse:
        self.calls += 1
        kwargs: dict[str, Any] = {"params": dict(params or {})}
        try:
            if method == "GET":
                response = self._api.get(endpoint, **kwargs)
            elif method == "POST":
                response = self._api.post(endpoint, data, **kwargs)
            elif method == "PUT":
                response = self._api.put(endpoint, data, **kwargs)
            elif method == "DELETE":
                response = self._api.delete(endpoint, **kwargs)
            else:
                raise ValueError(f"unsupported method {method}")
        except requests.Timeout:
            raise _Retry(Phrase(gettext_noop("timed out"))) from None
        except requests.ConnectionError as exc:
            raise _Retry(
                Phrase(
                    gettext_noop("connection failed: %(error)s"),
                    error=exc.__class__.__name__,
                )
            ) from None
        status = response.status_code
        if status == 401:
            message = Phrase(
                gettext_noop(
                    "WooCommerce refused the REST API keys (401): %(error)s. "
                    "Enter new keys for the store."
                ),
                error=_error_text(response),
            )
            if self._on_unauthorized is not None:
                self._on_unauthorized(message)
            raise ChannelUnauthorizedError(message, shop_url=self.shop_url)
        if status == 429:
            raise _Retry("HTTP 429", retry_after_seconds(response.headers))
        if status >= 500:
            raise _Retry(f"HTTP {status}", retry_after_seconds(response.headers))
        if status == 404:
            raise WooNotFoundError(
                Phrase(
                    gettext_noop("WooCommerce has no %(endpoint)s: %(error)s"),
                    endpoint=endpoint,
                    error=_error_text(response),
                ),
                endpoint=endpoint,
            )
        if status >= 400:
            raise WooRequestError(
                Phrase(
                    gettext_noop(
                        "WooCommerce refused %(method)s %(endpoint)s (%(status)s): "
                        "%(error)s"
                    ),
                    method=method,
                    endpoint=endpoint,
                    status=status,
                    error=_error_text(response),
                ),
                endpoint=endpoint,
                status=status,
            )
        try:
            body = response.json()
        except ValueError:
            # A maintenance page, a security plugin's challenge or PHP notices printed
            # before the JSON: the API answers again once that passes.
            raise _Retry(
                f"the answer was not JSON ({response.headers.get('Content-Type', '?')})"
            ) from None
        return WooResponse(
            status=status,
            body=body,
            total=_int_header(response.headers, "X-WP-Total"),
            total_pages=_int_header(response.headers, "X-WP-TotalPages"),
        )

    def get(self, endpoint: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET one object or list; returns the JSON body."""
        return self.request("GET", endpoint, params=params).body

    def post(self, endpoint: str, data: Any) -> Any:
        """POST (create, batch); returns the JSON body."""
        return self.request("POST", endpoint, data=data).body

    def put(self, endpoint: str, data: Any) -> Any:
        """PUT (update); returns the JSON body."""
        return self.request("PUT", endpoint, data=data).body

    def pages(
        self,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        *,
        per_page: int = PAGE_SIZE,
    ) -> Iterator[WooResponse]:
        """Every page of a list, in order, as X-WP-TotalPages counts them."""
        page = 1
        while True:
            response = self.request(
                "GET",
                endpoint,
                params={**dict(params or {}), "per_page": per_page, "page": page},
            )
            if not isinstance(response.body, list):
                raise ConnectorTransientError(
                    Phrase(
                        gettext_noop("WooCommerce answered %(endpoint)s with no list."),
                        endpoint=endpoint,
                    ),
                    endpoint=endpoint,
                )
            yield response
            total_pages = response.total_pages
            if total_pages is None:
                # No header (a caching proxy stripped it): a short page is the last.
                if len(response.body) < per_page:
                    return
            elif page >= total_pages:
                return
            page += 1
