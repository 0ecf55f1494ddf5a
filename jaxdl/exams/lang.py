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
import io
import tokenize
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


# --------------------------------------------------------------------------------------------
# The code the sheets show, in the sheet's language: one table of the Croatian text of every
# comment and message (a string a program shows: an assertion's or an exception's) in the code the
# solutions print (``jaxdl/check/lab_reference.py`` through :func:`jaxdl.exams._common.lab_source`,
# ``jaxdl/exams/torch_answers/*.py`` through :func:`jaxdl.exams.torch_answers.source`). The files
# stay in English (they are code that runs; ``jaxdl check-numpy`` passes the lab file as it is);
# :func:`localized` swaps each comment and message for its Croatian text when a Croatian sheet
# prints the code. Identifiers and docstrings are left alone (the sheets leave docstrings out). A
# comment the table lacks is jaxdl's own bug: :func:`localized` names it.



# English text (a comment without its "# ", or a string literal as written) → Croatian.
CODE_HR = {
    # jaxdl/check/lab_reference.py
    "the lab's compiled helper; the numpy stand-in has the same layout":
        "prevedeni pomoćni modul iz vježbe; zamjena u NumPyju ima isti raspored",
    '"Invalid pooling params"': '"Neispravni parametri sažimanja"',
    "b x (D entries) is added to A (x ⊙ x) (M entries): M = D, whatever b is":
        "b x (D elemenata) pribraja se A (x ⊙ x) (M elemenata): M = D, kakav god bio b",
    'f"Quadratic: b x needs num_outputs = D; got num_outputs={num_outputs}, D={D}"':
        'f"Quadratic: b x zahtijeva num_outputs = D; dobiveno num_outputs={num_outputs}, D={D}"',
    # jaxdl/exams/torch_answers/additive_coupling.py
    "in_channels is C, the input's channel count (even); h maps C/2 channels to C/2.":
        "in_channels je C, broj kanala ulaza (paran); h preslikava C/2 kanala u C/2.",
    '"C must be even"': '"C mora biti paran"',
    "x1 = y1, so h(x1) = h(y1) is known: x2 = y2 − h(y1).":
        "x1 = y1, pa je h(x1) = h(y1) poznato: x2 = y2 − h(y1).",
    # jaxdl/exams/torch_answers/conv_avg_pool.py
    "channel i averages its own K×K window only": "kanal i usrednjava samo svoje okno K×K",
    "A module's weight must be an nn.Parameter; requires_grad=False keeps it out of training":
        "Težina modula mora biti nn.Parameter; requires_grad=False isključuje je iz učenja",
    "(overriding parameters() alone would not: named_parameters() still lists the weight).":
        "(samo nadjačani parameters() to ne bi učinio: named_parameters() i dalje navodi težinu).",
    "none is trainable: an optimizer gets an empty list": "ništa se ne uči: optimizator dobiva praznu listu",
    # jaxdl/exams/torch_answers/res_block.py
    "x Wᵀ + b: fc.weight is the lab's Wᵀ": "x Wᵀ + b: fc.weight je Wᵀ iz vježbe",
}

CODE_TABLES = {"hr": CODE_HR}


def _docstring_lines(source: str) -> set[int]:
    """The lines of ``source``'s module, class and function docstrings (never translated)."""
    import ast

    lines: set[int] = set()
    for node in [*ast.walk(ast.parse(source))]:
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def code_texts(source: str) -> list[tuple[str, bool, tuple, tuple]]:
    """Every comment (its text without ``# ``) and every message (a string literal, outside the
    docstrings, with a space in it) of ``source``: ``(text, is_comment, start, end)``."""
    docstrings = _docstring_lines(source)
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out.append((tok.string[1:].strip(), True, tok.start, tok.end))
        elif tok.type == tokenize.STRING and tok.start[0] not in docstrings and " " in tok.string:
            out.append((tok.string, False, tok.start, tok.end))
    return out


def localized(source: str, lang) -> str:
    """``source`` with its comments and messages in ``lang`` (a :class:`~jaxdl.exams.lang.Lang`,
    a code, or ``None``: as written). Raises ``LookupError`` naming a text the table lacks."""
    code = getattr(lang, "code", lang)
    if code in (None, "en"):
        return source
    table = CODE_TABLES[code]
    lines = source.splitlines(keepends=True)
    # From the last token back, so that earlier positions stay valid.
    for text, is_comment, (r0, c0), (r1, c1) in reversed(code_texts(source)):
        if text not in table:
            raise LookupError(f"localized: no {code} text for {text!r}: add it to CODE_HR in jaxdl/exams/lang.py")
        if r0 != r1:
            raise LookupError(f"localized: a message over several lines cannot be swapped: {text!r}")
        new = "# " + table[text] if is_comment else table[text]
        line = lines[r0 - 1]
        lines[r0 - 1] = line[:c0] + new + line[c1:]
    return "".join(lines)
