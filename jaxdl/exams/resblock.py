"""E2: the residual block ``out = x + ReLU(x W + b)``, forward and manual backward on an example."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check import check_layer_at
from jaxdl.errors import InputError
from jaxdl.exams._common import erratum, matrix, tolist
from jaxdl.layers import res_block


def read_config(cfg):
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
    W, b, x, dy = read_config(cfg)
    layer = res_block()
    params = {"W": W, "b": b}
    with jax.enable_x64(True):
        p64 = {k: jnp.asarray(v) for k, v in params.items()}
        h = np.asarray(x @ W + b)
        out = np.asarray(layer.apply(p64, jnp.asarray(x)))
        grads, dx = layer.backward(p64, jnp.asarray(x), jnp.asarray(dy))
    check = check_layer_at(layer, params, x, dy, name="res_block")
    # The first official numpy solution masks `grads` in place, so its skip path adds the
    # masked gradient: dx_seed = (dy ⊙ [h > 0]) Wᵀ + dy ⊙ [h > 0].
    masked = dy * (h > 0)
    seed_dx = masked @ W.T + masked
    seed_err = float(np.max(np.abs(seed_dx - np.asarray(dx))))
    errata = [
        erratum(
            "E2 (numpy solution 1)",
            "dL_dh = grads; dL_dh[h <= 0] = 0; return dL_dh @ W.T + grads",
            "∂L/∂x = ∂L/∂out + (∂L/∂out ⊙ [h > 0]) Wᵀ: the skip path carries the upstream gradient "
            "unmasked; masking `grads` in place also masks the skip term (and the caller's array). "
            "Its forward pass also returns nothing (no `return output`).",
            f"on the example the in-place version's ∂L/∂x differs from the verified one by {seed_err:.4g} "
            f"(wherever h ≤ 0)",
        ),
    ]
    return {
        "forward": {"h": tolist(h), "out": tolist(out)},
        "backward": {"dy": tolist(dy), "dx": tolist(dx), "dW": tolist(grads["W"]), "db": tolist(grads["b"])},
        "cross_check": {
            "max_abs_err_vs_autodiff": check.max_abs_err_vs_autodiff,
            "max_abs_err_vs_finite_diff": check.max_abs_err_vs_finite_diff,
            "ok": check.ok,
        },
        "formula": layer.formula,
        "errata": errata,
    }


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
