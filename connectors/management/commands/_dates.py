"""Dates on the command line: a day (YYYY-MM-DD) or an ISO 8601 moment, UTC if naive."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.core.management.base import CommandError


def parse_moment(value: str, *, end_of_day: bool = False) -> datetime:
    """`2026-01-31` (start, or end with end_of_day) or `2026-01-31T10:00:00+08:00`."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end_of_day else time.min, UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
