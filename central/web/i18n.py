"""Translations (en, zh-CN): the language from a cookie or Accept-Language, and lookups."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "whs_lang"
_LOCALES = Path(__file__).parent / "locales"


@cache
def catalog(lang: str) -> dict[str, str]:
    """The messages of one language."""
    data: dict[str, str] = json.loads((_LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


class _Keep(dict[str, Any]):
    """Format arguments that leave unknown placeholders as they are."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Translator:
    """Looks messages up in one language, falling back to English, then to the key."""

    lang: str

    def __call__(self, key: str, **args: Any) -> str:
        """The message `key` with `args` filled in."""
        text = catalog(self.lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or key
        return text.format_map(_Keep(args))

    def status(self, name: str) -> str:
        """A status name in this language."""
        key = f"status.{name}"
        text = self(key)
        return name if text == key else text


def from_accept_language(header: str | None) -> str:
    """The best supported language of an Accept-Language header (zh* -> zh-CN)."""
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        match = re.search(r"q=([0-9.]+)", params)
        try:
            q = float(match.group(1)) if match else 1.0
        except ValueError:
            continue
        q -= position * 1e-6  # earlier tags win ties
        code = tag.strip().lower()
        lang = "zh-CN" if code.startswith("zh") else "en" if code.startswith("en") else None
        if lang and q > best_q:
            best, best_q = lang, q
    return best


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if supported, else the browser's preference."""
    if cookie in LANGUAGES:
        return str(cookie)
    return from_accept_language(accept_language)
