"""The variants as a Moodle question bank (Moodle XML): one category per problem family, one
cloze (embedded answers) question per variant whose numerical blanks carry the verified key and
a tolerance, the math as TeX for Moodle's MathJax filter, in the language asked.

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


def cloze_blank(value: float, tolerance: float, weight: int = 1) -> str:
    """Moodle's embedded NUMERICAL answer ``{weight:NUMERICAL:=value:tolerance}``."""
    return f"{{{weight}:NUMERICAL:={_number(value)}:{_number(tolerance)}}}"


def _html(markdown: str) -> str:
    from jaxdl.render import markdown_renderer

    return markdown_renderer(math="tex").render(markdown)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def question_xml(record: dict, lang: Lang) -> str:
    """One variant as a cloze question: the restated question(s), the givens, the blanks."""
    problem = PROBLEMS[record["problem"]]
    bodies = problem.sheet(record, None, lang)
    parts = []
    for q in problem.questions(record):
        parts.append(f"<h4>{html.escape(q.code)} — {html.escape(q.title[lang.code])}</h4>")
        parts.append(_html(q.stem[lang.code]))
        if q.parts:
            parts.append("<ul>" + "".join(f"<li>({p.id}) {_html(p.text[lang.code])}</li>" for p in q.parts) + "</ul>")
        parts.append(_html(givens_heading_variant(lang, record) + "\n\n" + bodies[q.code].givens))
    parts.append(f"<p><b>{html.escape(lang.t('answers_typed'))}</b> {html.escape(lang.t('tolerance_note'))}</p>")
    parts.append("<table>")
    for b in problem.family.blanks(record):
        parts.append(f"<tr><td>{html.escape(b.label[lang.code])}</td><td>{cloze_blank(b.value, b.tolerance)}</td></tr>")
    parts.append("</table>")
    text = "\n".join(parts)
    name = f"{problem.name} · {lang.t('variant')} {variant_id(record)}"
    return "\n".join([
        '  <question type="cloze">',
        f"    <name><text>{html.escape(name)}</text></name>",
        f'    <questiontext format="html"><text>{_cdata(text)}</text></questiontext>',
        '    <generalfeedback format="html"><text></text></generalfeedback>',
        "    <penalty>0.3333333</penalty>",
        "    <hidden>0</hidden>",
        f"    <idnumber>jaxdl-{problem.name}-{variant_id(record)}</idnumber>",
        "  </question>",
    ])


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
