"""The solution sheet a teaching assistant hands out: every problem restated, with its points,
the official solution's accepted alternatives, the givens (and where they come from), the worked
steps and the answers, in the course's language (Croatian) or in English, in two editions —
the students' (questions and givens, with room to work) and the teaching assistants' (all of it,
and the errata) — as Markdown with LaTeX math, HTML (the math as MathML) and PDF.

Each problem's record (:data:`jaxdl.exams.PROBLEMS`) gives its restated questions
(``questions(result)``, :class:`~jaxdl.exams.problem.Question`) and ``sheet(result, figures,
lang) -> {code: Body}``, written from the problem's JSON-ready result alone, so a sheet can be
rebuilt from ``jaxdl exam all --json``'s file (and the variants of ``jaxdl exam generate`` reuse
it).
"""

from __future__ import annotations

import os
import re

from jaxdl.exams.lang import Lang
from jaxdl.exams.problem import Body, Part, Question, variant_id
from jaxdl.exams.registry import PROBLEMS

_MD_SPECIAL = re.compile(r"([\\*_\[\]<>|$#])")
EDITIONS = ("teachers", "students")


def md_text(text: str) -> str:
    """Plain text made safe for Markdown: special characters escaped outside `code` spans."""
    parts = text.split("`")
    return "`".join(p if i % 2 else _MD_SPECIAL.sub(r"\\\1", p) for i, p in enumerate(parts))


def _points(lang: Lang, q: Question) -> str:
    parts = [lang.points(q.points)] if q.points is not None else []
    if q.bonus:
        parts.append(lang.s(f"bonus {lang.points(q.bonus)}", f"bonus {lang.points(q.bonus)}"))
    return f" ({', '.join(parts)})" if parts else ""


def question_markdown(q: Question, lang: Lang) -> list[str]:
    """The restated question: title, points, stem and parts."""
    out = [f"## {q.code} — {q.title[lang.code]}{_points(lang, q)}", "", f"**{lang.t('question')}.** {q.stem[lang.code]}", ""]
    for p in q.parts:
        pts = f" ({lang.points(p.points)})" if p.points is not None else ""
        out.append(f"- **({p.id})**{pts} {p.text[lang.code]}")
    if q.parts:
        out.append("")
    return out


def givens_heading_variant(lang: Lang, result: dict, edition: str = "students") -> str:
    """The givens' heading of a drawn variant: its opaque id, and for the teaching assistants the
    seed and the variant's number (the key's secret: never on a students' page)."""
    where = f"{lang.t('givens_variant')} {variant_id(result)}"
    if edition == "teachers":
        where += f"; {lang.t('seed')} {result['seed']}, {lang.t('variant_number')} {result['variant']}"
    return f"**{lang.t('givens')}** ({where}):"


def _givens_heading(q: Question, lang: Lang, result: dict | None = None, edition: str = "teachers") -> str:
    if result is not None and "variant" in result:
        assumed = f" {q.assumed[lang.code]}." if q.givens == "lost" and q.assumed else ""
        return givens_heading_variant(lang, result, edition) + assumed
    if q.givens == "lost":
        return f"**{lang.t('givens')}.** {lang.t('givens_lost')} {q.assumed[lang.code] if q.assumed else ''}."
    note = {"exam": lang.t("givens_exam"), "chosen": lang.t("givens_chosen")}[q.givens]
    return f"**{lang.t('givens')}** ({note}):"


def section(q: Question, body: Body, lang: Lang, edition: str, result: dict | None = None) -> str:
    """One problem in the given edition, as Markdown (``result``: the problem's, for a variant's
    givens heading)."""
    out = question_markdown(q, lang)
    out += [_givens_heading(q, lang, result, edition), "", body.givens, ""]
    if edition == "students":
        for p in q.parts or (Part(id="", points=q.points, text={}),):
            label = f" ({p.id})" if p.id else ""
            # The box's last line marks its bottom (a printed box is never split across pages).
            out += [f"> **{lang.t('work_space')}{label}**", ">", "> &nbsp;", ">", f"> *{lang.t('work_space_end')}{label}*", ""]
        return "\n".join(out)
    return "\n".join(out + [f"### {lang.t('solution')}", "", solution_markdown(q, body, lang)])


def solution_markdown(q: Question, body: Body, lang: Lang) -> str:
    """A problem's worked solution (the teaching assistants' edition below the givens): the
    steps and answer of each part, the code, and how it was verified."""
    out = []
    if q.parts and body.steps.get(""):  # the working the parts share
        out += [body.steps[""], ""]
    for p in q.parts or (Part(id="", points=q.points, text={}),):
        label = f"({p.id})" if p.id else ""
        if body.steps.get(p.id):
            out += [f"**{label}** {body.steps[p.id]}" if label else body.steps[p.id], ""]
        answer = body.answers.get(p.id)
        if answer:
            head = f"**{lang.t('answer')}{(' ' + label) if label else ''}:**"
            accepted = f" *({lang.t('accepted')}: {p.accepted[lang.code]})*" if p.accepted else ""
            if answer.startswith("$$"):  # a displayed answer: its own paragraph
                out += [head + accepted, "", answer, ""]
            else:
                out += [f"{head} {answer}{accepted}", ""]
    if body.code:
        out += [body.code, ""]
    out += [f"**{lang.t('verified')}.** {body.verified}", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Errata.


def erratum_text(e: dict, lang: Lang) -> dict:
    """An erratum's fields in ``lang`` (the English ones at the top level, the Croatian under "hr")."""
    if lang.code == "hr" and isinstance(e.get("hr"), dict):
        return {**e, **e["hr"]}
    return e


def errata_markdown(errata: list[dict], lang: Lang) -> str:
    """The errata as a Markdown list: problem, kind, official text, the verified answer, evidence."""
    out = [f"## {lang.t('errata')}", "",
           lang.s(f"{lang.count(len(errata), 'mjesto', 'mjesta', 'mjesta')}, svako s dokazom dobivenim pri izradi "
                  "ovog rješenja (službeni kod je pokrenut, "
                  "a prikazana je njegova pogreška ili pogrešan rezultat).",
                  f"{len(errata)} place{'s' if len(errata) != 1 else ''}, each with evidence computed when this sheet was made (the official code run, "
                  "its error or wrong number shown)."), ""]
    for e in errata:
        t = erratum_text(e, lang)
        out.append(f"- **{md_text(t['problem'])}** — {lang.t('kind.' + e.get('kind', 'bug'))}.  ")
        source = lang.t("the_question" if e.get("kind") == "reading" else "official")
        out.append(f"  {source}: {md_text(t['seed'])}.  ")
        out.append(f"  {lang.t('correct')}: {md_text(t['verified'])}.  ")
        if t.get("assumes"):
            out.append(f"  {lang.t('reading')}: {md_text(t['assumes'])}.  ")
        out.append(f"  {lang.t('evidence')}: {md_text(t['evidence'])}.")
    return "\n".join(out)


def errata_table(errata: list[dict], lang: Lang) -> str:
    """The errata as one Markdown table (the README's)."""
    rows = [f"| | {lang.s('vrsta', 'kind')} | {lang.t('official').lower()} | {lang.t('correct').lower()} |",
            "|---|---|---|---|"]
    for e in errata:
        t = erratum_text(e, lang)
        cell = lambda s: md_text(s).replace("\n", " ")  # noqa: E731
        rows.append(f"| {e['problem']} | {e.get('kind', 'bug')} | {cell(t['seed'])} | {cell(t['verified'])} |")
    return "\n".join(rows)


# --------------------------------------------------------------------------------------------
# The whole sheet.


def bodies(results: dict, names, figures: dict, lang: Lang) -> list[tuple[Question, Body, str]]:
    """Every problem's questions and bodies, in order, each with its problem's name."""
    out = []
    for name in names:
        problem = PROBLEMS[name]
        per_code = problem.sheet(results[name], figures, lang)
        for q in problem.questions(results[name]):
            out.append((q, per_code[q.code], name))
    return out


def markdown(results: dict, names, figures: dict[str, str] | None = None, lang: str = "hr",
             edition: str = "teachers", title: str | None = None, subtitle: str = "") -> str:
    """The sheet for the problems ``names`` of ``results`` (``exams.solve``/``solve_all``'s output).

    ``figures`` maps picture keys to paths as the sheet should link them (relative to the sheet).
    """
    if edition not in EDITIONS:
        raise ValueError(f"sheet: edition must be one of {EDITIONS}; got {edition!r}")
    lang = lang if isinstance(lang, Lang) else Lang(lang)
    heading = title or lang.t("exam_title" if edition == "teachers" else "exam_title_students")
    out = [f"# {heading}", "", f"*{lang.t('edition_' + edition)}*" + (f" — {subtitle}" if subtitle else ""), "",
           lang.t("layout_note"), ""]
    for q, body, name in bodies(results, names, figures or {}, lang):
        out += [section(q, body, lang, edition, results[name]), ""]
    errata = [e for name in names for e in results[name].get("errata", [])]
    if errata and edition == "teachers":
        out += [errata_markdown(errata, lang), ""]
    return "\n".join(out)


def finals(results: dict, names, lang: str = "hr") -> dict[str, list[str]]:
    """Every problem's final values as plain strings (what any rendering must show)."""
    lang = Lang(lang)
    return {q.code: body.finals for q, body, _ in bodies(results, names, {}, lang)}


def relative_figures(figures: dict[str, str], sheet_path: str) -> dict[str, str]:
    """Picture paths as the sheet at ``sheet_path`` links them (relative, with ``/``)."""
    base = os.path.dirname(os.path.abspath(sheet_path))
    return {k: os.path.relpath(os.path.abspath(v), base).replace(os.sep, "/") for k, v in figures.items()}


# --------------------------------------------------------------------------------------------
# Plain text (the printout) from the sheet's LaTeX.

_BRACED = r"\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}"  # {…}, two levels of braces inside
_TOKEN = r"[\w∂.'′ᵀ]+(?:[_^]\{[^{}]*\}|[_^][\w∂ᵀ])*"  # x, ∂W_{kl}, h'^ᵀ: no parentheses needed


def _grouped(text: str) -> str:
    """``text`` as one operand of ``/`` or ``^``: in parentheses unless it is a single token or
    already in parentheses."""
    text = text.strip()
    if re.fullmatch(_TOKEN, text) or re.fullmatch(r"\((?:[^()]|\([^()]*\))*\)", text):
        return text
    return f"({text})"


# Symbols first, then the structures (fractions, roots, powers) their operands now read as tokens.
_TEX = [
    (r"\\partial\s*", "∂"), (r"\\sigma", "σ"), (r"\\beta", "β"),
    (r"\\lambda", "λ"), (r"\\odot", "⊙"), (r"\\cdot", "·"), (r"\\times", "×"), (r"\\top", "ᵀ"), (r"\\ln", "ln"),
    (r"\\sum_\{?([^{} ]*)\}?", r"Σ_\1 "), (r"\\max", "max"), (r"\\min", "min"), (r"\\mathbf\{([^{}]*)\}", r"\1"),
    (r"\\mathrm\{([^{}]*)\}", r"\1"), (r"\\operatorname\{([^{}]*)\}", r"\1"), (r"\\text\{([^{}]*)\}", r"\1"),
    (r"\\qquad", "  "), (r"\\quad", " "), (r"\\,", " "), (r"\\!", ""), (r"\\left|\\right", ""), (r"\\in\b", "∈"),
    (r"\\mathbb\{R\}", "ℝ"), (r"\\approx", "≈"), (r"\\neq", "≠"), (r"\\le\b", "≤"), (r"\\ge\b", "≥"),
    (r"\\to\b", "→"), (r"\\mapsto", "↦"), (r"\\infty", "∞"), (r"\\llbracket|\\rrbracket", ""),
    (r"\\frac" + _BRACED + _BRACED, lambda m: f"{_grouped(m.group(1))}/{_grouped(m.group(2))}"),
    (r"\\sqrt" + _BRACED, r"√(\1)"),
    (r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", lambda m: "[" + m.group(1).replace("&", ",").replace(r"\\", ";") + "]"),
    (r"\^\{([^{}]*)\}", lambda m: "^" + _grouped(m.group(1))), (r"_\{([^{}]*)\}", r"_\1"), (r"\\\\", ";"),
    (r"\\", ""), (r"[{}]", ""),
]


def plain(md: str) -> str:
    """Markdown with LaTeX as readable plain text (for a terminal)."""
    text = md.replace("$$", "").replace("$", "").replace("**", "").replace("*", "")
    for pattern, repl in _TEX:
        for _ in range(3):  # nested fractions and matrices
            text = re.sub(pattern, repl, text, flags=re.S)
    return re.sub(r"[ \t]+", " ", text).strip()


def printout(results: dict, names, lang: str = "hr") -> str:
    """The answers as plain text: each problem's title and its parts' answers."""
    lang = Lang(lang)
    out = []
    for q, body, _ in bodies(results, names, {}, lang):
        out.append(f"{q.code}  {q.title[lang.code]}")
        for p in q.parts or (Part(id="", points=None, text={}),):
            if body.answers.get(p.id):
                label = f"({p.id}) " if p.id else ""
                out.append(f"  {label}{plain(body.answers[p.id])}")
        out.append("")
    return "\n".join(out).rstrip()
