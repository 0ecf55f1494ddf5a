"""The problem families of next year's exam: for each problem of the seeds, a draw of new givens
a student can work by hand, the reasons a draw is refused, and a batched verification of the
key, three ways in float64 inside one compiled program.

A family is four functions (:class:`Family`):

- ``draw(rng) -> givens``: the config fields of ``configs/exam_PROBLEM.py``, chosen backwards
  where that makes the intermediate results nice (Numbas' advice), or :class:`Rejected` with
  the cause of a degenerate draw (:data:`CAUSES`);
- ``group(givens)``: variants with equal shapes and hyperparameters share one compiled program;
- ``verify([givens, ...]) -> Verified``: the key's numbers by jaxdl's hand-derived backward
  passes, with the largest difference from ``jax.grad``/``jax.vjp`` and from central finite
  differences (and from a closed form, where one exists), per variant, under ``jax.vmap``;
- ``answers(result)``: the same numbers read from ``jaxdl exam PROBLEM``'s result, so the key
  that is published is bound to the key that was verified.

Numbers are drawn nice and the key is computed from them: nothing is rounded after.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from fractions import Fraction
from typing import Callable, Hashable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxdl.exams.problem import CAUSES, Blank, Family, Rejected, Verified  # noqa: F401

# The largest disagreement a published key may carry, per pair of computations (float64).
TOLERANCE = {"autodiff": 1e-9, "finite differences": 1e-6, "closed form": 1e-9, "independent": 1e-9,
             # E4's counts: exact integers.
             "jaxdl": 0, "flax": 0, "PyTorch": 0}
FD_EPS = 1e-6
# Each verification program runs once: XLA's cheapest code generation compiles it a third faster.
COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}
NOT_RUN = -1.0  # a disagreement of a computation that does not apply to the variant (never a difference)


# --------------------------------------------------------------------------------------------
# Drawing nice numbers.

HALVES = np.arange(-4, 5) / 2  # −2, −1.5, …, 2
NONZERO_HALVES = HALVES[HALVES != 0]


def pick(rng: np.random.Generator, values, shape=()) -> np.ndarray:
    return rng.choice(np.asarray(values, dtype=float), size=shape)


def few_digits(values, decimals: int, limit: float = 100.0) -> bool:
    """True when every value is exact with ``decimals`` decimals and below ``limit`` in size."""
    for v in values:
        a = np.asarray(v, dtype=float) * 10**decimals
        if not (np.all(np.abs(a - np.round(a)) < 1e-6) and np.all(np.abs(v) < limit)):
            return False
    return True


def blank(hr: str, en: str, value, tolerance: float | None = None) -> Blank:
    """A numerical answer; by default accepted within 0.01 or 1 %, whichever is larger."""
    v = float(value)
    return Blank({"hr": hr, "en": en}, v, max(0.01, 0.01 * abs(v)) if tolerance is None else tolerance)


def blanks_of(hr: str, en: str, array) -> list[Blank]:
    """One blank per entry of ``array``, labelled with its 1-based index."""
    a = np.asarray(array, dtype=float)
    if a.ndim == 0:
        return [blank(hr, en, a)]
    out = []
    for idx in np.ndindex(a.shape):
        sub = ",".join(str(i + 1) for i in idx)
        out.append(blank(f"{hr}[{sub}]", f"{en}[{sub}]", a[idx]))
    return out


# --------------------------------------------------------------------------------------------
# Three ways, batched.


def numeric_grad(f, tree):
    """Central differences of scalar ``f(tree)`` along every coordinate (float64), as ``tree``."""
    flat, unravel = ravel_pytree(tree)
    basis = jnp.eye(flat.size, dtype=flat.dtype) * FD_EPS
    return unravel(jax.vmap(lambda e: (f(unravel(flat + e)) - f(unravel(flat - e))) / (2 * FD_EPS))(basis))


def _max_abs(a, b):
    """Per variant (leading axis), the largest |a − b| over every leaf of two equal trees."""
    diffs = [jnp.max(jnp.abs(x - y).reshape(x.shape[0], -1), axis=1)
             for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))]
    return jnp.max(jnp.stack(diffs), axis=0)


def batched(one: Callable, stacked: tuple) -> tuple:
    """``one(*args) -> (answers, {pair: reference})`` over a batch, in float64 and one program:
    returns ``(answers (batched), {pair: per-variant max |answers' part − reference|})``.

    ``reference`` is a dict ``{answer name: value}`` (the answers it names are compared to it) or
    a list of such dicts (the largest difference over them counts).
    """
    def run(*args):
        answers, refs = jax.vmap(one)(*args)
        out = {}
        for pair, entries in refs.items():
            entries = entries if isinstance(entries, list) else [entries]
            out[pair] = jnp.max(jnp.stack([_max_abs({k: answers[k] for k in tree}, tree) for tree in entries]), axis=0)
        return answers, out

    with jax.enable_x64(True):
        args = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), stacked)
        answers, dis = jax.jit(run, compiler_options=COMPILER_OPTIONS)(*args)
        return jax.tree_util.tree_map(np.asarray, answers), {k: np.asarray(v) for k, v in dis.items()}


def split(answers: dict, n: int) -> list[dict]:
    """Batched answers (any tree) → one tree per variant."""
    return [jax.tree_util.tree_map(lambda a, i=i: a[i], answers) for i in range(n)]


def _stack(givens: list, *fields) -> tuple:
    return tuple(np.stack([np.asarray(g[f], dtype=float) for g in givens]) for f in fields)


def _verified(answers, dis, n) -> Verified:
    return Verified(split(answers, n), dis)


# --------------------------------------------------------------------------------------------
# E1: the MLP with the logistic loss.


def _mlp_propose(rng):
    m, n = int(rng.choice([2, 3])), int(rng.choice([2, 3]))
    return {"W": pick(rng, HALVES, (m, n)).tolist(), "b": pick(rng, [-1, -0.5, 0, 0.5, 1], (m,)).tolist(),
            "x": pick(rng, [-2, -1, 1, 2], (n,)).tolist(), "w": pick(rng, NONZERO_HALVES, (m,)).tolist(),
            "y": int(rng.integers(2))}


def _mlp_screen(g):
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


def _mlp_one(W, b, x, w, y):
    from jaxdl.exams import mlp

    fwd = mlp.forward(W, b, x, w, y)
    man = mlp.backward(y, fwd["s"], fwd["h'"], w, fwd["h"], x)
    answers = {"h": fwd["h"], "h_relu": fwd["h'"], "s": fwd["s"], "L": fwd["L"],
               "dL_ds": man["∂L/∂s"], "dL_dw": man["∂L/∂w"], "dL_dh_relu": man["∂L/∂h'"],
               "dL_dh": man["∂L/∂h = ∂L/∂b"], "dL_dW": man["∂L/∂W"], "dL_db": man["∂L/∂h = ∂L/∂b"]}
    of_params = lambda p: mlp.forward(p["W"], p["b"], x, p["w"], y)["L"]  # noqa: E731
    of_s = lambda s: mlp.loss(s, y)  # noqa: E731
    of_h_relu = lambda hr: mlp.loss(mlp.matmul(w, hr), y)  # noqa: E731
    of_h = lambda h: mlp.loss(mlp.matmul(w, mlp.relu(h)), y)  # noqa: E731
    def three(grad):
        p = grad(of_params, {"W": W, "b": b, "w": w})
        return {"dL_dW": p["W"], "dL_db": p["b"], "dL_dw": p["w"], "dL_ds": grad(of_s, fwd["s"]),
                "dL_dh_relu": grad(of_h_relu, fwd["h'"]), "dL_dh": grad(of_h, fwd["h"])}

    return answers, {"autodiff": three(lambda f, v: jax.grad(f)(v)), "finite differences": three(numeric_grad)}


def _mlp_verify(givens):
    W, b, x, w, y = _stack(givens, "W", "b", "x", "w", "y")
    answers, dis = batched(_mlp_one, (W, b, x, w, y))
    return _verified(answers, dis, len(givens))


def _mlp_answers(r):
    f, g = r["forward"], r["grads"]
    return {"h": f["h"], "h_relu": f["h_relu"], "s": f["s"], "L": f["L"], **{k: g[k] for k in
            ("dL_ds", "dL_dw", "dL_dh_relu", "dL_dh", "dL_dW", "dL_db")}}


def _mlp_blanks(r):
    f, g = r["forward"], r["grads"]
    return ([blank("s", "s", f["s"]), blank("L", "L", f["L"]), blank("∂L/∂s", "∂L/∂s", g["dL_ds"])]
            + blanks_of("∂L/∂w", "∂L/∂w", g["dL_dw"]) + blanks_of("∂L/∂b", "∂L/∂b", g["dL_db"])
            + blanks_of("∂L/∂W", "∂L/∂W", g["dL_dW"]))


# --------------------------------------------------------------------------------------------
# E2: the residual block.


def _resblock_propose(rng):
    d, n = int(rng.choice([2, 3])), int(rng.choice([1, 2]))
    return {"W": pick(rng, [-2, -1, 0, 1, 2], (d, d)).tolist(), "b": pick(rng, [-1, -0.5, 0, 0.5, 1], (d,)).tolist(),
            "x": pick(rng, [-2, -1, 0, 1, 2], (n, d)).tolist(), "dy": pick(rng, [-2, -1, -0.5, 0.5, 1, 2], (n, d)).tolist()}


def _resblock_screen(g):
    W, b, x, dy = (np.asarray(g[k], float) for k in ("W", "b", "x", "dy"))
    h = x @ W + b
    if np.any((h == 0) & (dy != 0)):  # ∂L/∂H = ∂L/∂out ⊙ ReLU'(H)
        raise Rejected("kink")
    if np.any(np.all(h <= 0, axis=0)):  # a unit off for every example: its ∂L/∂W column and ∂L/∂b are 0
        raise Rejected("dead")
    mask = dy * (h > 0)
    if not few_digits([h, x + np.maximum(h, 0), dy + mask @ W.T, x.T @ mask], 2):
        raise Rejected("digits")


def _layer_one(layer, params, x, dy):
    """A layer's output and hand-derived backward against ``jax.vjp`` and finite differences."""
    out = layer.apply(params, x)
    dparams, dx = layer.backward(params, x, dy)
    answers = {"out": out, "dx": dx, **{f"d{k}": v for k, v in dparams.items()}}
    a_params, a_x = jax.vjp(layer.apply, params, x)[1](dy)
    n_params, n_x = numeric_grad(lambda t: jnp.sum(layer.apply(t[0], t[1]) * dy), (params, x))
    ref = lambda dp, dxx: {"dx": dxx, **{f"d{k}": v for k, v in dp.items()}}  # noqa: E731
    return answers, {"autodiff": ref(a_params, a_x), "finite differences": ref(n_params, n_x)}


def _resblock_verify(givens):
    from jaxdl.layers import res_block

    layer = res_block()
    W, b, x, dy = _stack(givens, "W", "b", "x", "dy")
    answers, dis = batched(lambda W, b, x, dy: _layer_one(layer, {"W": W, "b": b}, x, dy), (W, b, x, dy))
    return _verified(answers, dis, len(givens))


def _resblock_answers(r):
    return {"out": r["forward"]["out"], "dx": r["backward"]["dx"], "dW": r["backward"]["dW"], "db": r["backward"]["db"]}


def _resblock_blanks(r):
    f, b = r["forward"], r["backward"]
    return (blanks_of("izlaz", "out", f["out"]) + blanks_of("∂L/∂x", "∂L/∂x", b["dx"])
            + blanks_of("∂L/∂W", "∂L/∂W", b["dW"]) + blanks_of("∂L/∂b", "∂L/∂b", b["db"]))


# --------------------------------------------------------------------------------------------
# E5: the vanilla RNN, pre-activations chosen as multiples of a logarithm so that every state
# is a fraction: σ(q ln 2) = 2^q / (1 + 2^q), tanh(q ln √2) = (2^q − 1) / (2^q + 1).


def _rnn_propose(rng):
    """Backwards: the inputs and biases as whole multiples of L, h(1) from them (h(0) = 0), then
    W_hh a multiple of each state's denominator, so that the next pre-activation is whole again."""
    from jaxdl.exams import rnn

    activation = str(rng.choice(["sigmoid", "tanh"]))
    steps = int(rng.choice([2, 3]))
    unit = rnn.UNITS[activation]
    W_xh = pick(rng, [-2, -1, 0, 1, 2], (2, 2))
    b = pick(rng, [-1, 0, 0, 1], (2,))
    xs = pick(rng, [-2, -1, 0, 1, 2], (steps, 2))
    q1 = W_xh @ xs[0] + b
    h1 = [rnn.state_fraction(activation, int(q)) for q in q1]
    W_hh = np.array([[int(rng.choice([-1, 0, 1])) * h1[j].denominator for j in range(2)] for _ in range(2)], float)
    return {"W_hh": (W_hh * unit).tolist(), "W_xh": W_xh.tolist(), "b_h": (b * unit).tolist(), "h0": [0.0, 0.0],
            "xs": (xs * unit).tolist(), "activation": activation}


def _rnn_screen(g):
    from jaxdl.exams import rnn

    if np.any(np.all(np.asarray(g["W_xh"]) == 0, axis=1)):  # a unit the inputs never reach
        raise Rejected("dead")
    if np.any(np.abs(np.asarray(g["W_hh"]) / rnn.UNITS[g["activation"]]) > 9.5):
        raise Rejected("digits")
    form = rnn.closed_form(g)
    # Every state a fraction (whole multiples of L) with small powers of 2.
    if form is None or any(q.denominator != 1 or abs(q) > 6 for step in form["q"] for q in step):
        raise Rejected("digits")
    states = np.asarray(form["values"])
    low = 0.001 if g["activation"] == "sigmoid" else -0.999
    if np.any(states < low) or np.any(states > 0.999):
        raise Rejected("saturated")


def _rnn_one(W_hh, W_xh, b, h0, xs, exact, activation):
    from jaxdl.layers.recurrent import ACTIVATIONS, rnn_states

    params = {"W_xh": W_xh.T, "W_hh": W_hh.T, "b": b}  # the exam's columns → jaxdl's rows
    hs = rnn_states(params, xs[None], h0[None], activation)[0]
    g = ACTIVATIONS[activation][0]
    h, unrolled = h0, []
    for t in range(xs.shape[0]):  # the recurrence as the exam writes it, column vectors
        h = g(W_hh @ h + W_xh @ xs[t] + b)
        unrolled.append(h)
    return {"h": hs}, {"independent": {"h": jnp.stack(unrolled)}, "closed form": {"h": exact}}


def _rnn_verify(givens):
    from jaxdl.exams import rnn

    activation = givens[0]["activation"]
    exact = np.stack([np.asarray(rnn.closed_form(g)["values"], float) for g in givens])
    W_hh, W_xh, b, h0, xs = _stack(givens, "W_hh", "W_xh", "b_h", "h0", "xs")
    answers, dis = batched(lambda *a: _rnn_one(*a, activation), (W_hh, W_xh, b, h0, xs, exact))
    return _verified(answers, dis, len(givens))


def _rnn_blanks(r):
    t = len(r["h"])
    return blanks_of(f"h({t})", f"h({t})", r["h"][-1]) + blanks_of("h(1)", "h(1)", r["h"][0])


# --------------------------------------------------------------------------------------------
# E6: one GAN step.


def _some_positive(W):
    """Each row with a positive entry (a row of the generator's W2 ≤ 0 would be a dead unit: its
    input h1 ≥ 0), by flipping the sign of the rows that have none."""
    return np.where(np.max(W, axis=1, keepdims=True) <= 0, -W, W)


def _gan_propose(rng):
    return {
        "generator": {"W1": pick(rng, [-1.5, -1, -0.5, 0.5, 1, 1.5], (2, 1)).tolist(),
                      "W2": _some_positive(pick(rng, [-1, -0.5, 0, 0.5, 1, 1.5], (2, 2))).tolist()},
        "discriminator": {"W1": pick(rng, [-1.5, -1, -0.5, 0.5, 1, 1.5], (2, 2)).tolist(),
                          "w2": pick(rng, [-1, -0.5, 0.5, 1], (1, 2)).tolist()},
        # noise of both signs (each generator unit then fires for some example), never 0
        "noise": [float(v) * sign for v, sign in zip(pick(rng, [0.5, 1], (3,)),
                                                     rng.permutation([-1, 1, int(rng.choice([-1, 1]))]))],
        "data": pick(rng, [0, 1, 2], (3, 2)).tolist(),
        "learning_rate": float(rng.choice([0.5, 1.0])),
        "leaky_slope": 0.2,
        "generator_loss": str(rng.choice(["minimax", "non_saturating"])),
    }


def _gan_screen(givens):
    from jaxdl.exams import gan

    view = {"generator": givens["generator"], "discriminator": givens["discriminator"]}  # the exam's layout
    z, x, lr, slope, loss = np.asarray(givens["noise"])[:, None], np.asarray(givens["data"]), \
        givens["learning_rate"], givens["leaky_slope"], givens["generator_loss"]
    with np.errstate(all="ignore"):
        hand = gan.by_hand(view, z, x, lr, slope, loss)
    gen = hand["generator"]
    for part in ("g1", "g2"):
        if np.any(np.all(np.stack([g[part] for g in gen]) <= 0, axis=0)):
            raise Rejected("dead")
    probs = [r["D"] for r in hand["real"]] + [f["D"] for f in hand["fake"]] + [a["D"] for a in hand["after"]]
    if not all(0.001 <= p <= 0.999 for p in probs):
        raise Rejected("saturated")
    pre = [g[k] for g in gen for k in ("g1", "g2")] + [r["a1"] for r in hand["real"] + hand["fake"] + hand["after"]]
    if any(np.any(np.asarray(a) == 0) for a in pre):  # would ReLU′(0) = 1 (LeakyReLU′(0) = 1) change the step?
        with np.errstate(all="ignore"):
            other = gan.by_hand(view, z, x, lr, slope, loss, at_zero=1.0)
        new = lambda s: np.concatenate([np.ravel(s["new"][p][k]) for p, k in  # noqa: E731
                                        (("discriminator", "W1"), ("discriminator", "w2"), ("generator", "W1"),
                                         ("generator", "W2"))])
        if not np.allclose(new(hand), new(other), rtol=0, atol=1e-12):
            raise Rejected("kink")
    exact = [g[k] for g in gen for k in ("g1", "g2")] + [r[k] for r in hand["real"] + hand["fake"] for k in ("a1", "s")]
    if not few_digits(exact, 4):
        raise Rejected("digits")


def _gan_one(gen_w1, gen_w2, dis_w1, dis_w2, z, x, lr, slope, loss):  # lr: batched, slope and loss: static
    import optax

    from jaxdl.models import gan as gan_lib

    model = gan_lib.exam_gan(hidden=2, latent_size=1, data_size=x.shape[1], leaky_slope=slope)
    sgd = optax.sgd(lr)
    params = {"generator": {"dense_0": {"W": gen_w1.T}, "relu_1": {}, "dense_2": {"W": gen_w2.T}, "relu_3": {}},
              "discriminator": {"dense_0": {"W": dis_w1.T}, "leaky_relu_1": {}, "dense_2": {"W": dis_w2.T}}}
    z = z[:, None]
    new, _, aux = gan_lib.make_step(model, sgd, sgd, loss)(params, gan_lib.init_opt_state(params, sgd, sgd), z, x)
    answers = {"d_loss": aux["d_loss"], "g_loss": aux["g_loss"], "d_grads": aux["d_grads"], "g_grads": aux["g_grads"],
               "new": new}
    pg, pd = params["generator"], params["discriminator"]
    fake = model.generator.apply(pg, z)
    d_obj = lambda p: gan_lib.discriminator_objective(model, p, x, fake)  # noqa: E731
    stepped = jax.tree_util.tree_map(lambda p, g: p - lr * g, pd, aux["d_grads"])
    g_obj = lambda p: gan_lib.generator_objective(model, p, stepped, z, loss)  # noqa: E731
    ref = lambda grad: {"d_loss": d_obj(pd), "g_loss": g_obj(pg), "d_grads": grad(d_obj, pd),  # noqa: E731
                        "g_grads": grad(g_obj, pg)}
    return answers, {"autodiff": ref(lambda f, v: jax.grad(f)(v)), "finite differences": ref(numeric_grad)}


def _gan_verify(givens):
    g0 = givens[0]
    stacked = _stack(givens, "noise", "data")
    weights = tuple(np.stack([np.asarray(g[part][k], float) for g in givens])
                    for part, k in (("generator", "W1"), ("generator", "W2"), ("discriminator", "W1"),
                                    ("discriminator", "w2")))
    lrs = np.asarray([g["learning_rate"] for g in givens], float)
    one = lambda *a: _gan_one(*a, g0["leaky_slope"], g0["generator_loss"])  # noqa: E731
    answers, dis = batched(one, weights + stacked + (lrs,))
    per = split(answers, len(givens))
    # In the exam's column convention, as the result writes them.
    out = []
    for a in per:
        d, g, n = a["d_grads"], a["g_grads"], a["new"]
        out.append({"d_loss": a["d_loss"], "g_loss": a["g_loss"],
                    "d_W1": d["dense_0"]["W"].T, "d_w2": d["dense_2"]["W"].T,
                    "g_W1": g["dense_0"]["W"].T, "g_W2": g["dense_2"]["W"].T,
                    "new_d_W1": n["discriminator"]["dense_0"]["W"].T, "new_d_w2": n["discriminator"]["dense_2"]["W"].T,
                    "new_g_W1": n["generator"]["dense_0"]["W"].T, "new_g_W2": n["generator"]["dense_2"]["W"].T})
    return Verified(out, dis)


def _gan_answers(r):
    d, g = r["discriminator_step"], r["generator_step"]
    return {"d_loss": d["loss"], "g_loss": g["loss"], "d_W1": d["grads"]["W1"], "d_w2": d["grads"]["w2"],
            "g_W1": g["grads"]["W1"], "g_W2": g["grads"]["W2"], "new_d_W1": d["new"]["W1"], "new_d_w2": d["new"]["w2"],
            "new_g_W1": g["new"]["W1"], "new_g_W2": g["new"]["W2"]}


def _gan_blanks(r):
    d, g = r["discriminator_step"], r["generator_step"]
    return (blanks_of("novi W1 diskriminatora", "D's new W1", d["new"]["W1"])
            + blanks_of("novi w2 diskriminatora", "D's new w2", d["new"]["w2"])
            + blanks_of("novi W1 generatora", "G's new W1", g["new"]["W1"])
            + blanks_of("novi W2 generatora", "G's new W2", g["new"]["W2"]))


# --------------------------------------------------------------------------------------------
# The quiz: Q1's layers, Q2's pooling, Q3's coupling.


def _quiz_propose(rng):
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


def _quiz_screen(g):
    x3 = np.asarray(g["q3"]["x"])
    if np.all(x3[:, : x3.shape[1] // 2] <= 0):  # ReLU(x1) = 0 everywhere: h(x1) would be its bias alone
        raise Rejected("dead")


def _quiz_group(g):
    return ()  # one batch: _quiz_verify groups each question by its own shapes and hyperparameters


def _prefixed(prefix, answers, refs):
    return ({prefix + k: v for k, v in answers.items()},
            {pair: {prefix + k: v for k, v in tree.items()} for pair, tree in refs.items()})


def _q1a_one(A, c, x, dy, b):
    from jaxdl.layers import quadratic

    return _prefixed("q1a_", *_layer_one(quadratic(b), {"A": A, "c": c}, x, dy))


def _q1b_one(x, dy, beta):
    from jaxdl.layers import swish

    return _prefixed("q1b_", *_layer_one(swish(beta), {}, x, dy))


def _q2_one(image, k):
    from jaxdl.layers import avg_pool2d, conv_avg_pool2d

    channels = image.shape[0]
    dense = conv_avg_pool2d(channels, k, "dense").apply({}, image[None])[0]
    depthwise = conv_avg_pool2d(channels, k, "depthwise").apply({}, image[None])[0]
    window = jax.lax.reduce_window(image, 0.0, jax.lax.add, (1, k, k), (1, k, k), "VALID") / k**2
    pooled = avg_pool2d(k).apply({}, image[None])[0]
    return {"q2": dense}, {"independent": [{"q2": depthwise}, {"q2": pooled}], "closed form": {"q2": window}}


def _q3_one(W, b, x):
    from jaxdl.layers import additive_coupling

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
_QUIZ_PARTS = (
    (lambda g: (np.shape(g["q1"]["x"]), g["q1"]["b"]), lambda key: lambda *a: _q1a_one(*a, key[1]),
     lambda gs: _stack_part(gs, "q1", ("A", "c", "x", "dy"))),
    (lambda g: (np.shape(g["q1"]["x"]), g["q1"]["beta"]), lambda key: lambda *a: _q1b_one(*a, key[1]),
     lambda gs: _stack_part(gs, "q1", ("x", "dy"))),
    (lambda g: (g["q2"]["K"], np.shape(g["q2"]["x"])), lambda key: lambda *a: _q2_one(*a, key[0]),
     lambda gs: _stack_part(gs, "q2", ("x",), first=("x",))),
    (lambda g: np.shape(g["q3"]["x"]), lambda key: _q3_one,
     lambda gs: _stack_part(gs, "q3", ("W", "b", "x"), first=("x",))),
)


def _quiz_verify(givens):
    """Each question in its own batches: one compiled program per question's shapes and
    hyperparameters (far fewer than the quiz's combinations of them)."""
    import collections

    n = len(givens)
    answers = [{} for _ in givens]
    dis: dict = {}
    for key_of, make, args_of in _QUIZ_PARTS:
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


def _quiz_answers(r):
    qa, qb = r["Q1a"], r["Q1b"]
    return {"q1a_out": qa["y"], "q1a_dx": qa["dx"], "q1a_dA": qa["dparams"]["A"], "q1a_dc": qa["dparams"]["c"],
            "q1b_out": qb["y"], "q1b_dx": qb["dx"], "q2": np.asarray(r["Q2"]["output"])[0],
            "q3": np.asarray(r["Q3"]["y"])[0], "q3_log_det": np.asarray(r["Q3"]["log_det"])[0]}


def _quiz_blanks(r):
    qa, qb = r["Q1a"], r["Q1b"]
    return (blanks_of("Q1a: ∂L/∂X", "Q1a: ∂L/∂X", qa["dx"]) + blanks_of("Q1a: ∂L/∂A", "Q1a: ∂L/∂A", qa["dparams"]["A"])
            + blanks_of("Q1a: ∂L/∂c", "Q1a: ∂L/∂c", qa["dparams"]["c"]) + blanks_of("Q1b: ∂L/∂X", "Q1b: ∂L/∂X", qb["dx"])
            + blanks_of("Q2: izlaz", "Q2: output", np.asarray(r["Q2"]["output"])[0])
            + blanks_of("Q3: y", "Q3: y", np.asarray(r["Q3"]["y"])[0]))


# --------------------------------------------------------------------------------------------
# E3: a tic-tac-toe question, its hand-set classifier checked on every final board.


TTT_SCALES = (2.0, 4.0, 10.0, 20.0)


def _ttt_accuracy(target: str) -> dict:
    """The hand-set classifier's accuracy on every final board, per scale."""
    from jaxdl.models import tictactoe as ttt

    return _ttt_accuracies(ttt.unit_count(target))[target]


@functools.lru_cache(maxsize=None)
def _ttt_accuracies(units: int) -> dict:
    """``{target: {scale: accuracy}}`` for the targets with ``units`` units, run together (their
    parameters batched: one compiled program)."""
    from jaxdl.models import tictactoe as ttt

    same = [t for t in ttt.TARGETS if ttt.unit_count(t) == units]
    boards, _ = ttt.final_boards()
    cases = [(t, sc) for t in same for sc in TTT_SCALES]
    params = jax.tree_util.tree_map(lambda *a: np.stack([np.asarray(v) for v in a]),
                                    *[ttt.hand_set_params(t, sc) for t, sc in cases])
    probs = np.asarray(jax.jit(jax.vmap(ttt.classifier(same[0]).apply, in_axes=(0, None)))(
        params, ttt.board_images(boards)))[:, :, 0]
    out: dict = {t: {} for t in same}
    for (t, sc), p in zip(cases, probs):
        out[t][sc] = float(np.mean((p > 0.5) == _ttt_labels(t)))
    return out


@functools.lru_cache(maxsize=None)
def _ttt_labels(target: str) -> np.ndarray:
    from jaxdl.models import tictactoe as ttt

    return ttt.truth(target, ttt.final_boards()[0])


def _ttt_propose(rng):
    from jaxdl.models import tictactoe as ttt

    target = str(rng.choice(list(ttt.TARGETS)))
    scale = float(rng.choice(TTT_SCALES))
    boards, _ = ttt.final_boards()
    y = int(rng.integers(2))
    candidates = np.flatnonzero(_ttt_labels(target) == y)
    board = boards[int(rng.choice(candidates))] if len(candidates) else boards[int(rng.integers(len(boards)))]
    return {"target": target, "scale": scale, "board": [int(v) for v in board]}


def _ttt_screen(g):
    from jaxdl.models import tictactoe as ttt

    if _ttt_accuracy(g["target"])[g["scale"]] < 1:
        raise Rejected("accuracy")
    units = np.sort(ttt.unit_outputs(g["target"], g["scale"], g["board"]))
    if len(units) > 1 and units[-1] == units[-2]:  # ∂L/∂u goes to the best unit: there must be one
        raise Rejected("tie")


def _ttt_units(target: str) -> int:
    from jaxdl.models import tictactoe as ttt

    return ttt.unit_count(target)


def _ttt_one(image, y, params, target):
    """E3's key on one board: the logit s, σ(s), ∂L/∂s and ∂L/∂u (u: the fully connected layer's
    outputs, through the max) by the layers' backward passes, against autodiff and finite
    differences."""
    from jaxdl.core import serial
    from jaxdl.losses import binary_cross_entropy as bce
    from jaxdl.models import tictactoe as ttt

    layers = ttt.classifier_layers(target)
    trunk, pool = serial(*layers[:3]), layers[3]  # convolution, flatten, fully connected; the max
    p_trunk = {k: v for k, v in params.items() if k[-1] in "012"}
    x, y = image[None], y.reshape(1, 1)
    u = trunk.apply(p_trunk, x)
    s = pool.apply({}, u)
    ds = bce.backward(s, y)
    _, du = pool.backward({}, u, ds)
    answers = {"s": s[0, 0], "probability": jax.nn.sigmoid(s[0, 0]), "dL_ds": ds[0, 0], "dL_du": du[0]}
    of_s = lambda s: bce.apply(s, y)  # noqa: E731
    of_u = lambda u: bce.apply(pool.apply({}, u[None]), y)  # noqa: E731
    return answers, {
        "autodiff": {"dL_ds": jax.grad(of_s)(s)[0, 0], "dL_du": jax.grad(of_u)(u[0])},
        "finite differences": {"dL_ds": numeric_grad(of_s, s)[0, 0], "dL_du": numeric_grad(of_u, u[0])},
    }


def _ttt_verify(givens):
    from jaxdl.models import tictactoe as ttt

    target = givens[0]["target"]  # every target of the batch has as many units: one program
    params = jax.tree_util.tree_map(lambda *a: np.stack([np.asarray(v, np.float64) for v in a]),
                                    *[ttt.hand_set_params(g["target"], g["scale"]) for g in givens])
    boards = np.array([g["board"] for g in givens])
    images = ttt.board_images(boards).astype(np.float64)
    labels = np.array([ttt.truth(g["target"], [g["board"]])[0] for g in givens], np.float64)
    answers, dis = batched(lambda im, y, p: _ttt_one(im, y, p, target), (images, labels, params))
    return _verified(answers, dis, len(givens))


def _ttt_answers(r):
    g = r["bce_gradient"]
    return {"s": g["s"], "probability": r["forward_example"]["probability"], "dL_ds": g["manual"], "dL_du": g["by_units"]}


def _ttt_blanks(r):
    g = r["bce_gradient"]
    return [blank("σ(s)", "σ(s)", r["forward_example"]["probability"]), blank("s", "s", g["s"]),
            blank("∂L/∂s", "∂L/∂s", g["manual"])]


# --------------------------------------------------------------------------------------------
# E4: parameter counts of recurrent networks.

INPUT_SIZES = (10, 16, 20, 32, 50, 64, 100, 128, 200, 256, 300, 512)
HIDDEN_SIZES = (16, 32, 50, 64, 100, 128, 200, 256, 300, 500)


def _lstm_screen(g):
    del g  # every network is a fair question: a count needs no nice numbers


def _lstm_propose(rng):
    return {"cell": str(rng.choice(["lstm", "gru", "rnn"])), "input_size": int(rng.choice(INPUT_SIZES)),
            "hidden_size": int(rng.choice(HIDDEN_SIZES)), "num_layers": int(rng.choice([1, 2, 3])),
            "bidirectional": bool(rng.integers(2))}


def _lstm_verify(givens):
    from jaxdl.exams import lstm

    answers, dis = [], {"jaxdl": [], "flax": [], "PyTorch": []}
    for g in givens:
        counts = lstm.count(g["cell"], g["input_size"], g["hidden_size"], g["num_layers"], g["bidirectional"])
        answers.append({"one_bias": np.asarray(counts["one_bias"]), "two_biases": np.asarray(counts["two_biases"])})
        for pair in dis:  # NOT_RUN where the count does not exist (jaxdl has no GRU, PyTorch is not installed)
            dis[pair].append(counts["disagreement"].get(pair, NOT_RUN))
    return Verified(answers, {k: np.asarray(v, float) for k, v in dis.items()})


def _lstm_answers(r):
    return {"one_bias": r["one_bias"], "two_biases": r["two_biases"]}


def _lstm_blanks(r):
    return [blank("jedan pomak po propusnici", "one bias per gate", r["one_bias"], 0),
            blank("dva pomaka (PyTorch)", "two biases (PyTorch)", r["two_biases"], 0)]


# --------------------------------------------------------------------------------------------

def _rnn_answers(r):
    return {"h": r["h"]}


FAMILIES = {
    "mlp": Family(propose=_mlp_propose, screen=_mlp_screen, group=lambda g: (np.shape(g["W"]),), verify=_mlp_verify,
                  answers=_mlp_answers, blanks=_mlp_blanks, stress_cost=4),
    "resblock": Family(propose=_resblock_propose, screen=_resblock_screen, group=lambda g: (np.shape(g["x"]),),
                       verify=_resblock_verify, answers=_resblock_answers, blanks=_resblock_blanks, stress_cost=3),
    "tictactoe": Family(propose=_ttt_propose, screen=_ttt_screen, group=lambda g: (_ttt_units(g["target"]),),
                        verify=_ttt_verify, answers=_ttt_answers, blanks=_ttt_blanks, stress_cost=7),
    "lstm": Family(propose=_lstm_propose, screen=_lstm_screen, group=lambda g: (), verify=_lstm_verify,
                   answers=_lstm_answers, blanks=_lstm_blanks, dtype="int64", stress_cost=9),
    "rnn": Family(propose=_rnn_propose, screen=_rnn_screen, group=lambda g: (g["activation"], len(g["xs"])),
                  verify=_rnn_verify, answers=_rnn_answers, blanks=_rnn_blanks, stress_cost=5),
    "gan": Family(propose=_gan_propose, screen=_gan_screen, group=lambda g: (g["leaky_slope"], g["generator_loss"]),
                  verify=_gan_verify, answers=_gan_answers, blanks=_gan_blanks, stress_cost=9),
    "quiz": Family(propose=_quiz_propose, screen=_quiz_screen, group=_quiz_group, verify=_quiz_verify,
                   answers=_quiz_answers, blanks=_quiz_blanks, stress_cost=7),
}
