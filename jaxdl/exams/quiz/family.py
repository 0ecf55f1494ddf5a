"""The quiz's variants: Q1's layers on small whole numbers, Q2's pooling on an image one row or
column too large for whole windows (so that the floor drops it), Q3's coupling with small weights.
Each question is verified in its own batches (one compiled program per question's shapes and
hyperparameters)."""

from __future__ import annotations

import collections

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check.numeric import NOT_RUN
from jaxdl.exams.problem import Family, Rejected, Verified
from jaxdl.exams.variants import batched, blanks_of, layer_three_ways, pick
from jaxdl.layers import additive_coupling, avg_pool2d, conv_avg_pool2d, quadratic, swish


def propose(rng):
    d, n = int(rng.choice([2, 3])), 2
    q1 = {"A": pick(rng, [-2, -1, 0, 1, 2], (d, d)).tolist(), "c": pick(rng, [-1, -0.5, 0, 0.5, 1], (d,)).tolist(),
          "b": float(rng.choice([-1, 0.5, 2])), "beta": float(rng.choice([0.5, 1, 2])),
          "x": pick(rng, [-2, -1, -0.5, 0.5, 1, 2], (n, d)).tolist(),
          "dy": pick(rng, [-2, -1, -0.5, 0.5, 1, 2], (n, d)).tolist()}
    # Q2: K × K windows, the image one or two cells too tall or wide, so that the floor drops them.
    k, c = int(rng.choice([2, 3])), int(rng.choice([1, 2]))
    h, w = [(2 * k + 1, 2 * k), (2 * k, 2 * k + 1)][int(rng.integers(2))]  # one row or one column dropped
    image = pick(rng, [0, 1, 2, 3, 4], (1, c, h, w))
    if k == 3:  # every 3 × 3 window's sum a multiple of 9: its mean a whole number
        for i in range(h // k):
            for j in range(w // k):
                window = image[0, :, i * k:(i + 1) * k, j * k:(j + 1) * k]
                window[:, -1, -1] = 0
                window[:, -1, -1] = (-window.sum(axis=(1, 2))) % 9
    q2 = {"K": k, "x": image.tolist()}
    # Q3: C channels, h = Conv1×1 ∘ ReLU with small whole weights.
    cc = int(rng.choice([2, 4]))
    x3 = pick(rng, [-2, -1, -0.5, 0.5, 1, 2], (1, cc, 1, 2))
    q3 = {"W": pick(rng, [-2, -1, 1, 2], (cc // 2, cc // 2)).tolist(), "b": pick(rng, [-1, -0.5, 0, 0.5, 1], (cc // 2,)).tolist(),
          "x": x3.tolist()}
    return {"q1": q1, "q2": q2, "q3": q3}


def screen(g):
    x3 = np.asarray(g["q3"]["x"])
    if np.all(x3[:, : x3.shape[1] // 2] <= 0):  # ReLU(x1) = 0 everywhere: h(x1) would be its bias alone
        raise Rejected("dead")


def group(g):
    return ()  # one batch: _quiz_verify groups each question by its own shapes and hyperparameters


def _prefixed(prefix, answers, refs):
    return ({prefix + k: v for k, v in answers.items()},
            {pair: {prefix + k: v for k, v in tree.items()} for pair, tree in refs.items()})


def _q1a_one(A, c, x, dy, b):
    return _prefixed("q1a_", *layer_three_ways(quadratic(b), {"A": A, "c": c}, x, dy))


def _q1b_one(x, dy, beta):
    return _prefixed("q1b_", *layer_three_ways(swish(beta), {}, x, dy))


def _q2_one(image, k):
    channels = image.shape[0]
    dense = conv_avg_pool2d(channels, k, "dense").apply({}, image[None])[0]
    depthwise = conv_avg_pool2d(channels, k, "depthwise").apply({}, image[None])[0]
    window = jax.lax.reduce_window(image, 0.0, jax.lax.add, (1, k, k), (1, k, k), "VALID") / k**2
    pooled = avg_pool2d(k).apply({}, image[None])[0]
    return {"q2": dense}, {"independent": [{"q2": depthwise}, {"q2": pooled}], "closed form": {"q2": window}}


def _q3_one(W, b, x):
    half = x.shape[0] // 2
    coupling = additive_coupling(x.shape[0])
    params = {"relu_0": {}, "conv2d_1": {"W": W[:, :, None, None], "b": b}}
    y = coupling.apply(params, x[None])[0]
    by_formula = jnp.concatenate([x[:half], x[half:] + jnp.einsum("oi,ihw->ohw", W, jnp.maximum(x[:half], 0))
                                  + b[:, None, None]])
    back = coupling.inverse(params, y[None])[0]
    jacobian = jax.jacfwd(lambda v: coupling.apply(params, v.reshape((1,) + x.shape)).reshape(-1))(x.reshape(-1))
    answers = {"q3": y, "q3_back": back, "q3_log_det": coupling.log_det(params, x[None])[0]}
    return answers, {"independent": {"q3": by_formula, "q3_back": x},
                     "closed form": [{"q3_log_det": jnp.zeros(())}, {"q3_log_det": jnp.linalg.slogdet(jacobian)[1]}]}


def _stack_part(givens, part, fields, first=()):
    return tuple(np.stack([np.asarray(g[part][f], float)[0] if f in first else np.asarray(g[part][f], float)
                           for g in givens]) for f in fields)


# Per question: its group key (shapes and hyperparameters), the check for a key, its batched inputs.
_PARTS = (
    (lambda g: (np.shape(g["q1"]["x"]), g["q1"]["b"]), lambda key: lambda *a: _q1a_one(*a, key[1]),
     lambda gs: _stack_part(gs, "q1", ("A", "c", "x", "dy"))),
    (lambda g: (np.shape(g["q1"]["x"]), g["q1"]["beta"]), lambda key: lambda *a: _q1b_one(*a, key[1]),
     lambda gs: _stack_part(gs, "q1", ("x", "dy"))),
    (lambda g: (g["q2"]["K"], np.shape(g["q2"]["x"])), lambda key: lambda *a: _q2_one(*a, key[0]),
     lambda gs: _stack_part(gs, "q2", ("x",), first=("x",))),
    (lambda g: np.shape(g["q3"]["x"]), lambda key: _q3_one,
     lambda gs: _stack_part(gs, "q3", ("W", "b", "x"), first=("x",))),
)


def verify(givens):
    """Each question in its own batches: one compiled program per question's shapes and
    hyperparameters (far fewer than the quiz's combinations of them)."""
    n = len(givens)
    answers = [{} for _ in givens]
    dis: dict = {}
    for key_of, make, args_of in _PARTS:
        groups = collections.defaultdict(list)
        for i, g in enumerate(givens):
            groups[key_of(g)].append(i)
        for key, indices in groups.items():
            batch, d = batched(make(key), args_of([givens[i] for i in indices]))
            for j, i in enumerate(indices):
                answers[i].update({k: v[j] for k, v in batch.items()})
            for pair, values in d.items():
                column = dis.setdefault(pair, np.full(n, NOT_RUN))
                column[indices] = np.maximum(column[indices], values)
    return Verified(answers, dis)


def answers(r):
    qa, qb = r["Q1a"], r["Q1b"]
    return {"q1a_out": qa["y"], "q1a_dx": qa["dx"], "q1a_dA": qa["dparams"]["A"], "q1a_dc": qa["dparams"]["c"],
            "q1b_out": qb["y"], "q1b_dx": qb["dx"], "q2": np.asarray(r["Q2"]["output"])[0],
            "q3": np.asarray(r["Q3"]["y"])[0], "q3_log_det": np.asarray(r["Q3"]["log_det"])[0]}


def blanks(r):
    qa, qb = r["Q1a"], r["Q1b"]
    return (blanks_of("Q1a(c)", "q1a_dx", "∂L/∂X", "∂L/∂X", qa["dx"])
            + blanks_of("Q1a(d)", "q1a_dA", "∂L/∂A", "∂L/∂A", qa["dparams"]["A"])
            + blanks_of("Q1a(d)", "q1a_dc", "∂L/∂c", "∂L/∂c", qa["dparams"]["c"])
            + blanks_of("Q1b(c)", "q1b_dx", "∂L/∂X", "∂L/∂X", qb["dx"])
            + blanks_of("Q2(d)", "q2_out", "izlaz", "output", np.asarray(r["Q2"]["output"])[0])
            + blanks_of("Q3(c)", "q3_y", "y", "y", np.asarray(r["Q3"]["y"])[0]))


FAMILY = Family(propose=propose, screen=screen, group=group, verify=verify, answers=answers, blanks=blanks,
                stress_cost=7)
