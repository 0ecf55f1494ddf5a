"""E1's variants: an MLP of 2 or 3 units on 2 or 3 inputs, weights in halves, every
pre-activation away from ReLU's kink and the logit's sigmoid away from saturation."""

from __future__ import annotations

import math

import jax
import numpy as np

from jaxdl.check.numeric import central_differences
from jaxdl.exams.mlp import compute
from jaxdl.exams.problem import Family, Rejected
from jaxdl.exams.variants import HALVES, NONZERO_HALVES, batched, blank, blanks_of, few_digits, pick, stack, verified


def propose(rng):
    m, n = int(rng.choice([2, 3])), int(rng.choice([2, 3]))
    return {"W": pick(rng, HALVES, (m, n)).tolist(), "b": pick(rng, [-1, -0.5, 0, 0.5, 1], (m,)).tolist(),
            "x": pick(rng, [-2, -1, 1, 2], (n,)).tolist(), "w": pick(rng, NONZERO_HALVES, (m,)).tolist(),
            "y": int(rng.integers(2))}


def screen(g):
    W, b, x, w = (np.asarray(g[k], float) for k in ("W", "b", "x", "w"))
    h = W @ x + b
    s = w @ np.maximum(h, 0)
    sigma = 1 / (1 + math.exp(-s))
    # ∂L/∂h_i = ∂L/∂s · w_i · ReLU'(h_i) (∂L/∂s = σ(s) − y ≠ 0): at h_i = 0 the convention decides it.
    if np.any((h == 0) & (w != 0)):
        raise Rejected("kink")
    if np.all(h <= 0):
        raise Rejected("dead")
    if not 0.001 <= sigma <= 0.999:
        raise Rejected("saturated")
    if not few_digits([h, s], 2):
        raise Rejected("digits")


def _one(W, b, x, w, y):
    fwd = compute.forward(W, b, x, w, y)
    man = compute.backward(y, fwd["s"], fwd["h'"], w, fwd["h"], x)
    answers = {"h": fwd["h"], "h_relu": fwd["h'"], "s": fwd["s"], "L": fwd["L"],
               "dL_ds": man["∂L/∂s"], "dL_dw": man["∂L/∂w"], "dL_dh_relu": man["∂L/∂h'"],
               "dL_dh": man["∂L/∂h = ∂L/∂b"], "dL_dW": man["∂L/∂W"], "dL_db": man["∂L/∂h = ∂L/∂b"]}
    of_params = lambda p: compute.forward(p["W"], p["b"], x, p["w"], y)["L"]  # noqa: E731
    of_s = lambda s: compute.loss(s, y)  # noqa: E731
    of_h_relu = lambda hr: compute.loss(compute.matmul(w, hr), y)  # noqa: E731
    of_h = lambda h: compute.loss(compute.matmul(w, compute.relu(h)), y)  # noqa: E731
    def three(grad):
        p = grad(of_params, {"W": W, "b": b, "w": w})
        return {"dL_dW": p["W"], "dL_db": p["b"], "dL_dw": p["w"], "dL_ds": grad(of_s, fwd["s"]),
                "dL_dh_relu": grad(of_h_relu, fwd["h'"]), "dL_dh": grad(of_h, fwd["h"])}

    return answers, {"autodiff": three(lambda f, v: jax.grad(f)(v)), "finite differences": three(central_differences)}


def verify(givens):
    W, b, x, w, y = stack(givens, "W", "b", "x", "w", "y")
    answers, dis = batched(_one, (W, b, x, w, y))
    return verified(answers, dis, len(givens))


def answers(r):
    f, g = r["forward"], r["grads"]
    return {"h": f["h"], "h_relu": f["h_relu"], "s": f["s"], "L": f["L"], **{k: g[k] for k in
            ("dL_ds", "dL_dw", "dL_dh_relu", "dL_dh", "dL_dW", "dL_db")}}


def blanks(r):
    f, g = r["forward"], r["grads"]
    part = "E1(d)"  # TODO(issue 42): the parts' blanks within their points
    return ([blank(part, "s", "s", "s", f["s"]), blank(part, "L", "L", "L", f["L"]),
             blank(part, "dL_ds", "∂L/∂s", "∂L/∂s", g["dL_ds"])]
            + blanks_of(part, "dL_dw", "∂L/∂w", "∂L/∂w", g["dL_dw"]) + blanks_of(part, "dL_db", "∂L/∂b", "∂L/∂b", g["dL_db"])
            + blanks_of(part, "dL_dW", "∂L/∂W", "∂L/∂W", g["dL_dW"]))


FAMILY = Family(propose=propose, screen=screen, group=lambda g: (np.shape(g["W"]),), verify=verify, answers=answers,
                blanks=blanks, stress_cost=4)
