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
    "mistake": "a common mistake gives the key, or two give one value (the feedback could not tell them apart)",
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


@dataclasses.dataclass(frozen=True, kw_only=True)
class Blank:
    """One numerical answer of a variant: the printed part it answers (``"E2(a)"``, or ``"E4"``
    for a question without parts), its id (letters, digits and ``_``, unique in the variant), its
    label in both languages, the key and the absolute tolerance a typed answer is accepted within."""

    part: str
    id: str
    label: dict
    value: float
    tolerance: float


def tolerance_for(value: float, dtype: str = "float64") -> float:
    """The tolerance a typed answer is accepted within: 0.01 or 1 %, whichever is larger; a count
    (an integer dtype) exactly."""
    return 0.0 if dtype.startswith("int") else max(0.01, 0.01 * abs(float(value)))


def close(a: float, b: float, tolerance: float) -> bool:
    """Two typed numbers that a blank cannot tell apart (within its tolerance)."""
    return abs(float(a) - float(b)) <= tolerance


@dataclasses.dataclass(frozen=True, kw_only=True)
class Mistake:
    """One of the course's common mistakes on a problem, as a computation of its own beside the
    correct one (from the givens, by the course's formulas done the wrong way).

    Attributes:
      name: an id (letters, digits, ``_``) the page and the bank name it by.
      title: its short name, ``{"hr": ..., "en": ...}``.
      why: one line saying what went wrong, in both languages.
      values: ``values(givens) -> {blank id: the value this mistake gives}`` for the blanks it
        changes; ``{}`` where it does not apply to the variant.
    """

    name: str
    title: dict
    why: dict
    values: Callable[[dict], dict]


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
      blanks: ``blanks(result) -> [Blank, ...]``, the numerical answers of the variant's printed
        parts (the Moodle question's blanks and the practice page's inputs).
      correct: ``correct(givens) -> {blank id: key}``, the keys by the course's formulas in plain
        numpy, beside which the mistakes are computed (a fourth computation of every key).
      mistakes: the course's common mistakes on the problem (:class:`Mistake`).
      hints: per printed part, the general hint for a wrong answer that is no known mistake.
      dtype: the keys' dtype, which picks the tolerance table (``"int64"``: exact counts).
      stress_cost: roughly the seconds ``--stress`` takes on the family (the costliest run first).
    """

    propose: Callable[[np.random.Generator], dict]
    screen: Callable[[dict], None]
    group: Callable[[dict], Hashable]
    verify: Callable[[list], Verified]
    answers: Callable[[dict], dict]
    blanks: Callable[[dict], list]
    correct: Callable[[dict], dict] | None = None
    mistakes: tuple = ()
    hints: dict = dataclasses.field(default_factory=dict)
    dtype: str = "float64"
    stress_cost: float = 5.0

    def draw(self, rng: np.random.Generator) -> dict:
        givens = self.propose(rng)
        self.screen(givens)
        self.screen_mistakes(givens)
        return givens

    def mistakes_of(self, givens: dict) -> dict:
        """``{blank id: [(mistake name, value), ...]}``: each mistake's value on each blank it
        changes, where a student typing it would be told it is wrong (outside the blank's
        tolerance of the key)."""
        if self.correct is None:
            return {}
        keys = self.correct(givens)
        out: dict = {}
        for m in self.mistakes:
            for blank, value in m.values(givens).items():
                if not close(value, keys[blank], tolerance_for(keys[blank], self.dtype)):
                    out.setdefault(blank, []).append((m.name, float(value)))
        return out

    def screen_mistakes(self, givens: dict) -> None:
        """Refuses a draw (``Rejected("mistake")``) where a mistake that applies gives the key on
        every blank it changes (a student making it would be told they are right), or two
        mistakes give one value on a blank (the feedback could not say which was made)."""
        if self.correct is None:
            return
        keys = self.correct(givens)
        told = self.mistakes_of(givens)
        for m in self.mistakes:
            changed = m.values(givens)
            if changed and not any(m.name in dict(told.get(b, [])) for b in changed):
                raise Rejected("mistake")
        for blank, found in told.items():
            tol = tolerance_for(keys[blank], self.dtype)
            for i, (_, a) in enumerate(found):
                if any(close(a, b, tol) for _, b in found[i + 1:]):
                    raise Rejected("mistake")


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
