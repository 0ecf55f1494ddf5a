"""What the checker decides: a :class:`Check`, the checks of one class, those of a submission."""

from __future__ import annotations

import dataclasses


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

    @property
    def ok(self) -> bool:
        return self.completed and bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def first_failure(self) -> str:
        bad = next((c for c in self.checks if not c.ok), None)
        if bad is not None:
            return f"{bad.name}: {bad.detail}" if bad.detail else bad.name
        return "" if self.ok else "the checks did not run to completion"

    def to_json(self) -> dict:
        return {"class": self.cls, "built_as": self.built_as, "ok": self.ok,
                "checks_passed": sum(c.ok for c in self.checks), "checks_total": len(self.checks),
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

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.classes) and all(c.ok for c in self.classes)

    def rows(self) -> list[dict]:
        """The gradebook's rows: one per class, or one row with class ``*`` when unloadable."""
        if self.error or not self.classes:
            return [{"submission": self.name, "class": "*", "ok": "false", "checks_passed": 0, "checks_total": 0,
                     "first_failure": self.error or "nothing was checked"}]
        return [{"submission": self.name, "class": c.cls, "ok": "true" if c.ok else "false",
                 "checks_passed": sum(k.ok for k in c.checks), "checks_total": len(c.checks),
                 "first_failure": c.first_failure} for c in self.classes]

    def to_json(self) -> dict:
        return {"submission": self.name, "ok": self.ok, "error": self.error,
                "classes": [c.to_json() for c in self.classes], "stdout": self.stdout, "stderr": self.stderr}


GRADEBOOK_COLUMNS = ("submission", "class", "ok", "checks_passed", "checks_total", "first_failure")
