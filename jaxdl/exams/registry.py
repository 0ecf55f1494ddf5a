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


for _name in BUILTIN:
    register(importlib.import_module(f"jaxdl.exams.{_name}").PROBLEM)
