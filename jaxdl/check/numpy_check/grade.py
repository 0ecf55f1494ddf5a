"""Grading: each submission in its own worker process, the verdicts decided here.

A submission's classes are checked one after the other in one worker; a worker that is lost
(it exited, was killed, ran out of time or memory, or broke the protocol) fails the class whose
check was running, and a fresh worker re-imports the file for the next class. Submissions are
graded in parallel threads, each with its own workers; jaxdl's compiled references are shared.
"""

from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import io
import json
import os
import zlib

import numpy as np

from jaxdl.check.numpy_check import checks as C
from jaxdl.check.numpy_check.discover import (Submission, constructor_args, find_submissions, input_shapes,
                                              kind)
from jaxdl.check.numpy_check.results import GRADEBOOK_COLUMNS, Check, ClassResult, SubmissionResult
from jaxdl.check.numpy_check.sandbox import Worker, WorkerLost


DEFAULT_TIME_LIMIT_S = 20.0
DEFAULT_MEMORY_MB = 2048


@dataclasses.dataclass(frozen=True)
class Options:
    """``layers``: class names or constructor expressions to restrict the check to; ``seed``
    seeds every input; ``time_limit`` (seconds) bounds each call into the student's code;
    ``memory_mb`` bounds the worker's address space."""

    layers: tuple = ()
    seed: int = 0
    time_limit: float = DEFAULT_TIME_LIMIT_S
    memory_mb: int = DEFAULT_MEMORY_MB


class _Session:
    """A submission's worker with its file imported; restarted after it is lost."""

    def __init__(self, sub: Submission, opts: Options):
        self.sub, self.opts = sub, opts
        self.worker: Worker | None = None
        self.loaded: dict | None = None
        self.output = {"stdout": [], "stderr": []}

    def ensure(self) -> dict:
        """The load reply of a live worker (starting one); raises :class:`WorkerLost`."""
        if self.worker is not None and self.worker.alive:
            return self.loaded
        self.lost()
        self.worker = Worker(self.opts.time_limit, self.opts.memory_mb)
        header, arrays = self.worker.request(
            {"op": "load", "path": self.sub.file, "folder": self.sub.folder, "seed": self.opts.seed}, what="import")
        self.loaded = header
        return header

    def lost(self) -> None:
        if self.worker is not None:
            for stream in self.output:
                self.output[stream].append(self.worker.text(stream))
            self.worker.close()
            self.worker = None

    def text(self, stream: str) -> str:
        """What the student's code printed, each worker's output truncated by the sandbox."""
        return "".join(t for t in self.output[stream] if t)


def _class_seed(seed: int, name: str) -> int:
    return (int(seed) * 1_000_003 + zlib.crc32(name.encode())) % 2**32


def _load_problem(session: _Session, loaded: dict) -> str:
    if "load_error" in loaded:
        return f"cannot load the file: {loaded['load_error']}"
    if "error" in loaded:
        student = C.Student(session.worker, session.opts.memory_mb)
        return f"cannot import the file: {student.error_text(loaded['error'], 'import')}"
    if not isinstance(loaded.get("classes"), list):
        return "the student's process sent a malformed reply during import"
    return ""


def grade_submission(sub: Submission, opts: Options = Options()) -> SubmissionResult:
    """Checks every class of one submission (or those ``opts.layers`` names)."""
    result = SubmissionResult(sub.name, sub.file)
    if sub.problem:
        result.error = sub.problem
        return result
    session = _Session(sub, opts)
    try:
        try:
            loaded = session.ensure()
        except WorkerLost as e:
            result.error = e.reason
            return result
        result.error = _load_problem(session, loaded)
        if result.error:
            return result
        for target in _targets(loaded, opts.layers):
            result.classes.append(_check_target(session, target, opts))
        if not result.classes:
            result.error = "nothing to check: the file defines no class with a forward method"
    finally:
        session.lost()
        result.stdout, result.stderr = session.text("stdout"), session.text("stderr")
    return result


def _targets(loaded: dict, layer_args) -> list[dict]:
    classes = [c for c in loaded["classes"] if isinstance(c, dict) and isinstance(c.get("name"), str)]
    exprs = [a for a in layer_args if not a.isidentifier()]
    names = [a for a in layer_args if a.isidentifier()]
    if exprs:
        return [{"expr": e, "name": e.split("(")[0].strip()} for e in exprs]
    n = loaded.get("make_layers")
    if not layer_args and isinstance(n, int) and not isinstance(n, bool) and n > 0:
        return [{"make_layers": i, "name": f"make_layers()[{i}]"} for i in range(min(n, 64))]
    known = {c["name"] for c in classes}
    out = [{"class": c, "name": c["name"]} for c in classes if not names or c["name"] in names]
    out += [{"missing": name, "name": name} for name in names if name not in known]
    return out


def _check_target(session: _Session, target: dict, opts: Options) -> ClassResult:
    name = target["name"]
    res = ClassResult(name, name)
    if "missing" in target:
        res.checks.append(Check("found in the file", False, None, f"no layer class named {name!r} in the file"))
        res.completed = True
        return res
    rng = np.random.default_rng([opts.seed, zlib.crc32(name.encode())])
    student = None
    try:
        problem = _load_problem(session, session.ensure())
        if problem:  # a re-import that now fails
            res.checks.append(Check("import", False, None, problem))
            return res
        student = C.Student(session.worker, opts.memory_mb)
        _run(student, res, target, rng, _class_seed(opts.seed, name), session.loaded["classes"])
        res.completed = True
    except WorkerLost as e:
        res.checks.append(Check(student.label if student else "import", False, None, e.reason))
        session.lost()
    return res


def _build(student: C.Student, header: dict, arrays: list, label: str = "build"):
    """``(state, error)``: the built instance's state, or why it could not be built."""
    student.label = label
    reply, out = student.request(header, arrays, "the constructor")
    if "error" in reply:
        return None, f"cannot build: {student.error_text(reply['error'], 'the constructor')}"
    if not isinstance(reply.get("attrs"), dict):
        return None, "the student's process sent a malformed reply during the constructor"
    state = C.decode_state(reply, out)
    state["class"] = reply.get("class")
    state["promoted"] = [str(p) for p in reply.get("promoted", []) if isinstance(p, str)]
    state["input_shape"] = reply.get("input_shape")
    return state, ""


def _note_promoted(res: ClassResult, state: dict) -> None:
    if state["promoted"]:
        res.notes.append(f"float32 array attributes promoted to float64 for the finite differences: "
                         f"{', '.join(state['promoted'])}")


def _run(student: C.Student, res: ClassResult, target: dict, rng, seed: int, classes: list) -> None:
    if "class" not in target:  # a --layer expression or an item of make_layers()
        header = {"op": "build", "seed": seed, "default_shape": list(C.VECTOR_SHAPE)}
        header.update({"expr": target["expr"]} if "expr" in target else {"make_layers": target["make_layers"]})
        state, error = _build(student, header, [])
        if error:
            res.checks.append(Check("build", False, None, error))
            return
        res.cls = state["class"] or res.cls
        res.built_as = target.get("expr") or f"{target['name']}: {res.cls}"
        info = next((c for c in classes if isinstance(c, dict) and c.get("name") == res.cls),
                    {"name": res.cls, "backward_inputs": True, "backward_params": True})
        _note_promoted(res, state)
        if kind(info) == "loss":
            C.check_loss(student, res, info, rng)
        else:
            shape = state["input_shape"] or C.VECTOR_SHAPE
            C.check_layer(student, res, info, state, tuple(shape), rng)
        return

    info = target["class"]
    k = kind(info)
    if k in ("loss", "regularizer"):
        weights = rng.standard_normal((4, 3))
        overrides = {"weights": weights} if k == "regularizer" else {}
        try:
            encoded, arrays, plain, res.built_as = constructor_args(info, C.VECTOR_SHAPE, overrides)
        except TypeError as e:
            res.checks.append(Check("build", False, None, f"cannot build: {e}"))
            return
        state, error = _build(student, {"op": "build", "cls": info["name"], "kwargs": encoded, "seed": seed}, arrays)
        if error:
            res.checks.append(Check("build", False, None, error))
            return
        _note_promoted(res, state)
        if k == "loss":
            C.check_loss(student, res, info, rng)
        else:
            lam = plain.get("weight_decay", state["scalars"].get("weight_decay"))
            C.check_regularizer(student, res, info, weights, lam if isinstance(lam, (int, float)) else None)
        return

    # A layer: built for the first input shape (and output count) its forward accepts.
    first_error = None
    for shape in input_shapes(info):
        d = int(np.prod(shape[1:]))
        for overrides in ({}, {"num_outputs": d}):
            try:
                encoded, arrays, _, built_as = constructor_args(info, shape, overrides)
            except TypeError as e:
                first_error = first_error or f"cannot build: {e}"
                continue
            state, error = _build(student, {"op": "build", "cls": info["name"], "kwargs": encoded, "seed": seed},
                                  arrays)
            if error:
                first_error = first_error or error
                continue
            res.built_as = built_as
            probe = student.call("forward", rng.uniform(-1, 1, shape), label="forward")
            if probe.ok and isinstance(probe.value, np.ndarray):
                state, _ = _build(student, {"op": "build", "cls": info["name"], "kwargs": encoded, "seed": seed},
                                  arrays)
                _note_promoted(res, state)
                C.check_layer(student, res, info, state, shape, rng)
                return
    # Nothing ran: build it once more for the first shape and report forward's own failure.
    shape = input_shapes(info)[0]
    try:
        encoded, arrays, _, res.built_as = constructor_args(info, shape, {})
    except TypeError as e:
        res.checks.append(Check("build", False, None, f"cannot build: {e}"))
        return
    state, error = _build(student, {"op": "build", "cls": info["name"], "kwargs": encoded, "seed": seed}, arrays)
    if error:
        res.checks.append(Check("build", False, None, first_error or error))
        return
    _note_promoted(res, state)
    C.check_layer(student, res, info, state, shape, rng)


# --------------------------------------------------------------------------------------------
# Many submissions.


def grade(paths, *, entry: str = "layers.py", jobs: int | None = None, progress: bool = False,
          opts: Options = Options()) -> list[SubmissionResult]:
    """Grades every submission under ``paths`` (see :func:`find_submissions`), ``jobs`` at a time.

    Raises:
      BadPath: a path that is not a submission or a folder of them (before any work).
    """
    subs = find_submissions(paths, entry)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(subs)))
    results: list[SubmissionResult | None] = [None] * len(subs)
    from tqdm.auto import tqdm

    pool = concurrent.futures.ThreadPoolExecutor(jobs)
    try:
        with tqdm(total=len(subs), desc="check-numpy", unit="submission", disable=None if progress else True,
                  leave=False) as bar:
            futures = {pool.submit(grade_submission, sub, opts): i for i, sub in enumerate(subs)}
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
    finally:  # on an error or Ctrl-C: start nothing new; the running submissions end their workers
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def check_file(path: str, layers=(), seed: int = 0, time_limit: float = DEFAULT_TIME_LIMIT_S,
               memory_mb: int = DEFAULT_MEMORY_MB) -> SubmissionResult:
    """Checks one student file: every layer class it can build, or those ``layers`` names.

    Args:
      path: the student's ``.py`` file.
      layers: class names, or constructor expressions such as ``'Swish(name="s", beta=1.5)'``
        (``input_layer`` is available in the expression).
      seed: seeds the inputs and upstream gradients.
      time_limit: seconds allowed per call into the student's code.
      memory_mb: the student's process's address-space limit.
    """
    return grade([path], jobs=1, opts=Options(tuple(layers), seed, time_limit, memory_mb))[0]


# --------------------------------------------------------------------------------------------
# Reports, written atomically.


def gradebook_csv(results: list[SubmissionResult]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=GRADEBOOK_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        writer.writerows(r.rows())
    return buf.getvalue()


def report_json(results: list[SubmissionResult]) -> str:
    payload = {"ok": bool(results) and all(r.ok for r in results), "submissions": [r.to_json() for r in results]}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
