"""The quiz's computation: Q1's layers on a forward/backward example with their three-way check,
Q2's pooling equality and Q3's coupling round trip."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check import check_layer_at
from jaxdl.check.numeric import agrees
from jaxdl.errors import InputError
from jaxdl.exams._common import matrix, tolist
from jaxdl.layers import additive_coupling, avg_pool2d, conv_avg_pool2d, quadratic, swish
from jaxdl.layers.pooling import avg_pool_weight

# One layer record per hyperparameter, for every solve: their compiled checks are then reused.
_quadratic = functools.lru_cache(maxsize=32)(quadratic)
_swish = functools.lru_cache(maxsize=32)(swish)


def read_config(cfg) -> dict:
    """Validates the quiz's config: ``q1`` (Q1a's and Q1b's ``A (D, D)``, ``c (D)``, ``b``, ``beta``,
    ``x (N, D)``, ``dy (N, D)``), ``q2`` (``K``, an image batch ``x (N, C, H, W)``) and ``q3`` (the
    1×1 convolution ``W (C/2, C/2)``, ``b (C/2)``, ``x (N, C, H, W)``, C even)."""
    fields = {"q1": {"A", "c", "b", "beta", "x", "dy"}, "q2": {"K", "x"}, "q3": {"W", "b", "x"}}
    unknown = sorted(set(cfg.keys()) - set(fields))
    if unknown:
        raise InputError(f"config: unknown field {unknown[0]!r} for exam quiz; known: {sorted(fields)}")
    for group, known in fields.items():
        extra = sorted(set(cfg[group].keys()) - known)
        if extra:
            raise InputError(f"config: unknown field {group}.{extra[0]!r}; known: {sorted(known)}")
    x = matrix(cfg, "q1.x", (None, None))
    d = x.shape[1]
    out = {"A": matrix(cfg, "q1.A", (d, d)), "c": matrix(cfg, "q1.c", (d,)), "x": x, "dy": matrix(cfg, "q1.dy", x.shape)}
    for field in ("b", "beta"):
        v = cfg.q1[field]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise InputError(f"config: q1.{field} must be a finite number; got {v!r}")
        out[field] = float(v)
    k = cfg.q2.K
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"config: q2.K must be an integer >= 1; got {k!r}")
    image = matrix(cfg, "q2.x", ndim=4)
    if image.shape[2] < k or image.shape[3] < k:
        raise InputError(f"config: q2.x must be at least K × K = {k} × {k} per channel; got shape {image.shape}")
    x3 = matrix(cfg, "q3.x", ndim=4)
    if x3.shape[1] % 2:
        raise InputError(f"config: q3.x must have an even number of channels C; got shape {x3.shape}")
    half = x3.shape[1] // 2
    out.update(K=k, image=image, x3=x3, W3=matrix(cfg, "q3.W", (half, half)), b3=matrix(cfg, "q3.b", (half,)))
    return out


def _layer_demo(layer, params, x, dy):
    with jax.enable_x64(True):
        p = jax.tree_util.tree_map(jnp.asarray, params)
        y = layer.apply(p, jnp.asarray(x))
        grads, dx = layer.backward(p, jnp.asarray(x), jnp.asarray(dy))
    check = check_layer_at(layer, params, x, dy)
    return {
        "formula": layer.formula, "x": tolist(x), "y": tolist(y), "dy": tolist(dy), "dx": tolist(dx),
        "dparams": tolist(grads), "max_abs_err_vs_autodiff": check.max_abs_err_vs_autodiff,
        "max_abs_err_vs_finite_diff": check.max_abs_err_vs_finite_diff, "ok": check.ok,
    }


def solve(cfg) -> dict:
    """The quiz's answers for the config's numbers: Q1a's and Q1b's layers on ``x`` and ``dy``
    (forward, hand-derived backward, three-way check), Q2's two convolution forms against
    average pooling, Q3's coupling, its inverse and log-det."""
    g = read_config(cfg)
    A, C, B, BETA, X, DY = g["A"], g["c"], g["b"], g["beta"], g["x"], g["dy"]
    q1a = _layer_demo(_quadratic(B), {"A": A, "c": C}, X, DY)
    q1b = _layer_demo(_swish(BETA), {}, X, DY)

    # Q2: both convolution forms equal average pooling, and have no trainable parameters.
    images, k = g["image"], g["K"]
    channels = images.shape[1]
    with jax.enable_x64(True):
        ref = jax.lax.reduce_window(jnp.asarray(images), 0.0, jax.lax.add, (1, 1, k, k), (1, 1, k, k), "VALID") / k**2
        q2 = {}
        for form in ("dense", "depthwise"):
            layer = conv_avg_pool2d(channels, k, form=form)
            _, params = layer.init(jax.random.PRNGKey(0), images.shape)
            out = layer.apply(params, jnp.asarray(images))
            if form == "dense":
                output = out
            q2[form] = {"params": len(jax.tree_util.tree_leaves(params)),
                        "max_abs_err_vs_reduce_window": float(jnp.max(jnp.abs(out - ref)))}
        # The convolution as jaxdl's layer builds it: a K × K window, stride K, no padding, the fixed
        # dense weight (C, C, K, K).
        conv = {"kernel_size": k, "stride": k, "padding": 0}
        weight = tolist(avg_pool_weight(channels, k, "dense", jnp.float64))
        q2["avg_pool2d"] = {"params": 0, "max_abs_err_vs_reduce_window": float(jnp.max(jnp.abs(
            avg_pool2d(k).apply({}, jnp.asarray(images)) - ref)))}
    h, w = images.shape[2:]
    dropped = [f"{name} = {v} is not a multiple of K = {k}: the last {v % k} {what}{'s' if v % k > 1 else ''} dropped"
               for name, v, what in (("H", h, "row"), ("W", w, "column")) if v % k]
    q2.update(conv=conv, weight=weight, K=k, x=tolist(images), output=tolist(output), output_shape=list(ref.shape), input_shape=list(images.shape),
              note="; ".join(dropped) + " (floor), as reduce_window does" if dropped else "H and W are multiples of K")

    # Q3: the coupling, its inverse and log-det.
    x = g["x3"]
    coupling = additive_coupling(x.shape[1])
    with jax.enable_x64(True):
        params = {"relu_0": {}, "conv2d_1": {"W": jnp.asarray(g["W3"][:, :, None, None]), "b": jnp.asarray(g["b3"])}}
        y = coupling.apply(params, jnp.asarray(x))
        back = coupling.inverse(params, y)
        half = x.shape[1] // 2
        q3 = {
            "W": tolist(g["W3"]), "b": tolist(g["b3"]), "x": tolist(x), "y": tolist(y),
            "h_of_x1": tolist(y[:, half:] - x[:, half:]),
            "round_trip_max_abs_err": float(jnp.max(jnp.abs(back - x))),
            "log_det": tolist(coupling.log_det(params, jnp.asarray(x))),
            "y1_equals_x1": bool(jnp.all(y[:, :half] == x[:, :half])),
            "h_weight_shape": list(params["conv2d_1"]["W"].shape),
        }
    q1a["givens"] = {"A": tolist(A), "c": tolist(C), "b": B}
    q1b["givens"] = {"beta": BETA}
    givens = {"q1": {"A": tolist(A), "c": tolist(C), "b": B, "beta": BETA, "x": tolist(X), "dy": tolist(DY)},
              "q2": {"K": k, "x": tolist(images)}, "q3": {"W": tolist(g["W3"]), "b": tolist(g["b3"]), "x": tolist(x)}}
    sig = 1 / (1 + np.exp(-BETA * X))
    q1b["g_prime"] = tolist(sig + BETA * X * sig * (1 - sig))
    return {"givens": givens, "Q1a": q1a, "Q1b": q1b, "Q2": q2, "Q3": q3, "errata": [],
            "ok": q1a["ok"] and q1b["ok"] and all(agrees("independent", v["max_abs_err_vs_reduce_window"])
                                                  for v in q2.values() if isinstance(v, dict) and "max_abs_err_vs_reduce_window" in v)
            and agrees("round trip", q3["round_trip_max_abs_err"])}


def report(result: dict) -> str:
    fmt = lambda v: np.array2string(np.asarray(v), precision=4, separator=", ", suppress_small=True).replace("\n", "")  # noqa: E731
    lines = ["Quiz Q1–Q3 (lab 2)"]
    gv = result["givens"]["q1"]
    for key, title in (("Q1a", f"Quadratic (b = {gv['b']:g})"), ("Q1b", f"Swish (β = {gv['beta']:g})")):
        r = result[key]
        lines += [
            f"  {key} {title}: {r['formula']}",
            f"      X = {fmt(r['x'])} → Y = {fmt(r['y'])}",
            f"      ∂L/∂Y = {fmt(r['dy'])} → ∂L/∂X = {fmt(r['dx'])}"
            + "".join(f",  ∂L/∂{k} = {fmt(v)}" for k, v in r["dparams"].items()),
            f"      |manual − jax.vjp| = {r['max_abs_err_vs_autodiff']:.1e}, |· − finite diff| = "
            f"{r['max_abs_err_vs_finite_diff']:.1e}: {'ok' if r['ok'] else 'FAIL'}",
        ]
    q2 = result["Q2"]
    lines.append(
        f"  Q2 ConvAvgPool2d, K = {q2['K']} on {tuple(q2['input_shape'])} → {tuple(q2['output_shape'])}: dense form (C, C, K, K) "
        f"error {q2['dense']['max_abs_err_vs_reduce_window']:.1e}, depthwise (C, 1, K, K) "
        f"{q2['depthwise']['max_abs_err_vs_reduce_window']:.1e}, jaxdl's avg_pool2d "
        f"{q2['avg_pool2d']['max_abs_err_vs_reduce_window']:.1e} vs reduce_window; trainable params: "
        f"{q2['dense']['params']}; {q2['note']}"
    )
    q3 = result["Q3"]
    lines.append(
        f"  Q3 additive coupling (C = {np.shape(q3['x'])[1]}; h = Conv1×1 {tuple(q3['h_weight_shape'])} ∘ ReLU): inverse x1 = y1, "
        f"x2 = y2 − h(y1); round trip error {q3['round_trip_max_abs_err']:.1e}, log-det {fmt(q3['log_det'])}, "
        f"y1 = x1: {q3['y1_equals_x1']}"
    )
    return "\n".join(lines)


