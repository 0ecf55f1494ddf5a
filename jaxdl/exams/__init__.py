"""Every exam answer, computed and cross-checked: one module per problem of SPEC §2.

Each module has ``solve(config) -> dict`` (JSON-ready facts, with an ``errata`` list of the places
where the seeds' official solution disagrees) and ``report(result) -> str`` (the readable
answer). :data:`PROBLEMS` maps the command's names to them and to their default config in
``configs/``.
"""

from __future__ import annotations

from jaxdl.config import default_config_path, load_config
from jaxdl.errors import InputError
from jaxdl.exams import gan, lstm, mlp, quiz, resblock, rnn, tictactoe

# name: (module, its config in configs/: the seed exam's givens)
PROBLEMS = {
    "mlp": (mlp, "exam_mlp"),
    "resblock": (resblock, "exam_resblock"),
    "tictactoe": (tictactoe, "exam_tictactoe"),
    "lstm": (lstm, "exam_lstm"),
    "rnn": (rnn, "exam_rnn"),
    "gan": (gan, "exam_gan"),
    "quiz": (quiz, "exam_quiz"),
}


def solve(name: str, config_path=None, overrides=()) -> dict:
    """Solves one problem with its default config (or ``config_path``) and ``NAME=VALUE`` overrides."""
    if name not in PROBLEMS:
        raise InputError(f"exam: unknown problem {name!r}; known: {', '.join(PROBLEMS)}, all")
    module, default = PROBLEMS[name]
    cfg = load_config(config_path or default_config_path(default), overrides)
    return module.solve(cfg)


def solve_config(name: str, cfg) -> dict:
    """Solves one problem for a config already built (a drawn variant's givens)."""
    return PROBLEMS[name][0].solve(cfg)


def solve_all() -> dict:
    """Every problem with its defaults; ``errata`` gathers all problems' errata."""
    results = {name: solve(name) for name in PROBLEMS}
    errata = [e for r in results.values() for e in r.get("errata", [])]
    return {**results, "errata": errata}


def report(name: str, result: dict) -> str:
    return PROBLEMS[name][0].report(result)
