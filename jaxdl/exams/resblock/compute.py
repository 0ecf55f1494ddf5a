"""E2's computation: the residual block ``out = x + ReLU(x W + b)``, forward and hand-derived
backward on the givens, checked against autodiff and finite differences."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check import check_layer_at
from jaxdl.errors import InputError
from jaxdl.exams._common import matrix, tolist
from jaxdl.layers import res_block


@functools.cache
def _block():
    """The residual block, one record for every solve (its compiled check is then reused)."""
    return res_block()


def read_config(cfg):
    """Validates E2's config: ``W (D, D)``, ``b (D)``, ``x (N, D)``, ``dy (N, D)`` (∂L/∂out)."""
    known = {"W", "b", "x", "dy"}
    unknown = sorted(set(cfg.keys()) - known)
    if unknown:
        raise InputError(f"config: unknown field {unknown[0]!r} for exam resblock; known: {sorted(known)}")
    W = matrix(cfg, "W", ndim=2)
    d = W.shape[0]
    W = matrix(cfg, "W", (d, d))
    b = matrix(cfg, "b", (d,))
    x = matrix(cfg, "x", (None, d))
    dy = matrix(cfg, "dy", x.shape)
    return W, b, x, dy


def solve(cfg) -> dict:
    """E2's answers for the config's numbers: the forward pass, the backward pass (∂L/∂H, ∂L/∂x,
    ∂L/∂W, ∂L/∂b) and their three-way check."""
    W, b, x, dy = read_config(cfg)
    layer = _block()
    params = {"W": W, "b": b}
    with jax.enable_x64(True):
        p64 = {k: jnp.asarray(v) for k, v in params.items()}
        h = np.asarray(x @ W + b)
        out = np.asarray(layer.apply(p64, jnp.asarray(x)))
        grads, dx = layer.backward(p64, jnp.asarray(x), jnp.asarray(dy))
    check = check_layer_at(layer, params, x, dy, name="res_block")
    return {
        "givens": {"W": tolist(W), "b": tolist(b), "x": tolist(x), "dy": tolist(dy)},
        "forward": {"h": tolist(h), "relu_h": tolist(np.maximum(h, 0)), "out": tolist(out)},
        "dh": tolist(dy * (h > 0)),
        "backward": {"dy": tolist(dy), "dx": tolist(dx), "dW": tolist(grads["W"]), "db": tolist(grads["b"])},
        "cross_check": {
            "max_abs_err_vs_autodiff": check.max_abs_err_vs_autodiff,
            "max_abs_err_vs_finite_diff": check.max_abs_err_vs_finite_diff,
            "ok": check.ok,
        },
        "formula": layer.formula,
        "errata": [],
    }


def ok(result: dict) -> bool:
    return result["cross_check"]["ok"]


def report(result: dict) -> str:
    fmt = lambda v: np.array2string(np.asarray(v), precision=4, separator=", ", suppress_small=True).replace("\n", "")  # noqa: E731
    f, b, c = result["forward"], result["backward"], result["cross_check"]
    return "\n".join([
        "E2  Residual block out = x + ReLU(x W + b), from the lab's dense and ReLU layers",
        f"  {result['formula']}",
        f"  h = x W + b = {fmt(f['h'])};  out = {fmt(f['out'])}",
        f"  ∂L/∂out = {fmt(b['dy'])} →  ∂L/∂x = {fmt(b['dx'])},  ∂L/∂W = {fmt(b['dW'])},  ∂L/∂b = {fmt(b['db'])}",
        f"  check (float64): |manual − jax.vjp| = {c['max_abs_err_vs_autodiff']:.1e}, "
        f"|· − finite diff| = {c['max_abs_err_vs_finite_diff']:.1e}: {'ok' if c['ok'] else 'FAIL'}",
    ])
