"""The variants as a Moodle question bank (Moodle XML): one category per problem family, and per
variant a cloze (embedded answers) question for its printed parts with numerical answers, plus
an essay question for the parts marked by hand (a design, code, a derivation), the math as TeX
for Moodle's MathJax filter, in the language asked.

Marks are the exam's points: a cloze question's mark is the sum of its blanks' weights
(Moodle adds them up), so each part's points are shared among its blanks in whole numbers (a
part never has more blanks than points), and the essay question carries the points of the parts
no number can mark. Each blank carries, besides the key, every common mistake's value with its
name and why (0 %), and the part's hint for any other answer.

Import: Question bank → Import → "Moodle XML format", the file, "Get category from file"; the
questions land in ``jaxdl/<problem>`` below the course's top category.
"""

from __future__ import annotations

import html

from jaxdl.exams.lang import Lang
from jaxdl.exams.problem import variant_id
from jaxdl.exams.registry import PROBLEMS
from jaxdl.exams.sheet import givens_heading_variant


def _number(v: float) -> str:
    text = f"{v:.10g}"
    return "0" if text == "-0" else text


def _feedback(text: str) -> str:
    """Text for a cloze answer's feedback: HTML-escaped, and the characters that end an answer
    (``#``, ``}``, ``~``) escaped or replaced as Moodle's parser expects."""
    return html.escape(text, quote=False).replace("\\", "&#92;").replace("#", "\\#").replace("}", "\\}") \
        .replace("~", "≈")


def cloze_blank(value: float, tolerance: float, weight: int = 1, mistakes=(), hint: str | None = None,
                right: str | None = None) -> str:
    """Moodle's embedded NUMERICAL answer ``{weight:NUMERICAL:=value:tolerance#right~%0%mistake's
    value:tolerance#its feedback~...~%0%*#hint}``."""
    alternatives = [f"={_number(value)}:{_number(tolerance)}" + (f"#{_feedback(right)}" if right else "")]
    alternatives += [f"%0%{_number(v)}:{_number(tolerance)}#{_feedback(text)}" for v, text in mistakes]
    if hint:
        alternatives.append(f"%0%*#{_feedback(hint)}")
    return f"{{{weight}:NUMERICAL:" + "~".join(alternatives) + "}"


def part_key(code: str, part_id: str) -> str:
    """How a blank names the printed part it answers: ``E2(a)``, or ``E4`` without parts."""
    return f"{code}({part_id})" if part_id else code


def part_points(questions) -> dict:
    """``{part key: its points}`` for every printed part with points (a bonus has none)."""
    out = {}
    for q in questions:
        for p in q.parts or ():
            if p.points is not None:
                out[part_key(q.code, p.id)] = p.points
        if not q.parts and q.points is not None:
            out[q.code] = q.points
    return out


def weights(blanks, questions) -> list[int]:
    """Each blank's whole-number weight: its part's points shared equally among the part's blanks
    (the first ones taking the remainder), so that every part's blanks add up to its points.

    Raises:
      ValueError: a blank of a part that is not printed, or a part with more blanks than points
        (jaxdl's own bug: a family's blanks must fit its question's points).
    """
    points = part_points(questions)
    counts: dict = {}
    for b in blanks:
        if b.part not in points:
            raise ValueError(f"moodle: blank {b.id} answers part {b.part!r}, which the question does not print")
        counts[b.part] = counts.get(b.part, 0) + 1
    for part, k in counts.items():
        if points[part] != int(points[part]) or k > points[part]:
            raise ValueError(f"moodle: part {part} has {k} blanks for {points[part]:g} points; each blank needs a "
                             "whole point")
    seen: dict = {}
    out = []
    for b in blanks:
        total, k = int(points[b.part]), counts[b.part]
        i = seen[b.part] = seen.get(b.part, -1) + 1
        out.append(total // k + (1 if i < total % k else 0))
    return out


def _html(markdown: str) -> str:
    from jaxdl.render import markdown_renderer

    return markdown_renderer(math="tex").render(markdown)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _stem(problem, record: dict, lang: Lang, parts) -> list[str]:
    """The questions as the students' sheet asks them (the parts ``parts`` keeps), with the givens."""
    bodies = problem.sheet(record, None, lang)
    out = []
    for q in problem.questions(record):
        out.append(f"<h4>{html.escape(q.code)} — {html.escape(q.title[lang.code])}</h4>")
        out.append(_html(q.stem[lang.code]))
        kept = [p for p in q.parts if parts(part_key(q.code, p.id))]
        if kept:
            out.append("<ul>" + "".join(f"<li>({p.id}) {_html(p.text[lang.code])}</li>" for p in kept) + "</ul>")
        out.append(_html(givens_heading_variant(lang, record) + "\n\n" + bodies[q.code].givens))
    return out


def _question(kind: str, name: str, text: str, idnumber: str, extra: list[str]) -> str:
    return "\n".join([
        f'  <question type="{kind}">',
        f"    <name><text>{html.escape(name)}</text></name>",
        f'    <questiontext format="html"><text>{_cdata(text)}</text></questiontext>',
        '    <generalfeedback format="html"><text></text></generalfeedback>',
        *extra,
        "    <hidden>0</hidden>",
        f"    <idnumber>{html.escape(idnumber)}</idnumber>",
        "  </question>",
    ])


def question_xml(record: dict, lang: Lang) -> str:
    """One variant as a cloze question (its numerical parts, marked by Moodle) and, where some of
    its points are for parts marked by hand, an essay question carrying those points."""
    problem = PROBLEMS[record["problem"]]
    family = problem.family
    questions = problem.questions(record)
    blanks = family.blanks(record)
    keyed = {b.part for b in blanks}
    points = part_points(questions)
    told = family.mistakes_of(record["givens"])
    catalogue = {m.name: m for m in family.mistakes}
    name = f"{problem.name} · {lang.t('variant')} {variant_id(record)}"
    parts = [*_stem(problem, record, lang, keyed.__contains__),
             f"<p><b>{html.escape(lang.t('answers_typed'))}</b> {html.escape(lang.t('tolerance_note'))}</p>",
             "<table>"]
    for b, w in zip(blanks, weights(blanks, questions)):
        mistakes = [(v, f"{catalogue[m].title[lang.code]}: {catalogue[m].why[lang.code]}") for m, v in told.get(b.id, [])]
        hint = family.hints.get(b.part, {}).get(lang.code)
        parts.append(f"<tr><td>{html.escape(b.part)}</td><td>{html.escape(b.label[lang.code])}</td><td>"
                     f"{cloze_blank(b.value, b.tolerance, w, mistakes, hint, lang.t('right_answer'))}</td></tr>")
    parts.append("</table>")
    out = [_question("cloze", name, "\n".join(parts), f"jaxdl-{problem.name}-{variant_id(record)}",
                     ["    <penalty>0.3333333</penalty>"])]
    by_hand = {k: v for k, v in points.items() if k not in keyed}
    if by_hand:
        text = "\n".join([*_stem(problem, record, lang, by_hand.__contains__),
                          f"<p>{html.escape(lang.t('marked_by_hand'))}</p>"])
        out.append(_question("essay", f"{name} · {lang.t('by_hand')}", text,
                             f"jaxdl-{problem.name}-{variant_id(record)}-essay",
                             [f"    <defaultgrade>{_number(sum(by_hand.values()))}</defaultgrade>",
                              "    <penalty>0</penalty>", "    <responseformat>editor</responseformat>",
                              "    <responserequired>1</responserequired>", "    <responsefieldlines>15</responsefieldlines>",
                              "    <attachments>1</attachments>"]))
    return "\n".join(out)


def bank(records: list[dict], lang: str = "hr") -> str:
    """The whole bank: a category per problem (in the records' order), then its questions."""
    lang = Lang(lang)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    problems = list(dict.fromkeys(r["problem"] for r in records))
    for problem in problems:
        out += ['  <question type="category">',
                f"    <category><text>$course$/top/jaxdl/{problem}</text></category>",
                f"    <info format=\"html\"><text>{html.escape(lang.t('bank_info'))}</text></info>",
                "  </question>"]
        out += [question_xml(r, lang) for r in records if r["problem"] == problem]
    out.append("</quiz>")
    return "\n".join(out) + "\n"
