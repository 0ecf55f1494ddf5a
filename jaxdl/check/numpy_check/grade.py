"""Grading: each submission in its own sandboxed worker process, the verdicts decided here.

A submission's classes are checked one after the other in one worker; a worker that is lost
(it exited, was killed, ran out of CPU time or memory, or broke the protocol) fails the class
whose check was running, and a fresh worker re-imports the file for the next class. Whatever
goes wrong while one submission is graded is that submission's failure, with its reason, never
the run's; every text it leaves in its result is made safe to store (:func:`~.results.safe_text`).
Submissions are graded in parallel threads, each with its own workers; jaxdl's compiled references
are shared. A submission the clock stopped while its CPU time was under the limit is graded again,
alone, before that verdict stands.
"""

from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import html
import io
import json
import os
import shutil
import tempfile
import traceback
import zlib

import numpy as np

from jaxdl.check.numpy_check import build as B
from jaxdl.check.numpy_check import checks as C
from jaxdl.check.numpy_check import protocol as wire
from jaxdl.check.numpy_check import sandbox
from jaxdl.check.numpy_check.discover import Submission, copy_submission, discover, pseudonym
from jaxdl.check.numpy_check.results import GRADEBOOK_COLUMNS, Check, ClassResult, SubmissionResult, cell, safe_text
from jaxdl.check.numpy_check.sandbox import CheckerError, Worker, WorkerLost
from jaxdl.errors import InputError
from jaxdl.labspec import GENERIC_LAYER, Part

DEFAULT_TIME_LIMIT_S = 20.0
DEFAULT_MEMORY_MB = 2048
BUDGET_FACTOR, MIN_BUDGET_S = 10.0, 60.0  # a submission's CPU budget: 10 × the time limit, at least 60 s


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    """``layers``: class names or constructor expressions to restrict the check to; ``seed``
    seeds every input; ``time_limit`` (CPU seconds) bounds each call into the student's code;
    ``memory_mb`` the worker's address space; ``sandbox``: ``"auto"`` (the strongest this
    machine allows) or one of :data:`~.sandbox.MODES`; ``assignment``: the required classes
    (:func:`~.build.load_assignment`); ``cpu_budget``: CPU seconds for a whole submission (the
    clock's budget, for code that sleeps or waits, is 3 × that + 2 s)."""

    layers: tuple = ()
    seed: int = 0
    time_limit: float = DEFAULT_TIME_LIMIT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    sandbox: str = "auto"
    assignment: dict | None = None
    cpu_budget: float | None = None

    @property
    def budget(self) -> float:
        return self.cpu_budget if self.cpu_budget is not None else max(MIN_BUDGET_S, BUDGET_FACTOR * self.time_limit)

    @property
    def clock_budget(self) -> float:
        return sandbox.WALL_FACTOR * self.budget + sandbox.WALL_EXTRA_S

    @property
    def mode(self) -> str:
        return sandbox.best_mode() if self.sandbox == "auto" else self.sandbox


class WeakSandbox(InputError):
    """A folder of submissions asked to be graded without the namespaces (exit 2, before any work)."""


class _Session:
    """A submission's copy and its worker with the file imported; restarted after it is lost."""

    def __init__(self, sub: Submission, opts: Options):
        self.sub, self.opts = sub, opts
        self.worker: Worker | None = None
        self.loaded: dict | None = None
        self.output = {"stdout": [], "stderr": []}
        self.cpu_used = 0.0
        self.clock_used = 0.0
        self.waited = False  # the clock stopped a worker of it while its CPU time was under the limit
        self.walls: dict = {}
        self.copy = tempfile.mkdtemp(prefix="jaxdl-sub-")
        os.chmod(self.copy, 0o755)
        self.entry, self.problem = copy_submission(sub, self.copy)

    @property
    def remaining(self) -> float:
        current = self.worker.cpu_seconds() if self.worker is not None else 0.0
        return self.opts.budget - self.cpu_used - current

    @property
    def clock_left(self) -> float:
        current = self.worker.clock_used if self.worker is not None else 0.0
        return self.opts.clock_budget - self.clock_used - current

    def _start(self) -> Worker:
        error = None
        for _ in range(2):  # a worker that fails to start is retried once
            try:
                return Worker(self.copy, self.opts.time_limit, self.opts.memory_mb, self.opts.mode,
                              cpu_budget=max(1.0, self.remaining), clock_budget=max(0.0, self.clock_left))
            except CheckerError as e:
                error = e
        raise WorkerLost(f"the checker could not start a worker for it: {error}")

    def ensure(self) -> dict:
        """The load reply of a live worker (starting one); raises :class:`WorkerLost`."""
        if self.worker is not None and self.worker.alive:
            return self.loaded
        self.lost()
        if self.remaining <= 0:
            raise WorkerLost(f"not checked: the submission used up its CPU budget of {self.opts.budget:g} s")
        if self.clock_left <= 0:
            self.waited = True
            raise WorkerLost(f"not checked: the submission used up its time budget of {self.opts.clock_budget:g} s "
                             "(sleeping or waiting?)", waited=True)
        self.worker = self._start()
        self.walls = dict(self.worker.walls)
        inside = self.worker.inside
        header, _ = self.worker.request(
            {"op": "load", "path": os.path.join(inside, self.entry), "folder": inside if self.sub.folder else None,
             "seed": self.opts.seed}, what="import")
        try:
            self.loaded = wire.load_reply(header)
        except wire.BadFrame as e:
            self.lost()
            raise WorkerLost(f"the student's process sent a malformed reply during import: {e}") from None
        return self.loaded

    def lost(self, e: WorkerLost | None = None) -> None:
        if e is not None and e.waited:
            self.waited = True
        if self.worker is not None:
            self.cpu_used += self.worker.cpu_seconds()
            self.clock_used += self.worker.clock_used
            for stream in self.output:
                self.output[stream].append(self.worker.text(stream))
            self.worker.close()
            self.worker = None

    def close(self) -> None:
        self.lost()
        shutil.rmtree(self.copy, ignore_errors=True)

    def text(self, stream: str) -> str:
        """What the student's code printed, each worker's output truncated by the sandbox."""
        return "".join(t for t in self.output[stream] if t)


def _class_seed(seed: int, name: str) -> int:
    return (int(seed) * 1_000_003 + zlib.crc32(name.encode())) % 2**32


def _load_problem(session: _Session, loaded: dict) -> str:
    if not isinstance(loaded, dict):
        return "the student's process sent a malformed reply during import"
    if "load_error" in loaded:
        return f"cannot load the file: {wire.text(loaded['load_error'])}"
    if "error" in loaded:
        student = C.Student(session.worker, session.opts.memory_mb)
        return f"cannot import the file: {student.error_text(loaded['error'], 'import')}"
    return ""


NO_SECCOMP = ("not graded: this machine cannot keep the student's code to one process (no seccomp filter here), "
              "so the CPU time and memory of the processes it could start would be counted nowhere")


def grade_submission(sub: Submission, opts: Options = Options()) -> SubmissionResult:
    """Checks every class of one submission (or those ``opts.layers`` or the assignment names).
    Never raises for anything the submission does: every failure is the result's, and every text
    in the result is safe to store (:meth:`~.results.SubmissionResult.make_safe`)."""
    result = SubmissionResult(name=sub.name, path=sub.file, student_id=sub.student_id, student_name=sub.student_name,
                              platform=sub.platform, notes=list(sub.notes), internal=sub.internal)
    session = None
    try:
        if opts.assignment:
            result.max_points = sum(_max_points(B.lab_of(n)[1], spec) for n, spec in opts.assignment.items())
        if sub.problem:
            result.error = sub.problem
            return result
        if not sandbox.machine_walls()["seccomp"]:
            result.error = NO_SECCOMP
            return result
        session = _Session(sub, opts)
        if session.problem:
            result.error = session.problem
            return result
        try:
            loaded = session.ensure()
        except WorkerLost as e:
            session.lost(e)
            result.error = e.reason
            return result
        result.error = _load_problem(session, loaded)
        if result.error:
            return result
        if loaded.get("im2col"):
            result.notes.append(f"im2col_cython: {loaded['im2col']}")
        targets, note = B.targets(loaded, opts.layers, opts.assignment)
        for target in targets:
            result.classes.append(_check_target(session, target, opts))
        result.internal = next((c.internal for c in result.classes if c.internal), "")
        if note:
            res = ClassResult(cls="make_layers()", built_as="make_layers()", completed=True)
            res.checks.append(Check(name="make_layers()", ok=False, detail=note))
            result.classes.append(res)
        if not result.classes:
            result.error = "nothing to check: the file defines no class with a forward method"
    except InputError as e:  # a --layer expression that does not fit this file
        result.error = str(e)
    except Exception as e:  # noqa: BLE001 - jaxdl's own bug: this submission fails, visibly, and the run goes on
        result.internal = "".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]
        result.error = (f"the checker failed on this submission ({type(e).__name__}: {str(e)[:200]}): "
                        "a bug in jaxdl, not the student's")
    finally:
        if session is not None:
            session.close()
            result.stdout, result.stderr = session.text("stdout"), session.text("stderr")
            result.walls = session.walls
            result.waited = session.waited
        result.make_safe()
    return result


def _max_points(lab, spec: dict | None) -> float:
    if spec and spec.get("points") is not None:
        return float(spec["points"])
    return float(C.expected_points(lab))


def _check_target(session: _Session, target: B.Target, opts: Options) -> ClassResult:
    name = target.name
    res = ClassResult(cls=name, built_as=target.expr or name, all_or_nothing=target.all_or_nothing)
    if opts.assignment is not None:
        res.max_points = _max_points(target.lab, {"points": target.points})
    if target.cls is None and target.make_layers is None:
        res.checks.append(Check(name="found in the file", ok=False,
                                detail=f"no layer class named {name!r} in the file"))
        res.completed = True
        return res
    rng = np.random.default_rng([opts.seed, zlib.crc32(name.encode())])
    student = None
    try:
        problem = _load_problem(session, session.ensure())
        if problem:  # a re-import that now fails
            res.checks.append(Check(name="import", ok=False, detail=problem))
            return res
        student = C.Student(session.worker, opts.memory_mb)
        _run(student, res, target, rng, _class_seed(opts.seed, name), session.loaded["classes"])
        res.completed = True
    except WorkerLost as e:
        res.checks.append(Check(name=student.label if student else "import", ok=False, detail=e.reason))
        session.lost(e)
    except wire.BadFrame as e:
        res.checks.append(Check(name=student.label if student else "import", ok=False,
                                detail=f"the student's process sent a malformed reply: {e}"))
        session.lost()
    except Exception as e:  # noqa: BLE001 - jaxdl's own bug: this class fails, visibly, and the others go on
        res.internal = "".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]
        res.checks.append(Check(name="the checker", ok=False,
                                detail=f"the checker failed on this class ({type(e).__name__}: "
                                       f"{str(e)[:200]}): a bug in jaxdl, not the student's"))
        session.lost()
    return res


def _build(student: C.Student, header: dict, arrays: list, label: str = "build"):
    """``(state, error)``: the built instance's state, or why it could not be built."""
    student.label = label
    reply, out = student.request(header, arrays, "the constructor")
    if "error" in reply:
        return None, f"cannot build: {student.error_text(reply['error'], 'the constructor')}"
    state = C.decode_state(wire.field(reply, "state", dict, what="build reply"), out)
    state["class"] = wire.text(reply.get("class", ""))
    state["promoted"] = [wire.text(p) for p in reply.get("promoted", []) if isinstance(p, str)][:64]
    shape = reply.get("input_shape")
    state["input_shape"] = tuple(shape) if isinstance(shape, list) and shape and len(shape) <= 8 and all(
        type(d) is int and 0 < d <= 64 for d in shape) else None
    return state, ""


def _note_promoted(res: ClassResult, state: dict) -> None:
    if state["promoted"]:
        res.notes.append(f"float32 array attributes promoted to float64 for the finite differences: "
                         f"{', '.join(state['promoted'])}")


def _build_header(target: B.Target, kwargs: dict, shape, seed: int) -> tuple[dict, list]:
    encoded, arrays = B.encode_kwargs(kwargs, shape)
    return {"op": "build", "cls": target.cls, "kwargs": encoded, "seed": seed}, arrays


def _run(student: C.Student, res: ClassResult, target: B.Target, rng, seed: int, classes: list) -> None:
    info = next((c for c in classes if isinstance(c, dict) and c.get("name") == target.cls), None)
    lab = target.lab or GENERIC_LAYER
    if target.make_layers is not None:  # the student's own construction: its own forward is the truth
        state, error = _build(student, {"op": "build", "make_layers": target.make_layers, "seed": seed}, [])
        if error:
            res.checks.append(Check(name="build", ok=False, detail=error))
            return
        res.cls = f"{target.name} {state['class']}" if state["class"] else res.cls
        res.built_as = f"{target.name}: {state['class']}"
        res.notes.append("built by make_layers(): checked against its own forward only")
        _note_promoted(res, state)
        info = next((c for c in classes if isinstance(c, dict) and c.get("name") == state["class"]),
                    {"name": res.cls, "backward_inputs": True, "backward_params": True})
        ctx = C.Context(student=student, res=res, info=info, lab=GENERIC_LAYER, lab_name=None, config={}, state=state,
                        input_shape=state["input_shape"] or C.VECTOR_SHAPE, rng=rng)
        C.run(ctx, C.required_checks(GENERIC_LAYER))
        return
    if lab.kind == "composite":
        _run_composite(student, res, target, info, classes, rng, seed)
        return
    if lab.kind in ("loss", "regularizer"):
        weights = rng.standard_normal((4, 3)) if lab.kind == "regularizer" else None
        try:
            kwargs, config, res.built_as = B.constructor_call(target, info, C.VECTOR_SHAPE, weights)
        except B.BuildError as e:
            res.checks.append(Check(name="build", ok=False, detail=f"cannot build: {e}"))
            return
        header, arrays = _build_header(target, kwargs, C.VECTOR_SHAPE, seed)
        state, error = _build(student, header, arrays)
        if error:
            res.checks.append(Check(name="build", ok=False, detail=error))
            return
        _note_promoted(res, state)
        if lab.kind == "loss":
            C.run(C.LossContext(student=student, res=res, info=info, lab=lab, lab_name=target.lab_name, rng=rng),
                  C.required_checks(lab))
        else:
            C.run(C.RegularizerContext(student=student, res=res, info=info, lab=lab, lab_name=target.lab_name,
                                       config=config, weights=weights, rng=rng), C.required_checks(lab))
        return
    if lab.names:  # a lab class: built as the checker decides, for the lab's input
        shape = lab.input_shape
        try:
            kwargs, config, res.built_as = B.constructor_call(target, info, shape)
        except B.BuildError as e:
            res.checks.append(Check(name="build", ok=False, detail=f"cannot build: {e}"))
            return
        header, arrays = _build_header(target, kwargs, shape, seed)
        state, error = _build(student, header, arrays)
        if error:
            res.checks.append(Check(name="build", ok=False, detail=error))
            return
        _note_promoted(res, state)
        if lab.params:  # checked at weights it did not choose, as after a step of training
            stepped = C.take_a_training_step(student, shape, rng)
            state = stepped or state
        C.run(C.Context(student=student, res=res, info=info, lab=lab, lab_name=target.lab_name, config=config,
                        state=state, input_shape=shape, rng=rng), C.required_checks(lab))
        return
    _run_generic(student, res, target, info, rng, seed)


COMPOSITE_WEIGHT_SHAPES = ((4, 3), (2, 5), (3, 2), (5, 4))  # the regularizers' weights (one λ for all, as in the lab)


def _run_composite(student: C.Student, res: ClassResult, target: B.Target, info: dict, classes: list, rng,
                   seed: int) -> None:
    """A composite (the lab's RegularizedLoss): built from the checker's parts, then (for the last
    checks) from the file's own classes of those parts, as the lab's training script builds it.

    Long because the composite's checks run in the lab's order against two builds of it, and each
    step needs the last one's replies."""
    from jaxdl.check.numpy_check.reference import lab_classes

    try:
        kwargs, _, built_as = B.constructor_call(target, info, C.VECTOR_SHAPE)
    except B.BuildError as e:
        res.checks.append(Check(name="build", ok=False, detail=f"cannot build: {e}"))
        return
    parts = [p for v in kwargs.values() for p in (v if isinstance(v, tuple) else (v,)) if isinstance(p, Part)]
    regularizers = [p for p in parts if p.role == "regularizer"]
    if len(regularizers) > len(COMPOSITE_WEIGHT_SHAPES):
        raise ValueError("a composite with more regularizers than COMPOSITE_WEIGHT_SHAPES")
    weight_decay = lab_classes()["l2_regularizer"].args["weight_decay"]
    probes = {"a": rng.standard_normal((C.BATCH, 4)),
              "weights": [rng.standard_normal(s) for s in COMPOSITE_WEIGHT_SHAPES[:len(regularizers)]],
              "names": [f"regularizer{i}" for i in range(len(regularizers))], "own_names": []}
    probes["b"] = [rng.standard_normal(w.shape) for w in probes["weights"]]

    def header(own: bool) -> tuple[dict, list, dict, list[str]]:
        """The build request, its arrays, which passed array is which regularizer's weights, and the
        parts' constructor calls in words."""
        arrays, specs, passed, shown = [], [], {}, []
        count = 0

        def part(p: Part) -> dict:
            nonlocal count
            reg = len([s for s in specs if s["role"] == "regularizer"]) if p.role == "regularizer" else None
            weights = probes["weights"][reg] if reg is not None else None
            if not own:
                values = {"a": probes["a"]} if reg is None else {
                    "weights": weights, "b": probes["b"][reg], "weight_decay": weight_decay, "name": probes["names"][reg]}
                spec = {"probe": p.role}
                shown.append("the checker's data loss" if reg is None else f"the checker's regularizer {reg}")
            else:
                found = next((c for c in classes if isinstance(c, dict) and B.lab_of(c["name"], c)[0] == p.kind), None)
                if found is None:
                    lab = lab_classes()[p.kind]
                    raise C.Unavailable(f"the file has no class for the lab's {lab.names[0]}, which the lab's training "
                                        f"script builds {target.cls} from")
                lab_name, lab = B.lab_of(found["name"], found)
                try:
                    its_own = B.Target(name=found["name"], cls=found["name"], lab_name=lab_name, lab=lab)
                    values, _, words = B.constructor_call(its_own, found, C.VECTOR_SHAPE, weights)
                except B.BuildError as e:
                    raise C.Unavailable(f"cannot build its own {found['name']}: {e}") from None
                spec = {"cls": found["name"]}
                shown.append(words)
                probes["own_names"].append(found["name"])
            spec["role"] = p.role
            encoded, _ = B.encode_kwargs(values, C.VECTOR_SHAPE, arrays)
            spec["kwargs"] = encoded
            for v in values.values():  # the worker numbers the arrays it is passed in this order
                if isinstance(v, np.ndarray):
                    if v is weights:
                        passed[count] = reg
                    count += 1
            specs.append(spec)
            return {"$part": len(specs) - 1}

        encoded = {}
        for k, v in kwargs.items():
            if isinstance(v, Part):
                encoded[k] = part(v)
            elif isinstance(v, tuple) and v and all(isinstance(p, Part) for p in v):
                encoded[k] = [part(p) for p in v]
            else:
                encoded.update(B.encode_kwargs({k: v}, C.VECTOR_SHAPE, arrays)[0])
        for spec in specs:
            spec.pop("role")
        return {"op": "build", "cls": target.cls, "kwargs": encoded, "parts": specs, "seed": seed}, arrays, passed, shown

    head, arrays, probes["passed"], _ = header(own=False)
    res.built_as = built_as
    _, error = _build(student, head, arrays)
    if error:
        res.checks.append(Check(name="build", ok=False,
                                detail=f"{error} (built from the checker's parts: a data loss and "
                                       f"{len(regularizers)} regularizers)"))
        return

    def build_own() -> int:
        head, arrays, _, shown = header(own=True)
        _, error = _build(student, head, arrays, label=C.OWN_FORWARD)
        if error:
            raise C.Unavailable(f"cannot build it from the file's own parts ({'; '.join(shown)}): "
                                f"{error.removeprefix('cannot build: ')}")
        res.notes.append(f"checked built from the checker's parts (a data loss and {len(regularizers)} regularizers "
                         f"whose numbers it knows), then from the file's own: {'; '.join(shown)}")
        return len(regularizers)

    C.run(C.CompositeContext(student=student, res=res, info=info, lab=target.lab, probes=probes, build_own=build_own,
                             rng=rng), C.required_checks(target.lab))


def _input_shapes(info: dict) -> list[tuple[int, ...]]:
    """For a class jaxdl does not know, the input shapes to try, the likelier first."""
    init = {p[0] for p in info.get("init") or [] if isinstance(p, list) and p}
    name = info["name"].lower()
    if init & {"num_filters", "kernel_size", "pool_size"} or any(k in name for k in ("conv", "pool", "flatten")):
        return [C.IMAGE_SHAPE, C.VECTOR_SHAPE]
    return [C.VECTOR_SHAPE, C.IMAGE_SHAPE]


def _run_generic(student: C.Student, res: ClassResult, target: B.Target, info: dict, rng, seed: int) -> None:
    """A class jaxdl does not know: built for the first input shape (and output count) its
    forward accepts, then checked against its own forward."""
    first_error = None
    for shape in _input_shapes(info):
        d = int(np.prod(shape[1:]))
        for overrides in ({}, {"num_outputs": d}):
            try:
                kwargs, _, built_as = B.constructor_call(target, info, shape, overrides=overrides)
            except B.BuildError as e:
                first_error = first_error or f"cannot build: {e}"
                continue
            header, arrays = _build_header(target, kwargs, shape, seed)
            state, error = _build(student, header, arrays)
            if error:
                first_error = first_error or error
                continue
            res.built_as = built_as
            probe = student.call("forward", rng.uniform(-1, 1, shape), label="forward")
            if probe.ok and isinstance(probe.value, np.ndarray):
                state, _ = _build(student, header, arrays)
                _note_promoted(res, state)
                C.run(C.Context(student=student, res=res, info=info, lab=GENERIC_LAYER, lab_name=None, config={},
                                state=state, input_shape=shape, rng=rng), C.required_checks(GENERIC_LAYER))
                return
    # Nothing ran: build it once more for the first shape and report forward's own failure.
    shape = _input_shapes(info)[0]
    try:
        kwargs, _, res.built_as = B.constructor_call(target, info, shape)
    except B.BuildError as e:
        res.checks.append(Check(name="build", ok=False, detail=f"cannot build: {e}"))
        return
    header, arrays = _build_header(target, kwargs, shape, seed)
    state, error = _build(student, header, arrays)
    if error:
        res.checks.append(Check(name="build", ok=False, detail=first_error or error))
        return
    _note_promoted(res, state)
    C.run(C.Context(student=student, res=res, info=info, lab=GENERIC_LAYER, lab_name=None, config={}, state=state,
                    input_shape=shape, rng=rng), C.required_checks(GENERIC_LAYER))


# --------------------------------------------------------------------------------------------
# Many submissions.


def grade_mode(opts: Options, n_submissions: int, allow_weaker: bool) -> str:
    """The sandbox mode for this run; a folder of submissions without the namespaces is refused
    unless ``allow_weaker``.

    Raises:
      WeakSandbox: before any work.
    """
    mode = opts.mode
    if mode == "namespaces" and not sandbox.machine_walls()["namespaces"]:
        raise WeakSandbox(f"check-numpy: --sandbox namespaces: {sandbox.machine_walls()['why']}")
    if mode != "namespaces" and n_submissions > 1 and not allow_weaker:
        why = sandbox.machine_walls()["why"] if opts.sandbox == "auto" else f"--sandbox {mode} was asked for"
        raise WeakSandbox(f"check-numpy: refusing to grade {n_submissions} submissions without the sandbox's "
                          f"namespaces ({why}); --allow-weaker-sandbox grades them behind the weaker walls")
    return mode


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def update(self, n: int) -> None:
        pass


def grade(subs, *, jobs: int | None = None, progress: bool = False, opts: Options = Options()) -> list[SubmissionResult]:
    """Grades the submissions ``subs`` (:func:`~.discover.discover` found them), ``jobs`` at a
    time, in the sandbox mode ``opts`` names. A submission the clock stopped while its CPU time was
    under the limit, graded beside others, is graded again alone (nothing else running) and that
    result stands. Returns only once every process of every submission has ended."""
    subs = list(subs)
    if not subs:
        return []
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(subs)))
    results: list[SubmissionResult | None] = [None] * len(subs)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(subs), desc="check-numpy", unit="submission", disable=None, leave=False)
    else:  # no bar (and no tqdm: the standalone checker has numpy only)
        bar = _NoBar()
    pool = concurrent.futures.ThreadPoolExecutor(jobs)
    try:
        with bar:
            futures = {pool.submit(grade_submission, sub, opts): i for i, sub in enumerate(subs)}
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
    finally:  # on an error or Ctrl-C: start nothing new; the running submissions end their workers
        pool.shutdown(wait=True, cancel_futures=True)
    if jobs > 1:
        for i, r in enumerate(results):
            if r.waited:  # a neighbour's load must not decide it: once more, alone
                results[i] = grade_submission(subs[i], opts)
                results[i].graded_alone = True
    return results


def check_file(path: str, layers=(), seed: int = 0, time_limit: float = DEFAULT_TIME_LIMIT_S,
               memory_mb: int = DEFAULT_MEMORY_MB) -> SubmissionResult:
    """Checks one student file: every layer class it can build, or those ``layers`` names.

    Args:
      path: the student's ``.py`` file.
      layers: class names, or constructor expressions such as ``'Swish(name="s", beta=1.5)'``
        (``input_layer`` is available in the expression).
      seed: seeds the inputs and upstream gradients.
      time_limit: CPU seconds allowed per call into the student's code.
      memory_mb: the student's process's address-space limit.
    """
    with discover([path]) as found:
        opts = Options(layers=tuple(layers), seed=seed, time_limit=time_limit, memory_mb=memory_mb)
        return grade(found.submissions, jobs=1, opts=opts)[0]


# --------------------------------------------------------------------------------------------
# Reports.


def duplicate_ids(results: list[SubmissionResult]) -> dict[str, list[str]]:
    """``{"canvas-7": [names, ...]}``: each platform id that more than one submission carries. Their
    rows are left out of the platform's grade import (written once for both would give one the
    other's grade), and the grader is told."""
    claims: dict[str, list[str]] = {}
    for r in results:
        if r.student_id:
            claims.setdefault(pseudonym(r.name, r.student_id, r.platform), []).append(r.name)
    return {k: v for k, v in claims.items() if len(v) > 1}


def _guarded(r: SubmissionResult, make, fallback):
    """``make(r)``, or where jaxdl fails on this submission's row, ``fallback(reason)`` (the run's
    other rows are written; ``r.internal`` keeps the traceback)."""
    try:
        return make(r)
    except Exception as e:  # noqa: BLE001 - jaxdl's own bug on one row: that row says so, the others are written
        r.internal = (r.internal + "\n" if r.internal else "") + "".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]
        return fallback(f"the checker could not write this submission's results ({type(e).__name__}: "
                        f"{safe_text(str(e))[:200]}): a bug in jaxdl, not the student's")


def gradebook_csv(results: list[SubmissionResult], fmt: str = "jaxdl", pseudonymize: bool = False,
                  column: str = "check-numpy") -> str:
    """The gradebook as CSV: jaxdl's own (one row per submission and class), or a learning
    platform's grade import (one row per student: Moodle's grading worksheet, Canvas's
    gradebook; a student id two submissions carry is left out: :func:`duplicate_ids`). Every cell
    is neutralised for spreadsheets (:func:`~.results.cell`); Moodle's feedback comments, which it
    shows as HTML, are HTML-escaped."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    names = {id(r): pseudonym(r.name, r.student_id, r.platform) if pseudonymize else r.name for r in results}
    twice = {name for names_ in duplicate_ids(results).values() for name in names_}
    platform = [r for r in results if not (r.student_id and r.name in twice)]
    if fmt == "jaxdl":
        writer.writerow(GRADEBOOK_COLUMNS)
        for r in results:
            def rows(r):
                out = r.rows()
                for row in out:
                    row["submission"] = names[id(r)]
                return [[cell(row[c]) for c in GRADEBOOK_COLUMNS] for row in out]
            writer.writerows(_guarded(r, rows, lambda why: [[cell(names[id(r)]), "*", "false", 0, 0, 0, 0, why, ""]]))
    elif fmt == "moodle":
        writer.writerow(["Identifier", "Full name", "Grade", "Maximum Grade", "Feedback comments"])
        for r in platform:
            ident = f"Participant {r.student_id}" if r.student_id else names[id(r)]
            who = "" if pseudonymize else (r.student_name or r.name)
            writer.writerow(_guarded(r, lambda r: [cell(ident), cell(who), cell(_fmt(r.points)), cell(_fmt(r.out_of)),
                                                   cell(html.escape(_feedback(r), quote=False))],
                                     lambda why: [cell(ident), cell(who), "0", cell(_fmt(r.max_points)), why]))
    elif fmt == "canvas":
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        writer.writerow(["Points Possible", "", "", "", "", _fmt(max((r.out_of for r in results), default=0))])
        for r in platform:
            who = names[id(r)] if pseudonymize or not r.student_name else r.student_name
            writer.writerow(_guarded(r, lambda r: [cell(who), cell(r.student_id), "", "", "", cell(_fmt(r.points))],
                                     lambda why: [cell(who), cell(r.student_id), "", "", "", "0"]))
    else:
        raise ValueError(f"gradebook format must be jaxdl, moodle or canvas; got {fmt!r}")
    return buf.getvalue()


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def _feedback(r: SubmissionResult) -> str:
    if r.error:
        return r.error
    bad = [f"{c.cls}: {c.first_failure}" for c in r.classes if not c.ok]
    return "; ".join(bad) if bad else "every class passed"


def report_json(results: list[SubmissionResult], pseudonymize: bool = False) -> str:
    """Every check of every submission as JSON (``duplicate_ids`` when two submissions carry one
    platform id)."""
    items = []
    for r in results:
        def item(r):
            out = r.to_json()
            if pseudonymize:
                out["submission"] = pseudonym(r.name, r.student_id, r.platform)
                out.pop("student_id", None)
            json.dumps(out, ensure_ascii=False).encode()  # fails here, on this submission alone, if it cannot be written
            return out
        items.append(_guarded(r, item, lambda why: {"submission": safe_text(pseudonym(r.name, r.student_id, r.platform)
                                                                         if pseudonymize else r.name),
                                                    "ok": False, "error": why}))
    payload = {"ok": bool(results) and all(r.ok for r in results) and not any(r.internal for r in results),
               "submissions": items}
    twice = duplicate_ids(results)
    if twice:
        payload["duplicate_ids"] = twice if not pseudonymize else {k: [pseudonym(n) for n in v] for k, v in twice.items()}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
