"""jaxdl's lab layers in numpy, float64: what the standalone checker (``check-numpy --export``)
compares a student's class with where JAX is not installed.

Each builder takes the checker's constructor arguments by the lab's names (those of the
:class:`~jaxdl.labspec.LabClass`) and returns a :class:`Layer` with the jaxdl layer's name,
parameter layout, forward and vector-Jacobian product, derived by hand from the same formulas
as the jaxdl layer (``jaxdl/layers``). They are proven equal to the JAX layers (forward and
``jax.vjp``) in float64 by the tests, and again by every export, on the reference data the
export writes; the standalone checker replays those data before it reads a student's file.

Only numpy and the standard library (Python ≥ 3.9): this module travels inside ``check_lab.py``.
"""

from __future__ import annotations

import math

import numpy as np


class Layer:
    """``shapes(input_shape) -> (output shape, {param: shape})``, ``apply(params, x)``,
    ``vjp(params, x, dy) -> ({param: grad}, dx)``; a shape that does not fit raises ValueError."""

    def __init__(self, name, shapes, apply, vjp):
        self.name, self.shapes, self.apply, self.vjp = name, shapes, apply, vjp


def _rank(name: str, x, n: int) -> None:
    if len(np.shape(x)) != n:
        raise ValueError(f"{name}: expected rank {n}; got shape {np.shape(x)}")


def _param(params: dict, k: str, shape) -> np.ndarray:
    v = np.asarray(params[k], np.float64)
    if v.shape != tuple(shape):
        raise ValueError(f"parameter {k}: expected shape {tuple(shape)}; got {v.shape}")
    return v


def _sigmoid(x):
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _elementwise(name, fn, dfn) -> Layer:
    return Layer(name, lambda s: (tuple(s), {}), lambda p, x: fn(np.asarray(x, np.float64)),
                 lambda p, x, dy: ({}, np.asarray(dy, np.float64) * dfn(np.asarray(x, np.float64))))


def relu() -> Layer:
    # 0 where x <= 0, else x: NaN propagates (NaN <= 0 is false); ReLU'(0) = 0.
    return _elementwise("relu", lambda x: np.where(x <= 0, 0.0, x), lambda x: np.where(x <= 0, 0.0, 1.0))


def leaky_relu(alpha: float) -> Layer:
    a = float(alpha)
    return _elementwise("leaky_relu", lambda x: np.where(x > 0, x, a * x), lambda x: np.where(x > 0, 1.0, a))


def sigmoid() -> Layer:
    return _elementwise("sigmoid", _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)))


def swish(beta: float) -> Layer:
    b = float(beta)

    def dfn(x):
        t = b * x
        s = _sigmoid(t)
        with np.errstate(invalid="ignore", over="ignore"):
            return s + np.where(np.abs(t) < 64, t * s * (1 - s), 0.0)  # beyond |t| = 64 the term is below e^-60
    return _elementwise("swish", lambda x: x * _sigmoid(b * x), dfn)


def dense(num_outputs: int) -> Layer:
    """``Y = X W + b``, ``W (D, M)``, over any leading dimensions."""
    m = int(num_outputs)

    def shapes(s):
        if len(s) < 2:
            raise ValueError(f"dense: expected (N, ..., D); got {tuple(s)}")
        return tuple(s[:-1]) + (m,), {"W": (int(s[-1]), m), "b": (m,)}

    def apply(p, x):
        x = np.asarray(x, np.float64)
        w, b = _param(p, "W", (x.shape[-1], m)), _param(p, "b", (m,))
        return x @ w + b

    def vjp(p, x, dy):
        x, dy = np.asarray(x, np.float64), np.asarray(dy, np.float64)
        w = _param(p, "W", (x.shape[-1], m))
        rows_x, rows_dy = x.reshape(-1, x.shape[-1]), dy.reshape(-1, m)
        return {"W": rows_x.T @ rows_dy, "b": rows_dy.sum(axis=0)}, dy @ w.T
    return Layer("dense", shapes, apply, vjp)


def quadratic(num_outputs: int, b: float) -> Layer:
    """``Y = (X ⊙ X) Aᵀ + b X + c``, ``A (M, D)``."""
    m, bb = int(num_outputs), float(b)

    def shapes(s):
        if len(s) != 2 or (m != s[1] and bb != 0):
            raise ValueError(f"quadratic: expected (N, {m}) for b = {bb:g}; got {tuple(s)}")
        return (s[0], m), {"A": (m, int(s[1])), "c": (m,)}

    def apply(p, x):
        x = np.asarray(x, np.float64)
        _rank("quadratic", x, 2)
        shapes(x.shape)
        y = (x * x) @ _param(p, "A", (m, x.shape[1])).T + _param(p, "c", (m,))
        return y + bb * x if bb != 0 else y

    def vjp(p, x, dy):
        x, dy = np.asarray(x, np.float64), np.asarray(dy, np.float64)
        dx = 2 * x * (dy @ _param(p, "A", (m, x.shape[1])))
        return {"A": dy.T @ (x * x), "c": dy.sum(axis=0)}, dx + bb * dy if bb != 0 else dx
    return Layer("quadratic", shapes, apply, vjp)


def res_block() -> Layer:
    """``out = X + ReLU(X W + b)``, ``W (D, D)``."""
    def shapes(s):
        if len(s) != 2:
            raise ValueError(f"res_block: expected (N, D); got {tuple(s)}")
        return tuple(s), {"W": (int(s[1]), int(s[1])), "b": (int(s[1]),)}

    def hidden(p, x):
        _rank("res_block", x, 2)
        d = x.shape[1]
        return x @ _param(p, "W", (d, d)) + _param(p, "b", (d,))

    def apply(p, x):
        x = np.asarray(x, np.float64)
        h = hidden(p, x)
        return x + np.where(h <= 0, 0.0, h)

    def vjp(p, x, dy):
        x, dy = np.asarray(x, np.float64), np.asarray(dy, np.float64)
        dh = dy * np.where(hidden(p, x) <= 0, 0.0, 1.0)
        return {"W": x.T @ dh, "b": dh.sum(axis=0)}, dy + dh @ np.asarray(p["W"], np.float64).T
    return Layer("res_block", shapes, apply, vjp)


def _same_pads(n: int, k: int) -> tuple[int, int]:
    total = max(k - 1, 0)  # stride 1: ⌈n/1⌉ outputs
    return total // 2, total - total // 2


def _patches(xp: np.ndarray, k: int, ho: int, wo: int) -> np.ndarray:
    """``(N, C, k, k, Ho, Wo)``: every k × k window of the padded input, stride 1."""
    n, c = xp.shape[:2]
    out = np.empty((n, c, k, k, ho, wo))
    for i in range(k):
        for j in range(k):
            out[:, :, i, j] = xp[:, :, i:i + ho, j:j + wo]
    return out


def conv2d(num_filters: int, kernel_size: int) -> Layer:
    """The lab's convolution: cross-correlation, stride 1, zero padding that keeps H × W (split as
    XLA splits "SAME"), ``W (F, C, k, k)``, ``b (F,)``."""
    f, k = int(num_filters), int(kernel_size)

    def shapes(s):
        if len(s) != 4:
            raise ValueError(f"conv2d: expected (N, C, H, W); got {tuple(s)}")
        return (s[0], f, s[2], s[3]), {"W": (f, int(s[1]), k, k), "b": (f,)}

    def padded(x):
        (ht, hb), (wl, wr) = _same_pads(x.shape[2], k), _same_pads(x.shape[3], k)
        return np.pad(x, ((0, 0), (0, 0), (ht, hb), (wl, wr))), (ht, wl)

    def apply(p, x):
        x = np.asarray(x, np.float64)
        _rank("conv2d", x, 4)
        w, b = _param(p, "W", (f, x.shape[1], k, k)), _param(p, "b", (f,))
        xp, _ = padded(x)
        return np.einsum("ncijhw,fcij->nfhw", _patches(xp, k, x.shape[2], x.shape[3]), w) + b[None, :, None, None]

    def vjp(p, x, dy):
        x, dy = np.asarray(x, np.float64), np.asarray(dy, np.float64)
        w = _param(p, "W", (f, x.shape[1], k, k))
        xp, (top, left) = padded(x)
        h, wd = x.shape[2:]
        dw = np.einsum("ncijhw,nfhw->fcij", _patches(xp, k, h, wd), dy)
        dxp = np.zeros_like(xp)
        for i in range(k):  # each output took xp[..., i + h, j + w] times W[f, c, i, j]
            for j in range(k):
                dxp[:, :, i:i + h, j:j + wd] += np.einsum("nfhw,fc->nchw", dy, w[:, :, i, j])
        return {"W": dw, "b": dy.sum(axis=(0, 2, 3))}, dxp[:, :, top:top + h, left:left + wd]
    return Layer("conv2d", shapes, apply, vjp)


def max_pool2d(pool_size: int, stride: int) -> Layer:
    """Max over ``pool_size`` windows moved by ``stride``, no padding (windows that do not fit are
    dropped); the gradient goes to each window's first maximum in row-major order."""
    k, s = int(pool_size), int(stride)

    def out_hw(shape):
        if len(shape) != 4 or shape[2] < k or shape[3] < k:
            raise ValueError(f"max_pool2d: expected (N, C, H ≥ {k}, W ≥ {k}); got {tuple(shape)}")
        return (shape[2] - k) // s + 1, (shape[3] - k) // s + 1

    def windows(x):
        ho, wo = out_hw(x.shape)
        return [((i, j), x[:, :, i:i + (ho - 1) * s + 1:s, j:j + (wo - 1) * s + 1:s])
                for i in range(k) for j in range(k)], (ho, wo)

    def apply(p, x):
        x = np.asarray(x, np.float64)
        wins, _ = windows(x)
        return np.max(np.stack([w for _, w in wins]), axis=0)

    def vjp(p, x, dy):
        x, dy = np.asarray(x, np.float64), np.asarray(dy, np.float64)
        wins, (ho, wo) = windows(x)
        y = np.max(np.stack([w for _, w in wins]), axis=0)
        dx = np.zeros_like(x)
        taken = np.zeros(y.shape, bool)
        for (i, j), w in wins:
            is_max = (w == y) & ~taken
            taken |= is_max
            dx[:, :, i:i + (ho - 1) * s + 1:s, j:j + (wo - 1) * s + 1:s] += np.where(is_max, dy, 0.0)
        return {}, dx
    return Layer("max_pool2d", lambda sh: ((sh[0], sh[1]) + out_hw(sh), {}), apply, vjp)


def flatten() -> Layer:
    def shapes(s):
        return (s[0], math.prod(s[1:])), {}
    return Layer("flatten", shapes, lambda p, x: np.asarray(x, np.float64).reshape(np.shape(x)[0], -1),
                 lambda p, x, dy: ({}, np.asarray(dy, np.float64).reshape(np.shape(x))))


# The registry names of jaxdl's lab classes (jaxdl.registry.lab_classes()) and their builders.
BUILDERS = {
    "dense": dense, "relu": relu, "leaky_relu": leaky_relu, "sigmoid": sigmoid, "conv2d": conv2d,
    "max_pool2d": max_pool2d, "flatten": flatten, "quadratic": quadratic, "swish": swish, "res_block": res_block,
}


def build(name: str, config: dict) -> Layer:
    return BUILDERS[name](**config)


def softmax_cross_entropy(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """``-1/N Σ_n Σ_k y_nk log softmax(x_n)_k`` and ``(softmax(x) − y) / N``."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    return float(-(y * log_p).sum() / n), (np.exp(log_p) - y) / n


def l2_regularizer(weights: np.ndarray, weight_decay: float) -> tuple[float, np.ndarray]:
    """``λ/2 ‖W‖²`` and ``λ W``."""
    w = np.asarray(weights, np.float64)
    lam = float(weight_decay)
    return 0.5 * lam * float(np.sum(w * w)), lam * w
