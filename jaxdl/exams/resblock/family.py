"""E2's variants: a residual block of 2 or 3 units on one or two examples, small whole numbers
chosen so that every pre-activation is away from ReLU's kink and every unit is alive."""

from __future__ import annotations

import numpy as np

from jaxdl.exams.problem import Family, Rejected
from jaxdl.exams.variants import batched, blanks_of, few_digits, layer_three_ways, pick, stack, verified
from jaxdl.layers import res_block


def propose(rng):
    d, n = int(rng.choice([2, 3])), int(rng.choice([1, 2]))
    return {"W": pick(rng, [-2, -1, 0, 1, 2], (d, d)).tolist(), "b": pick(rng, [-1, -0.5, 0, 0.5, 1], (d,)).tolist(),
            "x": pick(rng, [-2, -1, 0, 1, 2], (n, d)).tolist(), "dy": pick(rng, [-2, -1, -0.5, 0.5, 1, 2], (n, d)).tolist()}


def screen(g):
    W, b, x, dy = (np.asarray(g[k], float) for k in ("W", "b", "x", "dy"))
    h = x @ W + b
    if np.any((h == 0) & (dy != 0)):  # ∂L/∂H = ∂L/∂out ⊙ ReLU'(H)
        raise Rejected("kink")
    if np.any(np.all(h <= 0, axis=0)):  # a unit off for every example: its ∂L/∂W column and ∂L/∂b are 0
        raise Rejected("dead")
    mask = dy * (h > 0)
    if not few_digits([h, x + np.maximum(h, 0), dy + mask @ W.T, x.T @ mask], 2):
        raise Rejected("digits")


def verify(givens):
    layer = res_block()
    W, b, x, dy = stack(givens, "W", "b", "x", "dy")
    answers, dis = batched(lambda W, b, x, dy: layer_three_ways(layer, {"W": W, "b": b}, x, dy), (W, b, x, dy))
    return verified(answers, dis, len(givens))


def answers(r):
    return {"out": r["forward"]["out"], "dx": r["backward"]["dx"], "dW": r["backward"]["dW"], "db": r["backward"]["db"]}


def blanks(r):
    f, b = r["forward"], r["backward"]
    return (blanks_of("izlaz", "out", f["out"]) + blanks_of("∂L/∂x", "∂L/∂x", b["dx"])
            + blanks_of("∂L/∂W", "∂L/∂W", b["dW"]) + blanks_of("∂L/∂b", "∂L/∂b", b["db"]))


FAMILY = Family(propose=propose, screen=screen, group=lambda g: (np.shape(g["x"]),), verify=verify, answers=answers,
                blanks=blanks, stress_cost=3)
