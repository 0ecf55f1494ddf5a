"""What the checker decides: a :class:`Check`, the checks of one class, those of a submission,
and the gradebook's rows (with every cell a spreadsheet could execute neutralised)."""

from __future__ import annotations

import dataclasses
import re


@dataclasses.dataclass
class Check:
    """One check: its name, whether it passed, the largest error where one was measured, and
    the reason in words when it failed."""

    name: str
    ok: bool
    max_abs_err: float | None = None
    detail: str = ""

    def __post_init__(self):
        self.ok = bool(self.ok)
        self.max_abs_err = None if self.max_abs_err is None else float(self.max_abs_err)


@dataclasses.dataclass
class ClassResult:
    """The checks of one student class. ``ok`` only when every check ran to its end and passed."""

    cls: str
    built_as: str
    checks: list[Check] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    completed: bool = False  # set once every check of the class has run
    max_points: float | None = None  # the assignment's (default: the number of checks of its kind)
    all_or_nothing: bool = False
    internal: str = ""  # the checker itself failed on this class (jaxdl's bug): its traceback

    @property
    def ok(self) -> bool:
        return self.completed and bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def first_failure(self) -> str:
        bad = next((c for c in self.checks if not c.ok), None)
        if bad is not None:
            return f"{bad.name}: {bad.detail}" if bad.detail else bad.name
        return "" if self.ok else "the checks did not run to completion"

    @property
    def out_of(self) -> float:
        return float(self.max_points if self.max_points is not None else len(self.checks))

    @property
    def points(self) -> float:
        """Points earned: all of them when ok; else none (all or nothing) or a share of the
        checks passed (an unfinished class earns nothing)."""
        if self.ok:
            return self.out_of
        if self.all_or_nothing or not self.completed:
            return 0.0
        total = max(len(self.checks), 1)
        return round(self.out_of * sum(c.ok for c in self.checks) / total, 2)

    def to_json(self) -> dict:
        return {"class": self.cls, "built_as": self.built_as, "ok": self.ok,
                "checks_passed": sum(c.ok for c in self.checks), "checks_total": len(self.checks),
                "points": self.points, "max_points": self.out_of,
                "notes": self.notes, "checks": [dataclasses.asdict(c) for c in self.checks]}


@dataclasses.dataclass
class SubmissionResult:
    """One submission: its classes' results, or why it could not be checked at all."""

    name: str
    path: str
    classes: list[ClassResult] = dataclasses.field(default_factory=list)
    error: str = ""  # set when the file could not be loaded, or nothing could be checked
    stdout: str = ""
    stderr: str = ""
    walls: dict = dataclasses.field(default_factory=dict)  # the sandbox's walls, as its worker reported them
    student_id: str = ""  # from a learning platform's folder or file name
    student_name: str = ""
    platform: str = ""
    internal: str = ""  # the checker itself failed on this submission (jaxdl's bug), in words
    max_points: float = 0.0  # of an unloadable submission: the assignment's total
    notes: list[str] = dataclasses.field(default_factory=list)  # e.g. which im2col_cython the file imported

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.classes) and all(c.ok for c in self.classes)

    @property
    def points(self) -> float:
        return round(sum(c.points for c in self.classes), 2)

    @property
    def out_of(self) -> float:
        return round(sum(c.out_of for c in self.classes), 2) if self.classes else self.max_points

    def rows(self) -> list[dict]:
        """The gradebook's rows: one per class, or one row with class ``*`` when unloadable."""
        if self.error or not self.classes:
            return [{"submission": self.name, "class": "*", "ok": "false", "checks_passed": 0, "checks_total": 0,
                     "points": 0, "max_points": _num(self.max_points),
                     "first_failure": self.error or "nothing was checked", "notes": ""}]
        return [{"submission": self.name, "class": c.cls, "ok": "true" if c.ok else "false",
                 "checks_passed": sum(k.ok for k in c.checks), "checks_total": len(c.checks),
                 "points": _num(c.points), "max_points": _num(c.out_of),
                 "first_failure": c.first_failure, "notes": "; ".join(c.notes)} for c in self.classes]

    def to_json(self) -> dict:
        out = {"submission": self.name, "ok": self.ok, "error": self.error, "points": self.points,
               "max_points": self.out_of, "notes": self.notes, "classes": [c.to_json() for c in self.classes],
               "stdout": self.stdout, "stderr": self.stderr, "walls": self.walls}
        if self.student_id:
            out["student_id"] = self.student_id
        if self.internal:
            out["internal_error"] = self.internal
        return out


def _num(x: float):
    return int(x) if float(x).is_integer() else x


GRADEBOOK_COLUMNS = ("submission", "class", "ok", "checks_passed", "checks_total", "points", "max_points",
                     "first_failure", "notes")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def cell(value) -> str:
    """A gradebook cell: control characters (and newlines) removed, and a leading ``= + - @``
    (or tab) neutralised with a quote, so that a spreadsheet shows the text instead of running it."""
    text = _CONTROL.sub("", str(value).replace("\n", " ").replace("\r", " ").replace("\t", " "))
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        text = "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def terminal(text) -> str:
    """Text from a student's file made safe for a terminal: control characters shown escaped."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text).replace("\n", "\\n"))
