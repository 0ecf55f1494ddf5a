"""jaxdl's side of the comparison: which jaxdl layer a student's class is, the student's
parameters in that layer's layout, and the layer's forward and ``jax.vjp`` — compiled once per
layer and shape and shared by every submission (and thread) of a run. Runs in float64.
"""

from __future__ import annotations

import threading

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check.numpy_check.diagnose import TOL_REF, compare
from jaxdl.check.numpy_check.results import Check
from jaxdl.layers import LAB_CLASSES


def _key(name: str) -> str:
    return name.replace("_", "").lower()


_BY_LAB_NAME = {_key(lab): layer for layer, names in LAB_CLASSES.items() for lab in names}


def counterpart(class_name: str) -> str | None:
    """The jaxdl layer or loss a lab class of this name corresponds to (``"FC"`` → ``"dense"``)."""
    return _BY_LAB_NAME.get(_key(class_name))


# --------------------------------------------------------------------------------------------
# Compiled references, shared.

_LOCK = threading.Lock()
_COMPILED: dict = {}


def _compiled(key, make):
    """``(layer, jit(apply), jit(vjp))`` for ``key``, built by ``make()`` once per process."""
    with _LOCK:
        if key not in _COMPILED:
            layer = make()

            def vjp(params, x, dy, layer=layer):
                return jax.vjp(layer.apply, params, x)[1](dy)

            _COMPILED[key] = (layer, jax.jit(layer.apply), jax.jit(vjp))
        return _COMPILED[key]


def _loss_fns():
    from jaxdl.losses import softmax_cross_entropy

    with _LOCK:
        if "softmax_cross_entropy" not in _COMPILED:
            _COMPILED["softmax_cross_entropy"] = (
                jax.jit(softmax_cross_entropy.apply), jax.jit(softmax_cross_entropy.backward))
        return _COMPILED["softmax_cross_entropy"]


def softmax_cross_entropy(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """jaxdl's mean softmax cross-entropy of logits ``x (N, K)`` and one-hot ``y``, and ``∂L/∂x``."""
    apply, backward = _loss_fns()
    with jax.enable_x64(True):
        xj, yj = jnp.asarray(x, jnp.float64), jnp.asarray(y, jnp.float64)
        return float(apply(xj, yj)), np.asarray(backward(xj, yj))


def l2_regularizer(weights: np.ndarray, weight_decay: float) -> tuple[float, np.ndarray]:
    """jaxdl's ``λ/2 ‖W‖²`` and its gradient ``λ W``."""
    from jaxdl.losses import l2_regularizer as l2

    reg = l2(float(weight_decay))
    with jax.enable_x64(True):
        params = {"W": jnp.asarray(weights, jnp.float64)}
        return float(reg.apply(params)), np.asarray(reg.backward(params)["W"])


# --------------------------------------------------------------------------------------------
# The student's parameters in jaxdl's layout.


def _candidates(layer_name: str, params: list, scalars: dict, input_shape) -> tuple[tuple, list] | None:
    """``((layer name, hyperparameters...), [(jaxdl params, grads back to the student's order)])``.

    A weight matrix may be stored either way round: both orientations that fit are candidates,
    and the one whose forward is closer to the student's is used."""
    two = [np.asarray(p) for p in params if np.ndim(p) >= 2]
    one = [np.asarray(p) for p in params if np.ndim(p) == 1]
    d_in = int(np.prod(input_shape[1:]))
    weight_first = not params or np.ndim(params[0]) >= 2

    def ordered(back):  # jaxdl grads → the student's order (weight first or bias first)
        return back if weight_first else (lambda g: back(g)[::-1])

    def matrix(W, bias):
        out = []
        for t in (False, True):
            Wj = W.T if t else W
            if Wj.shape[0] != d_in:
                continue
            pj = {"W": Wj, **({"b": bias} if bias is not None else {})}
            out.append((pj, ordered(lambda g, t=t: [g["W"].T if t else g["W"]] + ([g["b"]] if bias is not None else []))))
        return out

    free = [({}, lambda g: [])]
    if layer_name == "relu" and not params:
        return ("relu",), free
    if layer_name == "sigmoid" and not params:
        return ("sigmoid",), free
    if layer_name == "flatten" and not params:
        return ("flatten",), free
    if layer_name == "leaky_relu" and not params:
        return ("leaky_relu", float(scalars.get("alpha", scalars.get("negative_slope", 0.01)))), free
    if layer_name == "swish" and not params:
        return ("swish", float(scalars.get("beta", 1.0))), free
    if layer_name == "max_pool2d" and not params and len(input_shape) == 4:
        pool = int(scalars.get("pool_size", 2))
        return ("max_pool2d", pool, int(scalars.get("stride", pool))), free
    if len(two) != 1 or len(one) > 1 or len(params) != len(two) + len(one):
        return None
    W, bias = two[0], (one[0] if one else None)
    if layer_name == "dense" and W.ndim == 2:
        return ("dense", int(W.size // d_in), bias is not None), matrix(W, bias)
    if layer_name == "res_block" and W.ndim == 2 and bias is not None:
        return ("res_block",), matrix(W, bias)
    if layer_name == "quadratic" and W.ndim == 2 and bias is not None and len(input_shape) == 2:
        cands = []
        for t in (False, True):
            Aj = W.T if t else W
            if Aj.shape[1] == d_in:
                cands.append(({"A": Aj, "c": bias}, ordered(lambda g, t=t: [g["A"].T if t else g["A"], g["c"]])))
        return ("quadratic", float(scalars.get("b", 0.0)), int(W.size // d_in)), cands
    if layer_name == "conv2d" and bias is not None and len(input_shape) == 4:
        f, c = W.shape[0], input_shape[1]
        k = int(round((W.size / (f * c)) ** 0.5))
        if f * c * k * k != W.size:
            return None
        pj = {"W": W.reshape(f, c, k, k), "b": bias}
        return ("conv2d", f, k), [(pj, ordered(lambda g, s=W.shape: [g["W"].reshape(s), g["b"]]))]
    return None


def _make(key: tuple):
    from jaxdl import layers as L

    name, *hyper = key
    if name == "dense":
        return L.dense(hyper[0], use_bias=hyper[1])
    if name == "quadratic":
        return L.quadratic(hyper[0], num_outputs=hyper[1])
    if name == "conv2d":
        return L.conv2d(hyper[0], hyper[1], padding="SAME")
    if name == "max_pool2d":
        return L.max_pool2d(hyper[0], hyper[1])
    return getattr(L, name)(*hyper)


def compare_with_layer(cls_name: str, params: list, grads: list, labels: list[str], scalars: dict, x: np.ndarray,
                       y: np.ndarray, dy: np.ndarray, dx) -> tuple[list[Check], list[str]]:
    """The student's forward and gradients against the jaxdl layer its class name stands for.

    ``params``/``grads`` are the pairs ``backward_params`` returned (``labels`` name them, e.g.
    ``self.W``), ``scalars`` the instance's number attributes (hyperparameters such as ``beta``),
    ``dx`` what ``backward_inputs(dy)`` returned (``None`` when it failed).

    Returns ``(checks, notes)``; no checks when the class has no jaxdl counterpart.
    """
    layer_name = counterpart(cls_name)
    if layer_name is None or layer_name in ("softmax_cross_entropy", "l2_regularizer"):
        return [], []
    found = _candidates(layer_name, params, scalars, x.shape)
    if found is None or not found[1]:
        shapes = ", ".join(str(np.shape(p)) for p in params) or "none"
        return [], [f"not compared with jaxdl {layer_name}: its parameters (shapes {shapes}) do not fit that layer"]
    key, candidates = found
    try:
        layer, apply, vjp = _compiled(key, lambda: _make(key))
    except ValueError as e:  # hyperparameters jaxdl's layer refuses (e.g. a pool larger than the input)
        return [], [f"not compared with jaxdl {layer_name}: {e}"]
    best = None
    with jax.enable_x64(True):
        xj = jnp.asarray(x, jnp.float64)
        for pj, back in candidates:
            pj64 = {k: jnp.asarray(v, jnp.float64) for k, v in pj.items()}
            try:
                jax.eval_shape(apply, pj64, xj)
            except (ValueError, TypeError):  # these parameter shapes do not fit this input
                continue
            out = np.asarray(apply(pj64, xj))
            err = float(np.max(np.abs(out - y))) if out.shape == y.shape else np.inf
            if best is None or err < best[0]:
                best = (err, pj64, back, out)
        if best is None:
            return [], [f"not compared with jaxdl {layer.name}: its parameters do not fit the input {x.shape}"]
        err, pj64, back, out = best
        checks = []
        if out.shape != y.shape:
            checks.append(Check(f"forward vs jaxdl {layer.name}", False, None,
                                f"wrong shape {y.shape}, expected {out.shape}"))
            return checks, []
        checks.append(compare(f"forward vs jaxdl {layer.name}", y, out, x.shape[0], TOL_REF))
        dparams, dx_ref = vjp(pj64, xj, jnp.asarray(dy, jnp.float64))
        dparams = {k: np.asarray(v) for k, v in dparams.items()}
    if dx is not None:
        checks.append(compare(f"backward_inputs (∂L/∂inputs) vs jax.vjp of jaxdl {layer.name}", dx,
                              np.asarray(dx_ref), x.shape[0], TOL_REF))
    for i, (label, g, r) in enumerate(zip(labels, grads, back(dparams))):
        checks.append(compare(f"backward_params[{i}] ({label}) vs jax.vjp of jaxdl {layer.name}", g, r, x.shape[0],
                              TOL_REF))
    return checks, []
