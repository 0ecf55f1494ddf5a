"""The standalone lab checker that ``jaxdl check-numpy --export`` writes: ``check_lab.py`` runs
this with the modules of ``check-numpy`` it carries (numpy and the standard library only, Python
≥ 3.9) and the reference data beside it (``check_lab_data.npz``)::

  python check_lab.py my_layers.py [--json OUT]
  python check_lab.py SUBMISSION_FOLDER --gradescope results/results.json
  python check_lab.py SUBMISSION_FOLDER --prairielearn results/results.json
  python check_lab.py answer.py --coderunner          # CodeRunner's grader JSON on stdout

The checks, their names, diagnoses and points are ``check-numpy``'s; the layers a class is
compared with are :mod:`.numpy_reference`'s, replayed first on the data (jaxdl's JAX layers'
outputs and gradients, float64): a checker whose numbers differ from jaxdl's refuses to grade.
The student's code runs in a worker process behind the walls this machine allows
(:mod:`.sandbox`); as root outside namespaces, as the user nobody, who cannot read the data.

This module imports nothing of JAX: it travels inside ``check_lab.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import html
import io
import json
import math
import os
import sys

import numpy as np

from jaxdl.check.numpy_check import discover, grade, reference, sandbox
from jaxdl.check.numpy_check.build import parse_call
from jaxdl.check.numpy_check.command import sandbox_line, submission_detail
from jaxdl.check.numpy_check.results import SubmissionResult
from jaxdl.fileio import write_atomically
from jaxdl.labspec import LabClass, Part

DATA = "check_lab_data.npz"
FORMAT = 1
TOL = 1e-9  # the numpy layers against jaxdl's JAX layers, relative to the numbers' size (float64)
# The files a worker runs, written where it can read them: name in the bundle → file name.
WORKER_FILES = {"jaxdl.check.numpy_check.worker": "worker.py", "jaxdl.check.numpy_check.protocol": "protocol.py",
                "jaxdl.check.numpy_check.walls": "walls.py", "jaxdl.check.im2col_standin": "im2col_standin.py"}
SCIPY_STANDIN = {"jaxdl.check.scipy_standin": "__init__.py", "jaxdl.check.scipy_standin.stats": "stats.py",
                 "jaxdl.check.scipy_standin.special": "special.py"}


class DataError(Exception):
    """The reference data are missing, damaged, or do not match this checker's numbers."""


# --------------------------------------------------------------------------------------------
# The lab classes and the assignment, as the data carry them (JSON).


def _decode_arg(value):
    if isinstance(value, dict) and "part" in value:
        return Part(value["part"], value["role"])
    if isinstance(value, list):
        return tuple(_decode_arg(v) for v in value)
    return value


def lab_from_json(d: dict) -> LabClass:
    return LabClass(names=tuple(d["names"]), kind=d["kind"], input_shape=tuple(d["input_shape"]),
                    args={k: _decode_arg(v) for k, v in d["args"].items()},
                    aliases={k: tuple(v) for k, v in d["aliases"].items()}, defaults=dict(d["defaults"]),
                    params=tuple(d["params"]), elementwise=bool(d["elementwise"]))


def assignment_from_json(d: dict | None) -> dict | None:
    if d is None:
        return None
    out = {}
    for name, spec in d.items():
        args, kwargs = ((), ())
        if spec["build"]:
            _, args, kwargs = parse_call(spec["build"])
        out[name] = {"points": spec["points"], "all_or_nothing": spec["all_or_nothing"], "build": spec["build"],
                     "args": args, "kwargs": kwargs}
    return out


# --------------------------------------------------------------------------------------------
# The reference data: read, and replayed on this checker's layers.


def load_data(path: str, sha256: str | None = None) -> tuple[dict, dict]:
    """``(meta, arrays)`` of the data file, whose SHA-256 must be ``sha256`` (the one the export
    wrote into ``check_lab.py``); raises :class:`DataError`."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"cannot read the reference data {path!r}: {e.strerror or e}") from None
    if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
        raise DataError(f"the reference data {path!r} are not the ones this checker was exported with (changed or "
                        "damaged): export the checker again")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("meta")))
        if not isinstance(meta, dict) or type(meta.get("format")) is not int:
            raise ValueError("no format number")
    except Exception as e:  # noqa: BLE001 - whatever a damaged file raises is one line
        raise DataError(f"cannot read the reference data {path!r}: {type(e).__name__}: {e}") from None
    if meta["format"] != FORMAT:
        raise DataError(f"the reference data {path!r} are of format {meta['format']!r}; this checker reads {FORMAT}")
    return meta, arrays


def _close(a, b) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= TOL * (1.0 + np.abs(b))))


def replay(meta: dict, arrays: dict) -> int:
    """Checks this checker's numpy layers on every case of the data (jaxdl's outputs and
    gradients); returns the number of cases; raises :class:`DataError` on the first mismatch."""
    from jaxdl.check.numpy_check import numpy_reference as nr

    layers = {n for n, d in meta["classes"].items() if d["kind"] == "layer"}
    missing = layers - {c.get("layer") for c in meta["cases"]}
    if missing or not {"softmax_cross_entropy", "l2_regularizer"} <= {c["name"] for c in meta["cases"]}:
        raise DataError(f"the reference data have no case for {sorted(missing) or 'the loss or the regularizer'}")
    for case in meta["cases"]:
        c, kind = case["name"], case["kind"]
        got: dict[str, np.ndarray] = {}
        if kind == "layer":
            layer = nr.build(case["layer"], case["config"])
            params = {p: arrays[f"{c}/param/{p}"] for p in case["params"]}
            x, dy = arrays[f"{c}/x"], arrays[f"{c}/dy"]
            got["y"] = layer.apply(params, x)
            dparams, got["dx"] = layer.vjp(params, x, dy)
            got.update({f"dparam/{p}": v for p, v in dparams.items()})
        elif kind == "loss":
            loss, got["dx"] = nr.softmax_cross_entropy(arrays[f"{c}/x"], arrays[f"{c}/y"])
            got["loss"] = np.float64(loss)
        else:
            value, got["dw"] = nr.l2_regularizer(arrays[f"{c}/w"], case["config"]["weight_decay"])
            got["loss"] = np.float64(value)
        for what, value in got.items():
            expected = arrays.get(f"{c}/expected/{what}")
            if expected is None or not _close(value, expected):
                raise DataError(f"{c}: this checker's {what} differs from jaxdl's in the reference data (damaged data, "
                                "or a checker of another version)")
    return len(meta["cases"])


# --------------------------------------------------------------------------------------------
# The platforms' results.


def _check_scores(r: SubmissionResult):
    """``(class, check, score, max score)`` for every check: a class's points shared among its
    checks in proportion to their points (what ``check-numpy`` gives the class, check by check)."""
    for c in r.classes:
        total = sum(k.points for k in c.checks) or 1.0
        earns = c.ok or (c.completed and not c.all_or_nothing)
        for k in c.checks:
            share = c.out_of * k.points / total
            yield c, k, (share if k.ok and earns else 0.0), share


def _line(c, k) -> str:
    return ("ok" if k.ok else f"failed: {k.detail}" if k.detail else "failed") + \
        (f" (largest error {k.max_abs_err:.3g})" if k.max_abs_err is not None and not k.ok else "")


def gradescope(r: SubmissionResult) -> dict:
    """Gradescope's ``results.json``: a test per check (``score``, ``max_score``, ``output``)."""
    if r.error or not r.classes:
        tests = [{"name": "load the submission", "score": 0.0, "max_score": float(r.out_of), "status": "failed",
                  "output": r.error or "nothing was checked", "visibility": "visible"}]
    else:
        tests = [{"name": f"{c.cls}: {k.name}", "score": round(s, 4), "max_score": round(m, 4),
                  "status": "passed" if k.ok else "failed", "output": _line(c, k), "visibility": "visible"}
                 for c, k, s, m in _check_scores(r)]
    return {"score": float(r.points), "output": submission_detail(r), "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def prairielearn(r: SubmissionResult) -> dict:
    """PrairieLearn's external grader ``results.json``: ``gradable``, ``score`` in [0, 1], a test per check."""
    if r.error or not r.classes:
        tests = [{"name": "load the submission", "points": 0.0, "max_points": float(r.out_of) or 1.0,
                  "message": r.error or "nothing was checked", "output": ""}]
    else:
        tests = [{"name": f"{c.cls}: {k.name}", "points": round(s, 4), "max_points": round(m, 4),
                  "message": _line(c, k), "output": ""} for c, k, s, m in _check_scores(r)]
    return {"gradable": True, "score": (r.points / r.out_of) if r.out_of else 0.0,
            "message": submission_detail(r), "tests": tests}


def coderunner(r: SubmissionResult) -> dict:
    """CodeRunner's combinator template grader JSON: ``fraction`` from the points, a result row per
    check (``iscorrect``, its name, its mark, the diagnosis)."""
    rows = [["iscorrect", "Check", "Mark", "Diagnosis"]]
    if r.error or not r.classes:
        rows.append([False, "load the submission", f"0/{r.out_of:g}", r.error or "nothing was checked"])
    else:
        rows += [[bool(k.ok), f"{c.cls}: {k.name}", f"{s:.3g}/{m:.3g}", "" if k.ok else _line(c, k)]
                 for c, k, s, m in _check_scores(r)]
    fraction = (r.points / r.out_of) if r.out_of else 0.0
    prologue = (f"<p>{html.escape(f'{r.points:g}/{r.out_of:g} points')}: feedback while you work; "
                "the graded run is the course's own check.</p>")
    return {"fraction": max(0.0, min(1.0, fraction)), "testresults": rows, "prologuehtml": prologue}


# --------------------------------------------------------------------------------------------
# The command.


def _worker_files(sources: dict) -> None:
    """Writes the files a worker runs (and the scipy stand-in where scipy is missing) into a
    folder every user can read, and points the sandbox at them."""
    import importlib.util

    folder = sandbox.readable_temp("check-lab-")
    paths = {}
    for module, name in WORKER_FILES.items():
        paths[name] = os.path.join(folder, name)
        with open(paths[name], "w", encoding="utf-8") as f:
            f.write(sources[module])
        os.chmod(paths[name], 0o644)
    sandbox.WORKER_PATH, sandbox.PROTOCOL_PATH = paths["worker.py"], paths["protocol.py"]
    sandbox.WALLS_PATH, sandbox.STANDIN_PATH = paths["walls.py"], paths["im2col_standin.py"]
    if importlib.util.find_spec("scipy") is None:
        standin = os.path.join(folder, "scipy")
        os.mkdir(standin, 0o755)
        os.chmod(standin, 0o755)
        for module, name in SCIPY_STANDIN.items():
            with open(os.path.join(standin, name), "w", encoding="utf-8") as f:
                f.write(sources[module])
            os.chmod(os.path.join(standin, name), 0o644)
        sandbox.STANDIN_PACKAGES["scipy"] = standin


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints its whole usage)
        print(f"check_lab.py: {message} (--help for the options)", file=sys.stderr)
        sys.exit(2)


def _bad_arguments(args) -> str | None:
    """What is wrong with the command line, in one line (None: nothing)."""
    if not (args.time_limit > 0 and math.isfinite(args.time_limit)) or args.time_limit > 1e6:
        return f"--time-limit: expected a finite number of seconds > 0, at most 1000000; got {args.time_limit:g}"
    if not 256 <= args.memory_mb <= 1 << 30:
        return f"--memory-limit: expected a number of megabytes from 256 to {1 << 30}; got {args.memory_mb}"
    if args.budget is not None and not (args.budget > 0 and math.isfinite(args.budget)):
        return f"--budget: expected a finite number of seconds > 0; got {args.budget:g}"
    if not os.path.lexists(args.submission):
        return f"no such file or directory: {args.submission!r}"
    outputs = [o for o in (args.json, args.gradescope, args.prairielearn) if o is not None]
    if len({os.path.realpath(o) for o in outputs}) < len(outputs):
        return "two outputs name the same file"
    submission = os.path.realpath(args.submission)
    for out in outputs:
        real = os.path.realpath(out)
        if not out or os.path.isdir(real):
            return f"cannot write {out!r}: expected a file's path"
        if real == submission or real.startswith(submission + os.sep):
            return f"refusing to write {out!r}: it is the submission being checked"
        if not os.path.isdir(os.path.dirname(real)):
            return f"cannot write {out!r}: no such folder {os.path.dirname(real)!r}"
    return None


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="check_lab.py", description="Checks a numpy lab file as jaxdl check-numpy does: "
                                "every check named, the mistake diagnosed, the points.")
    p.add_argument("submission", help="the lab file (layers.py), or a folder holding it")
    p.add_argument("--json", metavar="OUT", help="write the JSON jaxdl check-numpy --json writes")
    p.add_argument("--gradescope", metavar="OUT", help="write Gradescope's results.json")
    p.add_argument("--prairielearn", metavar="OUT", help="write PrairieLearn's results.json")
    p.add_argument("--coderunner", action="store_true", help="print CodeRunner's grader JSON (and nothing else)")
    p.add_argument("--class", action="append", dest="classes", metavar="NAME",
                   help="check this class only (repeatable; default: every class, or the assignment's)")
    p.add_argument("--entry", default="layers.py", help="the file checked in a folder (default layers.py)")
    p.add_argument("--time-limit", type=float, default=grade.DEFAULT_TIME_LIMIT_S, help="CPU seconds per call")
    p.add_argument("--memory-limit", type=int, default=grade.DEFAULT_MEMORY_MB, dest="memory_mb",
                   help="the worker's address space in MB")
    p.add_argument("--sandbox", default="auto", choices=("auto", *sandbox.MODES))
    p.add_argument("--budget", type=float, metavar="SECONDS",
                   help="CPU seconds for the whole file (default 10 × the time limit, at least 60); its clock "
                        "budget, for code that sleeps, is 3 × that + 2 s")
    return p


def main(argv=None, sources: dict | None = None, here: str | None = None, data_sha256: str | None = None) -> int:
    """The command (``check_lab.py``): 0 when every class is ok, 1 otherwise, 2 for bad input."""
    args = _parser().parse_args(argv)
    here = here or os.path.dirname(os.path.abspath(sys.argv[0]))
    say = (lambda text: print(text, file=sys.stderr)) if args.coderunner else print
    bad = _bad_arguments(args)
    if bad:
        print(f"check_lab.py: {bad}", file=sys.stderr)
        return 2
    try:
        meta, arrays = load_data(os.path.join(here, DATA), data_sha256)
        cases = replay(meta, arrays)
    except (DataError, KeyError, TypeError, AttributeError, ValueError) as e:  # a damaged file: one line
        print(f"check_lab.py: {e}", file=sys.stderr)
        return 1
    reference.use_numpy({name: lab_from_json(d) for name, d in meta["classes"].items()})
    sandbox.REQUIRE_DROP = True
    if sources is not None:
        _worker_files(sources)
    assignment = assignment_from_json(meta["assignment"])
    if args.classes and assignment:
        print("check_lab.py: --class: this checker grades its assignment's classes; it checks no other",
              file=sys.stderr)
        return 2
    opts = grade.Options(layers=tuple(args.classes or ()), time_limit=args.time_limit, memory_mb=args.memory_mb,
                         cpu_budget=args.budget, sandbox=args.sandbox,
                         assignment=assignment)
    with discover.one_submission(args.submission, args.entry) as found:
        mode = grade.grade_mode(opts, 1, True)
        print(sandbox_line(mode).replace("check-numpy", "check_lab.py"), file=sys.stderr)
        say(f"check_lab.py: the reference layers agree with jaxdl's on {cases} cases of the data")
        result = grade.grade(found.submissions, jobs=1, opts=dataclasses.replace(opts, sandbox=mode))[0]
    payloads = {args.json: grade.report_json([result]) if args.json else None,
                args.gradescope: json.dumps(gradescope(result), indent=2, ensure_ascii=False) + "\n",
                args.prairielearn: json.dumps(prairielearn(result), indent=2, ensure_ascii=False) + "\n"}
    for out, text in payloads.items():
        if out:
            write_atomically(out, text)
    if args.coderunner:
        print(json.dumps(coderunner(result), ensure_ascii=False))
    else:
        say(submission_detail(result))
    return 0 if result.ok and not result.internal else 1
