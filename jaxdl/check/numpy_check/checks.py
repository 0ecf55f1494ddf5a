"""The checks of one student class, decided here from what its worker returns.

Every input is drawn here, sent to the worker, and every comparison, finite difference and jaxdl
reference is computed here. The worker only runs the student's methods; a worker that ends or
misbehaves raises :class:`~jaxdl.check.numpy_check.sandbox.WorkerLost` out of these functions
and the class fails with that reason (the driver records it).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxdl.check.numpy_check import reference
from jaxdl.check.numpy_check.diagnose import TOL_FD, TOL_REF, close, compare, describe, diagnose
from jaxdl.check.numpy_check.results import Check, ClassResult
from jaxdl.check.numpy_check.worker import decode_value, encode_value

EPS = 1e-6  # central-difference step, float64
BATCH = 3
VECTOR_SHAPE = (BATCH, 4)
IMAGE_SHAPE = (2, 2, 6, 6)
FLOAT32_HINT = ("; the layer computes in {dtype} (its output is {dtype}), too coarse for finite differences "
                "at 1e-6: compute in float64 to be checked precisely")


@dataclasses.dataclass
class Reply:
    ok: bool  # False: the student's code raised (``error`` says what)
    value: object = None
    args_after: list = dataclasses.field(default_factory=list)
    param_paths: list | None = None
    state: dict | None = None
    error: str = ""


class Student:
    """The built instance in its worker; each method call is one request."""

    def __init__(self, worker, memory_mb: int):
        self.worker = worker
        self.memory_mb = memory_mb
        self.label = "the checks"  # the check running now: named in a failure if the worker is lost

    def _clean(self, text: str) -> str:
        return str(text).replace(self.worker.scratch, "<scratch>")

    def error_text(self, err: dict, what: str) -> str:
        if not isinstance(err, dict):
            return f"failed during {what}"
        if err.get("memory"):
            return f"exceeded the memory limit of {self.memory_mb} MB during {what} (MemoryError)"
        line = f" (line {err['line']})" if isinstance(err.get("line"), int) else ""
        message = self._clean(err.get("message", ""))
        return f"raised {self._clean(err.get('type', 'an exception'))}" + (f": {message}" if message else "") + line

    def request(self, header: dict, arrays: list, what: str):
        reply, out = self.worker.request(header, arrays, what=what)
        return reply, out

    def call(self, method: str, *args, label: str, state: bool = False) -> Reply:
        self.label = label
        arrays: list = []
        header = {"op": "call", "method": method, "args": [encode_value(a, arrays) for a in args], "state": state}
        reply, out = self.request(header, arrays, method)
        if "error" in reply:
            return Reply(False, error=self.error_text(reply["error"], method))
        value = decode_value(reply.get("result"), out)
        if isinstance(value, (int, float)) and not isinstance(value, bool):  # a Python number
            value = np.asarray(value, np.float64 if isinstance(value, float) else np.int64)
        return Reply(True, value,
                     [decode_value(a, out) for a in reply.get("args_after", [])],
                     reply.get("param_paths"), decode_state(reply.get("state"), out))

    def forward_many(self, args: list, vary: dict, points: np.ndarray, label: str) -> np.ndarray | str:
        """``forward`` at every point (stacked outputs as float64), or a failure in words."""
        self.label = label
        arrays: list = []
        header = {"op": "forward_many", "args": [encode_value(a, arrays) for a in args], "vary": vary,
                  "points": encode_value(points, arrays)}
        reply, out = self.request(header, arrays, "forward")
        if "error" in reply:
            return self.error_text(reply["error"], "forward")
        if "bad" in reply:
            return self._clean(reply["bad"])
        outputs = decode_value(reply.get("outputs"), out)
        if not isinstance(outputs, np.ndarray) or outputs.shape[:1] != points.shape[:1]:
            return "forward gave no output for some points"
        return np.asarray(outputs, np.float64)


def decode_state(state, arrays) -> dict | None:
    if not isinstance(state, dict):
        return None
    attrs = {str(k): decode_value(v, arrays) for k, v in dict(state.get("attrs", {})).items()}
    groups = list(state.get("groups", []))
    return {"attrs": attrs, "groups": dict(zip(attrs, groups)) if len(groups) == len(attrs) else {k: i for i, k in enumerate(attrs)},
            "scalars": {str(k): float(v) for k, v in dict(state.get("scalars", {})).items() if isinstance(v, (int, float))},
            "has_params": state.get("has_params") if isinstance(state.get("has_params"), bool) else None}


def _float_attrs(state: dict) -> dict[str, np.ndarray]:
    return {k: v for k, v in state["attrs"].items()
            if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size > 0}


def finite_differences(student: Student, args: list, vary: dict, base: np.ndarray, objective, out_shape,
                       label: str):
    """Central differences of ``objective(forward(...))`` for every entry of ``base`` (the
    argument or attribute ``vary`` names); returns the gradient or a failure in words."""
    base = np.asarray(base, np.float64)
    n = base.size
    steps = np.eye(n).reshape((n, *base.shape)) * EPS
    points = np.concatenate([base + steps, base - steps])
    outputs = student.forward_many(args, vary, points, label)
    if isinstance(outputs, str):
        return outputs
    if outputs.shape[1:] != tuple(out_shape):
        return f"forward's output has shape {outputs.shape[1:]} near the checked point but {tuple(out_shape)} at it"
    values = np.array([objective(o) for o in outputs])
    return ((values[:n] - values[n:]) / (2 * EPS)).reshape(base.shape)


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


# --------------------------------------------------------------------------------------------
# A layer: forward(inputs), backward_inputs(grads), backward_params(grads).


def check_layer(student: Student, res: ClassResult, info: dict, state: dict, input_shape, rng) -> None:
    """Appends every check of a layer to ``res.checks``; returns early where a later check
    would have nothing to work on (``res.completed`` is then left False only by the driver when
    the worker is lost: an early return after a failed check still fails the class)."""
    checks = res.checks
    x = rng.uniform(-2, 2, input_shape)
    x[np.abs(x) < 0.05] += 0.1  # away from ReLU's kink
    batch = input_shape[0]

    r = student.call("forward", x, label="forward", state=True)
    if not r.ok:
        checks.append(Check("forward", False, None, r.error))
        return
    y = r.value
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "biuf":
        checks.append(Check("forward", False, None, f"returned {describe(y)}, not an array (a missing return?)"))
        return
    if not np.all(np.isfinite(y)):
        checks.append(Check("forward", False, None, "NaN or inf in the output"))
        return
    checks.append(Check("forward", True, None, f"output shape {y.shape}"))
    intact = bool(r.args_after) and isinstance(r.args_after[0], np.ndarray) and np.array_equal(r.args_after[0], x)
    checks.append(Check("side effects: forward leaves its input unchanged", intact, None,
                        "" if intact else "forward modified `inputs` in place"))
    hint = FLOAT32_HINT.format(dtype=y.dtype) if y.dtype != np.float64 else ""
    if hint:
        res.notes.append(f"forward returns {y.dtype}: finite differences need float64")
    after_forward = r.state or state
    dy = rng.standard_normal(y.shape)

    def objective(out):
        return float(np.sum(out * dy))

    # The truth: finite differences of the student's own forward, in the input.
    label = "backward_inputs (∂L/∂inputs) vs finite differences"
    fd_x = finite_differences(student, [x], {"arg": 0}, x, objective, y.shape, label)

    # Which array attributes the output depends on: each one perturbed once.
    attrs = _float_attrs(after_forward)
    groups = after_forward["groups"]
    depends = []
    for path, value in attrs.items():
        if any(groups.get(p) == groups.get(path) for p in depends):
            continue
        delta = 1e-2 * (1.0 + np.abs(value)) * rng.standard_normal(value.shape)
        outs = student.forward_many([x], {"attr": path}, (value + delta)[None], f"forward depends on {path}")
        if isinstance(outs, np.ndarray) and outs.shape[1:] == y.shape:
            if np.max(np.abs(outs[0] - y), initial=0) > 1e-9 * max(1.0, float(np.abs(y).max(initial=0))):
                depends.append(path)

    # Parameters, from one forward + backward_params.
    params, grads, paths = [], [], []
    has_params = after_forward.get("has_params")
    if depends or has_params:
        label = "backward_params"
        if not info.get("backward_params"):
            checks.append(Check(label, False, None, f"no backward_params method, but forward depends on "
                                                    f"{', '.join(depends)}"))
        else:
            bp = _after_forward(student, x, "backward_params", dy.copy(), label=label)
            if not bp.ok:
                checks.append(Check(label, False, None, bp.error))
            else:
                mutated = not (bp.args_after and isinstance(bp.args_after[0], np.ndarray)
                               and np.array_equal(bp.args_after[0], dy))
                if mutated:
                    checks.append(Check("side effects: backward_params leaves `grads` unchanged", False, None,
                                        "backward_params modified its argument `grads` in place "
                                        "(in-place mutation of grads)"))
                p, g, problem = params_of(bp.value)
                if problem:
                    checks.append(Check("interface: backward_params returns [[param, grad], ..., name]", False, None,
                                        problem))
                elif p is not None:
                    params, grads = p, g
                    paths = list(bp.param_paths or [None] * len(p))[:len(p)]
                    paths += [None] * (len(p) - len(paths))
                    if p:
                        checks.append(Check("interface: backward_params returns [[param, grad], ..., name]", True))
                    elif bp.value is None:
                        checks.append(Check(label, False, None, f"returned None, but forward depends on {', '.join(depends)}")
                                      if depends else Check(label, True))
        covered = {groups.get(p) for p in paths if p is not None}
        missing = [d for d in depends if groups.get(d) not in covered]
        if depends and params:
            checks.append(Check("backward_params covers every parameter forward depends on", not missing, None,
                                f"no gradient for {', '.join(missing)}" if missing else ""))

    # backward_inputs, with its side effects.
    if not info.get("backward_inputs"):
        checks.append(Check("backward_inputs", False, None, "no backward_inputs method"))
        dx, bi_ok = None, False
    else:
        fwd = student.call("forward", x, label="backward_inputs", state=True)
        before = fwd.state or after_forward
        bi = student.call("backward_inputs", dy.copy(), label="backward_inputs", state=True) if fwd.ok else \
            Reply(False, error=f"forward, called again before it, {fwd.error}")
        bi_ok, dx = bi.ok, bi.value
        if not bi.ok:
            checks.append(Check("backward_inputs", False, None, bi.error))
        else:
            mutated = not (bi.args_after and isinstance(bi.args_after[0], np.ndarray)
                           and np.array_equal(bi.args_after[0], dy))
            checks.append(Check("side effects: backward_inputs leaves `grads` unchanged", not mutated, None,
                                "backward_inputs modified its argument `grads` in place (in-place mutation of grads)"
                                if mutated else ""))
            changed = _changed(before["attrs"], (bi.state or before)["attrs"])
            checks.append(Check("side effects: backward_inputs leaves the cached activations unchanged", not changed,
                                None, f"changed {', '.join(changed)}" if changed else ""))
            if isinstance(fd_x, str):
                checks.append(Check("backward_inputs (∂L/∂inputs) vs finite differences", False, None, fd_x))
            else:
                c = compare("backward_inputs (∂L/∂inputs) vs finite differences", dx, fd_x, batch, TOL_FD)
                if mutated and not c.ok:
                    c.detail += "; consistent with the in-place change of `grads` (a later use reads the changed values)"
                if hint and not c.ok:
                    c.detail += hint
                checks.append(c)

    # Each parameter gradient against finite differences through forward.
    labels = []
    for i, (p, g, path) in enumerate(zip(params, grads, paths)):
        labels.append(path or "a parameter")
        label = f"backward_params[{i}] ({path or 'a parameter'}, shape {np.shape(p)}) vs finite differences"
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            checks.append(Check(label, False, None, f"the parameter is not a float array but {describe(p)}"))
            continue
        if path is None:
            checks.append(Check(label, False, None, "the parameter is not one of the layer's array attributes "
                                                    "(a copy? return the array itself: [self.W, grad_W])"))
            continue
        fd_p = finite_differences(student, [x], {"attr": path}, p, objective, y.shape, label)
        if isinstance(fd_p, str):
            checks.append(Check(label, False, None, fd_p))
            continue
        c = compare(label, g, fd_p, batch, TOL_FD)
        if hint and not c.ok:
            c.detail += hint
        checks.append(c)

    # Call order: two forwards then one backward must use the last input; backward_params first
    # must not change what backward_inputs returns.
    if bi_ok and isinstance(dx, np.ndarray):
        label = "call order: two forwards, then backward_inputs"
        first = student.call("forward", rng.uniform(-1, 1, input_shape), label=label)
        r2 = _after_forward(student, x, "backward_inputs", dy.copy(), label=label) if first.ok else \
            Reply(False, error=f"forward {first.error}")
        same = r2.ok and close(r2.value, dx, 1e-12)
        checks.append(Check(label, same, None, "" if same else (r2.error or "the result depends on an earlier forward call")))
        if params:
            label = "call order: backward_params before backward_inputs"
            r = _after_forward(student, x, "backward_params", dy.copy(), label=label)
            r3 = student.call("backward_inputs", dy.copy(), label=label) if r.ok else r
            same = r3.ok and close(r3.value, dx, 1e-12)
            checks.append(Check(label, same, None,
                                "" if same else (r3.error or "backward_inputs returns another result after backward_params")))

    ref_checks, notes = reference.compare_with_layer(res.cls, params, grads, labels, after_forward["scalars"],
                                                     x, np.asarray(y, np.float64), dy, dx if bi_ok else None)
    checks.extend(ref_checks)
    res.notes.extend(notes)


def _after_forward(student: Student, x, method: str, *args, label: str) -> Reply:
    """``forward(x)`` then ``method(*args)``; a failure of either is the reply's error."""
    fwd = student.call("forward", x, label=label)
    if not fwd.ok:
        return Reply(False, error=f"forward, called before {method}, {fwd.error}")
    return student.call(method, *args, label=label)


def _changed(before: dict, after: dict) -> list[str]:
    out = []
    for k, v in before.items():
        now = after.get(k)
        if isinstance(v, np.ndarray) and isinstance(now, np.ndarray) and (
                now.shape != v.shape or not np.array_equal(now, v, equal_nan=True)):
            out.append(k)
    return out


# --------------------------------------------------------------------------------------------
# A loss: forward(x, y) -> scalar, backward_inputs(x, y).


def _scalar_forward(student: Student, checks: list, *args) -> tuple[Reply | None, float | None]:
    """``forward(*args)`` must return a finite scalar: ``(reply, value)``, or ``(None, None)``
    after recording the failure."""
    r = student.call("forward", *args, label="forward")
    if not r.ok:
        checks.append(Check("forward", False, None, r.error))
        return None, None
    v = r.value
    scalar = isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "biuf" and bool(np.isfinite(v))
    checks.append(Check("interface: forward returns a finite scalar", scalar, None,
                        "" if scalar else f"got {describe(v)}" + (f" of shape {v.shape}" if isinstance(v, np.ndarray) else "")))
    return (r, float(v)) if scalar else (None, None)


def check_loss(student: Student, res: ClassResult, info: dict, rng) -> None:
    checks = res.checks
    n, k = BATCH, 4
    x = rng.standard_normal((n, k))
    y = np.eye(k)[rng.integers(0, k, n)]
    r, loss = _scalar_forward(student, checks, x, y)
    if r is None:
        return
    intact = len(r.args_after) == 2 and all(isinstance(a, np.ndarray) for a in r.args_after) and \
        np.array_equal(r.args_after[0], x) and np.array_equal(r.args_after[1], y)
    checks.append(Check("side effects: forward leaves x and y unchanged", intact, None,
                        "" if intact else "forward modified its arguments in place"))

    def fd_at(xv, yv, label):
        return finite_differences(student, [xv, yv], {"arg": 0}, xv, float, (), label)

    if not info.get("backward_inputs"):
        checks.append(Check("backward_inputs", False, None, "no backward_inputs method"))
        return
    label = "backward_inputs vs finite differences (∂L/∂x)"
    b = student.call("backward_inputs", x, y, label=label)
    fd = fd_at(x, y, label)
    if not b.ok:
        checks.append(Check("backward_inputs", False, None, b.error))
    elif isinstance(fd, str):
        checks.append(Check(label, False, None, fd))
    else:
        checks.append(compare(label, b.value, fd, n, TOL_FD))

    # Call order: the gradient must be that of its own arguments, not of the last forward's.
    label = "call order: forward(x1, y1), then backward_inputs(x2, y2)"
    x2 = rng.standard_normal((n, k))
    y2 = np.eye(k)[rng.integers(0, k, n)]
    first = student.call("forward", x, y, label=label)
    b2 = student.call("backward_inputs", x2, y2, label=label) if first.ok else \
        Reply(False, error=f"forward {first.error}")
    fd2 = fd_at(x2, y2, label)
    if not b2.ok:
        checks.append(Check(label, False, None, b2.error))
    elif not isinstance(fd2, str):
        c = compare(label, b2.value, fd2, n, TOL_FD)
        if not c.ok and isinstance(fd, np.ndarray) and b.ok and close(b2.value, b.value, 1e-12):
            c.detail = "backward_inputs ignores its arguments: it returns the gradient of an earlier call"
        checks.append(c)

    # jaxdl's softmax cross-entropy: compared when the class is named as one, and its stability
    # checked whenever the class computes one.
    ref, ref_dx = reference.softmax_cross_entropy(x, y)
    named = reference.counterpart(res.cls) == "softmax_cross_entropy"
    if named:
        err = abs(loss - ref)
        ok = err <= TOL_REF * max(1, abs(ref))
        checks.append(Check("forward vs jaxdl softmax_cross_entropy (mean over the batch)", ok, err,
                            "" if ok else (diagnose(np.asarray(loss), np.asarray(ref), n) or f"{loss!r} vs {ref!r}")))
        if b.ok:
            checks.append(compare("backward_inputs vs jaxdl softmax_cross_entropy.backward", b.value, ref_dx, n, TOL_REF))
    if named or abs(loss - ref) <= 1e-9 * max(1, abs(ref)):
        _check_stability(student, res, x)


def _check_stability(student: Student, res: ClassResult, x: np.ndarray) -> None:
    """Logits shifted by 1000 (exp overflows without the max shift) and spread to magnitude
    1000 with each label on the smallest logit (its probability underflows to 0: log(p) is −inf
    unless the loss is computed as log-sum-exp)."""
    n, k = x.shape
    shifted = x + 1000.0
    y = np.eye(k)[np.argmin(x, axis=1)]
    ref_shift, _ = reference.softmax_cross_entropy(shifted, y)
    spread = x * 1000.0
    ref_spread, _ = reference.softmax_cross_entropy(spread, y)

    def good(r, ref):
        v = r.value
        return (r.ok and isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "biuf"
                and bool(np.isfinite(v)) and abs(float(v) - ref) <= 1e-6 * max(1.0, abs(ref)))

    label = "stable at logits shifted by 1000"
    a = student.call("forward", shifted, y, label=label)
    shift_ok = good(a, ref_shift)
    res.checks.append(Check(label, shift_ok, None, "" if shift_ok else
                            f"got {_shown(a)} (expected {ref_shift:.6g}): exp overflows without subtracting the max logit"))
    label = "stable at logits of magnitude 1000"
    b = student.call("forward", spread, y, label=label)
    spread_ok = good(b, ref_spread)
    if spread_ok:
        detail = ""
    elif not shift_ok:
        detail = f"got {_shown(b)} (expected {ref_spread:.6g}): exp overflows without subtracting the max logit"
    else:
        detail = (f"got {_shown(b)} (expected {ref_spread:.6g}): the log of a probability that underflowed to 0; "
                  "use log-sum-exp: log p_j = x_j − max − log Σ_i exp(x_i − max)")
    res.checks.append(Check(label, spread_ok, None, detail))


def _shown(r: Reply) -> str:
    if not r.ok:
        return r.error
    v = r.value
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return repr(float(v))
    return describe(v)


# --------------------------------------------------------------------------------------------
# A regularizer: built with the weights; forward() -> scalar, backward_params().


def check_regularizer(student: Student, res: ClassResult, info: dict, weights: np.ndarray,
                      weight_decay: float | None) -> None:
    checks = res.checks
    r, loss = _scalar_forward(student, checks)
    if r is None:
        return
    if not info.get("backward_params"):
        checks.append(Check("backward_params", False, None, "no backward_params method"))
        return
    bp = student.call("backward_params", label="backward_params")
    if not bp.ok:
        checks.append(Check("backward_params", False, None, bp.error))
        return
    params, grads, problem = params_of(bp.value)
    if problem or not params:
        checks.append(Check("interface: backward_params returns [[param, grad], ..., name]", False, None,
                            problem or "no [param, grad] pair"))
        return
    checks.append(Check("interface: backward_params returns [[param, grad], ..., name]", True))
    path = (bp.param_paths or [None])[0]
    label = "gradient matches its own loss (finite differences)"
    if path is None or not isinstance(params[0], np.ndarray) or params[0].dtype.kind != "f":
        checks.append(Check(label, False, None, "the parameter is not one of the regularizer's float array attributes"))
        return
    fd = finite_differences(student, [], {"attr": path}, params[0], float, (), label)
    checks.append(Check(label, False, None, fd) if isinstance(fd, str) else compare(label, grads[0], fd, 1, TOL_FD))
    if weight_decay is not None and reference.counterpart(res.cls) == "l2_regularizer":
        ref, ref_grad = reference.l2_regularizer(weights, weight_decay)
        err = abs(float(loss) - ref)
        same = err <= 1e-12 * max(1, ref)
        checks.append(Check("forward vs jaxdl l2_regularizer (λ/2 ‖W‖²)", same, err,
                            "" if same else (diagnose(np.asarray(float(loss)), np.asarray(ref), 1) or f"{float(loss)!r} vs {ref!r}")))
        checks.append(compare("backward_params vs jaxdl l2_regularizer (λ W)", grads[0], ref_grad, 1, TOL_REF))
