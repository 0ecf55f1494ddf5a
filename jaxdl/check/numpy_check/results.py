"""What the checker decides: a :class:`Check`, the checks of one class, those of a submission,
and the gradebook's rows (with every cell a spreadsheet could execute neutralised). Every text
that came from a worker or a file name is made safe before it is stored (:func:`safe_text`,
:func:`safe_name`), so that writing the results can fail only for the grader's own reasons."""

from __future__ import annotations

import dataclasses
import os
import re

_SURROGATE = re.compile("[\ud800-\udfff]")
# Control characters (C0 but tab and newline, DEL, C1), line and paragraph separators, bidirectional overrides.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escaped(m: re.Match) -> str:
    return m.group().encode("unicode_escape").decode("ascii")


def safe_text(value) -> str:
    """Text from a worker (a student's exception, class name, output) as it is stored: a lone
    surrogate escaped (``"caf\\udce9"``: no UTF-8 encoder can write one) and every control character
    but tab and newline escaped (``"\\x1b"``), so that it can be written to any file and shown on a
    terminal without acting on it."""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(_escaped, _SURROGATE.sub(_escaped, text))


def safe_name(path) -> str:
    """A file name (or path) as it is shown and stored: bytes that are not UTF-8 (a Latin-1 name
    that ``unzip`` left as it was) escaped (``"caf\\xe9.py"``), control characters, tabs and newlines too."""
    if isinstance(path, bytes):
        raw = path
    else:
        try:
            raw = os.fsencode(path)
        except (UnicodeEncodeError, ValueError):  # a surrogate that is no undecodable byte
            return safe_text(path).replace("\n", "\\n").replace("\t", "\\t")
    return safe_text(raw.decode("utf-8", "backslashreplace")).replace("\n", "\\n").replace("\t", "\\t")


@dataclasses.dataclass(kw_only=True)
class Check:
    """One check's record: its name, whether it passed, the largest error where one was measured,
    the reason in words when it failed, and the points it is worth (its check's declaration)."""

    name: str
    ok: bool
    max_abs_err: float | None = None
    detail: str = ""
    points: float = 1.0

    def __post_init__(self):
        self.ok = bool(self.ok)
        self.max_abs_err = None if self.max_abs_err is None else float(self.max_abs_err)
        self.points = float(self.points)

    def to_json(self) -> dict:
        out = {"name": self.name, "ok": self.ok, "max_abs_err": self.max_abs_err, "detail": self.detail}
        if self.points != 1.0:  # the default: a point per record
            out["points"] = self.points
        return out


@dataclasses.dataclass(kw_only=True)
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
        return float(self.max_points if self.max_points is not None else sum(c.points for c in self.checks))

    @property
    def points(self) -> float:
        """Points earned: all of them when ok; else none (all or nothing) or a share in proportion
        to the points of the checks passed (an unfinished class earns nothing)."""
        if self.ok:
            return self.out_of
        if self.all_or_nothing or not self.completed:
            return 0.0
        total = sum(c.points for c in self.checks) or 1.0
        return round(self.out_of * sum(c.points for c in self.checks if c.ok) / total, 2)

    def to_json(self) -> dict:
        return {"class": self.cls, "built_as": self.built_as, "ok": self.ok,
                "checks_passed": sum(c.ok for c in self.checks), "checks_total": len(self.checks),
                "points": self.points, "max_points": self.out_of,
                "notes": self.notes, "checks": [c.to_json() for c in self.checks]}


@dataclasses.dataclass(kw_only=True)
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
    waited: bool = False  # the clock stopped a worker of it while its CPU time was under the limit
    graded_alone: bool = False  # ... and it was graded again alone (this is that result)

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.classes) and all(c.ok for c in self.classes)

    def make_safe(self) -> None:
        """Every text of the result through :func:`safe_text` (the name through :func:`safe_name`)."""
        self.name = safe_name(self.name)
        for attr in ("error", "stdout", "stderr", "student_id", "student_name", "platform", "internal"):
            setattr(self, attr, safe_text(getattr(self, attr)))
        self.notes = [safe_text(n) for n in self.notes]
        self.walls = _safe_tree(self.walls)
        for c in self.classes:
            c.cls, c.built_as, c.internal = safe_text(c.cls), safe_text(c.built_as), safe_text(c.internal)
            c.notes = [safe_text(n) for n in c.notes]
            for k in c.checks:
                k.name, k.detail = safe_text(k.name), safe_text(k.detail)

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
        if self.graded_alone:
            out["graded_again_alone"] = True
        return out


def _safe_tree(value):
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(k): _safe_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe_tree(v) for v in value]
    return value


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
