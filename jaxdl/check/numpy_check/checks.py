"""The checks of one student class: small named functions over a shared :class:`Context`,
decided here from what its worker returns.

Every input is drawn here and sent to the worker; every comparison, finite difference and jaxdl
reference is computed here. Each check is declared once, by :func:`check` on its function: its
name, its label (the constants below, which the tests import), its points and the kinds of lab
class that require it (:func:`required_checks` reads them; :mod:`jaxdl.labspec` says what each kind
is, never which checks it has); it returns the :class:`Check` records it decided. A check whose input could not
be had (a forward that failed, parameters that do not fit the jaxdl layer, a probe that met
NaN) raises :class:`Unavailable`, and is recorded as a *failed* check with the reason: a check
that could not run never passes. A worker that is lost raises
:class:`~jaxdl.check.numpy_check.sandbox.WorkerLost` out of here; the driver fails the class.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxdl.check.numpy_check import environment
from jaxdl.check.numpy_check import protocol as wire
from jaxdl.check.numpy_check import reference
from jaxdl.check.numpy_check.diagnose import TOL_FD, TOL_REF, close, compare, describe, diagnose
from jaxdl.check.numpy_check.results import Check, ClassResult
from jaxdl.labspec import LabClass

EPS = 1e-6  # central-difference step, float64
BATCH = 3
VECTOR_SHAPE = (BATCH, 5)  # the sizes of a class jaxdl does not know: all distinct (batch, features, outputs 4)
IMAGE_SHAPE = (BATCH, 2, 6, 8)
PARAM_CAP = 100_000  # entries of one array the checker probes and differentiates
FD_FULL = 4096  # up to this many entries, every one is differentiated; above, a seeded sample
FD_CHUNK_BYTES = 8 << 20  # forward outputs asked for in one request
FLOAT32_HINT = ("; the layer computes in {dtype} (its output is {dtype}), too coarse for finite differences "
                "at 1e-6: compute in float64 to be checked precisely")

# The labels of the checks (the tests import these).
FORWARD = "forward"
OUTPUT_SHAPE = "forward's output shape"
FORWARD_SIDE_EFFECTS = "side effects: forward leaves its input unchanged"
BACKWARD_INPUTS = "backward_inputs"
BI_SIDE_EFFECTS = "side effects: backward_inputs leaves `grads` unchanged"
BI_CACHE = "side effects: backward_inputs leaves the cached activations unchanged"
BI_FD = "backward_inputs (∂L/∂inputs) vs finite differences"
CALL_ORDER_FORWARDS = "call order: two forwards, then backward_inputs"
BACKWARD_PARAMS = "interface: backward_params returns [[param, grad], ..., name]"
BP_SIDE_EFFECTS = "side effects: backward_params leaves `grads` unchanged"
PARAMS_COVER = "backward_params covers every parameter forward depends on"
PARAMS_FD = "backward_params vs finite differences"
CALL_ORDER_PARAMS = "call order: backward_inputs, then backward_params (as the lab's training loop calls them)"
SECOND_POINT = "forward and backward at a second input and upstream gradient"
LARGE_INPUTS = "stable at inputs of magnitude 1000"
STABLE_BACKWARD = "backward_inputs stable at logits shifted by 1000"
REG_SAME_WEIGHTS = "backward_params returns the weights it was built with (not a copy)"
NO_PARAMS = "parameters: forward depends on none of the instance's arrays"
LOSS_SCALAR = "interface: forward returns a finite scalar"
LOSS_SIDE_EFFECTS = "side effects: forward leaves x and y unchanged"
LOSS_FD = "backward_inputs vs finite differences (∂L/∂x)"
LOSS_CALL_ORDER = "call order: forward(x1, y1), then backward_inputs(x2, y2)"
STABLE_SHIFTED = "stable at logits shifted by 1000"
STABLE_SPREAD = "stable at logits of magnitude 1000"
REG_FD = "gradient matches its own loss (finite differences)"
REF_LOSS = "forward vs jaxdl softmax_cross_entropy (mean over the batch)"
REF_LOSS_BACKWARD = "backward_inputs vs jaxdl softmax_cross_entropy.backward"
REF_REG = "forward vs jaxdl l2_regularizer (λ/2 ‖W‖², or λ ‖W‖²)"
REF_REG_BACKWARD = "backward_params vs jaxdl l2_regularizer (λ W, or 2λ W for λ ‖W‖²)"


def param_fd_label(i: int, label: str, shape) -> str:
    return f"backward_params[{i}] ({label}, shape {shape}) vs finite differences"


def reference_forward_label(layer: str) -> str:
    return f"forward vs jaxdl {layer}"


def reference_inputs_label(layer: str) -> str:
    return f"backward_inputs (∂L/∂inputs) vs jax.vjp of jaxdl {layer}"


def reference_param_label(i: int, label: str, layer: str) -> str:
    return f"backward_params[{i}] ({label}) vs jax.vjp of jaxdl {layer}"


class Unavailable(Exception):
    """What a check needs could not be had; the check fails with ``reason``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------------------------
# The student's instance, in its worker.


@dataclasses.dataclass(kw_only=True)
class Reply:
    ok: bool  # False: the student's code raised (``error`` says what)
    value: object = None
    args_after: list = dataclasses.field(default_factory=list)
    param_paths: list | None = None
    state: dict | None = None
    error: str = ""
    param_passed: list | None = None  # backward_params: is each parameter an array the constructor was given?
    identity: object = None  # asked for: the result's structure, each array the index of the passed array it is (or None)
    has_params: bool | None = None  # asked for with identity: the instance's has_params


class Student:
    """The built instance in its worker; each method call is one request."""

    def __init__(self, worker, memory_mb: int):
        self.worker = worker
        self.memory_mb = memory_mb
        self.label = "the checks"  # the check running now: named in a failure if the worker is lost

    def _clean(self, text) -> str:
        text = wire.text(text)
        scratch = getattr(self.worker, "scratch", None)
        return text.replace(scratch, "<scratch>") if scratch else text

    def error_text(self, err, what: str) -> str:
        if not isinstance(err, dict):
            return f"failed during {what}"
        if err.get("memory") is True:
            return f"exceeded the memory limit of {self.memory_mb} MB during {what} (MemoryError)"
        module = err.get("module")
        if isinstance(module, str) and err.get("type") in ("ModuleNotFoundError", "ImportError") and \
                environment.refused(module):
            return self._clean(environment.refusal(module))
        line = f" (line {err['line']})" if type(err.get("line")) is int else ""
        message = self._clean(err.get("message", ""))
        return f"raised {self._clean(err.get('type', 'an exception'))}" + (f": {message}" if message else "") + line

    def request(self, header: dict, arrays: list, what: str):
        return self.worker.request(header, arrays, what=what)

    def call(self, method: str, *args, label: str, state: bool = False, part: int | None = None,
             identify: bool = False) -> Reply:
        """One call of ``method`` of the built instance (or of its ``part``-th part, a composite's).
        ``identify``: the reply says which of its arrays are arrays the checker passed."""
        self.label = label
        arrays: list = []
        header = {"op": "call", "method": method, "args": [wire.encode_value(a, arrays) for a in args], "state": state,
                  "part": part, "identify": identify}
        reply, out = self.request(header, arrays, method)
        if "error" in reply:
            return Reply(ok=False, error=self.error_text(reply["error"], method))
        value = wire.decode_value(reply.get("result"), out)
        if isinstance(value, (int, float)) and not isinstance(value, bool):  # a Python number
            value = np.asarray(value, np.float64 if isinstance(value, float) else np.int64)
        after = reply.get("args_after", [])
        paths = reply.get("param_paths")
        passed = reply.get("param_passed")
        has_params = reply.get("has_params")
        return Reply(ok=True, value=value,
                     args_after=[wire.decode_value(a, out) for a in after] if isinstance(after, list) else [],
                     param_paths=[p if isinstance(p, str) else None for p in paths] if isinstance(paths, list)
                     else None,
                     state=decode_state(reply["state"], out) if state and "state" in reply else None,
                     param_passed=[p is True for p in passed] if isinstance(passed, list) else None,
                     identity=_identity(reply.get("identity")) if identify else None,
                     has_params=has_params if isinstance(has_params, bool) else None)

    def forward_many(self, args: list, vary: dict, index: np.ndarray, values: np.ndarray, label: str):
        """``forward`` at each point (``vary``'s entries ``index[k]`` set to ``values[k]``):
        the stacked outputs as float64, or a failure in words."""
        self.label = label
        arrays: list = []
        header = {"op": "forward_many", "args": [wire.encode_value(a, arrays) for a in args], "vary": vary,
                  "index": wire.encode_value(np.asarray(index, np.int64), arrays),
                  "values": wire.encode_value(np.asarray(values, np.float64), arrays)}
        reply, out = self.request(header, arrays, "forward")
        if "error" in reply:
            return self.error_text(reply["error"], "forward")
        if "bad" in reply:
            return self._clean(reply["bad"])
        outputs = wire.decode_value(reply.get("outputs"), out)
        if not isinstance(outputs, np.ndarray) or outputs.shape[:1] != (len(index),):
            return "forward gave no output for some points"
        return np.asarray(outputs, np.float64)


def _identity(value, depth: int = 0):
    """The worker's report of which arrays are the checker's (nested lists of int or None), read as
    untrusted data: anything else is None."""
    if isinstance(value, list) and depth < 5:
        return [_identity(v, depth + 1) for v in value[:wire.MAX_ITEMS]]
    return value if type(value) is int and 0 <= value < 1024 else None


def _region(value) -> tuple | None:
    if not (isinstance(value, list) and len(value) == 5 and type(value[0]) is int and type(value[1]) is int
            and isinstance(value[2], list) and all(type(s) is int for s in value[2]) and type(value[3]) is int
            and isinstance(value[4], bool) and len(value[2]) <= wire.MAX_RANK and 0 < value[3] <= 16):
        return None
    return value[0], value[1], tuple(value[2]), value[3], value[4]


def decode_state(state, arrays) -> dict:
    """The instance's arrays as the worker reported them: ``{"attrs": {path: array | Opaque},
    "regions": {path: (group, offset, strides, itemsize, writeable)}, "returned": [...],
    "has_params": bool | None}``. Raises :class:`~.protocol.BadFrame` for a malformed report."""
    attrs_in = wire.field(state, "attrs", dict, what="state")
    regions_in = wire.field(state, "regions", dict, what="state")
    if len(attrs_in) > 256:
        raise wire.BadFrame("a state with too many arrays")
    attrs, regions = {}, {}
    for k, v in attrs_in.items():
        value = wire.decode_value(v, arrays)
        attrs[str(k)[:wire.MAX_TEXT]] = value
        r = _region(regions_in.get(k))
        if r is None:
            raise wire.BadFrame(f"a state without the memory region of {str(k)[:60]!r}")
        regions[str(k)[:wire.MAX_TEXT]] = r
    returned = [_region(r) for r in wire.field(state, "returned", list, default=[], what="state")[:wire.MAX_ITEMS]]
    has_params = state.get("has_params")
    return {"attrs": attrs, "regions": regions, "returned": returned,
            "has_params": has_params if isinstance(has_params, bool) else None}


# --------------------------------------------------------------------------------------------
# The context the checks share.


@dataclasses.dataclass(kw_only=True)
class Context:
    """One class under check: what the checker decided (its kind, constructor arguments and
    input) and what the checks have learned so far (each computed once, on first use)."""

    student: Student
    res: ClassResult
    info: dict  # the worker's description of the class: its signature and methods
    lab: LabClass
    lab_name: str | None  # the registry name of the jaxdl counterpart (None: no counterpart)
    config: dict  # the constructor arguments the checker passed (the reference is built from them)
    state: dict  # the built instance's arrays
    input_shape: tuple
    rng: np.random.Generator
    _memo: dict = dataclasses.field(default_factory=dict)

    def memo(self, key, compute):
        if key not in self._memo:
            try:
                self._memo[key] = (True, compute())
            except Unavailable as e:
                self._memo[key] = (False, e.reason)
        ok, value = self._memo[key]
        if not ok:
            raise Unavailable(value)
        return value

    # Inputs ----------------------------------------------------------------------------------

    @property
    def x(self) -> np.ndarray:
        def draw():
            x = self.rng.uniform(-2, 2, self.input_shape)
            x[np.abs(x) < 0.05] += 0.1  # away from ReLU's kink
            return x
        return self.memo("x", draw)

    @property
    def batch(self) -> int:
        return self.input_shape[0]

    def forward(self) -> Reply:
        """The first ``forward(x)`` (with the instance's state after it)."""
        return self.memo("forward", lambda: self.student.call("forward", self.x, label=FORWARD, state=True))

    @property
    def y(self) -> np.ndarray:
        def get():
            r = self.forward()
            if not r.ok:
                raise Unavailable(f"forward {r.error}")
            y = r.value
            if not isinstance(y, np.ndarray) or y.dtype.kind not in "biuf":
                raise Unavailable(f"forward returned {describe(y)}, not an array")
            if not np.all(np.isfinite(y)):
                raise Unavailable("forward's output holds NaN or inf")
            return y
        return self.memo("y", get)

    @property
    def dy(self) -> np.ndarray:
        return self.memo("dy", lambda: self.rng.standard_normal(self.y.shape))

    @property
    def after_forward(self) -> dict:
        return self.forward().state or self.state

    @property
    def hint(self) -> str:
        y = self.y
        return FLOAT32_HINT.format(dtype=y.dtype) if y.dtype != np.float64 else ""

    def objective(self, out: np.ndarray) -> float:
        return float(np.sum(out * self.dy))

    # Finite differences and probes -------------------------------------------------------

    def finite_differences(self, args: list, vary: dict, base: np.ndarray, objective, out_shape, label: str):
        """Central differences of ``objective(forward(...))`` for the entries of ``base`` (the
        argument, attribute or parameter ``vary`` names): ``(gradient, sampled index or None)``.
        Every forward output must be finite. Memory linear in ``base``'s size, in chunks."""
        base = np.asarray(base, np.float64)
        n = base.size
        if n > PARAM_CAP:
            raise Unavailable(f"it has {n:,} entries, more than the checker's cap of {PARAM_CAP:,} "
                              "(the checker builds small layers)")
        flat = base.reshape(-1)
        entries = np.arange(n) if n <= FD_FULL else np.sort(self.rng.choice(n, FD_FULL, replace=False))
        out_size = max(1, int(np.prod(out_shape, dtype=np.int64)))
        chunk = max(1, min(1024, FD_CHUNK_BYTES // (8 * out_size)))
        plus, minus = np.empty(len(entries)), np.empty(len(entries))
        for start in range(0, len(entries), chunk):
            idx = entries[start:start + chunk]
            index = np.concatenate([idx, idx])[:, None]
            values = np.concatenate([flat[idx] + EPS, flat[idx] - EPS])[:, None]
            outputs = self.student.forward_many(args, vary, index, values, label)
            if isinstance(outputs, str):
                raise Unavailable(outputs)
            if outputs.shape[1:] != tuple(out_shape):
                raise Unavailable(f"forward's output has shape {outputs.shape[1:]} near the checked point but "
                                  f"{tuple(out_shape)} at it")
            if not np.all(np.isfinite(outputs)):
                bad = int(np.nonzero(~np.all(np.isfinite(outputs.reshape(len(index), -1)), axis=1))[0][0])
                where = tuple(int(i) for i in np.unravel_index(int(index[bad, 0]), base.shape))
                raise Unavailable(f"forward returned NaN or inf at a finite-difference point (entry {where} "
                                  f"{'+' if bad < len(idx) else '−'} {EPS:g})")
            values_out = np.array([objective(o) for o in outputs])
            plus[start:start + len(idx)] = values_out[:len(idx)]
            minus[start:start + len(idx)] = values_out[len(idx):]
        grad = (plus - minus) / (2 * EPS)
        if n <= FD_FULL:
            return grad.reshape(base.shape), None
        return grad, entries

    def fd_inputs(self):
        return self.memo("fd_x", lambda: self.finite_differences([self.x], {"arg": 0}, self.x, self.objective,
                                                                 self.y.shape, BI_FD)[0])

    def changes_output(self, path: str, value: np.ndarray, entries: np.ndarray, what: str) -> bool:
        """Whether perturbing ``entries`` of the array at ``path`` changes forward's output;
        :class:`Unavailable` when that cannot be established."""
        flat = np.asarray(value, np.float64).reshape(-1)
        delta = 1e-2 * (1.0 + np.abs(flat[entries])) * self.rng.choice([-1.0, 1.0], len(entries))
        outs = self.student.forward_many([self.x], {"attr": path}, entries[None, :], (flat[entries] + delta)[None, :],
                                         f"forward depends on {path}")
        if isinstance(outs, str):
            raise Unavailable(f"cannot tell whether forward depends on {what}: {outs}")
        if outs.shape[1:] != self.y.shape:
            raise Unavailable(f"cannot tell whether forward depends on {what}: perturbing it changed the output's "
                              f"shape to {outs.shape[1:]}")
        if not np.all(np.isfinite(outs)):
            raise Unavailable(f"forward returned NaN or inf when {what} was perturbed by about 1%: whether it "
                              "depends on it cannot be established")
        scale = max(1.0, float(np.abs(self.y).max(initial=0)))
        return float(np.max(np.abs(outs[0] - self.y), initial=0)) > 1e-9 * scale

    def float_arrays(self) -> dict[str, np.ndarray]:
        """The instance's float array attributes after forward (the candidates for parameters)."""
        st = self.after_forward
        out = {}
        for path, v in st["attrs"].items():
            if isinstance(v, wire.Opaque) and "float" in v.type_name:
                raise Unavailable(f"{path} is too large to check ({v.type_name}; at most {PARAM_CAP:,} entries)")
            if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size > 0:
                if v.size > PARAM_CAP:
                    raise Unavailable(f"{path} has {v.size:,} entries, more than the checker's cap of {PARAM_CAP:,}")
                out[path] = v
        return out

    def depends(self) -> list[str]:
        """The float arrays forward's output depends on (each perturbed once)."""
        def probe():
            found = []
            for path, value in self.float_arrays().items():
                if self.changes_output(path, value, np.arange(value.size), path):
                    found.append(path)
            return found
        return self.memo("depends", probe)

    def has_params(self) -> bool:
        if self.lab.params:
            return True
        return bool(self.depends()) or self.after_forward.get("has_params") is True

    def backward_params(self) -> Reply:
        """``forward(x)`` then ``backward_params(dy)`` (with the instance's state after it)."""
        def call():
            fwd = self.student.call("forward", self.x, label=BACKWARD_PARAMS)
            if not fwd.ok:
                return Reply(ok=False, error=f"forward, called before backward_params, {fwd.error}")
            return self.student.call("backward_params", self.dy.copy(), label=BACKWARD_PARAMS, state=True)
        return self.memo("bp", call)

    def pairs(self) -> tuple[list, list, list]:
        """``(params, grads, paths)`` from backward_params, or :class:`Unavailable`."""
        def get():
            if not self.info.get("backward_params"):
                raise Unavailable("there is no backward_params method")
            bp = self.backward_params()
            if not bp.ok:
                raise Unavailable(f"backward_params {bp.error}")
            params, grads, problem = params_of(bp.value)
            if problem:
                raise Unavailable(f"backward_params: {problem}")
            if not params:
                raise Unavailable("backward_params returned no [param, grad] pair")
            paths = list(bp.param_paths or [])[:len(params)]
            paths += [None] * (len(params) - len(paths))
            return params, grads, paths
        return self.memo("pairs", get)

    def dx(self) -> np.ndarray:
        """What ``backward_inputs(dy)`` returned after ``forward(x)``."""
        def get():
            if not self.info.get("backward_inputs"):
                raise Unavailable("there is no backward_inputs method")
            r = self.backward_inputs()
            if not r.ok:
                raise Unavailable(r.error if r.error.startswith("forward") else f"backward_inputs {r.error}")
            if not isinstance(r.value, np.ndarray) or r.value.dtype.kind not in "biuf":
                raise Unavailable(f"backward_inputs returned {describe(r.value)}, not a numeric array")
            return r.value
        return self.memo("dx", get)

    def backward_inputs(self) -> Reply:
        def call():
            fwd = self.student.call("forward", self.x, label=BACKWARD_INPUTS, state=True)
            if not fwd.ok:
                return Reply(ok=False, error=f"forward, called again before it, {fwd.error}")
            self._memo["before_bi"] = (True, fwd.state or self.after_forward)
            return self.student.call("backward_inputs", self.dy.copy(), label=BACKWARD_INPUTS, state=True)
        return self.memo("bi", call)

    # The jaxdl counterpart ---------------------------------------------------------------

    def counterpart(self):
        """``(layer name, best fit, back maps, vjp)`` of the jaxdl layer this class stands for,
        built from the checker's arguments, with the student's parameters in its layout."""
        def get():
            y = self.y
            layer, shapes, out_shape, apply, vjp = reference.compiled(self.lab_name, self.lab, self.config,
                                                                      self.input_shape)
            names = self.lab.params
            if names:
                try:
                    arrays = self.pairs()[0]
                except Unavailable as e:  # the arrays forward depends on stand in for the pairs
                    deps = self.depends()
                    if not deps:
                        raise Unavailable(f"{e.reason}, and forward depends on none of the instance's arrays")
                    arrays = [self.float_arrays()[p] for p in deps]
                bad = [describe(a) for a in arrays if not (isinstance(a, np.ndarray) and a.dtype.kind in "biuf")]
                if bad:
                    raise Unavailable(f"the parameters are not numeric arrays ({', '.join(bad)})")
                cands = reference.candidates(names, shapes, arrays)
                if not cands:
                    got = ", ".join(str(np.shape(a)) for a in arrays) or "none"
                    raise Unavailable(f"its parameters (shapes {got}) do not fit jaxdl {layer.name}, whose parameters "
                                      f"are {reference.describe_layout(names, shapes)}")
            else:
                cands = [({}, [])]
            y64 = np.asarray(y, np.float64)
            found = reference.fits(apply, cands, self.x, y64)
            if not found:
                raise Unavailable(f"its parameters do not fit jaxdl {layer.name} at the input {self.x.shape}")
            best = found[0]
            scale = max(1.0, float(np.abs(y64).max(initial=0)))
            tied = [f for f in found if f[0] <= best[0] + TOL_REF * scale]
            if len(tied) > 1 and names:  # readings of the parameters the forward cannot tell apart: the gradients can
                try:
                    grads = self.pairs()[1]
                except Unavailable:
                    grads = None
                if grads is not None:
                    def gradient_error(fit):
                        dparams, _ = reference.vjp_at(vjp, fit[1], self.x, self.dy)
                        errs = []
                        for g, (pname, back) in zip(grads, fit[2]):
                            ref = back(dparams[pname])
                            ok = isinstance(g, np.ndarray) and np.shape(g) == ref.shape
                            errs.append(float(np.max(np.abs(np.asarray(g, np.float64) - ref), initial=0)) if ok else np.inf)
                        return max(errs, default=0.0)
                    best = min(tied, key=gradient_error)
            return layer.name, best, vjp, out_shape
        return self.memo("counterpart", get)

    def reference_vjp(self):
        def get():
            name, (err, params64, backs, out), vjp, _ = self.counterpart()
            if out.shape != self.y.shape:
                raise Unavailable(f"forward's output has shape {self.y.shape}, jaxdl {name}'s {out.shape}")
            return reference.vjp_at(vjp, params64, self.x, self.dy)
        return self.memo("reference_vjp", get)

    def expected_shape(self) -> tuple:
        _, shapes, out_shape, _, _ = reference.compiled(self.lab_name, self.lab, self.config, self.input_shape)
        return out_shape


# --------------------------------------------------------------------------------------------
# The checks.

@dataclasses.dataclass(frozen=True, kw_only=True)
class CheckSpec:
    """One check, declared once, by :func:`check` on its function: its ``name``; its ``label`` (a
    string, or a function of the context: the record made when it cannot run); the ``points`` each
    of its records is worth; the kinds of lab class that ``required`` it (the tags of
    :attr:`~jaxdl.labspec.LabClass.requirements`: ``"layer"``, ``"layer with parameters"``,
    ``"elementwise"``, ``"loss"``, ``"regularizer"``, ``"composite"``, and ``"any layer"``, ``"any
    loss"``, ``"any regularizer"`` for a class jaxdl does not know); ``per_parameter``: one record
    per parameter of the lab's layer, not one in all; and the function that runs it."""

    name: str
    label: object
    points: float = 1.0
    required: frozenset
    per_parameter: bool = False
    run: object


CHECKS: dict[str, CheckSpec] = {}  # in the order they are declared, which is the order they run in


def check(name: str, *, label, required: tuple[str, ...], points: float = 1.0, per_parameter: bool = False):
    """Declares the function below as the check ``name`` (see :class:`CheckSpec`)."""
    def register(fn):
        if name in CHECKS:
            raise ValueError(f"check-numpy: a check named {name!r} is declared twice")
        CHECKS[name] = CheckSpec(name=name, label=label, points=float(points), required=frozenset(required),
                                 per_parameter=per_parameter, run=fn)
        return fn
    return register


def required_checks(lab: LabClass) -> tuple[str, ...]:
    """The checks a class of ``lab``'s kind must pass (and pass on finite numbers to be ok), in
    the order they run: those whose ``required`` meets the class's requirements."""
    return tuple(name for name, spec in CHECKS.items() if spec.required & lab.requirements)


def expected_points(lab: LabClass) -> float:
    """What a class of this kind is worth when every check runs: each required check's points, once
    per parameter of the lab's layer where it is checked per parameter."""
    n_params = max(len(lab.params), 1)
    return sum(CHECKS[n].points * (n_params if CHECKS[n].per_parameter else 1) for n in required_checks(lab))


def _run_one(ctx, spec: CheckSpec) -> list[Check]:
    try:
        with np.errstate(all="ignore"):  # the student's numbers may overflow: the checks say so in words
            out = spec.run(ctx)
    except Unavailable as e:
        label = spec.label(ctx) if callable(spec.label) else spec.label
        out = [Check(name=label, ok=False, detail=f"could not run: {e.reason}")]
    out = out if isinstance(out, list) else [out]
    for record in out:
        record.points = spec.points
    return out


def run(ctx: Context, names) -> None:
    """Runs the checks ``names`` in order, appending their records to ``ctx.res.checks``."""
    for name in names:
        ctx.res.checks.extend(_run_one(ctx, CHECKS[name]))


def _lab_layer_name(ctx) -> str:
    return ctx.lab_name or "layer"


@check("forward", label=FORWARD, required=("layer", "any layer"))
def check_forward(ctx: Context):
    r = ctx.forward()
    if not r.ok:
        return Check(name=FORWARD, ok=False, detail=r.error)
    y = r.value
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "biuf":
        return Check(name=FORWARD, ok=False, detail=f"returned {describe(y)}, not an array (a missing return?)")
    if not np.all(np.isfinite(y)):
        return Check(name=FORWARD, ok=False, detail="NaN or inf in the output")
    if ctx.hint:
        ctx.res.notes.append(f"forward returns {y.dtype}: finite differences need float64")
    return Check(name=FORWARD, ok=True, detail=f"output shape {y.shape}")


@check("output_shape", label=OUTPUT_SHAPE, required=("layer",))
def check_output_shape(ctx: Context):
    y, want = ctx.y, ctx.expected_shape()
    args = ", ".join(f"{k}={v!r}" for k, v in ctx.config.items())
    ok = tuple(y.shape) == tuple(want)
    return Check(name=OUTPUT_SHAPE, ok=ok, detail="" if ok else
                 f"{tuple(y.shape)} for the input {ctx.input_shape}; expected {tuple(want)}"
                 + (f" from the arguments the checker passed ({args})" if args else ""))


@check("forward_side_effects", label=FORWARD_SIDE_EFFECTS, required=("layer", "any layer"))
def check_forward_side_effects(ctx: Context):
    r = ctx.forward()
    if not r.ok:
        raise Unavailable(f"forward {r.error}")
    intact = bool(r.args_after) and isinstance(r.args_after[0], np.ndarray) and np.array_equal(r.args_after[0], ctx.x)
    return Check(name=FORWARD_SIDE_EFFECTS, ok=intact, detail="" if intact else "forward modified `inputs` in place")


@check("backward_inputs", label=BACKWARD_INPUTS, required=("layer", "any layer"))
def check_backward_inputs(ctx: Context):
    if not ctx.info.get("backward_inputs"):
        return Check(name=BACKWARD_INPUTS, ok=False, detail="no backward_inputs method")
    r = ctx.backward_inputs()
    if not r.ok:
        return Check(name=BACKWARD_INPUTS, ok=False, detail=r.error)
    if not isinstance(r.value, np.ndarray) or r.value.dtype.kind not in "biuf":
        return Check(name=BACKWARD_INPUTS, ok=False, detail=f"returned {describe(r.value)}, not a numeric array")
    return Check(name=BACKWARD_INPUTS, ok=True)


def _grads_intact(r: Reply, dy) -> bool:
    return bool(r.args_after) and isinstance(r.args_after[0], np.ndarray) and np.array_equal(r.args_after[0], dy)


@check("backward_inputs_side_effects", label=BI_SIDE_EFFECTS, required=("layer", "any layer"))
def check_bi_side_effects(ctx: Context):
    ctx.dx()
    intact = _grads_intact(ctx.backward_inputs(), ctx.dy)
    return Check(name=BI_SIDE_EFFECTS, ok=intact, detail="" if intact else
                 "backward_inputs modified its argument `grads` in place (in-place mutation of grads)")


@check("backward_inputs_cache", label=BI_CACHE, required=("layer", "any layer"))
def check_bi_cache(ctx: Context):
    """What forward cached (the arrays it set or changed) must come out of backward_inputs as it went in;
    a buffer of backward's own may change."""
    ctx.dx()
    built, cached = ctx.state["attrs"], ctx.after_forward["attrs"]
    caches = {k: v for k, v in cached.items() if k not in built or _changed({k: built[k]}, {k: v})}
    before = ctx._memo["before_bi"][1]
    after = ctx.backward_inputs().state or before
    changed = _changed({k: v for k, v in before["attrs"].items() if k in caches}, after["attrs"])
    return Check(name=BI_CACHE, ok=not changed, detail=f"changed {', '.join(changed)}" if changed else "")


@check("backward_inputs_fd", label=BI_FD, required=("layer", "any layer"))
def check_bi_fd(ctx: Context):
    dx = ctx.dx()
    c = compare(BI_FD, dx, ctx.fd_inputs(), ctx.batch, TOL_FD)
    if not c.ok and not _grads_intact(ctx.backward_inputs(), ctx.dy):
        c.detail += "; consistent with the in-place change of `grads` (a later use reads the changed values)"
    if ctx.hint and not c.ok:
        c.detail += ctx.hint
    return c


@check("call_order_forwards", label=CALL_ORDER_FORWARDS, required=("layer", "any layer"))
def check_call_order_forwards(ctx: Context):
    dx = ctx.dx()
    first = ctx.student.call("forward", ctx.rng.uniform(-1, 1, ctx.input_shape), label=CALL_ORDER_FORWARDS)
    if not first.ok:
        return Check(name=CALL_ORDER_FORWARDS, ok=False, detail=f"forward {first.error}")
    r = _after_forward(ctx, "backward_inputs", ctx.dy.copy(), label=CALL_ORDER_FORWARDS)
    same = r.ok and close(r.value, dx, 1e-12)
    return Check(name=CALL_ORDER_FORWARDS, ok=same,
                 detail="" if same else (r.error or "the result depends on an earlier forward call"))


def _after_forward(ctx: Context, method: str, *args, label: str) -> Reply:
    """``forward(x)`` then ``method(*args)``; a failure of either is the reply's error."""
    fwd = ctx.student.call("forward", ctx.x, label=label)
    if not fwd.ok:
        return Reply(ok=False, error=f"forward, called before {method}, {fwd.error}")
    return ctx.student.call(method, *args, label=label)


def _changed(before: dict, after: dict) -> list[str]:
    out = []
    for k, v in before.items():
        now = after.get(k)
        if isinstance(v, np.ndarray) and isinstance(now, np.ndarray) and (
                now.shape != v.shape or not np.array_equal(now, v, equal_nan=True)):
            out.append(k)
    return out


# Parameters ------------------------------------------------------------------------------


def params_of(result):
    """``[[p, g], ..., name]`` → ``([p], [g], problem)``; ``problem`` describes a bad format."""
    if result is None:
        return [], [], None
    if not isinstance(result, list) or not result:
        return None, None, f"expected a list [[param, grad], ..., name]; got {describe(result)}"
    *pairs, last = result
    if not isinstance(last, str):
        return None, None, f"the last element must be the layer's name (a string); got {describe(last)}"
    params, grads = [], []
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, list) and len(pair) == 2):
            return None, None, (f"element {i} must be a pair [param, grad]; got {describe(pair)}"
                                + (f" of shape {pair.shape}" if isinstance(pair, np.ndarray) else "")
                                + " (the pairs tie each gradient to its parameter)")
        params.append(pair[0])
        grads.append(pair[1])
    return params, grads, None


def _why_params(ctx: Context) -> str:
    if ctx.lab.params:
        return f"the lab's {ctx.lab.names[0]} has the parameters {', '.join(ctx.lab.params)}"
    deps = ctx.depends()
    return f"forward depends on {', '.join(deps)}" if deps else "the layer says it has parameters (has_params)"


@check("backward_params", label=BACKWARD_PARAMS, required=("layer with parameters",))
def check_backward_params(ctx: Context):
    if not ctx.info.get("backward_params"):
        return Check(name="backward_params", ok=False, detail=f"no backward_params method, but {_why_params(ctx)}")
    bp = ctx.backward_params()
    if not bp.ok:
        return Check(name="backward_params", ok=False, detail=bp.error)
    params, _, problem = params_of(bp.value)
    if problem:
        return Check(name=BACKWARD_PARAMS, ok=False, detail=problem)
    if not params:
        return Check(name="backward_params", ok=False,
                     detail=f"returned {describe(bp.value) if bp.value is None else 'no pair'}, "
                            f"but {_why_params(ctx)}")
    if ctx.lab.params and len(params) != len(ctx.lab.params):
        return Check(name=BACKWARD_PARAMS, ok=False, detail=f"expected {len(ctx.lab.params)} pairs [param, grad] "
                                                            f"({', '.join(ctx.lab.params)}); got {len(params)}")
    return Check(name=BACKWARD_PARAMS, ok=True)


@check("backward_params_side_effects", label=BP_SIDE_EFFECTS, required=("layer with parameters",))
def check_bp_side_effects(ctx: Context):
    ctx.pairs()
    intact = _grads_intact(ctx.backward_params(), ctx.dy)
    return Check(name=BP_SIDE_EFFECTS, ok=intact, detail="" if intact else
                 "backward_params modified its argument `grads` in place (in-place mutation of grads)")


def _offsets(region: tuple, shape: tuple) -> np.ndarray:
    """The byte offset of every entry (C order) of an array lying at ``region`` in its buffer."""
    _, offset, strides, _, _ = region
    if len(strides) != len(shape) or int(np.prod(shape, dtype=np.int64)) > PARAM_CAP:
        raise Unavailable("the worker's report of where an array lies in memory does not fit its shape")
    if not shape:
        return np.array([offset], np.int64)
    idx = np.indices(shape, dtype=np.int64).reshape(len(shape), -1)
    return offset + np.asarray(strides, np.int64) @ idx


@check("params_cover", label=PARAMS_COVER, required=("layer with parameters",))
def check_params_cover(ctx: Context):
    """Every entry forward depends on has its gradient: covered by the memory of an array
    backward_params returned (arrays may be views of one buffer)."""
    params, _, paths = ctx.pairs()
    deps = ctx.depends()
    bp_state = ctx.backward_params().state or ctx.after_forward
    arrays = ctx.float_arrays()
    regions = ctx.after_forward["regions"]
    covered: dict[int, set] = {}
    for p, region in zip(params, bp_state.get("returned") or []):
        if region is not None and isinstance(p, np.ndarray):
            covered.setdefault(region[0], set()).update(_offsets(region, p.shape).tolist())
    missing_by_group: dict[int, set] = {}
    for path in deps:
        region = regions[path]
        offs = _offsets(region, arrays[path].shape)
        missing = np.array([o not in covered.get(region[0], ()) for o in offs.tolist()], bool)
        if not missing.any():
            continue
        entries = np.nonzero(missing)[0]
        if entries.size < offs.size and not ctx.changes_output(path, arrays[path], entries,
                                                               f"the entries of {path} without a gradient"):
            continue  # entries forward does not use (e.g. spare room in a shared buffer)
        missing_by_group.setdefault(region[0], set()).update(offs[entries].tolist())
    if not missing_by_group:
        return Check(name=PARAMS_COVER, ok=True)
    named = []
    for path in arrays:  # name the arrays whose every entry lacks a gradient
        region = regions[path]
        offs = set(_offsets(region, arrays[path].shape).tolist())
        if offs and offs <= missing_by_group.get(region[0], set()):
            named.append(path)
    total = sum(len(v) for v in missing_by_group.values())
    detail = f"no gradient for {', '.join(named)}" if named else f"no gradient for {total} entries forward depends on"
    return Check(name=PARAMS_COVER, ok=False, detail=detail)


def _param_target(ctx: Context, i: int, path, p, region) -> tuple[dict, str]:
    """Where the finite differences perturb parameter ``i``: its attribute, or the returned array."""
    if path is not None:
        return {"attr": path}, path
    groups = {r[0] for r in ctx.after_forward["regions"].values()}
    if region is None or region[0] not in groups:
        raise Unavailable("the parameter is not one of the layer's array attributes "
                          "(a copy? return the array itself: [self.W, grad_W])")
    return {"param": i}, f"parameter {i}"


@check("params_fd", label=PARAMS_FD, required=("layer with parameters",), per_parameter=True)
def check_params_fd(ctx: Context):
    params, grads, paths = ctx.pairs()
    bp_state = ctx.backward_params().state or {}
    returned = list(bp_state.get("returned") or [])
    returned += [None] * (len(params) - len(returned))
    out = []
    for i, (p, g, path) in enumerate(zip(params, grads, paths)):
        label = param_fd_label(i, path or "a parameter", np.shape(p))
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            out.append(Check(name=label, ok=False, detail=f"the parameter is not a float array but {describe(p)}"))
            continue
        try:
            vary, _ = _param_target(ctx, i, path, p, returned[i])
            fd, sample = ctx.finite_differences([ctx.x], vary, p, ctx.objective, ctx.y.shape, label)
        except Unavailable as e:
            out.append(Check(name=label, ok=False, detail=e.reason))
            continue
        if sample is not None and isinstance(g, np.ndarray) and g.shape == p.shape:
            c = compare(label, g.reshape(-1)[sample], fd, ctx.batch, TOL_FD)
            c.detail += f" (over {sample.size} sampled entries of {p.size})" if c.detail else ""
        else:
            c = compare(label, g, fd, ctx.batch, TOL_FD)
        if ctx.hint and not c.ok:
            c.detail += ctx.hint
        out.append(c)
    return out


@check("call_order_params", label=CALL_ORDER_PARAMS, required=("layer with parameters",))
def check_call_order_params(ctx: Context):
    """forward, backward_inputs, backward_params (the lab's order) gives the same parameter gradients
    as forward then backward_params: backward_inputs leaves what backward_params needs."""
    _, grads, _ = ctx.pairs()
    r = _after_forward(ctx, "backward_inputs", ctx.dy.copy(), label=CALL_ORDER_PARAMS)
    r3 = ctx.student.call("backward_params", ctx.dy.copy(), label=CALL_ORDER_PARAMS) if r.ok else r
    if not r3.ok:
        return Check(name=CALL_ORDER_PARAMS, ok=False, detail=r3.error)
    again, grads2, problem = params_of(r3.value)
    same = not problem and grads2 is not None and len(grads2) == len(grads) and all(
        close(a, b, 1e-12) for a, b in zip(grads2, grads))
    return Check(name=CALL_ORDER_PARAMS, ok=same,
                 detail="" if same else "backward_params returns other gradients after backward_inputs")


@check("params_if_any", label=NO_PARAMS, required=("any layer",))
def check_params_if_any(ctx: Context):
    """A class jaxdl does not know: the parameter checks run when forward depends on an array
    (or the class says it has parameters)."""
    if not ctx.has_params():
        return Check(name=NO_PARAMS, ok=True)
    return [record for spec in CHECKS.values() if "layer with parameters" in spec.required
            and not spec.name.startswith("reference") for record in _run_one(ctx, spec)]


# The jaxdl counterpart -------------------------------------------------------------------


@check("reference_forward", label=lambda ctx: reference_forward_label(_lab_layer_name(ctx)), required=("layer",))
def check_reference_forward(ctx: Context):
    name, (err, params64, backs, out), _, _ = ctx.counterpart()
    label = reference_forward_label(name)
    y = np.asarray(ctx.y, np.float64)
    if out.shape != y.shape:
        return Check(name=label, ok=False, detail=f"wrong shape {y.shape}, expected {out.shape}")
    return compare(label, y, out, ctx.batch, TOL_REF)


@check("reference_inputs", label=lambda ctx: reference_inputs_label(_lab_layer_name(ctx)), required=("layer",))
def check_reference_inputs(ctx: Context):
    name = ctx.counterpart()[0]
    _, dx_ref = ctx.reference_vjp()
    return compare(reference_inputs_label(name), ctx.dx(), dx_ref, ctx.batch, TOL_REF)


@check("reference_params", label=lambda ctx: reference_param_label(0, "the parameters", _lab_layer_name(ctx)),
       required=("layer with parameters",), per_parameter=True)
def check_reference_params(ctx: Context):
    name, (_, _, backs, _), _, _ = ctx.counterpart()
    params, grads, paths = ctx.pairs()
    dparams, _ = ctx.reference_vjp()
    out = []
    for i, (g, path, (pname, back)) in enumerate(zip(grads, paths, backs)):
        out.append(compare(reference_param_label(i, path or "a parameter", name), g, back(dparams[pname]),
                           ctx.batch, TOL_REF))
    return out


def _directional(ctx: Context, vary: dict, base: np.ndarray, x, objective, label: str, k: int = 3):
    """``k`` directional derivatives of ``objective(forward)`` along random unit directions of
    ``base`` (what ``vary`` names): ``(directions, derivatives)``."""
    base = np.asarray(base, np.float64)
    flat = base.reshape(-1)
    dirs = ctx.rng.standard_normal((k, flat.size))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    index = np.tile(np.arange(flat.size), (2 * k, 1))
    values = np.concatenate([flat + EPS * dirs, flat - EPS * dirs])
    outs = ctx.student.forward_many([x], vary, index, values, label)
    if isinstance(outs, str):
        raise Unavailable(outs)
    if not np.all(np.isfinite(outs)):
        raise Unavailable("forward returned NaN or inf near the second point")
    vals = np.array([objective(o) for o in outs])
    return dirs, (vals[:k] - vals[k:]) / (2 * EPS)


@check("second_point", label=SECOND_POINT, required=("layer", "any layer"))
def check_second_point(ctx: Context):
    """A wider input and a new upstream gradient: forward, backward_inputs and backward_params (in the
    lab's order) against jaxdl's layer, or against directional finite differences of the class's own
    forward (a class jaxdl does not know). Catches results cached from the first call and formulas
    that only hold for small inputs."""
    label = SECOND_POINT
    x2 = ctx.rng.uniform(-8, 8, ctx.input_shape)
    x2[np.abs(x2) < 0.05] += 0.1
    f = ctx.student.call("forward", x2, label=label)
    if not f.ok:
        return Check(name=label, ok=False, detail=f"forward {f.error}")
    y2 = f.value
    if not isinstance(y2, np.ndarray) or y2.dtype.kind not in "biuf" or y2.shape != ctx.y.shape:
        return Check(name=label, ok=False, detail=f"forward returned {describe(y2)}" + (
            f" of shape {y2.shape}, not {ctx.y.shape}" if isinstance(y2, np.ndarray) else ""))
    if not np.all(np.isfinite(y2)):
        return Check(name=label, ok=False, detail="forward returned NaN or inf for inputs up to 8 in magnitude")
    dy2 = ctx.rng.standard_normal(y2.shape)
    bi = ctx.student.call("backward_inputs", dy2.copy(), label=label)
    if not bi.ok:
        return Check(name=label, ok=False, detail=f"backward_inputs {bi.error}")
    params = bool(ctx.lab.params) if ctx.lab_name is not None else bool(ctx.has_params() and ctx.info.get("backward_params"))
    grads2 = None
    if params:
        bp = ctx.student.call("backward_params", dy2.copy(), label=label)
        if not bp.ok:
            return Check(name=label, ok=False, detail=f"backward_params {bp.error}")
        _, grads2, problem = params_of(bp.value)
        if problem:
            return Check(name=label, ok=False, detail=f"backward_params: {problem}")
    if ctx.lab_name is not None:  # against jaxdl's layer, at the same parameters
        name, (_, params64, backs, _), vjp, _ = ctx.counterpart()
        _, _, _, apply, _ = reference.compiled(ctx.lab_name, ctx.lab, ctx.config, ctx.input_shape)
        y_ref = reference.apply_at(apply, params64, x2)
        if y_ref.shape != y2.shape:
            return Check(name=label, ok=False,
                         detail=f"forward's output has shape {y2.shape}; jaxdl {name}'s {y_ref.shape}")
        dparams, dx_ref = reference.vjp_at(vjp, params64, x2, dy2)
        results = [("forward", compare("forward", y2, y_ref, ctx.batch, TOL_REF)),
                   ("backward_inputs", compare("backward_inputs", bi.value, dx_ref, ctx.batch, TOL_REF))]
        for i, (g, (pname, back)) in enumerate(zip(grads2 or [], backs)):
            results.append((f"backward_params[{i}]", compare("", g, back(dparams[pname]), ctx.batch, TOL_REF)))
    else:  # against the class's own forward, along random directions
        results = []
        dirs, fd = _directional(ctx, {"arg": 0}, x2, x2, lambda o: float(np.sum(o * dy2)), label)
        got = dirs @ np.asarray(bi.value, np.float64).reshape(-1) if isinstance(bi.value, np.ndarray) and \
            bi.value.size == x2.size else None
        results.append(("backward_inputs", compare("", got, fd, ctx.batch, TOL_FD) if got is not None else
                        Check(name="", ok=False, detail=f"returned {describe(bi.value)} of the wrong size")))
        if grads2:
            p2, _, paths = ctx.pairs()
            for i, (g, p, path) in enumerate(zip(grads2, p2, paths)):
                if not (isinstance(p, np.ndarray) and isinstance(g, np.ndarray) and g.shape == p.shape):
                    continue
                vary = {"attr": path} if path is not None else {"param": i}
                dirs, fd = _directional(ctx, vary, p, x2, lambda o: float(np.sum(o * dy2)), label)
                results.append((f"backward_params[{i}]", compare("", dirs @ np.asarray(g, np.float64).reshape(-1), fd,
                                                                 ctx.batch, TOL_FD)))
    bad = [(what, c) for what, c in results if not c.ok]
    if bad:
        what, c = bad[0]
        return Check(name=label, ok=False, max_abs_err=c.max_abs_err,
                     detail=f"{what} at an input up to 8 in magnitude: {c.detail}")
    return Check(name=label, ok=True)


@check("large_inputs", label=LARGE_INPUTS, required=("elementwise",))
def check_large_inputs(ctx: Context):
    """An elementwise activation at inputs of magnitude 200 to 1000: forward and backward_inputs finite
    and equal to jaxdl's (a sigmoid computed as exp(x)/(1 + exp(x)) returns NaN there)."""
    label = LARGE_INPUTS
    x3 = ctx.rng.choice([-1.0, 1.0], ctx.input_shape) * ctx.rng.uniform(200, 1000, ctx.input_shape)
    name, (_, params64, _, _), vjp, _ = ctx.counterpart()
    _, _, _, apply, _ = reference.compiled(ctx.lab_name, ctx.lab, ctx.config, ctx.input_shape)
    y_ref = reference.apply_at(apply, params64, x3)
    dy3 = ctx.rng.standard_normal(y_ref.shape)
    _, dx_ref = reference.vjp_at(vjp, params64, x3, dy3)
    f = ctx.student.call("forward", x3, label=label)
    if not f.ok:
        return Check(name=label, ok=False, detail=f"forward {f.error}")
    c = compare(label, f.value, y_ref, ctx.batch, TOL_REF)
    if c.ok and np.shape(f.value) != y_ref.shape:
        c = Check(name=label, ok=False, detail=f"wrong shape {np.shape(f.value)}, expected {y_ref.shape}")
    if not c.ok:
        c.detail = f"forward: {c.detail}"
        return c
    bi = ctx.student.call("backward_inputs", dy3.copy(), label=label)
    if not bi.ok:
        return Check(name=label, ok=False, detail=f"backward_inputs {bi.error}")
    c = compare(label, bi.value, dx_ref, ctx.batch, TOL_REF)
    if not c.ok:
        c.detail = f"backward_inputs: {c.detail}"
    return c


def take_a_training_step(student: Student, input_shape, rng) -> dict | None:
    """Forward, backward_params, then each returned parameter overwritten in place with random
    values, as an update of training would: a class is then checked at weights it did not choose
    (not at zeros or at a symmetric start), and a copy it kept of them is stale, as it would be in
    training. Returns the instance's state after, or None if any of it failed."""
    x0 = rng.uniform(-1, 1, input_shape)
    f = student.call("forward", x0, label="build")
    if not (f.ok and isinstance(f.value, np.ndarray) and f.value.dtype.kind in "biuf"):
        return None
    bp = student.call("backward_params", rng.standard_normal(f.value.shape), label="build")
    if not bp.ok:
        return None
    params, _, problem = params_of(bp.value)
    if problem or not params:
        return None
    values = [rng.normal(0.0, 0.5, p.shape) for p in params if isinstance(p, np.ndarray)]
    arrays: list = []
    reply, out = student.request({"op": "set_params", "values": [wire.encode_value(v, arrays) for v in values]},
                                 arrays, "build")
    if "error" in reply or not isinstance(reply.get("state"), dict):
        return None
    return decode_state(reply["state"], out)


# --------------------------------------------------------------------------------------------
# A loss: forward(x, y) -> scalar, backward_inputs(x, y).

SECOND_LOSS_SHAPE = (5, 6)  # a second batch and class count: a relation to the right loss is named only when it holds at both
SHIFT, SPREAD = 1000.0, 1000.0

# How a wrong loss (or its gradient) can relate to the right one: (words, factor of the batch size N
# and the class count C). One is named only when it reproduces the file's numbers at two shapes.
LOSS_RELATIONS = (
    ("N times the mean: the sum over the batch instead of the mean", lambda n, c: n),
    ("1/C of the mean: the mean over all N·C entries instead of over the N examples", lambda n, c: 1 / c),
    ("1/N of the mean: divided by N twice", lambda n, c: 1 / n),
    ("twice the loss", lambda n, c: 2.0),
    ("half the loss", lambda n, c: 0.5),
    ("the loss with the wrong sign", lambda n, c: -1.0),
)
GRADIENT_RELATIONS = (
    ("N times the gradient of the mean: not divided by N", lambda n, c: n),
    ("1/C of the gradient: the gradient of the mean over all N·C entries", lambda n, c: 1 / c),
    ("1/N of the gradient: divided by N twice", lambda n, c: 1 / n),
    ("twice the gradient", lambda n, c: 2.0),
    ("half the gradient", lambda n, c: 0.5),
    ("the gradient with the wrong sign", lambda n, c: -1.0),
)


def _loss_shape(ctx) -> tuple:
    """The shape of the file's loss value (``()`` for the lab's scalar)."""
    v = ctx.forward().value if ctx.forward().ok else None
    return tuple(v.shape) if isinstance(v, np.ndarray) and v.size == 1 else ()


def _values(v) -> np.ndarray | None:
    """A numeric result as a float64 array (any shape), else None."""
    if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
        return np.asarray(v, np.float64)
    return None


def _scalar(v) -> float | None:
    """A finite number from a loss's value: a scalar, or an array of one entry (its own check says
    that is not the lab's scalar); else None."""
    a = _values(v)
    if a is not None and a.size == 1 and np.all(np.isfinite(a)):
        return float(a.reshape(()))
    return None


def _not_finite(r: Reply) -> bool:
    a = _values(r.value) if r.ok else None
    return a is not None and a.size > 0 and not np.all(np.isfinite(a))


def relation(pairs, relations) -> str:
    """The words of the first relation under which the file's value equals ``factor(N, C) ×`` the
    right one at every shape of ``pairs`` (``[(got, right, N, C)]``, at least two); "" when none
    reproduces the file's numbers at all of them."""
    if len(pairs) < 2:
        return ""
    for words, factor in relations:
        if all(isinstance(g, np.ndarray) and g.shape == np.shape(r) and np.abs(r).max(initial=0) > 0
               and close(g, factor(n, c) * np.asarray(r, np.float64), 1e-6) for g, r, n, c in pairs):
            return words
    return ""


@dataclasses.dataclass(kw_only=True)
class LossContext:
    student: Student
    res: ClassResult
    info: dict
    lab: LabClass
    lab_name: str | None
    rng: np.random.Generator
    _memo: dict = dataclasses.field(default_factory=dict)
    memo = Context.memo

    def data(self):
        def draw():
            n, k = BATCH, 4
            return self.rng.standard_normal((n, k)), np.eye(k)[self.rng.integers(0, k, n)]
        return self.memo("data", draw)

    def data2(self):
        """Logits of another batch size and class count (for confirming a relation)."""
        def draw():
            n, k = SECOND_LOSS_SHAPE
            return self.rng.standard_normal((n, k)), np.eye(k)[self.rng.integers(0, k, n)]
        return self.memo("data2", draw)

    def forward(self) -> Reply:
        x, y = self.data()
        return self.memo("forward", lambda: self.student.call("forward", x, y, label=FORWARD))

    def loss(self) -> float:
        def get():
            r = self.forward()
            if not r.ok:
                raise Unavailable(f"forward {r.error}")
            v = _scalar(r.value)
            if v is None:
                raise Unavailable(f"forward returned {describe(r.value)}"
                                  + (f" of shape {r.value.shape}" if isinstance(r.value, np.ndarray) else "")
                                  + ", not a finite scalar")
            return v
        return self.memo("loss", get)

    def fd_at(self, xv, yv, label):
        """Central differences of the file's own loss at ``(xv, yv)`` (a loss of one entry in any shape)."""
        ctx = Context(student=self.student, res=self.res, info=self.info, lab=self.lab, lab_name=None, config={},
                      state={}, input_shape=xv.shape, rng=self.rng)
        return ctx.finite_differences([xv, yv], {"arg": 0}, xv, lambda o: float(np.sum(o)), _loss_shape(self),
                                      label)[0]

    def backward(self) -> np.ndarray:
        def get():
            if not self.info.get("backward_inputs"):
                raise Unavailable("there is no backward_inputs method")
            x, y = self.data()
            b = self.student.call("backward_inputs", x, y, label=LOSS_FD)
            if not b.ok:
                raise Unavailable(f"backward_inputs {b.error}")
            return b.value
        return self.memo("backward", get)

    def at_second_shape(self):
        """``(loss, backward_inputs)`` of the file at :meth:`data2` (None where a call failed)."""
        def get():
            x2, y2 = self.data2()
            f = self.student.call("forward", x2, y2, label=REF_LOSS)
            b = self.student.call("backward_inputs", x2, y2, label=REF_LOSS) if self.info.get("backward_inputs") else None
            return (_scalar(f.value) if f.ok else None), (_values(b.value) if b is not None and b.ok else None)
        return self.memo("second_shape", get)


@check("loss_forward", label=LOSS_SCALAR, required=("loss", "any loss"))
def check_loss_forward(ctx: LossContext):
    r = ctx.forward()
    if not r.ok:
        return Check(name=FORWARD, ok=False, detail=r.error)
    v = r.value
    scalar = isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "biuf" and bool(np.isfinite(v))
    return Check(name=LOSS_SCALAR, ok=scalar, detail="" if scalar else
                 f"got {describe(v)}" + (f" of shape {v.shape}" if isinstance(v, np.ndarray) else ""))


@check("loss_side_effects", label=LOSS_SIDE_EFFECTS, required=("loss", "any loss"))
def check_loss_side_effects(ctx: LossContext):
    r = ctx.forward()
    if not r.ok:
        raise Unavailable(f"forward {r.error}")
    x, y = ctx.data()
    intact = len(r.args_after) == 2 and all(isinstance(a, np.ndarray) for a in r.args_after) and \
        np.array_equal(r.args_after[0], x) and np.array_equal(r.args_after[1], y)
    return Check(name=LOSS_SIDE_EFFECTS, ok=intact, detail="" if intact else "forward modified its arguments in place")


@check("loss_backward_fd", label=LOSS_FD, required=("loss", "any loss"))
def check_loss_backward_fd(ctx: LossContext):
    if not ctx.info.get("backward_inputs"):
        return Check(name=BACKWARD_INPUTS, ok=False, detail="no backward_inputs method")
    x, y = ctx.data()
    ctx.loss()
    try:
        b = ctx.backward()
    except Unavailable as e:
        return Check(name=BACKWARD_INPUTS, ok=False, detail=e.reason.removeprefix("backward_inputs "))
    return compare(LOSS_FD, b, ctx.memo("fd", lambda: ctx.fd_at(x, y, LOSS_FD)), BATCH, TOL_FD)


@check("loss_call_order", label=LOSS_CALL_ORDER, required=("loss", "any loss"))
def check_loss_call_order(ctx: LossContext):
    """backward_inputs(x2, y2) right after forward(x1, y1) against the file's own backward_inputs(x2, y2)
    right after forward(x2, y2) (the lab's order): a gradient that depends on the last forward's
    arguments instead of its own. Whether that gradient is right is the other checks' question."""
    x, y = ctx.data()
    ctx.loss()
    x2 = ctx.rng.standard_normal(x.shape)
    y2 = np.eye(y.shape[1])[ctx.rng.integers(0, y.shape[1], x.shape[0])]
    first = ctx.student.call("forward", x, y, label=LOSS_CALL_ORDER)
    if not first.ok:
        return Check(name=LOSS_CALL_ORDER, ok=False, detail=f"forward {first.error}")
    b2 = ctx.student.call("backward_inputs", x2, y2, label=LOSS_CALL_ORDER)
    if not b2.ok:
        return Check(name=LOSS_CALL_ORDER, ok=False, detail=b2.error)
    again = ctx.student.call("forward", x2, y2, label=LOSS_CALL_ORDER)
    own = ctx.student.call("backward_inputs", x2, y2, label=LOSS_CALL_ORDER) if again.ok else again
    if not own.ok or _values(own.value) is None:
        raise Unavailable(f"backward_inputs(x2, y2) right after forward(x2, y2) {_gave(own)}")
    c = compare(LOSS_CALL_ORDER, b2.value, _values(own.value), BATCH, TOL_FD, diagnosis=False)
    if c.ok:
        return c
    try:
        b = ctx.backward()
    except Unavailable:
        b = None
    if isinstance(b, np.ndarray) and close(b2.value, b, 1e-12):
        c.detail = "backward_inputs ignores its arguments: it returns the gradient of an earlier call"
    elif ctx.lab_name == "softmax_cross_entropy" and close(b2.value, reference.softmax_cross_entropy(x, y2)[1], 1e-9):
        c.detail = ("backward_inputs(x2, y2) uses the logits of the last forward (x1), not its argument x2: it "
                    "returns the gradient at (x1, y2)")
    else:
        c.detail += " against its own backward_inputs(x2, y2) right after forward(x2, y2)"
    return c


@check("reference_loss", label=REF_LOSS, required=("loss",))
def check_reference_loss(ctx: LossContext):
    x, y = ctx.data()
    loss = ctx.loss()
    ref, _ = reference.softmax_cross_entropy(x, y)
    err = abs(loss - ref)
    if err <= TOL_REF * max(1, abs(ref)):
        return Check(name=REF_LOSS, ok=True, max_abs_err=err)
    pairs = [(np.asarray(loss), ref, *x.shape)]
    loss2, _ = ctx.at_second_shape()
    if loss2 is not None:
        x2, y2 = ctx.data2()
        pairs.append((np.asarray(loss2), reference.softmax_cross_entropy(x2, y2)[0], *x2.shape))
    why = relation(pairs, LOSS_RELATIONS)
    return Check(name=REF_LOSS, ok=False, max_abs_err=err, detail=f"{loss!r} vs {ref!r}" + (f": {why}" if why else ""))


@check("reference_loss_backward", label=REF_LOSS_BACKWARD, required=("loss",))
def check_reference_loss_backward(ctx: LossContext):
    x, y = ctx.data()
    _, ref_dx = reference.softmax_cross_entropy(x, y)
    got = ctx.backward()
    if not (isinstance(got, np.ndarray) and got.shape == ref_dx.shape):  # a shape's diagnosis reproduces it
        return compare(REF_LOSS_BACKWARD, got, ref_dx, BATCH, TOL_REF)
    c = compare(REF_LOSS_BACKWARD, got, ref_dx, BATCH, TOL_REF, diagnosis=False)
    if c.ok:
        return c
    _, dx2 = ctx.at_second_shape()
    x2, y2 = ctx.data2()
    why = relation([(np.asarray(got, np.float64), ref_dx, *x.shape),
                    (dx2, reference.softmax_cross_entropy(x2, y2)[1], *x2.shape)], GRADIENT_RELATIONS) \
        if dx2 is not None else ""
    if why:
        c.detail += f"; {why}"
    return c


def _stability_inputs(ctx: LossContext):
    """The logits, each label on the smallest logit (its probability underflows at a spread), the
    logits shifted by 1000 and spread to magnitude 1000."""
    x, _ = ctx.data()
    n, k = x.shape
    y = np.eye(k)[np.argmin(x, axis=1)]
    return x, y, x + SHIFT, x * SPREAD


def _shown(r: Reply) -> str:
    if not r.ok:
        return r.error
    v = _values(r.value)
    if v is not None and v.size == 1:
        return repr(float(v.reshape(())))
    if v is not None:
        return f"an array of shape {v.shape}" + ("" if np.all(np.isfinite(v)) else " holding NaN or inf")
    return describe(r.value)


def _gave(r: Reply) -> str:
    return f"gave {_shown(r)}" if r.ok else r.error


def _same(a, b, tol: float = 1e-6) -> bool:
    """Two of the file's results equal (same shape, finite, within ``tol``)."""
    return a is not None and b is not None and a.shape == b.shape and close(a, b, tol)


def _base_and_shifted(ctx: LossContext) -> tuple[Reply, Reply]:
    """The file's loss at the stability logits and at them shifted by 1000 (each called once)."""
    x, y, shifted, _ = _stability_inputs(ctx)
    base = ctx.memo("base", lambda: ctx.student.call("forward", x, y, label=STABLE_SHIFTED))
    moved = ctx.memo("shifted", lambda: ctx.student.call("forward", shifted, y, label=STABLE_SHIFTED))
    return base, moved


@check("stable_shifted", label=STABLE_SHIFTED, required=("loss",))
def check_stable_shifted(ctx: LossContext):
    """The softmax cross-entropy does not change when every logit is shifted by the same amount:
    the file's loss at logits shifted by 1000 against its own loss at the logits themselves (so a
    loss that is wrong in another way is judged here for its stability only). Overflow is named only
    when the file is finite at the logits and not at the shifted ones."""
    base, moved = _base_and_shifted(ctx)
    b = _values(base.value) if base.ok else None
    if b is None or not np.all(np.isfinite(b)):
        raise Unavailable(f"forward at the logits themselves {_gave(base)}: nothing to compare the shifted loss with")
    v = _values(moved.value) if moved.ok else None
    if _same(v, b):
        return Check(name=STABLE_SHIFTED, ok=True)
    own = f"{_shown(base)} at the logits themselves"
    if not moved.ok:
        return Check(name=STABLE_SHIFTED, ok=False, detail=f"forward {moved.error} at logits shifted by 1000 ({own})")
    if _not_finite(moved):
        return Check(name=STABLE_SHIFTED, ok=False,
                     detail=f"got {_shown(moved)} at logits shifted by 1000 and {own}: exp "
                            "overflows without subtracting the max logit")
    return Check(name=STABLE_SHIFTED, ok=False,
                 detail=f"got {_shown(moved)} at logits shifted by 1000 and {own}; the softmax "
                        "cross-entropy does not change when every logit is shifted alike")


@check("stable_spread", label=STABLE_SPREAD, required=("loss",))
def check_stable_spread(ctx: LossContext):
    """Logits spread to magnitude 1000, each label on the smallest logit: its probability
    underflows to 0, and log(p) is −inf unless the loss is computed as log-sum-exp. A cause is
    named only when the file's own numbers show it: overflow when the shifted logits overflowed
    too, the log of an underflowed probability when they did not; a finite wrong loss is judged
    against the file's own loss at ordinary logits (the same factor there: stable)."""
    x, y, _, spread = _stability_inputs(ctx)
    ref = reference.softmax_cross_entropy(spread, y)[0]
    r = ctx.student.call("forward", spread, y, label=STABLE_SPREAD)
    v = _scalar(r.value) if r.ok else None
    if v is not None and abs(v - ref) <= 1e-6 * max(1.0, abs(ref)):
        return Check(name=STABLE_SPREAD, ok=True)
    got = f"got {_shown(r)} (jaxdl: {ref:.6g})"
    if not r.ok:
        return Check(name=STABLE_SPREAD, ok=False, detail=f"forward {r.error} at logits of magnitude 1000")
    base, moved = _base_and_shifted(ctx)
    b = _scalar(base.value) if base.ok else None
    b_all = _values(base.value) if base.ok else None
    finite_base = b_all is not None and bool(np.all(np.isfinite(b_all)))
    if _not_finite(r):
        if finite_base and _not_finite(moved):
            return Check(name=STABLE_SPREAD, ok=False, detail=f"{got}: exp overflows without subtracting the max logit")
        if finite_base and _same(_values(moved.value) if moved.ok else None, b_all):
            return Check(name=STABLE_SPREAD, ok=False,
                         detail=f"{got}: the log of a probability that underflowed to 0; use "
                                "log-sum-exp: log p_j = x_j − max − log Σ_i exp(x_i − max)")
        return Check(name=STABLE_SPREAD, ok=False, detail=got)
    if v is None or b is None:
        return Check(name=STABLE_SPREAD, ok=False,
                     detail=got + ("" if b is not None else f"; at ordinary logits {_shown(base)}"))
    ref0 = reference.softmax_cross_entropy(x, y)[0]
    if abs(b - ref0) <= 1e-6 * max(1.0, abs(ref0)):
        return Check(name=STABLE_SPREAD, ok=False,
                     detail=f"{got} at logits of magnitude 1000, though it gives jaxdl's loss at "
                            "ordinary logits")
    if ref0 != 0 and abs(v - b / ref0 * ref) <= 1e-6 * max(1.0, abs(v)):
        return Check(name=STABLE_SPREAD, ok=True)  # off by the same factor as at ordinary logits: computed stably
    return Check(name=STABLE_SPREAD, ok=False,
                 detail=f"{got} at logits of magnitude 1000; at ordinary logits it gives {b!r} "
                        f"(jaxdl: {ref0:.6g}) already, so no cause is named")


@check("stable_backward", label=STABLE_BACKWARD, required=("loss",))
def check_stable_backward(ctx: LossContext):
    """backward_inputs at logits shifted by 1000 against the file's own backward_inputs at the logits
    themselves (the gradient does not change under the shift either)."""
    x, y, shifted, _ = _stability_inputs(ctx)

    def backward_at(logits) -> Reply:  # as the lab's training loop calls it: right after forward at the same logits
        ctx.student.call("forward", logits, y, label=STABLE_BACKWARD)
        return ctx.student.call("backward_inputs", logits, y, label=STABLE_BACKWARD)

    b0 = backward_at(x)
    g0 = _values(b0.value) if b0.ok else None
    if g0 is None or not np.all(np.isfinite(g0)):
        raise Unavailable(f"backward_inputs at the logits themselves {_gave(b0)}: nothing to compare the shifted "
                          "gradient with")
    b = backward_at(shifted)
    if not b.ok:
        return Check(name=STABLE_BACKWARD, ok=False, detail=b.error)
    g = _values(b.value)
    if _same(g, g0):
        return Check(name=STABLE_BACKWARD, ok=True)
    if _not_finite(b):
        return Check(name=STABLE_BACKWARD, ok=False,
                     detail="NaN or inf at logits shifted by 1000, finite at the logits "
                            "themselves: exp overflows without subtracting the max logit")
    c = compare(STABLE_BACKWARD, b.value, g0, BATCH, TOL_FD, diagnosis=False)
    c.detail += " against its own backward_inputs at the logits themselves (the gradient does not change when every " \
                "logit is shifted alike)"
    return c


@check("stable_if_cross_entropy", label=STABLE_SHIFTED, required=("any loss",))
def check_stable_if_cross_entropy(ctx: LossContext):
    """A loss of another name that computes the softmax cross-entropy is checked for stability too."""
    x, y = ctx.data()
    loss = ctx.loss()
    ref, _ = reference.softmax_cross_entropy(x, y)
    if abs(loss - ref) > 1e-9 * max(1, abs(ref)):
        return []
    return [check_stable_shifted(ctx), check_stable_spread(ctx)]


# --------------------------------------------------------------------------------------------
# A regularizer: built with the weights; forward() -> scalar, backward_params().

# The L2 regularizer's forms the lab leaves open, each with its gradient: (loss, factor on jaxdl's
# λ/2 ‖W‖² and on its gradient λ W, gradient). A file may write either; its loss decides which, and
# its gradient must be that form's.
L2_FORMS = (("λ/2 ‖W‖²", 1.0, "λ W"), ("λ ‖W‖²", 2.0, "2λ W"))


@dataclasses.dataclass(kw_only=True)
class RegularizerContext:
    student: Student
    res: ClassResult
    info: dict
    lab: LabClass
    lab_name: str | None
    config: dict
    weights: np.ndarray
    rng: np.random.Generator
    _memo: dict = dataclasses.field(default_factory=dict)
    memo = Context.memo

    def forward(self) -> Reply:
        return self.memo("forward", lambda: self.student.call("forward", label=FORWARD))

    def loss(self) -> float:
        return LossContext.loss(self)

    def pair(self):
        def get():
            if not self.info.get("backward_params"):
                raise Unavailable("there is no backward_params method")
            bp = self.student.call("backward_params", label=BACKWARD_PARAMS)
            if not bp.ok:
                raise Unavailable(f"backward_params {bp.error}")
            params, grads, problem = params_of(bp.value)
            if problem or not params:
                raise Unavailable(problem or "backward_params returned no [param, grad] pair")
            self._memo["same_weights"] = (True, bool((bp.param_passed or [False])[0]))
            return params[0], grads[0], (bp.param_paths or [None])[0]
        return self.memo("pair", get)

    def form(self):
        """The L2 form (of :data:`L2_FORMS`) the file's loss is, or None (no form, or no loss)."""
        def get():
            try:
                loss = self.loss()
            except Unavailable:
                return None
            ref, _ = reference.l2_regularizer(self.weights, self.config["weight_decay"])
            return next((f for f in L2_FORMS if abs(loss - f[1] * ref) <= 1e-12 * max(1.0, f[1] * ref)), None)
        return self.memo("form", get)


@check("regularizer_forward", label=LOSS_SCALAR, required=("regularizer", "any regularizer"))
def check_regularizer_forward(ctx: RegularizerContext):
    return check_loss_forward(ctx)


@check("regularizer_backward_params", label=BACKWARD_PARAMS, required=("regularizer", "any regularizer"))
def check_regularizer_backward_params(ctx: RegularizerContext):
    if not ctx.info.get("backward_params"):
        return Check(name="backward_params", ok=False, detail="no backward_params method")
    try:
        ctx.pair()
    except Unavailable as e:
        return Check(name=BACKWARD_PARAMS, ok=False, detail=e.reason)
    if not ctx._memo["same_weights"][1]:
        return Check(name=REG_SAME_WEIGHTS, ok=False,
                     detail="the parameter it returns is not the weights array it was built "
                            "with (a copy?): training would update the copy, not the layer's "
                            "weights")
    return Check(name=BACKWARD_PARAMS, ok=True)


@check("regularizer_fd", label=REG_FD, required=("regularizer", "any regularizer"))
def check_regularizer_fd(ctx: RegularizerContext):
    p, g, path = ctx.pair()
    if path is None or not isinstance(p, np.ndarray) or p.dtype.kind != "f":
        raise Unavailable("the parameter is not one of the regularizer's float array attributes")
    fake = Context(student=ctx.student, res=ctx.res, info=ctx.info, lab=ctx.lab, lab_name=None, config={}, state={},
                   input_shape=(1,), rng=ctx.rng)
    fd, _ = fake.finite_differences([], {"attr": path}, p, lambda o: float(np.sum(o)), _loss_shape(ctx), REG_FD)
    return compare(REG_FD, g, fd, 1, TOL_FD)


@check("reference_regularizer", label=REF_REG, required=("regularizer",))
def check_reference_regularizer(ctx: RegularizerContext):
    """The loss against jaxdl's λ/2 ‖W‖², or λ ‖W‖² (the lab leaves the factor open; the form is noted)."""
    loss = ctx.loss()
    ref, _ = reference.l2_regularizer(ctx.weights, ctx.config["weight_decay"])
    form = ctx.form()
    if form is not None:
        ctx.res.notes.append(f"L2 regularizer written as {form[0]} (gradient {form[2]}): the lab leaves the factor "
                             "open, and either form is accepted")
        return Check(name=REF_REG, ok=True, max_abs_err=abs(loss - form[1] * ref))
    err = min(abs(loss - f[1] * ref) for f in L2_FORMS)
    return Check(name=REF_REG, ok=False, max_abs_err=err,
                 detail=f"{loss!r}; λ/2 ‖W‖² is {ref!r} and λ ‖W‖² is {2 * ref!r}")


@check("reference_regularizer_backward", label=REF_REG_BACKWARD, required=("regularizer",))
def check_reference_regularizer_backward(ctx: RegularizerContext):
    """The gradient against the form its own loss is (λ W for λ/2 ‖W‖², 2λ W for λ ‖W‖²); where the
    loss is neither, against either."""
    _, g, _ = ctx.pair()
    _, ref_grad = reference.l2_regularizer(ctx.weights, ctx.config["weight_decay"])
    form = ctx.form()
    if form is None:
        checks = [compare(REF_REG_BACKWARD, g, f[1] * ref_grad, 1, TOL_REF) for f in L2_FORMS]
        c = next((k for k in checks if k.ok), checks[0])
        if not c.ok:
            c.detail += " (against λ W; nor is it 2λ W)"
        return c
    c = compare(REF_REG_BACKWARD, g, form[1] * ref_grad, 1, TOL_REF)
    if not c.ok:
        other = next(f for f in L2_FORMS if f is not form)
        if isinstance(g, np.ndarray) and close(g, other[1] * ref_grad, 1e-9):
            c.detail = f"{other[2]}, the gradient of {other[0]}; but its loss is {form[0]}, whose gradient is {form[2]}"
        else:
            c.detail += f" (against {form[2]}, the gradient of {form[0]}, its loss)"
    return c


# --------------------------------------------------------------------------------------------
# A composite (the lab's RegularizedLoss): forward(x, y) = data loss + Σ regularizers,
# backward_inputs(x, y) = the data loss's, backward_params() = [each regularizer's backward_params()].

COMPOSITE_FORWARD = "forward = data loss + Σ regularizers (built from the checker's parts)"
COMPOSITE_BI = "backward_inputs = the data loss's backward_inputs (built from the checker's parts)"
COMPOSITE_BP = ("backward_params returns each regularizer's [[W, grad], name], as the lab's training loop updates "
                "them (built from the checker's parts)")
OWN_FORWARD = "built from the file's own parts as the lab's training script builds it: forward is theirs"
OWN_BI = "built from the file's own parts: backward_inputs is its data loss's"
OWN_BP = "built from the file's own parts: backward_params returns its regularizers'"


@dataclasses.dataclass(kw_only=True)
class CompositeContext:
    """A composite under check. It is built first from the checker's parts (``probes``: the data
    loss's ``a``, each regularizer's ``weights``, ``b`` and ``name``, whose numbers the checker
    computes itself), then, for the last checks, from the file's own parts (``build_own()``: the
    instance's state, or raises :class:`Unavailable` with why it cannot be built)."""

    student: Student
    res: ClassResult
    info: dict
    lab: LabClass
    probes: dict
    build_own: object
    rng: np.random.Generator
    _memo: dict = dataclasses.field(default_factory=dict)
    memo = Context.memo

    def data(self):
        def draw():
            n, k = self.probes["a"].shape
            return self.rng.standard_normal((n, k)), np.eye(k)[self.rng.integers(0, k, n)]
        return self.memo("data", draw)

    def data_loss(self, x, y) -> tuple[float, np.ndarray]:
        """The checker's data loss and its gradient at ``(x, y)`` (what its probe computes)."""
        a = self.probes["a"]
        return float(np.sum(a * x) + 0.5 * np.sum(y * x * x)), a + y * x

    def regularizers(self) -> list[float]:
        return [float(np.sum(b * w)) for w, b in zip(self.probes["weights"], self.probes["b"])]

    def forward(self) -> Reply:
        x, y = self.data()
        return self.memo("forward", lambda: self.student.call("forward", x, y, label=COMPOSITE_FORWARD))

    def own(self) -> int:
        """Builds the composite from the file's own parts (once); the number of its regularizers."""
        return self.memo("own", self.build_own)


def _composite_guess(v: float, loss: float, regs: list[float]) -> str:
    """How the composite's loss ``v`` is made of its parts' values, when one of these reproduces it."""
    total = sum(regs)
    guesses = [(loss, "it adds none of the regularizers"), (total, "it leaves out the data loss"),
               (loss - total, "it subtracts the regularizers"), (loss + 2 * total, "it adds each regularizer twice")]
    guesses += [(loss + r, f"it adds only regularizer {i} of {len(regs)}") for i, r in enumerate(regs)]
    return next((words for value, words in guesses if abs(v - value) <= 1e-9 * max(1.0, abs(value))), "")


@check("composite_forward", label=COMPOSITE_FORWARD, required=("composite",))
def check_composite_forward(ctx: CompositeContext):
    r = ctx.forward()
    if not r.ok:
        return Check(name=COMPOSITE_FORWARD, ok=False, detail=f"forward {r.error}")
    x, y = ctx.data()
    loss, _ = ctx.data_loss(x, y)
    regs = ctx.regularizers()
    want = loss + sum(regs)
    v = _scalar(r.value)
    if v is None:
        return Check(name=COMPOSITE_FORWARD, ok=False, detail=f"returned {_shown(r)}, not a finite scalar")
    err = abs(v - want)
    if err <= 1e-9 * max(1.0, abs(want)):
        return Check(name=COMPOSITE_FORWARD, ok=True, max_abs_err=err)
    why = _composite_guess(v, loss, regs)
    parts = f"the data loss is {loss!r}, the regularizers {', '.join(repr(q) for q in regs)}"
    return Check(name=COMPOSITE_FORWARD, ok=False, max_abs_err=err,
                 detail=f"{v!r}; {parts}" + (f": {why}" if why else ""))


@check("composite_side_effects", label=LOSS_SIDE_EFFECTS, required=("composite",))
def check_composite_side_effects(ctx: CompositeContext):
    r = ctx.forward()
    if not r.ok:
        raise Unavailable(f"forward {r.error}")
    x, y = ctx.data()
    intact = len(r.args_after) == 2 and all(isinstance(a, np.ndarray) for a in r.args_after) and \
        np.array_equal(r.args_after[0], x) and np.array_equal(r.args_after[1], y)
    return Check(name=LOSS_SIDE_EFFECTS, ok=intact, detail="" if intact else "forward modified its arguments in place")


@check("composite_backward_inputs", label=COMPOSITE_BI, required=("composite",))
def check_composite_backward_inputs(ctx: CompositeContext):
    if not ctx.info.get("backward_inputs"):
        return Check(name=COMPOSITE_BI, ok=False, detail="no backward_inputs method")
    x, y = ctx.data()
    b = ctx.student.call("backward_inputs", x, y, label=COMPOSITE_BI)
    if not b.ok:
        return Check(name=COMPOSITE_BI, ok=False, detail=b.error)
    return compare(COMPOSITE_BI, b.value, ctx.data_loss(x, y)[1], BATCH, TOL_REF)


@check("composite_call_order", label=LOSS_CALL_ORDER, required=("composite",))
def check_composite_call_order(ctx: CompositeContext):
    if not ctx.info.get("backward_inputs"):
        raise Unavailable("there is no backward_inputs method")
    x, y = ctx.data()
    x2 = ctx.rng.standard_normal(x.shape)
    y2 = np.eye(y.shape[1])[ctx.rng.integers(0, y.shape[1], x.shape[0])]
    first = ctx.student.call("forward", x, y, label=LOSS_CALL_ORDER)
    if not first.ok:
        return Check(name=LOSS_CALL_ORDER, ok=False, detail=f"forward {first.error}")
    b2 = ctx.student.call("backward_inputs", x2, y2, label=LOSS_CALL_ORDER)
    if not b2.ok:
        return Check(name=LOSS_CALL_ORDER, ok=False, detail=b2.error)
    c = compare(LOSS_CALL_ORDER, b2.value, ctx.data_loss(x2, y2)[1], BATCH, TOL_REF)
    if not c.ok and isinstance(b2.value, np.ndarray) and close(b2.value, ctx.data_loss(x, y)[1], 1e-12):
        c.detail = "backward_inputs ignores its arguments: it returns the gradient at the last forward's"
    return c


def _regularizer_entries(result, identity) -> tuple[list, str]:
    """``[(passed index of W, grad, name)]`` of a list of regularizers' ``[[W, grad], ..., name]``, or
    why ``result`` is not one."""
    if not isinstance(result, list):
        return [], f"returned {describe(result)}, not a list"
    ids = identity if isinstance(identity, list) else []
    out = []
    for i, entry in enumerate(result):
        params, grads, problem = params_of(entry)
        if problem and isinstance(entry, list) and len(entry) == 2 and all(isinstance(e, np.ndarray) for e in entry):
            return [], (f"entry {i} is a [W, grad] pair; the lab's training loop adds loss.backward_params() to its "
                        "list of layers' results, so each entry must be a regularizer's [[W, grad], name]")
        if problem or len(params) != 1:
            return [], f"entry {i}: " + (problem or f"{len(params)} pairs, not the regularizer's one [W, grad]")
        where = ids[i][0][0] if (i < len(ids) and isinstance(ids[i], list) and ids[i]
                                 and isinstance(ids[i][0], list) and ids[i][0]) else None
        out.append((where, grads[0], entry[-1]))
    return out, ""


@check("composite_backward_params", label=COMPOSITE_BP, required=("composite",))
def check_composite_backward_params(ctx: CompositeContext):
    if not ctx.info.get("backward_params"):
        return Check(name=COMPOSITE_BP, ok=False,
                     detail="no backward_params method: the regularizers' gradients never reach "
                            "the weights")
    bp = ctx.student.call("backward_params", label=COMPOSITE_BP, identify=True)
    if not bp.ok:
        return Check(name=COMPOSITE_BP, ok=False, detail=bp.error)
    if bp.has_params is not True:
        return Check(name=COMPOSITE_BP, ok=False,
                     detail=f"has_params is {'missing' if bp.has_params is None else bp.has_params}: "
                            "the lab's training loop calls loss.backward_params() only when it is "
                            "True, so the regularizers' gradients would never be applied")
    entries, problem = _regularizer_entries(bp.value, bp.identity)
    if problem:
        return Check(name=COMPOSITE_BP, ok=False, detail=problem)
    weights, bs, names = ctx.probes["weights"], ctx.probes["b"], ctx.probes["names"]
    if len(entries) != len(weights):
        return Check(name=COMPOSITE_BP, ok=False, detail=f"{len(entries)} entries for {len(weights)} regularizers")
    unmatched = list(range(len(weights)))
    for where, grad, name in entries:
        i = ctx.probes["passed"].get(where)
        if i is None or i not in unmatched:
            return Check(name=COMPOSITE_BP, ok=False,
                         detail="an entry's parameter is not a regularizer's weights array (a "
                                "copy?): training would update the copy, not the network's weights")
        if not close(grad, bs[i], 1e-12) or name != names[i]:
            return Check(name=COMPOSITE_BP, ok=False,
                         detail=f"the entry of regularizer {i} is not what its backward_params() "
                                "returns")
        unmatched.remove(i)
    return Check(name=COMPOSITE_BP, ok=True)


def _own_part(ctx: CompositeContext, part: int, method: str, *args, label: str) -> Reply:
    r = ctx.student.call(method, *args, label=label, part=part, identify=method == "backward_params")
    if not r.ok:
        raise Unavailable(f"its own part {part} ({ctx.probes['own_names'][part]}) {r.error} in {method}: that "
                          "class's own row checks it")
    return r


@check("composite_own_forward", label=OWN_FORWARD, required=("composite",))
def check_composite_own_forward(ctx: CompositeContext):
    try:
        n = ctx.own()
    except Unavailable as e:
        return Check(name=OWN_FORWARD, ok=False, detail=e.reason)
    x, y = ctx.data()
    # Its parts first: a part that fails is that class's failure (its own row), named as such here.
    parts = [_own_part(ctx, 0, "forward", x, y, label=OWN_FORWARD)]
    parts += [_own_part(ctx, i, "forward", label=OWN_FORWARD) for i in range(1, n + 1)]
    for i, p in enumerate(parts):
        if _values(p.value) is None:
            raise Unavailable(f"its own part {i} ({ctx.probes['own_names'][i]}) returned {_shown(p)} from forward, "
                              "not a number: that class's own row checks it")
    parts = [_values(p.value) for p in parts]
    r = ctx.student.call("forward", x, y, label=OWN_FORWARD)
    if not r.ok:
        return Check(name=OWN_FORWARD, ok=False, detail=f"forward {r.error}")
    want = parts[0]
    for p in parts[1:]:
        want = want + p
    got = _values(r.value)
    ok = got is not None and got.shape == want.shape and close(got, want, 1e-9)
    return Check(name=OWN_FORWARD, ok=ok, detail="" if ok else f"{_shown(r)}; its parts give {want.tolist()!r} in sum")


@check("composite_own_backward_inputs", label=OWN_BI, required=("composite",))
def check_composite_own_backward_inputs(ctx: CompositeContext):
    ctx.own()
    x, y = ctx.data()
    want = _values(_own_part(ctx, 0, "backward_inputs", x, y, label=OWN_BI).value)
    if want is None:
        raise Unavailable(f"its own data loss ({ctx.probes['own_names'][0]}) returned no array from backward_inputs: "
                          "that class's own row checks it")
    r = ctx.student.call("backward_inputs", x, y, label=OWN_BI)
    if not r.ok:
        return Check(name=OWN_BI, ok=False, detail=r.error)
    return compare(OWN_BI, r.value, want, BATCH, 1e-12)


def _same_structure(a, b, ia, ib) -> bool:
    """Two results equal in structure, strings, numbers and arrays, with the same arrays being the
    checker's passed arrays (the identity reports ``ia``, ``ib``)."""
    if isinstance(a, list) and isinstance(b, list):
        la = ia if isinstance(ia, list) else [None] * len(a)
        lb = ib if isinstance(ib, list) else [None] * len(b)
        return len(a) == len(b) and len(la) == len(a) and len(lb) == len(b) and \
            all(_same_structure(x, y, p, q) for x, y, p, q in zip(a, b, la, lb))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and ia == ib and \
            a.dtype.kind in "biuf" and b.dtype.kind in "biuf" and close(a, b, 1e-12)
    return type(a) is type(b) and a == b if not isinstance(a, wire.Opaque) else (
        isinstance(b, wire.Opaque) and a.type_name == b.type_name)


@check("composite_own_backward_params", label=OWN_BP, required=("composite",))
def check_composite_own_backward_params(ctx: CompositeContext):
    n = ctx.own()
    if not ctx.info.get("backward_params"):
        return Check(name=OWN_BP, ok=False, detail="no backward_params method")
    r = ctx.student.call("backward_params", label=OWN_BP, identify=True)
    if not r.ok:
        return Check(name=OWN_BP, ok=False, detail=r.error)
    parts = [_own_part(ctx, i, "backward_params", label=OWN_BP) for i in range(1, n + 1)]
    want = [p.value for p in parts]
    ids = [p.identity for p in parts]
    ok = _same_structure(r.value, want, r.identity, ids)
    return Check(name=OWN_BP, ok=ok,
                 detail="" if ok else "not the list of its regularizers' backward_params() results, in "
                        "order (the very weights arrays, the same gradients and names)")
