"""HTTP to the Shopify GraphQL Admin API: auth, timeouts, throttling, retries. No ORM.

Posts with `requests` and a timeout (shopifyapi's GraphQL.execute has none and would hang
a worker on a stuck store); shopifyapi stays for the session and OAuth helpers. The API
version is pinned to the one whose official schema the tests validate every document
against (connectors/shopify/tests/fixtures/admin_schema_2025-01.json.gz).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

import requests
from django.utils.translation import gettext_noop

from connectors.exceptions import (
    ChannelUnauthorizedError,
    ConnectorError,
    ConnectorTransientError,
)
from connectors.http import backoff_seconds, retry_after_seconds
from erp.core.text import Phrase

logger = logging.getLogger(__name__)

API_VERSION = "2025-01"
# Connect, read. Shopify answers in well under a second; a read beyond 30 s is a hung
# request that must free the worker and be retried.
DEFAULT_TIMEOUT = (5.0, 30.0)
DEFAULT_MAX_RETRIES = 5
# First wait; doubles per retry up to backoff_max (0.5, 1, 2, 4, 8 s: about 15 s in all).
DEFAULT_BACKOFF_SECONDS = 0.5
# Codes Shopify puts in errors[].extensions.code that pass on retry.
TRANSIENT_ERROR_CODES = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"}


THROTTLED = "THROTTLED"


class _Retry(Exception):
    """One attempt failed in a way that may pass on retry."""

    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


class ShopifyQueryError(ConnectorError):
    """Shopify refused the document or a mutation's input; retrying cannot help."""

    code = "shopify_query_error"


@dataclass(frozen=True)
class ThrottleStatus:
    """The store's leaky bucket after the last call (extensions.cost.throttleStatus)."""

    maximum_available: float
    currently_available: float
    restore_rate: float


@dataclass(frozen=True)
class QueryCost:
    """What a call cost, as Shopify reported it."""

    requested: float
    actual: float | None
    throttle: ThrottleStatus | None


def _parse_cost(body: Mapping[str, Any]) -> QueryCost | None:
    cost = (body.get("extensions") or {}).get("cost")
    if not isinstance(cost, dict):
        return None
    status = cost.get("throttleStatus")
    throttle = None
    if isinstance(status, dict):
        try:
            throttle = ThrottleStatus(
                maximum_available=float(status["maximumAvailable"]),
                currently_available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            throttle = None
    try:
        requested = float(cost.get("requestedQueryCost") or 0)
    except (TypeError, ValueError):
        requested = 0.0
    actual = cost.get("actualQueryCost")
    return QueryCost(
        requested=requested,
        actual=float(actual) if isinstance(actual, int | float) else None,
        throttle=throttle,
    )


def _error_codes(errors: Any) -> set[str]:
    if not isinstance(errors, list):
        return set()
    codes = set()
    for error in errors:
        if isinstance(error, dict):
            code = (error.get("extensions") or {}).get("code")
            if code:
                codes.add(str(code))
            elif str(error.get("message", "")).lower() == "throttled":
                codes.add(THROTTLED)
    return codes


def _error_text(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e)
            for e in errors[:5]
        )
    return str(errors)[:500]


class ShopifyClient:
    """One store's GraphQL Admin API endpoint.

    Waits for the store's leaky bucket before sending when the last answer says it is
    short, retries THROTTLED, 429, 5xx and timeouts with bounded exponential backoff,
    and turns 401 into ChannelUnauthorizedError at once (after `on_unauthorized`, which
    flags the channel) so a revoked token cannot cause a retry storm.
    """

    def __init__(
        self,
        *,
        shop_url: str,
        access_token: str,
        api_version: str = API_VERSION,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_throttle_retries: int = 20,
        backoff_base: float = DEFAULT_BACKOFF_SECONDS,
        backoff_max: float = 30.0,
        max_throttle_wait: float = 60.0,
        session: requests.Session | None = None,
        on_unauthorized: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        base = shop_url.rstrip("/")
        if not base.startswith(("https://", "http://")):
            base = f"https://{base}"
        self.endpoint = f"{base}/admin/api/{api_version}/graphql.json"
        self.api_version = api_version
        self._token = access_token
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_throttle_retries = max_throttle_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_throttle_wait = max_throttle_wait
        self._session = session or requests.Session()
        self._on_unauthorized = on_unauthorized
        self._sleep = sleep
        self._clock = clock
        self._throttle: ThrottleStatus | None = None
        self._throttle_seen_at = 0.0
        # Requested cost of each document last time, to know what the next call needs.
        self._costs: dict[str, float] = {}
        self.last_cost: QueryCost | None = None
        self.calls = 0
        self.throttled_wait_seconds = 0.0

    def __repr__(self) -> str:
        # Never show the token.
        return f"ShopifyClient({self.endpoint!r})"

    # --- throttling --------------------------------------------------------------------

    def _available_now(self) -> float | None:
        if self._throttle is None:
            return None
        elapsed = max(self._clock() - self._throttle_seen_at, 0.0)
        return min(
            self._throttle.maximum_available,
            self._throttle.currently_available + elapsed * self._throttle.restore_rate,
        )

    def _wait_for_bucket(self, needed: float) -> None:
        available = self._available_now()
        if available is None or self._throttle is None or available >= needed:
            return
        rate = self._throttle.restore_rate or 1.0
        wait = min((needed - available) / rate, self.max_throttle_wait)
        self._pause(wait)

    def _pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.throttled_wait_seconds += seconds
        self._sleep(seconds)

    def _remember(self, key: str, cost: QueryCost | None) -> None:
        self.last_cost = cost
        if cost is None:
            return
        if cost.requested:
            self._costs[key] = cost.requested
        if cost.throttle is not None:
            self._throttle = cost.throttle
            self._throttle_seen_at = self._clock()

    def _backoff(self, attempt: int) -> float:
        return backoff_seconds(attempt, base=self.backoff_base, cap=self.backoff_max)

    # --- calls -------------------------------------------------------------------------

    def execute(
        self, query: str, variables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run one document; returns `data`.

        Raises: ChannelUnauthorizedError (401), ShopifyQueryError (the document or input
        was refused), ConnectorError (other 4xx), ConnectorTransientError (still
        failing after the retries).
        """
        key = hashlib.sha1(query.encode(), usedforsecurity=False).hexdigest()
        payload = {"query": query, "variables": dict(variables or {})}
        headers = {
            "X-Shopify-Access-Token": self._token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        failures = 0
        throttled = 0
        while True:
            if key in self._costs:
                self._wait_for_bucket(self._costs[key])
            try:
                return self._attempt(payload, headers, key)
            except _Retry as retry:
                problem, retry_after = retry.problem, retry.retry_after
            if problem == THROTTLED:
                throttled += 1
                if throttled > self.max_throttle_retries:
                    raise ConnectorTransientError(
                        Phrase(
                            gettext_noop(
                                "Shopify kept throttling after %(waits)s waits."
                            ),
                            waits=throttled - 1,
                        ),
                        endpoint=self.endpoint,
                    )
                self._pause(self._throttle_wait())
                continue
            failures += 1
            if failures > self.max_retries:
                raise ConnectorTransientError(
                    Phrase(
                        gettext_noop(
                            "Shopify call failed %(failures)s times; last: %(problem)s"
                        ),
                        failures=failures,
                        problem=problem,
                    ),
                    endpoint=self.endpoint,
                )
            logger.info(
                "connectors.shopify.retry",
                extra={
                    "endpoint": self.endpoint,
                    "attempt": failures,
                    "problem": problem,
                },
            )
            wait = retry_after if retry_after is not None else self._backoff(failures)
            self._sleep(min(wait, self.backoff_max))

    def _throttle_wait(self) -> float:
        needed = self.last_cost.requested if self.last_cost else 0.0
        available = self._available_now()
        if self._throttle is None or available is None:
            return self.backoff_base
        rate = self._throttle.restore_rate or 1.0
        return min(max((needed - available) / rate, 0.0) + 0.05, self.max_throttle_wait)

    def _attempt(
        self, payload: dict[str, Any], headers: dict[str, str], key: str
    ) -> dict[str, Any]:
        """One POST: returns `data`, raises _Retry for what may pass on retry."""
        self.calls += 1
        try:
            response = self._session.post(
                self.endpoint, json=payload, headers=headers, timeout=self.timeout
            )
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
                    "Shopify refused the access token (401); reconnect the store."
                )
            )
            if self._on_unauthorized is not None:
                self._on_unauthorized(message)
            raise ChannelUnauthorizedError(message, endpoint=self.endpoint)
        if status == 429:
            raise _Retry("HTTP 429", retry_after_seconds(response.headers))
        if status >= 500:
            raise _Retry(f"HTTP {status}", retry_after_seconds(response.headers))
        if status >= 400:
            raise ConnectorError(
                Phrase(
                    gettext_noop("Shopify answered %(status)s: %(body)s"),
                    status=status,
                    body=response.text[:300],
                ),
                endpoint=self.endpoint,
                status=status,
            )
        try:
            body = response.json()
        except ValueError:
            # A proxy or maintenance page answering 200 with HTML; the API will be back.
            raise _Retry(Phrase(gettext_noop("the answer was not JSON"))) from None
        if not isinstance(body, dict):
            raise _Retry(Phrase(gettext_noop("the answer was not a JSON object")))
        self._remember(key, _parse_cost(body))
        errors = body.get("errors")
        if errors:
            codes = _error_codes(errors)
            if THROTTLED in codes:
                raise _Retry(THROTTLED)
            if codes & TRANSIENT_ERROR_CODES:
                raise _Retry(
                    Phrase(
                        gettext_noop("Shopify error: %(error)s"),
                        error=_error_text(errors),
                    )
                )
            raise ShopifyQueryError(
                Phrase(
                    gettext_noop("Shopify refused the query: %(error)s"),
                    error=_error_text(errors),
                ),
                codes=sorted(codes),
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise _Retry(Phrase(gettext_noop("the answer had no data")))
        return data

    def download(self, url: str, into: IO[bytes], *, chunk_size: int = 1 << 20) -> int:
        """Copy a file Shopify offers (a bulk operation's JSONL) into `into`; bytes.

        The URL is signed and points at Shopify's storage, not the store, so the
        access token is not sent. A failed transfer starts again from the beginning,
        with the same backoff as API calls.
        Raises: ConnectorTransientError (still failing after the retries),
        ConnectorError (the link was refused or expired).
        """
        failures = 0
        while True:
            into.seek(0)
            into.truncate()
            try:
                with self._session.get(
                    url, stream=True, timeout=self.timeout
                ) as response:
                    status = response.status_code
                    if status < 400:
                        size = 0
                        for chunk in response.iter_content(chunk_size):
                            into.write(chunk)
                            size += len(chunk)
                        into.seek(0)
                        return size
                    if status < 500 and status != 429:
                        raise ConnectorError(
                            Phrase(
                                gettext_noop(
                                    "Shopify's file link answered %(status)s; "
                                    "it may have expired."
                                ),
                                status=status,
                            ),
                            status=status,
                        )
                    problem = f"HTTP {status}"
            except (
                requests.Timeout,
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                problem = Phrase(
                    gettext_noop("download failed: %(error)s"),
                    error=exc.__class__.__name__,
                )
            failures += 1
            if failures > self.max_retries:
                raise ConnectorTransientError(
                    Phrase(
                        gettext_noop(
                            "Downloading from Shopify failed %(failures)s times; "
                            "last: %(problem)s"
                        ),
                        failures=failures,
                        problem=problem,
                    )
                )
            self._sleep(self._backoff(failures))


def user_errors_raise(payload: Mapping[str, Any], *, field: str = "userErrors") -> None:
    """Raise ShopifyQueryError when a mutation answered with user errors."""
    errors = payload.get(field) or []
    if errors:
        raise ShopifyQueryError(
            Phrase(
                gettext_noop("Shopify refused the change: %(errors)s"),
                errors="; ".join(
                    f"{e.get('code') or ''} {e.get('message')}".strip() for e in errors
                ),
            ),
            user_errors=list(errors),
        )
