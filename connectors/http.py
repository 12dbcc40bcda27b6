"""Retry arithmetic every store client shares: bounded exponential backoff and Retry-After."""

from __future__ import annotations

import random
from collections.abc import Mapping


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Wait before retry `attempt` (1, 2, ...): base doubling up to cap, with jitter.

    Jitter spreads the retries of workers that failed together.
    """
    return min(base * (2 ** (attempt - 1)), cap) * random.uniform(0.5, 1.0)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a server asked for in Retry-After (seconds form), or None."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None
