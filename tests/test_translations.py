"""Every user-facing string has a Simplified Chinese translation, and the catalogue compiles.

makemessages runs over a copy of the project in a temporary folder, merging the committed
catalogue into what the code says today; any msgid left empty or fuzzy fails the build.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils.translation.trans_real import DjangoTranslation

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SKIP_DIRS = {".venv", "var", ".git", "locale", "node_modules", "__pycache__", "docs"}
SOURCE_SUFFIXES = {".py", ".html", ".txt", ".js"}


def _gettext_tools_missing() -> bool:
    return not (shutil.which("xgettext") and shutil.which("msgmerge"))


def _copy_sources(target: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [
            d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")
        ]
        for name in filenames:
            if Path(name).suffix in SOURCE_SUFFIXES:
                source = Path(dirpath) / name
                destination = target / source.relative_to(ROOT)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, destination)


def _needs_translation(entry: polib.POEntry) -> bool:
    if entry.obsolete:
        return False
    if "fuzzy" in entry.flags:
        return True
    if entry.msgid_plural:
        return not all(entry.msgstr_plural.values())
    return not entry.msgstr


def test_every_user_facing_string_has_a_chinese_translation(tmp_path, monkeypatch):
    if _gettext_tools_missing():
        if os.environ.get("REQUIRE_POSTGRES") == "1" or os.environ.get("CI"):
            pytest.fail("xgettext/msgmerge (GNU gettext) missing; .ci/run installs it")
        pytest.skip("GNU gettext (xgettext, msgmerge) is not installed here")
    # given: the project's sources and its committed catalogue, in a scratch folder
    _copy_sources(tmp_path)
    merged = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    merged.parent.mkdir(parents=True)
    shutil.copyfile(CATALOGUE, merged)
    monkeypatch.chdir(tmp_path)

    # when: the catalogue is brought up to date with what the code says now
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        call_command("makemessages", locale=["zh_Hans"], verbosity=0)

    # then: nothing is left without a translation
    catalogue = polib.pofile(str(merged))
    live = [entry for entry in catalogue if not entry.obsolete]
    # A run that extracted nothing would pass vacuously.
    assert len(live) > 500, f"makemessages found only {len(live)} strings"
    missing = [
        f"{entry.occurrences[0][0] if entry.occurrences else '?'}: {entry.msgid!r}"
        for entry in live
        if _needs_translation(entry)
    ]
    assert not missing, (
        f"{len(missing)} string(s) without a zh-Hans translation in {CATALOGUE.relative_to(ROOT)} "
        "(run `manage.py makemessages -l zh_Hans`, translate, drop the fuzzy flags):\n"
        + "\n".join(missing)
    )


def test_catalogue_placeholders_match_their_msgid():
    # A translation that drops or renames %(name)s breaks at runtime, not at compile time.
    bad = []
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.obsolete or not entry.translated():
            continue
        pairs = (
            [(entry.msgid, entry.msgstr)]
            if not entry.msgid_plural
            else [(entry.msgid_plural, text) for text in entry.msgstr_plural.values()]
        )
        formatted = {"python-format", "python-brace-format"} & set(entry.flags)
        bad.extend(
            f"{entry.msgid!r} -> {text!r}"
            for source, text in pairs
            if formatted and _placeholders(source) != _placeholders(text)
        )
    assert not bad, "placeholders differ:\n" + "\n".join(bad)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\([a-z_0-9]+\)[sd]|\{[a-z_0-9]*\}", text))


def test_chinese_catalogue_is_compiled_and_used():
    # given: the catalogue compiled the way `make test` and `make run` compile it
    call_command("compile_catalogues", verbosity=0)

    # then: a fresh load of the Chinese catalogue (as a new process does) speaks Chinese
    catalogue = DjangoTranslation("zh-hans")
    assert catalogue.gettext("What needs attention") == "待处理事项"
    assert catalogue.gettext("Approve selected orders") == "审核通过所选订单"
