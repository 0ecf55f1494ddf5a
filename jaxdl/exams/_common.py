"""Helpers shared by the exam problems: config validation, JSON-ready values, and the LaTeX of
the solution sheets."""

from __future__ import annotations

import functools

import math

import numpy as np

from jaxdl.errors import InputError


def tolist(x):
    """Arrays (and trees of them) as nested Python floats, for JSON."""
    if isinstance(x, dict):
        return {k: tolist(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [tolist(v) for v in x]
    a = np.asarray(x)
    if a.dtype == bool:
        return a.tolist()
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(int).tolist()
    return a.astype(float).tolist()


def matrix(cfg, field: str, shape=None, *, ndim: int | None = None) -> np.ndarray:
    """Reads config field ``field`` (dotted) as a float64 array, checking its shape.

    ``shape`` entries may be ``None`` (any size); ``ndim`` checks the rank only.
    """
    node = cfg
    for part in field.split("."):
        node = node[part]
    try:
        a = np.asarray(node, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"config: {field} must be numeric; got {node!r}") from None
    want_ndim = len(shape) if shape is not None else ndim
    if want_ndim is not None and a.ndim != want_ndim:
        raise InputError(f"config: {field} must have {want_ndim} dimension(s); got shape {a.shape}")
    if shape is not None and any(s is not None and s != g for s, g in zip(shape, a.shape)):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + (",)" if len(shape) == 1 else ")")
        raise InputError(f"config: {field} must have shape {want}; got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"config: {field} must be finite; got {node!r}")
    return a


ERRATUM_KINDS = ("bug", "notation", "slip", "incomplete", "reading")


def quoted(message: str) -> str:
    """A program's own message (an exception's text), quoted as code: it stays as the program
    wrote it in either language."""
    return f"`{message}`"


def erratum(problem: str, seed: str, verified: str, evidence: str, kind: str = "bug",
            assumes: str | None = None, hr: dict | None = None) -> dict:
    """One place where a seed's official solution disagrees with the verified computation.

    ``kind``: ``"bug"`` (a wrong answer or code that fails), ``"notation"`` (a formula wrong as
    written, in the layout the solution itself uses, that the code does not rely on), ``"slip"``
    (a wrong step on the way to a right final answer), ``"incomplete"`` (an answer, or part
    of one, missing) or ``"reading"`` (the question itself reads two ways with two answers:
    ``seed`` says what it leaves open, ``assumes`` the reading taken). ``assumes``: the reading of the question the erratum takes, where another
    reading exists. ``hr``: the same fields (``seed``, ``verified``, ``evidence``, ``assumes``)
    in Croatian.
    """
    if kind not in ERRATUM_KINDS:
        raise ValueError(f"erratum kind must be one of {ERRATUM_KINDS}; got {kind!r}")
    e = {"problem": problem, "kind": kind, "seed": seed, "verified": verified, "evidence": evidence}
    if assumes:
        e["assumes"] = assumes
    if hr:
        missing = {"seed", "verified", "evidence"} - set(hr) | ({"assumes"} - set(hr) if assumes else set())
        if missing:
            raise ValueError(f"erratum {problem}: the Croatian text lacks {sorted(missing)}")
        e["hr"] = dict(hr)
    return e


# The file name a transcription is compiled under, per language: Python names it in a syntax
# error's message, which the errata quote.
OFFICIAL_FILE = {"en": "<official solution>", "hr": "<službeno rješenje>"}


def run_official(source: str, call=None, names: dict | None = None, filename: str = OFFICIAL_FILE["en"]):
    """Runs a fragment of an official solution (a transcription) and returns what it raised, as
    ``"TypeError: ..."``, or ``None`` if it ran; ``names`` are defined before it runs (what the
    fragment assumes from its context) and ``call(namespace)`` then exercises it. ``filename``:
    the name a syntax error's message gives the fragment (:data:`OFFICIAL_FILE`)."""
    namespace: dict = dict(names or {})
    try:
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own transcription
        if call is not None:
            call(namespace)
    except Exception as e:  # noqa: BLE001 - the error is the evidence
        return f"{type(e).__name__}: {e}"
    return None


class PreviousLayer:
    """Stands for the lab's previous layer in an official fragment: ``input_layer.shape``."""

    def __init__(self, shape):
        self.shape = tuple(shape)


# --------------------------------------------------------------------------------------------
# The solution sheets' LaTeX ($…$ inline, $$…$$ displayed).


def num(x, sig: int = 4) -> str:
    """A number in LaTeX with ``sig`` significant digits (``1.5 \\times 10^{-7}`` for tiny ones)."""
    v = float(x)
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return r"\infty" if v > 0 else (r"-\infty" if v < 0 else r"\text{NaN}")
    s = f"{v:.{sig}g}"
    if "e" in s:
        mantissa, exponent = s.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return s


def tex(a, sig: int = 4, row: bool = False) -> str:
    """A scalar, vector (a column, or a row with ``row=True``) or matrix as LaTeX."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return num(a, sig)
    if a.ndim == 1:
        a = a[None, :] if row else a[:, None]
    rows = [" & ".join(num(v, sig) for v in r) for r in a]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def display(*parts: str, sep: str = r", \qquad ") -> str:
    """A displayed equation (its own paragraph in Markdown)."""
    return "$$\n" + sep.join(parts) + "\n$$"


def code_block(text: str, language: str = "python") -> str:
    return f"```{language}\n{text.strip()}\n```"


def lab_source(name: str, lang=None) -> str:
    """The source of one class or function of jaxdl's correct numpy lab
    (``jaxdl/check/lab_reference.py``, the lab's ``Layer`` interface), as the sheet shows it
    (``jaxdl check-numpy`` passes it), its comments and messages in ``lang`` (a
    :class:`~jaxdl.exams.lang.Lang` or code; ``None``: as written, in English)."""
    return _lab_source(name, getattr(lang, "code", lang))


@functools.lru_cache(maxsize=None)
def _lab_source(name: str, lang) -> str:
    """:func:`lab_source` for a language code, read and parsed once (every variant's sheet shows it)."""
    import ast
    from importlib import resources

    from jaxdl.exams.lang import localized

    text = resources.files("jaxdl.check").joinpath("lab_reference.py").read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == name:
            return localized(ast.get_source_segment(text, node), lang)
    raise KeyError(f"lab_reference.py has no class or function {name!r}")


def without_docstrings(source: str) -> str:
    """Python source as an answer shows it: its module, class and function docstrings left out
    (the sheet's text explains the code, in the sheet's language)."""
    import ast

    tree = ast.parse(source)
    drop = set()
    for node in [tree, *ast.walk(tree)]:
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            drop.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines = [line for i, line in enumerate(source.splitlines(), start=1) if i not in drop]
    return "\n".join(lines).strip("\n") + "\n"


# --------------------------------------------------------------------------------------------
# Which entries of an array a variant asks for.


def changes(alt, key) -> bool:
    """Whether ``alt`` differs from ``key`` somewhere beyond a blank's tolerance."""
    from jaxdl.exams.problem import close, tolerance_for

    alt, key = np.asarray(alt, float), np.asarray(key, float)
    return any(not close(a, k, tolerance_for(k)) for a, k in zip(alt.reshape(-1), key.reshape(-1)))


def kept(key, alternatives: dict) -> dict:
    """The alternatives (a common mistake's name → the whole array it gives, or ``None``) that
    change something: a mistake that gives the key everywhere does not apply to the variant."""
    return {n: np.asarray(a, float) for n, a in alternatives.items() if a is not None and changes(a, key)}


def choose_entries(key, alternatives: dict, k: int) -> list[tuple]:
    """``k`` entries of ``key`` to ask for, where the common mistakes show: one after another, the
    entry where no two alternatives (see :func:`kept`) look alike and the most alternatives not yet
    shown differ from the key (so that every mistake can be told, and told apart), then the
    entries where the most alternatives differ; the first in reading order among equals. Returned
    in reading order."""
    from jaxdl.exams.problem import close, tolerance_for

    key = np.asarray(key, float)
    alts = kept(key, alternatives)
    indices = list(np.ndindex(key.shape))

    differing, clean = {}, {}  # per entry, once: which alternatives differ there, and whether no two look alike
    for i in indices:
        tol = tolerance_for(key[i])
        differing[i] = {n for n, a in alts.items() if not close(a[i], key[i], tol)}
        values = [alts[n][i] for n in differing[i]]
        clean[i] = all(not close(a, b, tol) for j, a in enumerate(values) for b in values[j + 1:])
    order = {i: n for n, i in enumerate(indices)}
    chosen: list = []
    shown: set = set()
    while len(chosen) < k:
        rest = [i for i in indices if i not in chosen]
        if not rest:
            break
        best = min(rest, key=lambda i: (not clean[i], -len(differing[i] - shown), -len(differing[i]), order[i]))
        chosen.append(best)
        shown |= differing[best]
    return sorted(chosen)
