"""E1's variants: an MLP of 2 or 3 units on 2 or 3 inputs, weights in halves, every
pre-activation away from ReLU's kink and the logit's sigmoid away from saturation.

A variant keys parts (a)–(d) within their points, on its givens: (a) the number of scalar
multiplications of h (1 point: one blank); (b) ∂h_i/∂x_j and ∂h_i/∂W_kl at named indices, the
second with k ≠ i (2 points); (c) how many entries of ∂h'/∂h are always 0 (1 point); (d) ∂L/∂s and
one named entry each of ∂L/∂w, ∂L/∂b and ∂L/∂W (4 points). (a)'s additions are not keyed: the
official answer accepts two counts (mn, and mn + m where each dot product's sum starts from 0).
(e), the graphs, is marked by hand. The entries named are those where the common mistakes show
(:func:`entries`); the catalogue computes the keys by the course's formulas in numpy, and beside
them the course's common mistakes, each from the givens.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from jaxdl.check.numeric import central_differences
from jaxdl.exams._common import choose_entries, kept
from jaxdl.exams.lang import both
from jaxdl.exams.mlp import compute
from jaxdl.exams.problem import Family, Mistake, Rejected
from jaxdl.exams.variants import HALVES, NONZERO_HALVES, batched, blank, few_digits, pick, stack, verified


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


# --------------------------------------------------------------------------------------------
# The course's formulas in numpy, done right and done the common wrong ways.


def _arrays(g):
    return tuple(np.asarray(g[k], float) for k in ("W", "b", "x", "w")) + (float(g["y"]),)


def grads(g, *, swapped=False, sign=1.0, mask=True, loss_derivative=None) -> dict:
    """The backward equations on the givens: ∂L/∂s = σ(s) − y, ∂L/∂w = ∂L/∂s h', ∂L/∂h' = ∂L/∂s w,
    ∂L/∂h = ∂L/∂h' ⊙ [h > 0], ∂L/∂W = ∂L/∂h xᵀ, ∂L/∂b = ∂L/∂h. The mistakes: ``swapped`` (the
    official solution's ∂L/∂w = ∂L/∂s w and ∂L/∂h' = ∂L/∂s h'), ``sign`` (−1: y − σ(s)), ``mask``
    (False: ReLU's derivative forgotten), ``loss_derivative`` (∂L/∂s given)."""
    W, b, x, w, y = _arrays(g)
    h = W @ x + b
    h_relu = np.maximum(h, 0)
    sigma = 1 / (1 + math.exp(-float(w @ h_relu)))
    ds = sign * (sigma - y) if loss_derivative is None else loss_derivative
    dw, dh_relu = (ds * w, ds * h_relu) if swapped else (ds * h_relu, ds * w)
    dh = dh_relu * (h > 0) if mask else dh_relu
    return {"h": h, "sigma": sigma, "ds": ds, "dw": dw, "dh_relu": dh_relu, "dh": dh, "dW": np.outer(dh, x), "db": dh}


def _alternatives(g) -> dict:
    """(d)'s arrays as each mistake gives them (``None`` where it cannot change them)."""
    W, b, x, w, y = _arrays(g)
    key = grads(g)
    swapped, sign, no_mask = grads(g, swapped=True), grads(g, sign=-1.0), grads(g, mask=False)
    m, n = W.shape
    dW_t = np.full((m, n), np.nan)  # x ∂L/∂hᵀ read at (k, l): defined where k < n and l < m
    for k_ in range(min(m, n)):
        for l_ in range(min(m, n)):
            dW_t[k_, l_] = x[k_] * key["dh"][l_]
    dW_t = np.where(np.isnan(dW_t), key["dW"], dW_t)
    return {name: {"dw": swapped["dw"] if name == "swapped" else sign["dw"] if name == "sign" else None,
                   "db": {"swapped": swapped["db"], "sign": sign["db"], "mask_forgotten": no_mask["db"]}.get(name),
                   "dW": {"swapped": swapped["dW"], "sign": sign["dW"], "mask_forgotten": no_mask["dW"],
                          "dw_transposed": dW_t}.get(name)}
            for name in ("swapped", "sign", "mask_forgotten", "dw_transposed")}


def entries(g) -> dict:
    """The indices a variant names (0-based): ``dh_dx`` (i, j) where Wᵀ would differ from W,
    ``dh_dW`` (i, k, l) with k ≠ i, and (d)'s ``dw`` i, ``db`` j and ``dW`` (k, l), each where the
    most mistakes differ from the key (and apart from each other)."""
    W, b, x, w, y = _arrays(g)
    m, n = W.shape
    pairs = [(i, j) for i in range(min(m, n)) for j in range(min(m, n)) if i != j] or [(0, 0)]
    ij = max(pairs, key=lambda p: (abs(W[p] - W[p[::-1]]) > 0, -pairs.index(p)))
    i, j = ij
    key = grads(g)
    alts = _alternatives(g)
    per = {array: {name: a[array] for name, a in alts.items()} for array in ("dw", "db", "dW")}
    if np.any(key["h"] <= 0):  # ∂L/∂b named at a unit ReLU turns off, where its forgotten derivative shows
        per["db"] = {"mask_forgotten": per["db"]["mask_forgotten"]}
    return {"dh_dx": ij, "dh_dW": (i, (i + 1) % m, j),
            "dw": choose_entries(key["dw"], per["dw"], 1)[0][0], "db": choose_entries(key["db"], per["db"], 1)[0][0],
            "dW": choose_entries(key["dW"], per["dW"], 1)[0]}


def _keyed(g, mults, dh_dx, dh_dW, zeros, ds, dw, db, dW) -> dict:
    e = entries(g)
    (k, l) = e["dW"]
    return {"mults": float(mults), "dh_dx": float(dh_dx), "dh_dW": float(dh_dW), "zeros": float(zeros),
            "dL_ds": float(ds), f"dL_dw_{e['dw'] + 1}": float(dw[e["dw"]]), f"dL_db_{e['db'] + 1}": float(db[e["db"]]),
            f"dL_dW_{k + 1}_{l + 1}": float(dW[k][l])}


def correct(g) -> dict:
    """Every key by the course's formulas in numpy."""
    W, b, x, w, y = _arrays(g)
    m, n = W.shape
    e = entries(g)
    (i, j), (i2, k, l) = e["dh_dx"], e["dh_dW"]
    r = grads(g)
    return _keyed(g, m * n, W[i, j], float(k == i2) * x[l], m * m - m, r["ds"], r["dw"], r["db"], r["dW"])


def blanks(r):
    g, f, gr = r["givens"], r["forward"], r["grads"]
    e = entries(g)
    (i, j), (i2, k, l) = e["dh_dx"], e["dh_dW"]
    iw, jb, (kw, lw) = e["dw"], e["db"], e["dW"]
    W, x = np.asarray(g["W"], float), np.asarray(g["x"], float)
    # (b)'s derivatives as the code's Jacobians equal them (checked in solve: r["derivatives"]).
    dh_dx, dh_dW = W[i, j], float(k == i2) * x[l]
    del f
    return [blank("E1(a)", "mults", "množenja", "multiplications", r["op_counts"]["multiplications"], 0.0),
            blank("E1(b)", "dh_dx", f"∂h_{i + 1}/∂x_{j + 1}", f"∂h_{i + 1}/∂x_{j + 1}", dh_dx),
            blank("E1(b)", "dh_dW", f"∂h_{i2 + 1}/∂W_{k + 1}{l + 1}", f"∂h_{i2 + 1}/∂W_{k + 1}{l + 1}", dh_dW),
            blank("E1(c)", "zeros", "uvijek 0 u ∂h'/∂h", "always 0 in ∂h'/∂h", r["jacobians"]["dh_relu_dh"]["always_zero"], 0.0),
            blank("E1(d)", "dL_ds", "∂L/∂s", "∂L/∂s", gr["dL_ds"]),
            blank("E1(d)", f"dL_dw_{iw + 1}", f"(∂L/∂w)_{iw + 1}", f"(∂L/∂w)_{iw + 1}", gr["dL_dw"][iw]),
            blank("E1(d)", f"dL_db_{jb + 1}", f"(∂L/∂b)_{jb + 1}", f"(∂L/∂b)_{jb + 1}", gr["dL_db"][jb]),
            blank("E1(d)", f"dL_dW_{kw + 1}_{lw + 1}", f"(∂L/∂W)_{kw + 1}{lw + 1}", f"(∂L/∂W)_{kw + 1}{lw + 1}",
                  gr["dL_dW"][kw][lw])]


# --------------------------------------------------------------------------------------------
# The catalogue of common mistakes.


def _dot_products(g):
    return {"mults": float(len(g["b"]))}


def _dh_dx_transposed(g):
    W = np.asarray(g["W"], float)
    i, j = entries(g)["dh_dx"]
    return {} if W[i, j] == W[j, i] else {"dh_dx": float(W[j, i])}


def _indicator_forgotten(g):
    i, k, l = entries(g)["dh_dW"]
    return {} if k == i else {"dh_dW": float(g["x"][l])}  # one unit: no W_kl with k ≠ i


def _zeros_on_givens(g):
    W, b, x, w, y = _arrays(g)
    m = len(b)
    dead = int(np.sum(W @ x + b <= 0))
    return {"zeros": float(m * m - m + dead)} if dead else {}


def _grads_mistake(name):
    def values(g):
        key = grads(g)
        e = entries(g)
        (k, l) = e["dW"]
        alts = _alternatives(g)[name]
        changed = {array: kept(key[array], {name: a})[name] for array, a in alts.items()
                   if a is not None and kept(key[array], {name: a})}
        out = {}
        if name == "sign":
            out["dL_ds"] = -float(key["ds"])
        if not changed and not out:
            return {}
        if "dw" in changed:
            out[f"dL_dw_{e['dw'] + 1}"] = float(changed["dw"][e["dw"]])
        if "db" in changed:
            out[f"dL_db_{e['db'] + 1}"] = float(changed["db"][e["db"]])
        if "dW" in changed:
            out[f"dL_dW_{k + 1}_{l + 1}"] = float(changed["dW"][k, l])
        return out
    return values


MISTAKES = (
    Mistake(name="dot_products", title=both("brojeni skalarni produkti", "dot products counted"),
            why=both("pita se za skalarna množenja: svaki od m skalarnih produkata duljine n ima n množenja, ukupno mn",
                     "the question asks for scalar multiplications: each of the m dot products of length n takes n, mn "
                     "in all"),
            values=_dot_products),
    Mistake(name="dh_dx_transposed", title=both("W_ji umjesto W_ij", "W_ji instead of W_ij"),
            why=both("h_i = Σ_j W_ij x_j + b_i: x_j se u h_i množi s W_ij (redak i, stupac j)",
                     "h_i = Σ_j W_ij x_j + b_i: x_j enters h_i multiplied by W_ij (row i, column j)"),
            values=_dh_dx_transposed),
    Mistake(name="indicator_forgotten", title=both("zaboravljen uvjet k = i", "the condition k = i forgotten"),
            why=both("W_kl se javlja samo u h_k: ∂h_i/∂W_kl = [k = i] x_l, pa je za k ≠ i derivacija 0",
                     "W_kl appears in h_k only: ∂h_i/∂W_kl = [k = i] x_l, so for k ≠ i the derivative is 0"),
            values=_indicator_forgotten),
    Mistake(name="zeros_on_givens", title=both("nule za zadani ulaz umjesto uvijek", "zeros on these givens, not always"),
            why=both("uvijek su 0 samo elementi izvan dijagonale (m² − m): nula na dijagonali, gdje je h_i ≤ 0, ovisi o ulazu",
                     "only the entries off the diagonal are always 0 (m² − m): a zero on the diagonal, where h_i ≤ 0, "
                     "depends on the input"),
            values=_zeros_on_givens),
    Mistake(name="swapped", title=both("zamijenjeni ∂L/∂w i ∂L/∂h'", "∂L/∂w and ∂L/∂h' swapped"),
            why=both("s = wᵀh': ∂s/∂w = h'ᵀ i ∂s/∂h' = wᵀ, pa je ∂L/∂w = ∂L/∂s h'ᵀ, a ∂L/∂h' = ∂L/∂s wᵀ (službeno "
                     "rješenje ih zamjenjuje)",
                     "s = wᵀh': ∂s/∂w = h'ᵀ and ∂s/∂h' = wᵀ, so ∂L/∂w = ∂L/∂s h'ᵀ and ∂L/∂h' = ∂L/∂s wᵀ (the official "
                     "solution swaps them)"),
            values=_grads_mistake("swapped")),
    Mistake(name="sign", title=both("pogrešan predznak ∂L/∂s", "∂L/∂s with the wrong sign"),
            why=both("∂L/∂s = σ(s) − [y = 1]: za y = 1 gubitak −ln σ(s) pada kad s raste, pa je derivacija negativna",
                     "∂L/∂s = σ(s) − [y = 1]: for y = 1 the loss −ln σ(s) falls as s grows, so the derivative is negative"),
            values=_grads_mistake("sign")),
    Mistake(name="mask_forgotten", title=both("zaboravljena derivacija ReLU-a", "ReLU's derivative forgotten"),
            why=both("∂L/∂h = ∂L/∂h' ⊙ [h > 0]: gdje je h ≤ 0, ReLU ne propušta gradijent",
                     "∂L/∂h = ∂L/∂h' ⊙ [h > 0]: where h ≤ 0, the ReLU passes no gradient"),
            values=_grads_mistake("mask_forgotten")),
    Mistake(name="dw_transposed", title=both("transponirani ∂L/∂W", "∂L/∂W transposed"),
            why=both("∂L/∂W = (∂L/∂h)ᵀ xᵀ ima oblik matrice W (m × n): redak i je ∂L/∂h_i xᵀ",
                     "∂L/∂W = (∂L/∂h)ᵀ xᵀ has the shape of W (m × n): row i is ∂L/∂h_i xᵀ"),
            values=_grads_mistake("dw_transposed")),
)

HINTS = {
    "E1(a)": both("h_i = Σ_j W_ij x_j + b_i: prebrojite množenja u jednom retku pa pomnožite brojem redaka.",
                  "h_i = Σ_j W_ij x_j + b_i: count the multiplications of one row, then multiply by the number of rows."),
    "E1(b)": both("Zapišite h_i = Σ_j W_ij x_j + b_i i derivirajte član po član: ∂h_i/∂x_j = W_ij, ∂h_i/∂W_kl = [k = i] x_l.",
                  "Write h_i = Σ_j W_ij x_j + b_i and differentiate term by term: ∂h_i/∂x_j = W_ij, "
                  "∂h_i/∂W_kl = [k = i] x_l."),
    "E1(c)": both("h'_i ovisi samo o h_i: ∂h'/∂h je dijagonalna matrica m × m.",
                  "h'_i depends on h_i only: ∂h'/∂h is a diagonal m × m matrix."),
    "E1(d)": both("∂L/∂s = σ(s) − [y = 1], ∂L/∂w = ∂L/∂s h'ᵀ, ∂L/∂h' = ∂L/∂s wᵀ, ∂L/∂h = ∂L/∂h' ⊙ [h > 0], "
                  "∂L/∂(W_[i,:]ᵀ) = ∂L/∂h_i xᵀ, ∂L/∂b = ∂L/∂h.",
                  "∂L/∂s = σ(s) − [y = 1], ∂L/∂w = ∂L/∂s h'ᵀ, ∂L/∂h' = ∂L/∂s wᵀ, ∂L/∂h = ∂L/∂h' ⊙ [h > 0], "
                  "∂L/∂(W_[i,:]ᵀ) = ∂L/∂h_i xᵀ, ∂L/∂b = ∂L/∂h."),
}

FAMILY = Family(propose=propose, screen=screen, group=lambda g: (np.shape(g["W"]),), verify=verify, answers=answers,
                blanks=blanks, correct=correct, mistakes=MISTAKES, hints=HINTS, stress_cost=4)
