"""The one registry of exam problems: name → :class:`jaxdl.exams.problem.Problem`.

jaxdl's own problems are the packages named in :data:`BUILTIN`, each exporting ``PROBLEM``;
:func:`register` adds another at run time. Everything that lists problems — ``jaxdl exam``,
``jaxdl exam generate``, the solution sheet, the Moodle bank, the course page — reads
:data:`PROBLEMS`, in its order.
"""

from __future__ import annotations

import importlib

from jaxdl.errors import InputError
from jaxdl.exams.problem import Problem

# The seed exams' problems, in the sheet's order: the final exam's E1–E6, then the lab quiz.
BUILTIN = ("mlp", "resblock", "tictactoe", "lstm", "rnn", "gan", "quiz")

PROBLEMS: dict[str, Problem] = {}


def register(problem: Problem) -> Problem:
    """Adds ``problem`` (after the others); a name already taken is refused."""
    if not isinstance(problem, Problem):
        raise TypeError(f"register: expected a Problem; got {type(problem).__name__}")
    if problem.name in PROBLEMS or problem.name in ("all", "generate"):
        raise ValueError(f"register: the problem name {problem.name!r} is taken")
    PROBLEMS[problem.name] = problem
    return problem


def get(name: str, command: str = "jaxdl exam") -> Problem:
    """The problem ``name``, or an :class:`InputError` naming the known ones."""
    if name not in PROBLEMS:
        raise InputError(f"{command}: unknown problem {name!r}; expected one of {', '.join(PROBLEMS)}, all")
    return PROBLEMS[name]


def with_family() -> list[str]:
    """The problems that have variants, in order."""
    return [name for name, p in PROBLEMS.items() if p.family is not None]


def _legacy(name: str, module) -> Problem:  # TODO(restructure): removed once every problem is a package
    from jaxdl.exams import families

    def figures(result, directory, lang):
        from jaxdl.exams.figures import write_figures

        return write_figures({name: result}, directory, lang.code if hasattr(lang, "code") else lang)

    ok = {"tictactoe": lambda r: r["accuracy"] == 1.0, "lstm": lambda r: r["agree"],
          "resblock": lambda r: r["cross_check"]["ok"]}.get(name, lambda r: r.get("ok", True))
    return Problem(name=name, config=f"exam_{name}", solve=module.solve, report=module.report,
                   questions=getattr(module, "questions", lambda r: module.QUESTIONS), sheet=module.sheet,
                   errata=lambda r: r["errata"], ok=ok, figures=figures if name in ("mlp", "tictactoe") else None,
                   family=families.FAMILIES[name])


for _name in BUILTIN:
    _module = importlib.import_module(f"jaxdl.exams.{_name}")
    register(_module.PROBLEM if hasattr(_module, "PROBLEM") else _legacy(_name, _module))
