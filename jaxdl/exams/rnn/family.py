"""E5's variants: the vanilla RNN, pre-activations chosen as multiples of a logarithm so that every
state is a fraction: σ(q ln 2) = 2^q / (1 + 2^q), tanh(q ln √2) = (2^q − 1) / (2^q + 1); each
variant's states by jaxdl's recurrence, against the exam's column-vector loop and the closed form.

A variant is printed as the exam prints its own: the numbers as multiples of ln(√2), the vectors
as columns, the recurrence left to the student. It keys what the exam asks, the last state h(T)
(two numbers for the 7 points); the catalogue computes it by the course's recurrence in numpy and,
beside it, the course's common mistakes, each a recurrence of its own.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxdl.exams.lang import both
from jaxdl.exams.problem import Family, Mistake, Rejected
from jaxdl.exams.rnn.compute import UNITS, closed_form, state_fraction
from jaxdl.exams.variants import batched, blanks_of, pick, stack, values_of, verified
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


PART = "E5"


def blanks(r):
    t = len(r["h"])
    return blanks_of(PART, "h", f"h({t})", f"h({t})", r["h"][-1])


# --------------------------------------------------------------------------------------------
# The catalogue: the course's recurrence in numpy, and its common mistakes.

_G = {"sigmoid": lambda a: 1 / (1 + np.exp(-a)), "tanh": np.tanh}


def _arrays(g):
    return tuple(np.asarray(g[k], float) for k in ("W_hh", "W_xh", "b_h", "h0", "xs"))


def states(g, *, activation=None, rows=False, W_xh_t=False, recurrent=True, scale=1.0) -> np.ndarray:
    """The course's recurrence ``h(t) = g(W_hh h(t−1) + W_xh x(t) + b_h)`` with column vectors,
    from ``h(0)``: ``(T, H)``. The keywords run it the wrong way: another transfer function, the
    vectors read as rows (``h W_hh + x W_xh``), W_xh transposed, the previous state left out, or
    every multiple of ln √2 read ``scale`` times too large."""
    W_hh, W_xh, b, h, xs = _arrays(g)
    f = _G[activation or g["activation"]]
    if rows:
        W_hh, W_xh = W_hh.T, W_xh.T
    if W_xh_t:
        W_xh = W_xh.T
    W_hh, b, xs = W_hh * scale, b * scale, xs * scale
    out = []
    for x in xs:
        h = f((W_hh @ h if recurrent else 0) + W_xh @ x + b)
        out.append(h)
    return np.asarray(out)


def correct(g) -> dict:
    return values_of("h", states(g)[-1])


def _row_reading(g):
    W_hh, W_xh = _arrays(g)[:2]
    if np.array_equal(W_xh, W_xh.T) and np.array_equal(W_hh, W_hh.T):
        return {}
    return values_of("h", states(g, rows=True)[-1])


def _w_xh_transposed(g):
    W_hh, W_xh = _arrays(g)[:2]
    if np.array_equal(W_xh, W_xh.T) or np.array_equal(W_hh, W_hh.T):  # a symmetric W_hh: the row reading's value
        return {}
    return values_of("h", states(g, W_xh_t=True)[-1])


def _other_function(g):
    return values_of("h", states(g, activation="tanh" if g["activation"] == "sigmoid" else "sigmoid")[-1])


def _no_recurrence(g):
    if len(g["xs"]) < 2:
        return {}
    return values_of("h", states(g, recurrent=False)[-1])


def _one_step(g):
    if len(g["xs"]) < 2:
        return {}
    return values_of("h", states(g)[0])


def _root_dropped(g):
    return values_of("h", states(g, scale=2.0)[-1])


MISTAKES = (
    Mistake(name="row_reading", title=both("retčani vektori", "row vectors"),
            why=both("ispit ispisuje b_h i ulaze x(t) kao stupce, pa matrice množe vektore slijeva: W_hh h(t−1) + "
                     "W_xh x(t) + b_h, a ne h W_hh + x W_xh",
                     "the exam prints b_h and the inputs x(t) as columns, so the matrices multiply the vectors from "
                     "the left: W_hh h(t−1) + W_xh x(t) + b_h, not h W_hh + x W_xh"),
            values=_row_reading),
    Mistake(name="w_xh_transposed", title=both("transponirana W_xh", "W_xh transposed"),
            why=both("W_xh preslikava ulaz u skriveno stanje: redak i matrice W_xh daje predaktivaciju jedinice i",
                     "W_xh maps the input to the hidden state: row i of W_xh gives unit i's pre-activation"),
            values=_w_xh_transposed),
    Mistake(name="other_function", title=both("pogrešna prijenosna funkcija", "the wrong transfer function"),
            why=both("zadatak zadaje prijenosnu funkciju na povratnoj vezi: logistička sigmoida 1/(1 + e^(−a)) i tanh "
                     "daju različita stanja",
                     "the question names the transfer function on the recurrence: the logistic sigmoid 1/(1 + e^(−a)) "
                     "and tanh give different states"),
            values=_other_function),
    Mistake(name="no_recurrence", title=both("izostavljeno prethodno stanje", "the previous state left out"),
            why=both("predaktivacija u koraku t uključuje i prethodno stanje: W_hh h(t−1) + W_xh x(t) + b_h",
                     "the pre-activation at step t includes the previous state: W_hh h(t−1) + W_xh x(t) + b_h"),
            values=_no_recurrence),
    Mistake(name="one_step", title=both("samo prvi korak", "the first step only"),
            why=both("traži se stanje nakon svih zadanih koraka: h(1) je tek ulaz u sljedeći korak",
                     "the state after every given step is asked for: h(1) is only the next step's input"),
            values=_one_step),
    Mistake(name="root_dropped", title=both("ln(√2) pročitan kao ln 2", "ln(√2) read as ln 2"),
            why=both("ln(√2) = ½ ln 2 ≈ 0.3466, pa je 2 ln(√2) = ln 2", "ln(√2) = ½ ln 2 ≈ 0.3466, so 2 ln(√2) = ln 2"),
            values=_root_dropped),
)

HINTS = {PART: both("Računajte korak po korak od h(0) = 0: a(t) = W_hh h(t−1) + W_xh x(t) + b_h sa stupčanim "
                    "vektorima, zatim h(t) primjenom prijenosne funkcije na svaki element; 2 ln(√2) = ln 2.",
                    "Work step by step from h(0) = 0: a(t) = W_hh h(t−1) + W_xh x(t) + b_h with column vectors, then "
                    "h(t) by the transfer function on each entry; 2 ln(√2) = ln 2.")}

FAMILY = Family(propose=propose, screen=screen, group=lambda g: (g["activation"], len(g["xs"])), verify=verify,
                answers=answers, blanks=blanks, correct=correct, mistakes=MISTAKES, hints=HINTS, stress_cost=5)
