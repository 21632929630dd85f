"""Message catalogues: the texts of the pages by key, one JSON file per language.

``messages/nl.json`` (the default) and ``messages/en.json`` map keys such as
``"ballot.submit"`` to texts with ``{name}`` placeholders. A new language is a new file with
the same keys (a test checks that every catalogue has the keys of the Dutch one); a key a
catalogue lacks falls back to Dutch, then to the key itself, so a page never breaks.
The language is chosen by ``?lang=xx`` (remembered in the ``lang`` cookie), else the cookie,
else Dutch.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Final

from starlette.requests import Request

__all__ = ["DEFAULT", "LANGUAGES", "Translator", "catalogue", "choose_language"]

MESSAGES: Final = Path(__file__).parent / "messages"
DEFAULT: Final = "nl"


@cache
def languages() -> tuple[str, ...]:
    """The languages that have a catalogue, Dutch first."""
    found = sorted(p.stem for p in MESSAGES.glob("*.json"))
    return (DEFAULT, *(code for code in found if code != DEFAULT))


LANGUAGES: Final = languages()


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The texts of one language (an empty catalogue for an unknown language)."""
    path = MESSAGES / f"{lang}.json"
    if lang not in LANGUAGES or not path.exists():
        return {}
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def choose_language(request: Request) -> tuple[str, bool]:
    """The page's language, and whether it was chosen just now (then remember it)."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked, asked != request.cookies.get("lang")
    cookie = request.cookies.get("lang", "")
    return (cookie if cookie in LANGUAGES else DEFAULT), False


class Translator:
    """``t("key", name=value)``: the text of ``key`` in this language, placeholders filled."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.texts = catalogue(lang)
        self.fallback = catalogue(DEFAULT)

    def __call__(self, key: str, **params: object) -> str:
        text = self.texts.get(key) or self.fallback.get(key) or key
        if params:
            try:
                return text.format(**params)
            except (KeyError, IndexError, ValueError):
                return text
        return text

    def has(self, key: str) -> bool:
        return key in self.texts or key in self.fallback
