"""E5's variants: the vanilla RNN, pre-activations chosen as multiples of a logarithm so that every
state is a fraction: σ(q ln 2) = 2^q / (1 + 2^q), tanh(q ln √2) = (2^q − 1) / (2^q + 1); each
variant's states by jaxdl's recurrence, against the exam's column-vector loop and the closed form."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxdl.exams.problem import Family, Rejected
from jaxdl.exams.rnn.compute import UNITS, closed_form, state_fraction
from jaxdl.exams.variants import batched, blanks_of, pick, stack, verified
from jaxdl.layers.recurrent import ACTIVATIONS, rnn_states


def propose(rng):
    """Backwards: the inputs and biases as whole multiples of L, h(1) from them (h(0) = 0), then
    W_hh a multiple of each state's denominator, so that the next pre-activation is whole again."""
    activation = str(rng.choice(["sigmoid", "tanh"]))
    steps = int(rng.choice([2, 3]))
    unit = UNITS[activation]
    W_xh = pick(rng, [-2, -1, 0, 1, 2], (2, 2))
    b = pick(rng, [-1, 0, 0, 1], (2,))
    xs = pick(rng, [-2, -1, 0, 1, 2], (steps, 2))
    q1 = W_xh @ xs[0] + b
    h1 = [state_fraction(activation, int(q)) for q in q1]
    W_hh = np.array([[int(rng.choice([-1, 0, 1])) * h1[j].denominator for j in range(2)] for _ in range(2)], float)
    return {"W_hh": (W_hh * unit).tolist(), "W_xh": W_xh.tolist(), "b_h": (b * unit).tolist(), "h0": [0.0, 0.0],
            "xs": (xs * unit).tolist(), "activation": activation}


def screen(g):
    if np.any(np.all(np.asarray(g["W_xh"]) == 0, axis=1)):  # a unit the inputs never reach
        raise Rejected("dead")
    if np.any(np.abs(np.asarray(g["W_hh"]) / UNITS[g["activation"]]) > 9.5):
        raise Rejected("digits")
    form = closed_form(g)
    # Every state a fraction (whole multiples of L) with small powers of 2.
    if form is None or any(q.denominator != 1 or abs(q) > 6 for step in form["q"] for q in step):
        raise Rejected("digits")
    states = np.asarray(form["values"])
    low = 0.001 if g["activation"] == "sigmoid" else -0.999
    if np.any(states < low) or np.any(states > 0.999):
        raise Rejected("saturated")


def states_three_ways(W_hh, W_xh, b, h0, xs, exact, activation):
    """One variant's states by jaxdl's ``rnn`` recurrence, against the exam's loop and the closed form."""
    params = {"W_xh": W_xh.T, "W_hh": W_hh.T, "b": b}  # the exam's columns → jaxdl's rows
    hs = rnn_states(params, xs[None], h0[None], activation)[0]
    g = ACTIVATIONS[activation][0]
    h, unrolled = h0, []
    for t in range(xs.shape[0]):  # the recurrence as the exam writes it, column vectors
        h = g(W_hh @ h + W_xh @ xs[t] + b)
        unrolled.append(h)
    return {"h": hs}, {"independent": {"h": jnp.stack(unrolled)}, "closed form": {"h": exact}}


def verify(givens):
    activation = givens[0]["activation"]
    exact = np.stack([np.asarray(closed_form(g)["values"], float) for g in givens])
    W_hh, W_xh, b, h0, xs = stack(givens, "W_hh", "W_xh", "b_h", "h0", "xs")
    answers, dis = batched(lambda *a: states_three_ways(*a, activation), (W_hh, W_xh, b, h0, xs, exact))
    return verified(answers, dis, len(givens))


def answers(r):
    return {"h": r["h"]}


def blanks(r):
    t = len(r["h"])
    return blanks_of("E5", "h_last", f"h({t})", f"h({t})", r["h"][-1]) + blanks_of("E5", "h_1", "h(1)", "h(1)", r["h"][0])


FAMILY = Family(propose=propose, screen=screen, group=lambda g: (g["activation"], len(g["xs"])), verify=verify,
                answers=answers, blanks=blanks, stress_cost=5)
