"""The Simplified Chinese catalogue compiles, keeps its placeholders, and is used."""

from __future__ import annotations

import re
from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command
from django.utils.translation.trans_real import DjangoTranslation

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


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
