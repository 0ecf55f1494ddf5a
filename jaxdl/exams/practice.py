"""The student's practice: a pool of verified variants of every family, with what the course page
needs to let a student work one on paper, type the answers part by part, and be told per blank
whether it is right, which common mistake it is, or the part's hint — then see the worked
solution from the variant's teachers' sheet.

``build(problems, seed, count)`` draws ``count`` variants of each problem (each key verified three
ways, as ``jaxdl exam generate`` does) and returns the practice data ``jaxdl site`` embeds:

- ``pool``: the contract of the page (SPEC §7), a list of records ``{"problem", "id", "lang",
  "parts": [{"part", "blanks": [{"blank", "key", "tol", "mistakes": [{"name", "value"}]}]}]}``,
  one per variant and language; ``id`` is the variant's opaque id (a hash of its givens, never
  the seed);
- ``text``: per problem and language, the questions' titles, the code answers (the same for
  every variant), the mistakes' names and whys, the parts' hints;
- ``html``: per problem and language, the variants' blank labels, questions (with their givens)
  and worked solutions as HTML (MathML), each kind grouped so that the compression (zlib) finds a
  variant's text next to the previous variant's, in base 85 (RFC 1924's digits, as Python's
  ``base64.b85encode``): the page inflates one problem's when it is opened, 0.2–0.6 KB a variant
  instead of 10–30.

Example::

  >>> data = build(["rnn"], seed=3, count=2, processes=1)
  >>> [(r["problem"], r["lang"]) for r in data["pool"]][:2]
  [('rnn', 'hr'), ('rnn', 'en')]
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import zlib

from jaxdl.exams import generate, sheet
from jaxdl.exams.lang import LANGS, Lang
from jaxdl.exams.problem import variant_id
from jaxdl.exams.registry import PROBLEMS

# What the page offers a student to pick, and the questions of a family each shows.
PICKS = (("E1", "mlp", ("E1",)), ("E2", "resblock", ("E2",)), ("E3", "tictactoe", ("E3",)), ("E4", "lstm", ("E4",)),
         ("E5", "rnn", ("E5",)), ("E6", "gan", ("E6",)), ("Q1", "quiz", ("Q1a", "Q1b")), ("Q2", "quiz", ("Q2",)),
         ("Q3", "quiz", ("Q3",)))
DIGITS = 7  # significant digits of a key or a mistake's value in the pool (tolerances are 1 % or 0.01)
TOL_DIGITS = 3  # … and of a tolerance (rounded down: never wider than the bank's)


def _number(v: float):
    """A key or a value as the pool writes it: ``DIGITS`` significant digits, a whole number as one."""
    v = float(f"{float(v):.{DIGITS}g}")
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def _tolerance(t: float):
    """A tolerance as the bank prints it (10 significant digits), then with ``TOL_DIGITS``
    significant digits, rounded down (never wider than the bank's)."""
    t = float(f"{float(t):.10g}")
    if t == 0:
        return 0
    scale = 10 ** (math.floor(math.log10(t)) - TOL_DIGITS + 1)
    return _number(math.floor(t / scale + 1e-9) * scale)


def pool_record(record: dict, lang: str) -> dict:
    """One variant in one language, as the page's pool holds it (the contract's fields only)."""
    family = PROBLEMS[record["problem"]].family
    told = family.mistakes_of(record["givens"])
    parts: dict = {}
    for b in family.blanks(record):
        parts.setdefault(b.part, []).append({
            "blank": b.id, "key": _number(b.value), "tol": _tolerance(b.tolerance),
            "mistakes": [{"name": name, "value": _number(v)} for name, v in told.get(b.id, [])]})
    return {"problem": record["problem"], "id": variant_id(record), "lang": lang,
            "parts": [{"part": part, "blanks": blanks} for part, blanks in parts.items()]}


def _texts(record: dict, lang: Lang, render) -> dict:
    """A family's words in ``lang`` that every variant shares: the questions' titles (the first
    variant's), the code answers (the same for every variant: kept once), the mistakes' names and
    whys, the hints."""
    problem = PROBLEMS[record["problem"]]
    family = problem.family
    bodies = problem.sheet(record, None, lang)
    return {
        "code": {code: render(body.code) for code, body in bodies.items() if body.code},
        "titles": {q.code: q.title[lang.code] for q in problem.questions(record)},  # the first variant's
        "mistakes": {m.name: {"title": m.title[lang.code], "why": m.why[lang.code]} for m in family.mistakes},
        "hints": {part: hint[lang.code] for part, hint in family.hints.items()},
    }


def _add_variant_html(pages: dict, record: dict, lang: Lang, render) -> None:
    """Adds the variant's blank labels, and per question what the student reads (the question and
    its givens) and the worked solution, as HTML, to ``pages`` — grouped by what they are, so that
    the compression finds each variant's text next to the previous variant's same text."""
    problem = PROBLEMS[record["problem"]]
    vid = variant_id(record)
    bodies = problem.sheet(record, None, lang)
    pages.setdefault("labels", {})[vid] = {b.id: b.label[lang.code] for b in problem.family.blanks(record)}
    for q in problem.questions(record):
        body = bodies[q.code]
        ask = "\n".join(sheet.question_markdown(q, lang) + [
            sheet.givens_heading_variant(lang, record), "", body.givens])
        worked = dataclasses.replace(body, code="")  # the code answers are the family's, kept once
        page = pages.setdefault(q.code, {"question": {}, "solution": {}})
        page["question"][vid] = render(ask)
        page["solution"][vid] = render(sheet.solution_markdown(q, worked, lang))


def _problem_data(problem: str, seed: int, count: int) -> dict:
    """Everything the page needs of one problem: its pool records, its words and its variants'
    HTML (compressed), from ``count`` variants drawn and verified with ``seed``."""
    from jaxdl.render import markdown_renderer

    records = generate.records(problem, seed, count)
    render = markdown_renderer().render
    pool, text, html = [], {}, {}
    for code in LANGS:
        lang = Lang(code)
        text[code] = _texts(records[0], lang, render)
        pages: dict = {}
        for r in records:
            pool.append(pool_record(r, code))
            _add_variant_html(pages, r, lang, render)
        packed = zlib.compress(json.dumps(pages, ensure_ascii=False, separators=(",", ":")).encode(), 9)
        html[code] = base64.b85encode(packed).decode("ascii")
    pool.sort(key=lambda r: (r["id"], LANGS.index(r["lang"])))
    return {"pool": pool, "text": text, "html": html}


def build(problems: list[str], seed: int, count: int, processes: int | None = None, progress=None) -> dict:
    """The practice data of ``problems`` (``count`` variants each, drawn with ``seed``): ``{"pool",
    "text", "html"}`` as the module says. With several problems the families run side by side in
    ``processes`` worker processes (default: one per core)."""
    import os

    processes = min(len(problems), os.cpu_count() or 1) if processes is None else processes
    if processes <= 1 or len(problems) == 1:
        parts = []
        for p in problems:
            parts.append(_problem_data(p, seed, count))
            if progress is not None:
                progress(p)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        order = sorted(problems, key=lambda p: -PROBLEMS[p].family.stress_cost)
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
            done = {}
            for p, data in zip(order, pool.map(_problem_data, order, [seed] * len(order), [count] * len(order))):
                done[p] = data
                if progress is not None:
                    progress(p)
        parts = [done[p] for p in problems]
    return {"pool": [r for part in parts for r in part["pool"]],
            "text": {p: part["text"] for p, part in zip(problems, parts)},
            "html": {p: part["html"] for p, part in zip(problems, parts)},
            "picks": [{"pick": pick, "problem": p, "questions": list(codes)} for pick, p, codes in PICKS if p in problems]}
