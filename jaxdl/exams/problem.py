"""What an exam problem is: one :class:`Problem` record, found by the registry
(:mod:`jaxdl.exams.registry`), holding everything jaxdl does with the problem.

A problem lives in its own small package, ``jaxdl/exams/<name>/``, with its default givens in
``configs/exam_<name>.py``:

- ``compute.py``: ``solve(config) -> result`` (a JSON-ready dict of facts, each with its
  cross-check) and ``report(result) -> str`` (the readable answer);
- ``errata.py``: ``errata(result) -> [erratum, ...]``, where the seed exam's official solution
  disagrees with the verified answer (each with its evidence, computed on the spot);
- ``text.py``: the questions restated (:class:`Question`) and ``sheet(result, figures, lang)``,
  the worked solution in each language (:class:`Body`);
- ``family.py``: the problem's variants for next year's exam (:class:`Family`);
- ``__init__.py``: the record, ``PROBLEM = Problem(...)``.

The solution sheet, the Moodle bank, the variant generator, the course page and the command
line read only the registry, so a new problem is one package and one config.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

# --------------------------------------------------------------------------------------------
# The restated question and its worked solution.


@dataclasses.dataclass(frozen=True, kw_only=True)
class Part:
    """One part of a question: ``id`` ("a"), its points, its text and the alternatives the
    official solution accepts (each ``{"hr": ..., "en": ...}``)."""

    id: str
    points: float | None
    text: dict
    accepted: dict | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Question:
    """A problem restated in our words: ``code`` ("E1"), title, points, the stem (what is given
    and asked), its parts, and where its numbers come from: ``"exam"``, ``"chosen"`` (the exam
    gives none) or ``"lost"`` (the exam's figure is lost; ``assumed`` says what stands for it)."""

    code: str
    title: dict
    points: float | None
    stem: dict
    parts: tuple[Part, ...] = ()
    givens: str = "exam"
    assumed: dict | None = None
    bonus: float | None = None


@dataclasses.dataclass(kw_only=True)
class Body:
    """A problem's solution in one language: the givens, each part's worked steps and answer,
    the code answers, the final values (that must appear on any rendering), and how it was
    verified."""

    givens: str
    steps: dict  # part id ("" for a question without parts) → worked steps (Markdown)
    answers: dict  # part id → the answer (Markdown)
    verified: str
    finals: list = dataclasses.field(default_factory=list)  # plain strings: every final value
    code: str = ""  # the code answers (Markdown)


# --------------------------------------------------------------------------------------------
# The variants.

CAUSES = {
    "kink": "a pre-activation exactly 0 where the derivative's value at 0 would change an answer",
    "dead": "a unit dead for the whole minibatch (a part of the answer would be trivially 0)",
    "saturated": "a sigmoid beyond 0.999 or below 0.001 (a vanishing gradient)",
    "tie": "a tie in a max (the gradient would depend on which element wins)",
    "duplicate": "a duplicate of an earlier variant",
    "digits": "an answer needing more digits than a student should write by hand",
    "accuracy": "a hand-set classifier below 100% on the final boards",
}


def variant_id(record: dict) -> str:
    """A drawn variant's opaque id: a hash of its problem and givens (which its sheet shows
    anyway), so that it says nothing of the seed that drew it or of the other variants."""
    import hashlib
    import json

    text = json.dumps({"problem": record["problem"], "givens": record["givens"]}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


class Rejected(Exception):
    """A drawn variant that degenerates; ``cause`` is a key of :data:`CAUSES`."""

    def __init__(self, cause: str):
        if cause not in CAUSES:
            raise ValueError(f"unknown rejection cause {cause!r}")
        super().__init__(cause)
        self.cause = cause


@dataclasses.dataclass
class Verified:
    """A batch's key numbers (``answers[i]``: name → array, from the hand-derived computation)
    and, per pair of computations (a key of :data:`jaxdl.check.numeric.TOLERANCES`), each
    variant's largest absolute difference."""

    answers: list
    disagreement: dict


@dataclasses.dataclass(frozen=True)
class Blank:
    """One numerical answer of a quiz question: its label in both languages, the value and the
    absolute tolerance a typed answer is accepted within."""

    label: dict
    value: float
    tolerance: float


@dataclasses.dataclass(frozen=True, kw_only=True)
class Family:
    """A problem's variants.

    Attributes:
      propose: ``propose(rng) -> givens``, the config fields of ``configs/exam_PROBLEM.py``.
      screen: ``screen(givens)`` raises :class:`Rejected` for a degenerate draw.
      group: variants with equal ``group(givens)`` share one compiled program.
      verify: ``verify([givens, ...]) -> Verified``, the keys three ways, batched.
      answers: ``answers(result)``, the verified numbers read from ``solve``'s result (so the key
        that is published is bound to the key that was verified).
      blanks: ``blanks(result) -> [Blank, ...]``, the Moodle question's numerical answers.
      dtype: the keys' dtype, which picks the tolerance table (``"int64"``: exact counts).
      stress_cost: roughly the seconds ``--stress`` takes on the family (the costliest run first).
    """

    propose: Callable[[np.random.Generator], dict]
    screen: Callable[[dict], None]
    group: Callable[[dict], Hashable]
    verify: Callable[[list], Verified]
    answers: Callable[[dict], dict]
    blanks: Callable[[dict], list]
    dtype: str = "float64"
    stress_cost: float = 5.0

    def draw(self, rng: np.random.Generator) -> dict:
        givens = self.propose(rng)
        self.screen(givens)
        return givens


# --------------------------------------------------------------------------------------------
# The problem.


def _no_errata(result: dict) -> list:
    del result
    return []


def _ok_flag(result: dict) -> bool:
    return result.get("ok", True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Problem:
    """One exam problem, everything jaxdl does with it.

    Attributes:
      name: the command's name (``jaxdl exam NAME``), e.g. ``"mlp"``.
      config: its default givens: a config module of ``configs/`` (``"exam_mlp"``) or a path.
      solve: ``solve(config) -> result``, JSON-ready; ``result["errata"]`` is ``[]`` there.
      errata: ``errata(result) -> [erratum, ...]``, the official solution's defects, checked on
        the seed exam's givens (a drawn variant has none).
      report: ``report(result) -> str``, the readable answer (English).
      questions: ``questions(result) -> (Question, ...)``, as asked for those givens.
      sheet: ``sheet(result, figures, lang) -> {question code: Body}``.
      ok: ``ok(result)``: every cross-check of the result held.
      figures: ``figures(result, directory, lang) -> (figures, warnings)``, the sheet's pictures
        (a key per picture → its SVG path), or ``None``.
      family: its variants, or ``None``.
    """

    name: str
    config: str
    solve: Callable[[Any], dict]
    report: Callable[[dict], str]
    questions: Callable[[dict], tuple]
    sheet: Callable[[dict, dict | None, Any], dict]
    errata: Callable[[dict], list] = _no_errata
    ok: Callable[[dict], bool] = _ok_flag
    figures: Callable[[dict, str, Any], tuple] | None = None
    family: Family | None = None
