"""The layering and locking rules of STYLE.md, checked on every test run."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["erp", "orders", "inventory", "logistics", "finance", "connectors"]


def test_apps_import_only_downwards():
    # connectors -> orders -> (logistics | finance | inventory) -> erp.core
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_row_locks_are_taken_only_in_locks_modules():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if path.name != "locks.py" and "tests" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "select_for_update(" in line
    ]
    assert offenders == []


def test_every_model_has_a_docstring():
    from django.apps import apps

    # Django writes "Name(field, ...)" into __doc__ when a model has none.
    undocumented = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in {"core", *APPS}
        and (model.__doc__ or "").startswith(f"{model.__name__}(")
    ]
    assert undocumented == []
