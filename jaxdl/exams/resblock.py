"""E2: the residual block ``out = x + ReLU(x W + b)``, forward and manual backward on an example."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check import check_layer_at
from jaxdl.errors import InputError
from jaxdl.exams._common import code_block, display, erratum, lab_source, matrix, tex, tolist
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
        "givens": {"W": tolist(W), "b": tolist(b), "x": tolist(x), "dy": tolist(dy)},
        "forward": {"h": tolist(h), "relu_h": tolist(np.maximum(h, 0)), "out": tolist(out)},
        "dh": tolist(masked),
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


def sheet(result: dict, figures: dict | None = None) -> str:
    """E2's solution sheet: givens, forward and backward steps, the numpy and PyTorch classes."""
    from jaxdl.exams import torch_answers

    del figures
    gv, f, b, c = result["givens"], result["forward"], result["backward"], result["cross_check"]
    mask = (np.asarray(f["h"]) > 0).astype(float)
    return "\n".join([
        "## E2 — Residual block $\\mathrm{out} = x + \\operatorname{ReLU}(x W + b)$",
        "",
        "Rows of $X$ are the examples ($N \\times D$), as in the lab. The backward pass follows the two paths "
        "from $x$ to $\\mathrm{out}$: the skip path carries $\\partial L / \\partial \\mathrm{out}$ unchanged, "
        "the other goes through ReLU and the affine map.",
        "",
        "**Givens** (`configs/exam_resblock.py`):",
        "",
        display(f"W = {tex(gv['W'])}", f"b = {tex(gv['b'], row=True)}", f"X = {tex(gv['x'])}",
                rf"\frac{{\partial L}}{{\partial \mathrm{{out}}}} = {tex(gv['dy'])}"),
        "",
        "**Forward.**",
        "",
        display(f"H = X W + b = {tex(f['h'])}", rf"\operatorname{{ReLU}}(H) = {tex(f['relu_h'])}",
                rf"\mathrm{{out}} = X + \operatorname{{ReLU}}(H) = {tex(f['out'])}"),
        "",
        "**Backward.**",
        "",
        display(rf"\frac{{\partial L}}{{\partial H}} = \frac{{\partial L}}{{\partial \mathrm{{out}}}} \odot [H > 0] = "
                rf"{tex(gv['dy'])} \odot {tex(mask)} = {tex(result['dh'])}", sep=""),
        "",
        display(rf"\frac{{\partial L}}{{\partial X}} = \frac{{\partial L}}{{\partial \mathrm{{out}}}} + "
                rf"\frac{{\partial L}}{{\partial H}} W^\top = {tex(b['dx'])}"),
        "",
        display(rf"\frac{{\partial L}}{{\partial W}} = X^\top \frac{{\partial L}}{{\partial H}} = {tex(b['dW'])}",
                rf"\frac{{\partial L}}{{\partial b}} = \sum_n \frac{{\partial L}}{{\partial H_n}} = {tex(b['db'], row=True)}"),
        "",
        f"Checked in float64: max |manual − `jax.vjp`| = {c['max_abs_err_vs_autodiff']:.1e}, max |manual − finite "
        f"differences| = {c['max_abs_err_vs_finite_diff']:.1e}.",
        "",
        "**The numpy class** (the lab's `Layer` interface; `jaxdl check-numpy` passes it):",
        "",
        code_block(lab_source("ResBlock")),
        "",
        "**The PyTorch module** (`jaxdl/exams/torch_answers/res_block.py`; tested against jaxdl's `res_block` on "
        "the same weights):",
        "",
        code_block(torch_answers.source("res_block")),
    ])
