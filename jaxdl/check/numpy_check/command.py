"""The library side of ``jaxdl check-numpy``: one request in, the outcome out (the sandbox mode
chosen, the submissions, the results, what failed and the text to show), every decision made here
once (the options checked, the submissions found, the mode chosen, the outputs checked, all before
any work); the command line only parses and prints.

Example::

  >>> out = check_numpy(CheckRequest(paths=("jaxdl/check/lab_reference.py",)))  # doctest: +SKIP
  >>> out.mode, out.exit_code  # doctest: +SKIP
  ('namespaces', 0)
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable

from jaxdl.check.numpy_check import build, sandbox
from jaxdl.check.numpy_check.discover import Submission, discover
from jaxdl.check.numpy_check.grade import DEFAULT_MEMORY_MB, DEFAULT_TIME_LIMIT_S, Options, duplicate_ids, grade, \
    grade_mode, gradebook_csv, report_json
from jaxdl.check.numpy_check.results import SubmissionResult, terminal
from jaxdl.errors import InputError
from jaxdl.fileio import check_writable, write_atomically

COMMAND = "jaxdl check-numpy"


@dataclasses.dataclass(frozen=True, kw_only=True)
class CheckRequest:
    """What ``jaxdl check-numpy`` was asked (the command line's options, by name); ``argv``: the
    command line as the shell expanded it (a file named like an option is refused)."""

    paths: tuple[str, ...]
    layers: tuple[str, ...] = ()
    entry: str = "layers.py"
    jobs: int | None = None
    gradebook: str | None = None
    json: str | None = None
    time_limit: float = DEFAULT_TIME_LIMIT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    require: str | None = None
    assignment: str | None = None
    gradebook_format: str = "jaxdl"
    pseudonymize: bool = False
    sandbox: str = "auto"
    allow_weaker_sandbox: bool = False
    progress: bool = False
    argv: tuple[str, ...] = ()


@dataclasses.dataclass(kw_only=True)
class CheckOutcome:
    """What came of it: ``mode`` (the sandbox's), ``submissions`` and their ``results`` (in the same
    order), ``report`` (for stdout), ``problems`` (lines for stderr: each submission that could not
    be checked, platform ids two submissions carry, jaxdl's own failures), ``write_error`` (the
    results could not be written: nothing was written there) and ``exit_code``."""

    mode: str
    submissions: list[Submission]
    results: list[SubmissionResult]
    report: str
    problems: list[str]
    write_error: str = ""
    exit_code: int = 0


def check_numpy(request: CheckRequest, announce: Callable[[str], None] | None = None) -> CheckOutcome:
    """Checks the request, finds the submissions once, chooses the sandbox mode once, grades, and
    writes the gradebook and the JSON atomically once every student process has ended.
    ``announce`` is given the sandbox's walls, in words, before any student's code runs.

    Raises:
      InputError: bad input, before any work (an option file, a malformed assignment or
        ``--layer``, a path that is not a submission, an output that cannot be written, a folder of
        submissions without the namespaces and without ``allow_weaker_sandbox``).
    """
    _refuse_option_files(request.argv)
    _check_limits(request)
    outputs = [p for p in (request.gradebook, request.json) if p]
    if len(outputs) == 2 and os.path.abspath(request.gradebook) == os.path.abspath(request.json):
        raise InputError(f"{COMMAND}: --gradebook and --json name the same file")
    if request.layers and (request.require or request.assignment):
        raise InputError(f"{COMMAND}: --layer and --require/--assignment both choose the classes; give one")
    assignment = build.load_assignment(request.assignment, request.require)
    for layer in request.layers:
        if not layer.isidentifier():
            build.check_expression(layer)
    with discover(request.paths, request.entry) as found:
        subs = found.submissions
        inputs = {os.path.realpath(p) for p in request.paths} | {os.path.realpath(s.file) for s in subs if s.file}
        for out in outputs:
            if os.path.realpath(out) in inputs:
                raise InputError(f"{COMMAND}: refusing to write {out!r}: it is one of the files being checked")
            check_writable(COMMAND, out)
        opts = Options(layers=request.layers, time_limit=request.time_limit, memory_mb=request.memory_mb,
                             sandbox=request.sandbox, assignment=assignment)
        mode = grade_mode(opts, len(subs), request.allow_weaker_sandbox)
        if announce is not None:
            announce(sandbox_line(mode))
        results = grade(subs, jobs=request.jobs, progress=request.progress,
                              opts=dataclasses.replace(opts, sandbox=mode))
    outcome = CheckOutcome(mode=mode, submissions=subs, results=results, problems=[],
                           report=submission_detail(results[0]) if len(results) == 1 and not assignment
                           else class_summary(results))
    try:  # every student process has ended (grade returns only then): the results are written now
        if request.gradebook:
            write_atomically(request.gradebook, gradebook_csv(results, request.gradebook_format,
                                                                    request.pseudonymize))
        if request.json:
            write_atomically(request.json, report_json(results, request.pseudonymize))
    except OSError as e:
        outcome.write_error = (f"{COMMAND}: could not write the results to {e.filename or 'the output'!r}: "
                               f"{e.strerror or e} (nothing was written there)")
    outcome.problems = _problems(results, request.gradebook_format if request.gradebook else "")
    if outcome.write_error:
        outcome.problems.append(outcome.write_error)
    internal = any(r.internal for r in results)
    outcome.exit_code = 0 if all(r.ok for r in results) and not internal and not outcome.write_error else 1
    return outcome


def _check_limits(request: CheckRequest) -> None:
    t, m = request.time_limit, request.memory_mb
    if not (t > 0 and math.isfinite(t)):
        raise InputError(f"{COMMAND}: --time-limit: expected a finite number > 0; got {t:g}")
    if t > 1e6:  # the wait is counted in milliseconds in a C int: about 24 days at most
        raise InputError(f"{COMMAND}: --time-limit: expected at most 1000000 seconds; got {t:g}")
    if not 256 <= m <= 1 << 30:  # below 256 MB numpy itself cannot start
        raise InputError(f"{COMMAND}: --memory-limit: expected a number of megabytes from 256 to {1 << 30}; got {m}")


def _refuse_option_files(argv) -> None:
    """A file named like an option (``--layer=ReLU``), expanded by the shell from ``*``, would
    change how every submission is graded: refused, with the way out."""
    for arg in argv:
        if arg == "--":
            return
        if arg.startswith("-") and os.path.lexists(arg):
            raise InputError(f"{COMMAND}: {arg!r} is an option and also a file here (a shell pattern expanded to "
                             "it?): put -- before the paths, or write ./* instead of *")


def _problems(results: list[SubmissionResult], platform: str) -> list[str]:
    """The lines for stderr: one per submission that could not be checked, each note the grader
    must see, each platform id two submissions carry, and jaxdl's own failures."""
    lines = [terminal(f"{r.name}: {r.error}") for r in results if r.error]
    lines += [terminal(f"{r.name}: {note}") for r in results for note in r.notes if note.startswith("no Canvas id")]
    for key, names in duplicate_ids(results).items():
        left_out = f" (left out of the {platform} gradebook)" if platform in ("moodle", "canvas") else ""
        lines.append(terminal(f"{COMMAND}: {key} is carried by {len(names)} submissions{left_out}: {', '.join(names)}"))
    internal = sum(1 for r in results if r.internal)
    if internal:
        lines.append(f"{COMMAND}: the checker itself failed on {internal} submission(s) (a bug in jaxdl; each is a "
                     "failing row, and --json holds the traceback)")
    return lines


def sandbox_line(mode: str) -> str:
    """The walls of this run, in words (shown once per run, before any student's code runs)."""
    walls = sandbox.machine_walls()
    if mode == "namespaces":
        return (f"check-numpy: sandbox: namespaces (user, pid, net, mount, ipc, uts), Landlock ABI {walls['landlock']}, "
                f"{'seccomp allow-list, one process' if walls['seccomp'] else 'no seccomp'}, CPU, memory, process "
                "and disk limits")
    kind = "Landlock and seccomp where the kernel has them, and limits" if mode == "process" else \
        "resource limits and one process only"
    return (f"check-numpy: sandbox: WEAKER ({mode}: {kind}; no namespaces: {walls['why'] or 'not asked for'}); a "
            "student's code can see this machine's files and network")


def submission_detail(r: SubmissionResult) -> str:
    """One submission as the terminal shows it: each class, its failing checks (those a failure kept
    from running on one line per reason) and notes."""
    t = terminal
    lines = [f"check-numpy {t(r.name)}: float64, finite differences of your own forward, and jaxdl's layers"]
    if r.error:
        return "\n".join([*lines, f"\nFAIL {t(r.error)}"])
    for c in r.classes:
        passed = sum(k.ok for k in c.checks)
        lines.append(f"\n{'ok  ' if c.ok else 'FAIL'} {t(c.cls)}  ({passed}/{len(c.checks)} checks)   built as "
                     f"{t(c.built_as)}")
        blocked: dict[str, list] = {}  # the checks a failure kept from running: one line per reason
        for k in c.checks:
            if k.ok:
                continue
            if k.detail.startswith("could not run: "):
                blocked.setdefault(k.detail.removeprefix("could not run: "), []).append(k.name)
            else:
                lines.append(f"      ✗ {t(k.name)}: {t(k.detail)}" if k.detail else f"      ✗ {t(k.name)}")
        for reason, names in blocked.items():
            more = (f" (and {len(names) - 1} more check{'s' if len(names) > 2 else ''} that need it)"
                    if len(names) > 1 else "")
            lines.append(f"      ✗ {t(names[0])}: could not run: {t(reason)}{more}")
        lines += [f"      note: {t(note)}" for note in c.notes]
    lines += [f"\nnote: {t(note)}" for note in r.notes]
    failed = [t(c.cls) for c in r.classes if not c.ok]
    lines.append(f"\n{len(r.classes) - len(failed)}/{len(r.classes)} classes ok"
                 + (f"; failing: {', '.join(failed)}" if failed else ""))
    return "\n".join(lines)


def class_summary(results: list[SubmissionResult]) -> str:
    """A class as the terminal shows it: one line per submission, one per failing class."""
    t = terminal
    width = min(max(len(t(r.name)) for r in results) + 2, 48)
    lines = [f"check-numpy: {len(results)} submissions (float64, finite differences and jaxdl's layers)\n"]
    for r in results:
        ok = sum(c.ok for c in r.classes)
        status = "ok  " if r.ok else "FAIL"
        points = f"  {r.points:g}/{r.out_of:g} points" if r.out_of else ""
        lines.append(f"{status} {t(r.name):<{width}} " + (t(r.error) if r.error else f"{ok}/{len(r.classes)} classes ok")
                     + points)
        lines += [f"       ✗ {t(c.cls)}: {t(c.first_failure)}" for c in r.classes if not c.ok]
    lines.append(f"\n{sum(r.ok for r in results)}/{len(results)} submissions pass")
    return "\n".join(lines)
