"""Explanations written down now and read later, in the reader's language.

A hold reason or a difference is recorded by a worker (no user, no language) and read by
people in English or Chinese. Phrase renders the English text for storage and keeps the
msgid and its values, so phrase_render() can say it again in whatever language is active.
Mark each template with gettext_noop() where it is written, so makemessages finds it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext


class Phrase(str):
    """English text (the str value) that also carries its msgid and values."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Phrase:
        stored = {key: _store(value) for key, value in params.items()}
        with translation.override(None):
            text = _render(template, stored, translate=False)
        phrase = super().__new__(cls, text)
        phrase.template = template
        phrase.params = stored
        return phrase

    def as_dict(self) -> dict[str, Any]:
        return {"template": self.template, "params": self.params}


class AsIs:
    """A choice label kept with its own capitals (it starts a sentence or ends one)."""

    def __init__(self, label: Promise) -> None:
        self.label = label


class Join:
    """Several values shown as one, e.g. a list of problems separated by "; "."""

    def __init__(self, items: Sequence[Any], separator: str = ", ") -> None:
        self.items = list(items)
        self.separator = separator


def sentences(*parts: str) -> Phrase:
    """Several texts (Phrases or plain) one after another, each said again on its own."""
    return Phrase("%(sentences)s", sentences=Join([p for p in parts if p], " "))


def _store(value: Any) -> Any:
    if isinstance(value, Phrase):
        return value.as_dict()
    if isinstance(value, Promise):
        # A choice label: kept as its msgid and shown lower-case mid-sentence.
        with translation.override(None):
            return {"label": str(value)}
    if isinstance(value, AsIs):
        with translation.override(None):
            return {"label": str(value.label), "lower": False}
    if isinstance(value, Join):
        return {"join": [_store(item) for item in value.items], "sep": value.separator}
    if isinstance(value, int | float | str) or value is None:
        return value
    return str(value)


_AFTER_WIDE_STOP = re.compile(r"(?<=[。！？；）]) ")


def _value(value: Any, *, translate: bool) -> Any:
    if not isinstance(value, dict):
        return value
    if "label" in value:
        text = gettext(value["label"]) if translate else value["label"]
        return text.lower() if value.get("lower", True) else text
    if "join" in value:
        text = value["sep"].join(
            str(_value(item, translate=translate)) for item in value["join"]
        )
        # Chinese sentences end with a full-width stop and take no space after it.
        return _AFTER_WIDE_STOP.sub("", text) if translate else text
    if "template" in value:
        return _render(
            value["template"], value.get("params") or {}, translate=translate
        )
    return value


def _render(template: str, params: Mapping[str, Any], *, translate: bool) -> str:
    text = gettext(template) if translate else template
    if not params:
        return text
    return text % {k: _value(v, translate=translate) for k, v in params.items()}


def phrase_render(entry: Mapping[str, Any], *, fallback_key: str = "message") -> str:
    """Say a stored {"template", "params"} again in the active language.

    Entries written before templates were kept have only the English text.
    """
    template = entry.get("template")
    if not template:
        return str(entry.get(fallback_key) or "")
    try:
        return _render(template, entry.get("params") or {}, translate=True)
    except (KeyError, TypeError, ValueError):
        # A translation that no longer fits its values must not break the page.
        return str(entry.get(fallback_key) or "")


_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[srdif]")
# Templates with less fixed text than this would match almost any sentence, unless
# their module vouches for them (text_template_allow).
_MIN_LITERAL = 4
_ALLOWED_SHORT: set[str] = set()


def text_template_allow(template: str) -> str:
    """Let text_say_again use a template with little fixed text, e.g. "%(path)s: %(problem)s"."""
    _ALLOWED_SHORT.add(template)
    _patterns.cache_clear()
    return template


@functools.lru_cache(maxsize=8)
def _patterns(language: str) -> list[tuple[int, re.Pattern[str], str]]:
    """Every msgid of the active catalogue with placeholders, as a pattern, longest first."""
    catalog = translation.trans_real.translation(language)._catalog  # type: ignore[attr-defined]
    found = []
    for msgid in catalog.keys():  # noqa: SIM118 (TranslationCatalog is not iterable)
        if not isinstance(msgid, str) or "%(" not in msgid:
            continue
        literal = _PLACEHOLDER.sub("", msgid)
        if len(literal.strip()) < _MIN_LITERAL and msgid not in _ALLOWED_SHORT:
            continue
        pattern, seen, last = [], set(), 0
        for match in _PLACEHOLDER.finditer(msgid):
            pattern.append(re.escape(msgid[last : match.start()]))
            name = match.group(1)
            pattern.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
            last = match.end()
        pattern.append(re.escape(msgid[last:]))
        found.append((len(literal), re.compile("".join(pattern), re.DOTALL), msgid))
    found.sort(key=lambda item: -item[0])
    return found


def text_say_again(text: str, *, depth: int = 2) -> str:
    """Show English text a worker stored (a Phrase's str) in the active language.

    For plain-text columns that keep only the English rendering (receipt errors, sync
    messages): the text is matched against the catalogue's own msgids, placeholders
    included, and the values found are put into the translation.
    """
    if not text:
        return text
    if isinstance(text, Phrase):
        return phrase_render({**text.as_dict(), "message": str(text)})
    language = translation.get_language()
    if not language or language.split("-")[0] == "en":
        return text
    translated = gettext(text)
    if translated != text:
        return translated
    for _size, pattern, msgid in _patterns(language):
        match = pattern.fullmatch(text)
        if match is None:
            continue
        # Only sentences inside are said again: a single word is a name or a path.
        values = {
            name: text_say_again(value, depth=depth - 1)
            if depth > 0 and " " in value
            else value
            for name, value in match.groupdict().items()
        }
        # The values are already text: every conversion becomes %s.
        target = _PLACEHOLDER.sub(lambda m: f"%({m.group(1)})s", gettext(msgid))
        try:
            return target % values
        except (KeyError, TypeError, ValueError):
            return text
    return text
