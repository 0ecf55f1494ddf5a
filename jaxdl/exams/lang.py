"""The two languages of the solution sheets: Croatian (``hr``, the course's own) and English.

Terms come from one glossary (``glossary.toml``, both languages side by side); sentences are
written in full in both languages where they are used (:meth:`Lang.s`), with the glossary's
terms in them.

    >>> hr = Lang("hr")
    >>> hr.t("loss"), hr.points(2), hr.points(5), Lang("en").points(1)
    ('gubitak', '2 boda', '5 bodova', '1 point')
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources

from jaxdl.errors import InputError

LANGS = ("hr", "en")


@functools.cache
def glossary() -> dict:
    """The glossary as ``{key: {"hr": ..., "en": ...}}`` (dotted keys for the other forms)."""
    data = tomllib.loads(resources.files("jaxdl.exams").joinpath("glossary.toml").read_text(encoding="utf-8"))
    out = {}

    def walk(prefix, table):
        if "hr" in table and "en" in table:
            out[prefix] = {"hr": table["hr"], "en": table["en"]}
        for k, v in table.items():
            if isinstance(v, dict):
                walk(f"{prefix}.{k}" if prefix else k, v)

    walk("", data)
    return out


class Lang:
    """One of :data:`LANGS`: picks terms and sentences."""

    def __init__(self, code: str):
        if code not in LANGS:
            raise InputError(f"exam: --lang must be one of {', '.join(LANGS)}; got {code!r}")
        self.code = code

    def t(self, key: str) -> str:
        """The glossary's term ``key`` in this language."""
        return glossary()[key][self.code]

    def s(self, hr: str, en: str) -> str:
        """The sentence in this language."""
        return hr if self.code == "hr" else en

    def count(self, n: int, one: str, few: str, many: str) -> str:
        """``n`` and a Croatian noun in its agreeing form: ``one`` after 1, 21, 31 … (``sloj``),
        ``few`` after 2–4, 22–24 … (``sloja``), ``many`` otherwise (``slojeva``)."""
        k = int(n)
        if k % 10 == 1 and k % 100 != 11:
            return f"{k} {one}"
        if 2 <= k % 10 <= 4 and not 12 <= k % 100 <= 14:
            return f"{k} {few}"
        return f"{k} {many}"

    def points(self, n: float) -> str:
        """``n`` points: "1 bod", "2 boda", "5 bodova" (Croatian agreement) or "1 point", "2 points"."""
        shown = f"{n:g}"
        if self.code == "en":
            return f"{shown} point" + ("" if n == 1 else "s")
        if n != int(n):
            return f"{shown} boda"
        return self.count(int(n), "bod", "boda", "bodova")


def both(hr: str, en: str) -> dict:
    """A text in both languages, as the JSON carries it."""
    return {"hr": hr, "en": en}
