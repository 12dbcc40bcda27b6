"""Bad configuration fails at start with one clear line, not a traceback wall."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_"))
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_says_so_in_one_line():
    result = _run(
        ["manage.py", "check"],
        DJANGO_SETTINGS_MODULE="erp.settings.production",
        DATABASE_URL="sqlite:///:memory:",
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "dtc-erp: configuration error: Set the DJANGO_SECRET_KEY environment variable"
    ]


def test_unreachable_database_says_so_in_one_line():
    result = _run(
        ["manage.py", "migrate"],
        DJANGO_SETTINGS_MODULE="erp.settings.production",
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://erp@127.0.0.1:1/erp",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dtc-erp: database unreachable (127.0.0.1:1/erp): ")


def test_wsgi_entry_point_refuses_to_start_without_a_database():
    result = _run(
        ["-c", "import erp.wsgi"],
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://erp@127.0.0.1:1/erp",
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("dtc-erp: database unreachable")
    assert "Traceback" not in result.stderr
