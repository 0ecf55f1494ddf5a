"""``jaxdl check-numpy``: checks a student's numpy lab layers and says what is wrong.

The lab's interface: a layer is built from the previous layer (``input_layer``, whose ``.shape``
is the input shape) and a ``name``; it has ``forward(inputs)``, ``backward_inputs(grads)`` and
``backward_params(grads) -> [[param, grad], ..., name]``. A loss has ``forward(x, y)`` and
``backward_inputs(x, y)``; a regularizer ``forward()`` and ``backward_params()``.

For every class it can build, in float64, the checker runs:

1. the truth: ``backward_inputs`` and each gradient of ``backward_params`` against central
   finite differences of the student's own ``forward`` through a random upstream gradient;
   and, where the class is one of jaxdl's layers, ``forward`` against jaxdl's ``apply`` with the
   student's parameter values (either orientation of a weight matrix) and the gradients
   against ``jax.vjp``;
2. the interface: ``backward_params``' format, gradient shapes, a scalar loss, a regularizer
   whose gradient matches its own loss;
3. side effects: arguments or cached activations changed in place by a call, results that
   depend on call order (two forwards then a backward; ``backward_params`` before
   ``backward_inputs``);
4. robustness: an exception, NaN/inf or a wrong shape fails that check and the checker moves
   on; a layer that runs longer than the time limit is stopped.

Failures carry the tensor, the max absolute/relative error, the worst index and, where the
pattern is recognisable, a diagnosis (transposed, missing sum over the batch, wrong sign, a
factor of N or 2, in-place mutation).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import inspect
import signal
import sys
import traceback
import types
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

_JAXDL_DIR = __file__.rsplit("/check/", 1)[0]
EPS = 1e-6
TOL_FD = 1e-6  # relative to max(1, |reference|), float64 central differences
TOL_REF = 1e-9
TIME_LIMIT_S = 20.0
BATCH = 3
VECTOR_SHAPE = (BATCH, 4)
IMAGE_SHAPE = (2, 2, 6, 6)

# Values supplied for the lab's constructor parameters, by name.
HYPERPARAMETERS = {
    "num_outputs": 3, "num_filters": 3, "kernel_size": 3, "pool_size": 2, "stride": 2,
    "weight_decay": 0.1, "beta": 1.5, "b": 0.5, "alpha": 0.2, "negative_slope": 0.2,
}


# --------------------------------------------------------------------------------------------
# Results.


@dataclasses.dataclass
class Check:
    name: str
    ok: bool
    max_abs_err: float | None = None
    detail: str = ""

    def __post_init__(self):
        self.ok = bool(self.ok)
        self.max_abs_err = None if self.max_abs_err is None else float(self.max_abs_err)


@dataclasses.dataclass
class LayerResult:
    cls: str
    built_as: str
    checks: list[Check] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_json(self) -> dict:
        return {"class": self.cls, "built_as": self.built_as, "ok": self.ok,
                "checks": [dataclasses.asdict(c) for c in self.checks]}


@dataclasses.dataclass
class Report:
    layers: list[LayerResult]
    skipped: list[dict]

    @property
    def ok(self) -> bool:
        return all(layer.ok for layer in self.layers)

    def to_json(self) -> dict:
        return {"ok": self.ok, "layers": [r.to_json() for r in self.layers], "skipped": self.skipped}


class LoadError(Exception):
    """The student's file cannot be loaded at all (exit code 2)."""


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float):
    def handler(signum, frame):
        raise _Timeout(f"stopped after {seconds:g} s (an endless loop?)")

    if not hasattr(signal, "setitimer"):  # not on this platform: no limit
        yield
        return
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def _paused():
    """Suspends the time limit while jaxdl's own JAX code runs (its references): the limit is for
    the student's code, and an alarm raised inside XLA's compiler would not be safe."""
    if not hasattr(signal, "setitimer"):
        yield
        return
    remaining = signal.setitimer(signal.ITIMER_REAL, 0)[0]
    try:
        yield
    finally:
        if remaining > 0:
            signal.setitimer(signal.ITIMER_REAL, remaining)


def _exc_line(e: BaseException) -> str:
    """``NameError: name 'N' is not defined (line 41)`` for an exception raised by student code."""
    line = ""
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        if not frame.filename.startswith((_JAXDL_DIR, np.__path__[0])):
            line = f" (line {frame.lineno})"
            break
    return f"{type(e).__name__}: {e}{line}"


# --------------------------------------------------------------------------------------------
# Loading.


class InputStub:
    """Stands for the previous layer: the lab's constructors read ``input_layer.shape``."""

    def __init__(self, shape):
        self.shape = tuple(shape)
        self.name = "input"

    def __repr__(self):
        return f"input_layer(shape={self.shape})"


def load_module(path: str) -> types.ModuleType:
    """Imports the student's file; a missing ``im2col_cython`` is replaced by the numpy stand-in."""
    try:
        import im2col_cython  # noqa: F401
    except ImportError:
        from jaxdl.check import im2col_standin

        sys.modules["im2col_cython"] = im2col_standin
    spec = importlib.util.spec_from_file_location(f"student_{abs(hash(path))}", path)
    if spec is None:
        raise LoadError(f"check-numpy: cannot load {path!r}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        with _time_limit(TIME_LIMIT_S):
            spec.loader.exec_module(module)
    except FileNotFoundError:
        raise LoadError(f"check-numpy: no such file {path!r}") from None
    except SyntaxError as e:
        raise LoadError(f"check-numpy: cannot load {path!r}: SyntaxError: {e.msg} (line {e.lineno})") from None
    except BaseException as e:  # noqa: BLE001 - anything the student's module does at import
        if isinstance(e, KeyboardInterrupt):
            raise
        raise LoadError(f"check-numpy: cannot load {path!r}: {_exc_line(e)}") from None
    return module


def _kind(cls) -> str:
    params = list(inspect.signature(cls.__init__).parameters)
    fwd = list(inspect.signature(cls.forward).parameters)
    if "weights" in params or "regulariz" in cls.__name__.lower():
        return "regularizer"
    if len(fwd) >= 3:
        return "loss"
    return "layer"


def _candidate_classes(module) -> list[type]:
    out = []
    for _, obj in vars(module).items():
        if (inspect.isclass(obj) and obj.__module__ == module.__name__ and callable(getattr(obj, "forward", None))
                and not inspect.isabstract(obj) and obj.__name__ != "Layer"):
            out.append(obj)
    return out


def _input_shapes(cls) -> list[tuple[int, ...]]:
    params = set(inspect.signature(cls.__init__).parameters)
    name = cls.__name__.lower()
    if params & {"num_filters", "kernel_size", "pool_size"} or any(k in name for k in ("conv", "pool", "flatten")):
        return [IMAGE_SHAPE, VECTOR_SHAPE]
    return [VECTOR_SHAPE, IMAGE_SHAPE]


def _build(cls, input_shape, overrides: dict) -> tuple[Any, str]:
    """An instance built from parameter names; raises ``TypeError`` naming an unknown one."""
    kwargs = {}
    for pname, p in list(inspect.signature(cls.__init__).parameters.items())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if pname in overrides:
            kwargs[pname] = overrides[pname]
        elif pname == "input_layer":
            kwargs[pname] = InputStub(input_shape)
        elif pname == "name":
            kwargs[pname] = cls.__name__.lower()
        elif pname == "num_inputs":
            kwargs[pname] = int(np.prod(input_shape[1:]))
        elif p.default is not inspect.Parameter.empty:
            continue
        elif pname in HYPERPARAMETERS:
            kwargs[pname] = HYPERPARAMETERS[pname]
        else:
            raise TypeError(f"no value known for the constructor parameter {pname!r}")
    shown = ", ".join(f"{k}=<array {v.shape}>" if isinstance(v, np.ndarray) else f"{k}={v!r}" for k, v in kwargs.items())
    return cls(**kwargs), f"{cls.__name__}({shown})"


# --------------------------------------------------------------------------------------------
# Comparing arrays.


def _errors(got, ref):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    diff = np.abs(got - ref)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape)) if diff.size else ()
    rel = float((diff / np.maximum(np.abs(ref), 1e-12)).max()) if diff.size else 0.0
    return float(diff.max()) if diff.size else 0.0, rel, worst


def _close(a, b, tol=1e-6) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol * np.maximum(1.0, np.abs(b))))


def diagnose(got, ref, batch: int) -> str:
    """A one-line guess at what went wrong, from how ``got`` relates to the true ``ref``."""
    if got is None:
        return "returned None"
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    if got.shape != ref.shape:
        if got.ndim == ref.ndim + 1 and got.shape[1:] == ref.shape and _close(got.sum(0), ref):
            return "missing sum over the batch (a gradient per example, not their sum)"
        if got.shape == ref.shape[::-1] and _close(got.T, ref):
            return "transposed result"
        return f"wrong shape {got.shape}, expected {ref.shape}"
    if not np.all(np.isfinite(got)):
        return "NaN or inf in the result"
    if np.abs(ref).max(initial=0) > 0 and _close(got, -ref):
        return "gradient of the wrong sign"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _close(got.T, ref) and not _close(got, ref):
        return "transposed result"
    for factor, what in ((batch, f"a factor of N = {batch} (sum instead of mean over the batch?)"),
                         (1 / batch, f"a factor of 1/N = 1/{batch} (mean instead of sum over the batch?)"),
                         (2.0, "a factor of 2 (λ‖W‖² vs λ/2‖W‖²?)"), (0.5, "a factor of 1/2")):
        if np.abs(ref).max(initial=0) > 0 and _close(got, factor * ref):
            return f"off by {what}"
    return ""


def _compare(name: str, got, ref, batch: int, tol: float) -> Check:
    if got is None:
        return Check(name, False, None, "returned None")
    got_a = np.asarray(got)
    if got_a.shape != np.shape(ref):
        return Check(name, False, None, diagnose(got_a, ref, batch))
    if not np.all(np.isfinite(got_a)):
        return Check(name, False, None, "NaN or inf in the result")
    err, rel, worst = _errors(got_a, ref)
    scale = max(1.0, float(np.abs(ref).max(initial=0)))
    ok = err <= tol * scale
    detail = "" if ok else f"max abs err {err:.3g} (rel {rel:.3g}) at index {worst}"
    if not ok:
        guess = diagnose(got_a, ref, batch)
        detail += f"; {guess}" if guess else ""
    return Check(name, ok, err, detail)


def _num(v) -> str:
    try:
        return repr(float(v))
    except (TypeError, ValueError):
        return repr(v)


def _snapshot(obj) -> dict:
    return {k: np.array(v, copy=True) for k, v in vars(obj).items() if isinstance(v, np.ndarray)}


def _changed(before: dict, obj, skip=()) -> list[str]:
    now = vars(obj)
    return [k for k, v in before.items() if k not in skip and k in now and isinstance(now[k], np.ndarray)
            and (now[k].shape != v.shape or not np.array_equal(now[k], v, equal_nan=True))]


def _call(check_name: str, checks: list, fn, *args):
    """Runs student code; on an exception records a failed check and returns ``(False, None)``."""
    try:
        return True, fn(*args)
    except _Timeout:
        raise
    except Exception as e:  # noqa: BLE001 - the student's code may raise anything
        checks.append(Check(check_name, False, None, f"raised {_exc_line(e)}"))
        return False, None


def _params_of(result):
    """``[[p, g], ..., name]`` → ``([p], [g], problem)``; ``problem`` describes a bad format."""
    if result is None:
        return [], [], None
    if not isinstance(result, (list, tuple)) or not result:
        return None, None, f"expected a list [[param, grad], ..., name]; got {type(result).__name__}"
    *pairs, last = result
    if not isinstance(last, str):
        return None, None, f"the last element must be the layer's name (a string); got {type(last).__name__}"
    params, grads = [], []
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            return None, None, (
                f"element {i} must be a pair [param, grad]; got {type(pair).__name__}"
                + (f" of shape {np.shape(pair)}" if isinstance(pair, np.ndarray) else "")
                + " (the pairs tie each gradient to its parameter)"
            )
        params.append(pair[0])
        grads.append(pair[1])
    return params, grads, None


# --------------------------------------------------------------------------------------------
# jaxdl references: which jaxdl layer a class is, and the student's params in jaxdl's layout.


def _reference(cls_name: str, inst, params: list, input_shape):
    """``(jaxdl layer, [candidate (jaxdl params, to_student_grads)])`` or ``None``."""
    from jaxdl import layers as L

    n = cls_name.lower()
    two = [p for p in params if np.ndim(p) >= 2]
    one = [p for p in params if np.ndim(p) == 1]

    def orientations(W, names, bias_name, bias, d_in):
        out = []
        for transpose in (False, True):
            Wj = np.asarray(W).T if transpose else np.asarray(W)
            if Wj.shape[0] != d_in:
                continue
            pj = {names: Wj}
            if bias_name:
                pj[bias_name] = np.asarray(bias)
            back = (lambda g, t=transpose: [g[names].T if t else g[names]] + ([g[bias_name]] if bias_name else []))
            out.append((pj, back))
        return out

    d_in = int(np.prod(input_shape[1:]))
    if "quadratic" in n and len(two) == 1 and len(one) == 1:
        A = np.asarray(two[0])
        cands = []
        for t in (False, True):
            Aj = A.T if t else A
            if Aj.shape[1] == d_in:
                cands.append(({"A": Aj, "c": np.asarray(one[0])}, lambda g, t=t: [g["A"].T if t else g["A"], g["c"]]))
        return L.quadratic(float(getattr(inst, "b", 0.0)), num_outputs=int(A.size // d_in)), _in_order(cands, params, two)
    if "swish" in n:
        return L.swish(float(getattr(inst, "beta", 1.0))), [({}, lambda g: [])]
    if "res" in n and len(two) == 1 and len(one) == 1:
        return L.res_block(), _in_order(orientations(two[0], "W", "b", one[0], d_in), params, two)
    if "conv" in n and len(two) == 1 and len(one) == 1:
        W = np.asarray(two[0])
        f = W.shape[0]
        c = input_shape[1]
        k = int(round((W.size / (f * c)) ** 0.5))
        cand = ({"W": W.reshape(f, c, k, k), "b": np.asarray(one[0])}, lambda g, s=W.shape: [g["W"].reshape(s), g["b"]])
        return L.conv2d(f, k, padding="SAME"), _in_order([cand], params, two)
    if "pool" in n and "max" in n or n == "maxpooling":
        pool = getattr(inst, "pool_size", 2)
        stride = getattr(inst, "stride", pool)
        return L.max_pool2d(pool, stride), [({}, lambda g: [])]
    if "flatten" in n:
        return L.flatten(), [({}, lambda g: [])]
    if "leaky" in n:
        return L.leaky_relu(float(getattr(inst, "alpha", getattr(inst, "negative_slope", 0.01)))), [({}, lambda g: [])]
    if "relu" in n:
        return L.relu(), [({}, lambda g: [])]
    if "sigmoid" in n:
        return L.sigmoid(), [({}, lambda g: [])]
    if (n.startswith("fc") or "dense" in n or "linear" in n or "fullyconnected" in n) and len(two) == 1:
        return L.dense(int(np.asarray(two[0]).size // d_in), use_bias=bool(one)), _in_order(
            orientations(two[0], "W", "b" if one else None, one[0] if one else None, d_in), params, two)
    return None


def _in_order(cands, params, two):
    # The student's params may list the bias first: map jaxdl grads back to the student's order.
    first_is_weight = np.ndim(params[0]) >= 2 if params else True
    if first_is_weight:
        return cands
    return [(pj, lambda g, back=back: back(g)[::-1]) for pj, back in cands]


# --------------------------------------------------------------------------------------------
# The checks.


def _finite_diff(f, array, eps=EPS):
    """Central differences of scalar ``f()`` w.r.t. every entry of ``array`` (perturbed in place)."""
    grad = np.zeros(array.shape)
    for i in np.ndindex(array.shape):  # in place: the student's object sees the perturbation
        orig = array[i]
        array[i] = orig + eps
        plus = f()
        array[i] = orig - eps
        minus = f()
        array[i] = orig
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def check_layer_instance(inst, input_shape, built_as: str, rng: np.random.Generator) -> LayerResult:
    cls = type(inst).__name__
    res = LayerResult(cls, built_as)
    checks = res.checks
    x = rng.uniform(-2, 2, input_shape)
    x[np.abs(x) < 0.05] += 0.1  # away from ReLU's kink
    x_copy = x.copy()

    ok, y = _call("forward", checks, inst.forward, x)
    if not ok:
        return res
    if y is None or not isinstance(y, np.ndarray):
        checks.append(Check("forward", False, None, f"returned {type(y).__name__}, not an array (a missing return?)"))
        return res
    if not np.all(np.isfinite(y)):
        checks.append(Check("forward", False, None, "NaN or inf in the output"))
        return res
    checks.append(Check("forward", True, None, f"output shape {y.shape}"))
    checks.append(Check("side effects: forward leaves its input unchanged", np.array_equal(x, x_copy), None,
                        "" if np.array_equal(x, x_copy) else "forward modified `inputs` in place"))
    x = x_copy.copy()
    dy = rng.standard_normal(y.shape)

    def objective():
        return float(np.sum(np.asarray(inst.forward(x.copy())) * dy))

    # The truth: finite differences of the student's own forward.
    ok, fd_x = _call("backward_inputs vs finite differences", checks, _finite_diff, objective, x)
    # Parameters, from one forward + backward_params.
    inst.forward(x.copy())
    has_params = getattr(inst, "has_params", True) and callable(getattr(inst, "backward_params", None))
    dy_copy = dy.copy()
    arg = dy.copy()
    bp_ok, bp = _call("backward_params", checks, inst.backward_params, arg) if has_params else (True, None)
    if bp_ok and has_params and not np.array_equal(arg, dy_copy):
        checks.append(Check("side effects: backward_params leaves `grads` unchanged", False, None,
                            "backward_params modified its argument `grads` in place (in-place mutation of grads)"))
    params, grads, problem = _params_of(bp) if bp_ok else ([], [], None)
    if problem:
        checks.append(Check("interface: backward_params returns [[param, grad], ..., name]", False, None, problem))
        params, grads = [], []
    elif bp_ok and params:
        checks.append(Check("interface: backward_params returns [[param, grad], ..., name]", True))

    # backward_inputs, with its side effects.
    inst.forward(x.copy())
    cache = _snapshot(inst)
    arg = dy.copy()
    bi_ok, dx = _call("backward_inputs", checks, inst.backward_inputs, arg)
    if bi_ok:
        mutated = not np.array_equal(arg, dy_copy)
        checks.append(Check("side effects: backward_inputs leaves `grads` unchanged", not mutated, None,
                            "backward_inputs modified its argument `grads` in place (in-place mutation of grads)"
                            if mutated else ""))
        changed = _changed(cache, inst)
        checks.append(Check("side effects: backward_inputs leaves the cached activations unchanged", not changed,
                            None, f"changed self.{', self.'.join(changed)}" if changed else ""))
        if fd_x is not None:
            c = _compare("backward_inputs (∂L/∂inputs) vs finite differences", dx, fd_x, input_shape[0], TOL_FD)
            if mutated and not c.ok:
                c.detail += "; consistent with the in-place change of `grads` (a later use reads the changed values)"
            checks.append(c)

    # Each parameter gradient against finite differences through forward.
    for i, (p, g) in enumerate(zip(params, grads)):
        label = f"backward_params[{i}] ({_attr_name(inst, p)}, shape {np.shape(p)}) vs finite differences"
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            checks.append(Check(label, False, None, f"the parameter is not a float array but {type(p).__name__}"))
            continue
        ok, fd_p = _call(label, checks, _finite_diff, objective, p)
        if ok:
            checks.append(_compare(label, g, fd_p, input_shape[0], TOL_FD))

    # Call order: two forwards then one backward must use the last input; backward_params first
    # must not change what backward_inputs returns.
    if bi_ok and dx is not None:
        inst.forward(rng.uniform(-1, 1, input_shape))
        inst.forward(x.copy())
        ok, dx2 = _call("call order: two forwards, then backward_inputs", checks, inst.backward_inputs, dy.copy())
        if ok:
            same = _close(dx2, dx, 1e-12)
            checks.append(Check("call order: two forwards, then backward_inputs", same, None,
                                "" if same else "the result depends on an earlier forward call"))
        if params:
            inst.forward(x.copy())
            inst.backward_params(dy.copy())
            ok, dx3 = _call("call order: backward_params before backward_inputs", checks, inst.backward_inputs, dy.copy())
            if ok:
                same = _close(dx3, dx, 1e-12)
                checks.append(Check("call order: backward_params before backward_inputs", same, None,
                                    "" if same else "backward_inputs returns another result after backward_params"))

    _check_against_jaxdl(res, inst, params, grads, x, y, dy, dx if bi_ok else None)
    return res


def _attr_name(inst, array) -> str:
    """``self.W``: the attribute holding ``array`` (searched one level into sub-layers too)."""
    for k, v in vars(inst).items():
        if v is array:
            return f"self.{k}"
    for k, v in vars(inst).items():
        if hasattr(v, "__dict__") and not isinstance(v, np.ndarray):
            for k2, v2 in vars(v).items():
                if v2 is array:
                    return f"self.{k}.{k2}"
    return "a parameter"


def _check_against_jaxdl(res, inst, params, grads, x, y, dy, dx):
    with _paused():
        _compare_with_jaxdl(res, inst, params, grads, x, y, dy, dx)


def _compare_with_jaxdl(res, inst, params, grads, x, y, dy, dx):
    try:
        ref = _reference(res.cls, inst, params, x.shape)
    except Exception:  # noqa: BLE001 - unusual param shapes: no reference
        ref = None
    if ref is None:
        return
    layer, candidates = ref
    best = None
    with jax.enable_x64(True):
        for pj, back in candidates:
            pj64 = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), pj)
            try:
                out = np.asarray(layer.apply(pj64, jnp.asarray(x)))
            except ValueError:
                continue
            err = float(np.max(np.abs(out - y))) if out.shape == y.shape else np.inf
            if best is None or err < best[0]:
                best = (err, pj64, back, out)
        if best is None:
            return
        err, pj64, back, out = best
        ok = err <= TOL_REF * max(1.0, float(np.abs(out).max(initial=0)))
        res.checks.append(Check(f"forward vs jaxdl {layer.name}", ok, err,
                                "" if ok else f"{_compare('', y, out, x.shape[0], TOL_REF).detail}"))
        dparams, dx_ref = jax.vjp(layer.apply, pj64, jnp.asarray(x))[1](jnp.asarray(dy))
    if dx is not None:
        c = _compare(f"backward_inputs (∂L/∂inputs) vs jax.vjp of jaxdl {layer.name}", dx, np.asarray(dx_ref), x.shape[0], TOL_REF)
        res.checks.append(c)
    for i, (p, g, r) in enumerate(zip(params, grads, back(jax.tree_util.tree_map(np.asarray, dparams)))):
        res.checks.append(_compare(f"backward_params[{i}] ({_attr_name(inst, p)}) vs jax.vjp of jaxdl {layer.name}",
                                   g, r, x.shape[0], TOL_REF))


def check_loss_instance(inst, built_as: str, rng: np.random.Generator) -> LayerResult:
    from jaxdl.losses import softmax_cross_entropy

    res = LayerResult(type(inst).__name__, built_as)
    checks = res.checks
    n, k = BATCH, 4
    x = rng.standard_normal((n, k))
    y = np.eye(k)[rng.integers(0, k, n)]
    x_copy, y_copy = x.copy(), y.copy()
    ok, loss = _call("forward", checks, inst.forward, x, y)
    if not ok:
        return res
    scalar = np.ndim(loss) == 0 and np.isfinite(loss)
    checks.append(Check("interface: forward returns a finite scalar", bool(scalar), None,
                        "" if scalar else f"got {type(loss).__name__} of shape {np.shape(loss)}"))
    if not scalar:
        return res
    intact = np.array_equal(x, x_copy) and np.array_equal(y, y_copy)
    checks.append(Check("side effects: forward leaves x and y unchanged", intact, None,
                        "" if intact else "forward modified its arguments in place"))
    x, y = x_copy.copy(), y_copy.copy()
    ok, dx = _call("backward_inputs", checks, inst.backward_inputs, x.copy(), y.copy())
    if ok:
        fd = _finite_diff(lambda: float(inst.forward(x.copy(), y.copy())), x)
        checks.append(_compare("backward_inputs vs finite differences (∂L/∂x)", dx, fd, n, TOL_FD))
    if "softmax" in res.cls.lower():
        with _paused(), jax.enable_x64(True):
            ref = float(softmax_cross_entropy.apply(jnp.asarray(x), jnp.asarray(y)))
            ref_dx = np.asarray(softmax_cross_entropy.backward(jnp.asarray(x), jnp.asarray(y)))
        checks.append(Check("forward vs jaxdl softmax_cross_entropy (mean over the batch)",
                            abs(loss - ref) <= TOL_REF * max(1, abs(ref)), abs(loss - ref),
                            "" if abs(loss - ref) <= TOL_REF * max(1, abs(ref)) else
                            (diagnose(np.asarray(loss), np.asarray(ref), n) or f"{_num(loss)} vs {ref!r}")))
        if ok:
            checks.append(_compare("backward_inputs vs jaxdl softmax_cross_entropy.backward", dx, ref_dx, n, TOL_REF))
        big = x * 1000.0
        with np.errstate(all="ignore"):
            ok_big, loss_big = _call("stable at logits of magnitude 1000", checks, inst.forward, big, y.copy())
        if ok_big:
            with _paused(), jax.enable_x64(True):
                ref_big = float(softmax_cross_entropy.apply(jnp.asarray(big), jnp.asarray(y)))
            stable = np.ndim(loss_big) == 0 and np.isfinite(loss_big) and abs(loss_big - ref_big) <= 1e-6 * abs(ref_big)
            checks.append(Check("stable at logits of magnitude 1000", bool(stable), None,
                                "" if stable else f"got {_num(loss_big)} (expected {ref_big:.6g}): exp overflows "
                                "without subtracting the max logit"))
    return res


def check_regularizer_instance(inst, built_as: str, weights: np.ndarray) -> LayerResult:
    res = LayerResult(type(inst).__name__, built_as)
    checks = res.checks
    ok, loss = _call("forward", checks, inst.forward)
    if not ok:
        return res
    scalar = np.ndim(loss) == 0 and np.isfinite(loss)
    checks.append(Check("interface: forward returns a finite scalar", bool(scalar), None,
                        "" if scalar else f"got {type(loss).__name__} of shape {np.shape(loss)}"))
    ok, bp = _call("backward_params", checks, inst.backward_params)
    if not ok or not scalar:
        return res
    params, grads, problem = _params_of(bp)
    checks.append(Check("interface: backward_params returns [[param, grad], ..., name]", problem is None, None,
                        problem or ""))
    if problem or not params:
        return res
    fd = _finite_diff(lambda: float(inst.forward()), params[0])
    checks.append(_compare("gradient matches its own loss (finite differences)", grads[0], fd, 1, TOL_FD))
    lam = getattr(inst, "weight_decay", None)
    if isinstance(lam, (int, float)):
        ref = 0.5 * lam * float(np.sum(weights * weights))
        same = abs(float(loss) - ref) <= 1e-12 * max(1, ref)
        checks.append(Check("forward vs jaxdl l2_regularizer (λ/2 ‖W‖²)", same, abs(float(loss) - ref),
                            "" if same else (diagnose(np.asarray(loss), np.asarray(ref), 1) or f"{_num(loss)} vs {ref!r}")))
        checks.append(_compare("backward_params vs jaxdl l2_regularizer (λ W)", grads[0], lam * weights, 1, TOL_REF))
    return res


# --------------------------------------------------------------------------------------------
# Driving it.


def _instances(module, layer_args):
    """``[(instance | None, input_shape, built_as, class name, reason)]`` for everything to check."""
    out = []
    exprs = [a for a in layer_args if not a.isidentifier()]
    names = {a for a in layer_args if a.isidentifier()}
    if exprs:
        for expr in exprs:
            namespace = dict(vars(module))
            namespace["input_layer"] = InputStub(VECTOR_SHAPE)
            try:
                inst = eval(expr, namespace)  # noqa: S307 - the user's own expression on their own file
            except Exception as e:  # noqa: BLE001
                out.append((None, None, expr, expr.split("(")[0], f"cannot build {expr}: {_exc_line(e)}"))
                continue
            shape = tuple(getattr(getattr(inst, "input_layer", None), "shape", ()) or VECTOR_SHAPE)
            out.append((inst, shape, expr, type(inst).__name__, None))
        return out
    factory = getattr(module, "make_layers", None)
    if callable(factory):
        for item in factory():
            inst, shape = item if isinstance(item, tuple) else (item, None)
            if shape is None:
                shape = tuple(getattr(inst, "input_shape", VECTOR_SHAPE))
            out.append((inst, tuple(shape), f"make_layers(): {type(inst).__name__}", type(inst).__name__, None))
        return out
    for cls in _candidate_classes(module):
        if names and cls.__name__ not in names:
            continue
        out.append((cls, None, None, cls.__name__, None))
    missing = names - {c.__name__ for c in _candidate_classes(module)}
    for name in sorted(missing):
        out.append((None, None, name, name, f"no layer class named {name!r} in the file"))
    return out


def _build_or_skip(cls, shape, overrides, skipped):
    """``(instance, built_as)``, or ``None`` with the reason added to ``skipped``."""
    try:
        return _build(cls, shape, overrides)
    except _Timeout:
        raise
    except Exception as e:  # noqa: BLE001 - the student's constructor may raise anything
        skipped.append({"class": cls.__name__, "reason": f"cannot build: {_exc_line(e)}"})
        return None


def _run_class(cls, rng, skipped):
    """Builds ``cls`` for the first input shape its forward accepts, then checks it."""
    kind = _kind(cls)
    if kind == "loss":
        built = _build_or_skip(cls, VECTOR_SHAPE, {}, skipped)
        return built and check_loss_instance(*built, rng)
    if kind == "regularizer":
        weights = rng.standard_normal((4, 3))
        built = _build_or_skip(cls, VECTOR_SHAPE, {"weights": weights}, skipped)
        return built and check_regularizer_instance(*built, weights)
    for shape in _input_shapes(cls):
        d = int(np.prod(shape[1:]))
        for overrides in ({}, {"num_outputs": d}):
            try:
                inst, built_as = _build(cls, shape, overrides)
                inst.forward(rng.uniform(-1, 1, shape))
            except _Timeout:
                raise
            except Exception:  # noqa: BLE001 - try the next shape; the last resort below reports
                continue
            return check_layer_instance(inst, shape, built_as, rng)
    # Nothing ran: build it once more for the first shape and report forward's own failure.
    shape = _input_shapes(cls)[0]
    built = _build_or_skip(cls, shape, {}, skipped)
    return built and check_layer_instance(built[0], shape, built[1], rng)


def check_file(path: str, layers: list[str] | tuple = (), seed: int = 0, time_limit: float = TIME_LIMIT_S) -> Report:
    """Loads the student's file and checks every layer class it can build.

    Args:
      path: the student's ``.py`` file.
      layers: class names to restrict the check to, or constructor expressions such as
        ``'Swish(name="s", beta=1.5)'`` (``input_layer`` is available in the expression).
      seed: seeds the inputs and upstream gradients.
      time_limit: seconds allowed per layer.

    Raises:
      LoadError: the file cannot be loaded at all.
    """
    module = load_module(path)
    rng = np.random.default_rng(seed)
    results, skipped = [], []
    for target, shape, built_as, cls_name, reason in _instances(module, list(layers)):
        if reason:
            skipped.append({"class": cls_name, "reason": reason})
            continue
        np.random.seed(seed)  # lab code initialises with np.random: make every run the same
        try:
            with _time_limit(time_limit), np.errstate(all="ignore"):
                if inspect.isclass(target):
                    r = _run_class(target, rng, skipped)
                elif _kind(type(target)) == "loss":
                    r = check_loss_instance(target, built_as, rng)
                else:
                    r = check_layer_instance(target, shape, built_as, rng)
        except _Timeout as e:
            r = LayerResult(cls_name, built_as or cls_name, [Check("time limit", False, None, str(e))])
        except Exception as e:  # noqa: BLE001 - the student's code raised where no single check expected it
            r = LayerResult(cls_name, built_as or cls_name,
                            [Check("runs without raising", False, None, f"raised {_exc_line(e)}")])
        if r is not None:
            results.append(r)
    if not results and not skipped:
        skipped.append({"class": "-", "reason": "the file defines no class with a forward method"})
    return Report(results, skipped)
