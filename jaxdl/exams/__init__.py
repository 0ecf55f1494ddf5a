"""Every exam answer, computed and cross-checked: one :class:`~jaxdl.exams.problem.Problem` per
problem of SPEC §2, found by :data:`PROBLEMS` (the registry, :mod:`jaxdl.exams.registry`).

``solve(name)`` gives a problem's JSON-ready facts for its default givens (``configs/``), with an
``errata`` list of the places where the seeds' official solution disagrees; ``report`` its
readable answer. The solution sheet (:mod:`~jaxdl.exams.sheet`), the Moodle bank
(:mod:`~jaxdl.exams.moodle`) and next year's variants (:mod:`~jaxdl.exams.generate`) are built
from these results.
"""

from __future__ import annotations

import math

from jaxdl.config import default_config_path, load_config
from jaxdl.exams.registry import PROBLEMS, get, register

__all__ = ["PROBLEMS", "draw_figures", "non_finite", "ok", "register", "report", "solve", "solve_all", "solve_config"]


def _config_path(config: str):
    return config if config.endswith(".py") else default_config_path(config)


def solve(name: str, config_path=None, overrides=()) -> dict:
    """Solves one problem with its default config (or ``config_path``) and ``NAME=VALUE``
    overrides; its ``errata`` are checked on those givens."""
    problem = get(name)
    cfg = load_config(config_path or _config_path(problem.config), overrides)
    result = problem.solve(cfg)
    result["errata"] = problem.errata(result)
    return result


def solve_config(name: str, cfg) -> dict:
    """Solves one problem for a config already built (a drawn variant's givens): no errata (they
    are the seed exam's official solutions')."""
    return PROBLEMS[name].solve(cfg)


def solve_all() -> dict:
    """Every problem with its defaults; ``errata`` gathers all problems' errata."""
    results = {name: solve(name) for name in PROBLEMS}
    errata = [e for r in results.values() for e in r.get("errata", [])]
    return {**results, "errata": errata}


def report(name: str, result: dict) -> str:
    return PROBLEMS[name].report(result)


def non_finite(tree, path: str = "") -> str | None:
    """The path of the first NaN or infinite number in a JSON-like answer, or ``None``."""
    if isinstance(tree, float):
        return None if math.isfinite(tree) else path or "the answer"
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, (list, tuple)):
        items = enumerate(tree)
    else:
        return None
    for k, v in items:
        found = non_finite(v, f"{path}.{k}" if path else str(k))
        if found:
            return found
    return None


def ok(name: str, result: dict) -> bool:
    """Every cross-check of the problem's result held, and no answer is NaN or infinite."""
    return non_finite(result) is None and PROBLEMS[name].ok(result)


def draw_figures(results: dict, directory: str, lang) -> tuple[dict[str, str], list[str]]:
    """Draws the pictures of every problem of ``results`` that has some into ``directory``:
    ``(picture key → SVG path, warnings)``."""
    import os

    from jaxdl.exams.lang import Lang

    lang = lang if isinstance(lang, Lang) else Lang(lang)
    os.makedirs(directory, exist_ok=True)
    out, warnings = {}, []
    for name, problem in PROBLEMS.items():
        if name in results and problem.figures is not None:
            drawn, warned = problem.figures(results[name], directory, lang)
            out.update(drawn)
            warnings += warned
    return out, warnings
