"""Fail at start with one clear line when the configuration cannot work."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"dtc-erp: {message}\n")
    raise SystemExit(2)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _database_label() -> str:
    from django.db import connection

    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite {params['NAME']}"
    return f"{params.get('HOST') or 'localhost'}:{params.get('PORT') or '5432'}/{params['NAME']}"


@contextmanager
def clear_configuration_errors() -> Iterator[None]:
    """Turn configuration and connection failures into one line on stderr and exit 2."""
    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import OperationalError

    try:
        yield
    except ImproperlyConfigured as exc:
        _fail(f"configuration error: {_first_line(exc)}")
    except OperationalError as exc:
        _fail(f"database unreachable ({_database_label()}): {_first_line(exc)}")


def exit_on_bad_configuration(*, check_database: bool) -> None:
    """Load settings (and open one database connection) now, before serving anything."""
    with clear_configuration_errors():
        import django
        from django.conf import settings

        settings.SECRET_KEY  # noqa: B018  (forces the settings module to load)
        django.setup()
        if check_database:
            from django.db import connection

            connection.ensure_connection()


def run_guarded(func: Callable[[], None]) -> None:
    """Run a command-line entry point with the same one-line failure messages."""
    with clear_configuration_errors():
        func()
