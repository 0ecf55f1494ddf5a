"""The solution sheet: every answer of ``jaxdl exam`` with its givens, worked steps and final
values, in Markdown with LaTeX math (``$…$``, ``$$…$$``), which common Markdown viewers render
as is; the course page (:mod:`jaxdl.site`) turns the same text into HTML with MathML.

Each problem's module has ``sheet(result, figures) -> str``, written from the problem's
JSON-ready result alone, so a sheet can be rebuilt from ``jaxdl exam all --json``'s file.
"""

from __future__ import annotations

import os
import re

_MD_SPECIAL = re.compile(r"([\\*_\[\]<>|$#])")


def md_text(text: str) -> str:
    """Plain text made safe for Markdown: special characters escaped outside `code` spans."""
    parts = text.split("`")
    return "`".join(p if i % 2 else _MD_SPECIAL.sub(r"\\\1", p) for i, p in enumerate(parts))


def errata_markdown(errata: list[dict]) -> str:
    """The errata as a Markdown list: problem, kind, official text, the verified answer, evidence."""
    kinds = {"bug": "a wrong answer or failing code", "notation": "notation: a formula wrong as written, "
             "not used by the official code", "incomplete": "left unfinished"}
    out = [
        "## Errata: where the official solutions disagree with the verified answers",
        "",
        f"{len(errata)} places, each with evidence computed when this sheet was made.",
        "",
    ]
    for e in errata:
        out.append(f"- **{md_text(e['problem'])}** ({kinds.get(e.get('kind', 'bug'), e.get('kind'))}). "
                   f"Official: {md_text(e['seed'])}.  ")
        out.append(f"  Verified: {md_text(e['verified'])}.  ")
        if e.get("assumes"):
            out.append(f"  Reading assumed: {md_text(e['assumes'])}.  ")
        out.append(f"  Evidence: {md_text(e['evidence'])}.")
    return "\n".join(out)


def markdown(results: dict, names, figures: dict[str, str] | None = None, title: str | None = None) -> str:
    """The sheet for the problems ``names`` of ``results`` (``exams.solve``/``solve_all``'s output).

    ``figures`` maps picture keys to paths as the sheet should link them (relative to the sheet).
    """
    from jaxdl import __version__
    from jaxdl.exams import PROBLEMS

    errata = [e for name in names for e in results[name].get("errata", [])]
    out = [
        f"# {title or 'jaxdl: solution sheet'}",
        "",
        f"Every answer computed by jaxdl {__version__} (`jaxdl exam "
        + (names[0] if len(names) == 1 else "all") + " --markdown`) and checked against an independent "
        "derivation (autodiff, finite differences, a closed form or a hand computation), in float64. The numbers "
        "are rounded to 4 significant digits unless more are needed.",
        "",
    ]
    for name in names:
        module = PROBLEMS[name][0]
        out += [module.sheet(results[name], figures or {}), ""]
    if errata:
        out += [errata_markdown(errata), ""]
    return "\n".join(out)


def relative_figures(figures: dict[str, str], sheet_path: str) -> dict[str, str]:
    """Picture paths as the sheet at ``sheet_path`` links them (relative, with ``/``)."""
    base = os.path.dirname(os.path.abspath(sheet_path))
    return {k: os.path.relpath(os.path.abspath(v), base).replace(os.sep, "/") for k, v in figures.items()}
