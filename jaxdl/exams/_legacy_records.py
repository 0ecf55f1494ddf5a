"""Positional records for the problem modules not yet moved to packages (removed with them)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Part:
    id: str
    points: float | None
    text: dict
    accepted: dict | None = None


@dataclasses.dataclass(frozen=True)
class Question:
    code: str
    title: dict
    points: float | None
    stem: dict
    parts: tuple = ()
    givens: str = "exam"
    assumed: dict | None = None
    bonus: float | None = None


@dataclasses.dataclass
class Body:
    givens: str
    steps: dict
    answers: dict
    verified: str
    finals: list = dataclasses.field(default_factory=list)
    code: str = ""
