"""E2's variants: a residual block of 2 or 3 units on one or two examples, small whole numbers
chosen so that every pre-activation is away from ReLU's kink and every unit is alive.

A variant keys part (a) on its givens: the first row of ∂L/∂X, ∂L/∂b and one entry of ∂L/∂W
(at most 7 numbers for its 7 points); part (b), the PyTorch module, is marked by hand. The
catalogue computes the keys by the course's formulas in numpy, and beside them the course's
common mistakes, each from the givens. (The official solution's mistake, masking ``grads`` in
place so that the skip connection carries the masked gradient, is not among them: on every entry
it changes it equals "the skip connection forgotten", so the feedback could not tell them apart.)
"""

from __future__ import annotations

import numpy as np

from jaxdl.exams.lang import both
from jaxdl.exams.problem import Family, Mistake, Rejected
from jaxdl.exams.variants import batched, blanks_of, few_digits, layer_three_ways, pick, stack, values_of, verified
from jaxdl.layers import res_block

PART = "E2(a)"


def propose(rng):
    d, n = int(rng.choice([2, 3])), int(rng.choice([1, 2]))
    return {"W": pick(rng, [-2, -1, 0, 1, 2], (d, d)).tolist(), "b": pick(rng, [-1, -0.5, 0, 0.5, 1], (d,)).tolist(),
            "x": pick(rng, [-2, -1, 0, 1, 2], (n, d)).tolist(), "dy": pick(rng, [-2, -1, -0.5, 0.5, 1, 2], (n, d)).tolist()}


def screen(g):
    W, b, x, dy = _arrays(g)
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


# --------------------------------------------------------------------------------------------
# What a variant asks, and the catalogue.


def _arrays(g):
    return tuple(np.asarray(g[k], float) for k in ("W", "b", "x", "dy"))


def _grads(W, b, x, dy, mask=True):
    """The course's backward pass: ∂L/∂H = ∂L/∂out ⊙ [H > 0], ∂L/∂X = ∂L/∂out + ∂L/∂H Wᵀ,
    ∂L/∂W = Xᵀ ∂L/∂H, ∂L/∂b = Σ_n ∂L/∂H_n (``mask=False``: the ReLU's mask left out)."""
    h = x @ W + b
    dh = dy * (h > 0) if mask else dy
    return h, dh, dy + dh @ W.T, x.T @ dh, dh.sum(axis=0)


def w_entry(givens) -> tuple[int, int]:
    """The entry of ∂L/∂W a variant asks for (0-based): where a transposed ∂L/∂W would differ most
    (the largest one where none would)."""
    W, b, x, dy = _arrays(givens)
    dW = _grads(W, b, x, dy)[3]
    score = np.abs(dW - dW.T) * 1000 + np.abs(dW)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(score)), dW.shape))


def _keyed(givens, dx, dW, db) -> dict:
    d = len(db)
    return {**values_of("dx", dx, [(0, j) for j in range(d)]), **values_of("db", db),
            **values_of("dW", dW, [w_entry(givens)])}


def correct(givens) -> dict:
    W, b, x, dy = _arrays(givens)
    _, _, dx, dW, db = _grads(W, b, x, dy)
    return _keyed(givens, dx, dW, db)


def blanks(r):
    b = r["backward"]
    d = len(b["db"])
    return (blanks_of(PART, "dx", "∂L/∂X", "∂L/∂X", b["dx"], [(0, j) for j in range(d)])
            + blanks_of(PART, "db", "∂L/∂b", "∂L/∂b", b["db"])
            + blanks_of(PART, "dW", "∂L/∂W", "∂L/∂W", b["dW"], [w_entry(r["givens"])]))


def _skip_forgotten(g):
    W, b, x, dy = _arrays(g)
    _, dh, _, _, _ = _grads(W, b, x, dy)
    return values_of("dx", dh @ W.T, [(0, j) for j in range(len(b))])


def _w_not_transposed(g):
    W, b, x, dy = _arrays(g)
    if np.array_equal(W, W.T):
        return {}
    _, dh, _, _, _ = _grads(W, b, x, dy)
    return values_of("dx", dy + dh @ W, [(0, j) for j in range(len(b))])


def _mask_forgotten(g):
    W, b, x, dy = _arrays(g)
    if np.all(x @ W + b > 0):
        return {}
    _, _, dx, dW, db = _grads(W, b, x, dy, mask=False)
    return _keyed(g, dx, dW, db)


def _bias_mean(g):
    W, b, x, dy = _arrays(g)
    if len(x) == 1:
        return {}
    return values_of("db", _grads(W, b, x, dy)[4] / len(x))


def _dw_transposed(g):
    W, b, x, dy = _arrays(g)
    dW = _grads(W, b, x, dy)[3]
    i, j = w_entry(g)
    if dW[i, j] == dW[j, i]:
        return {}
    return values_of("dW", dW.T, [(i, j)])


MISTAKES = (
    Mistake(name="skip_forgotten", title=both("zaboravljena preskočna veza", "the skip connection forgotten"),
            why=both("izlaz je X + ReLU(XW + b), pa ∂L/∂X ima i pribrojnik ∂L/∂out koji dolazi preskočnom vezom",
                     "the output is X + ReLU(XW + b), so ∂L/∂X also has the term ∂L/∂out the skip connection carries"),
            values=_skip_forgotten),
    Mistake(name="w_not_transposed", title=both("W umjesto Wᵀ", "W instead of Wᵀ"),
            why=both("H = XW + b, pa gradijent po X množi ∂L/∂H s Wᵀ zdesna", "H = XW + b, so the gradient by X "
                     "multiplies ∂L/∂H by Wᵀ on the right"),
            values=_w_not_transposed),
    Mistake(name="mask_forgotten", title=both("zaboravljena derivacija ReLU-a", "ReLU's derivative forgotten"),
            why=both("∂L/∂H = ∂L/∂out ⊙ [H > 0]: gdje je H ≤ 0, ReLU ne propušta gradijent",
                     "∂L/∂H = ∂L/∂out ⊙ [H > 0]: where H ≤ 0, the ReLU passes no gradient"),
            values=_mask_forgotten),
    Mistake(name="bias_mean", title=both("prosjek umjesto zbroja", "a mean instead of a sum"),
            why=both("pomak b dijele svi primjeri minigrupe: ∂L/∂b je zbroj po primjerima, ne prosjek",
                     "every example of the minibatch shares b: ∂L/∂b sums over the examples, it does not average"),
            values=_bias_mean),
    Mistake(name="dw_transposed", title=both("transponirani ∂L/∂W", "∂L/∂W transposed"),
            why=both("∂L/∂W = Xᵀ ∂L/∂H ima oblik matrice W (D × D), redak po ulazu, stupac po jedinici",
                     "∂L/∂W = Xᵀ ∂L/∂H has the shape of W (D × D), a row per input, a column per unit"),
            values=_dw_transposed),
)

HINTS = {PART: both("Slijedite oba puta od X do izlaza: preskočna veza prenosi ∂L/∂out nepromijenjen, a druga grana "
                    "ide kroz masku [H > 0] i afinu transformaciju (Wᵀ); ∂L/∂W = Xᵀ ∂L/∂H, ∂L/∂b = Σ_n ∂L/∂H_n.",
                    "Follow both paths from X to the output: the skip connection carries ∂L/∂out unchanged, the other "
                    "goes through the mask [H > 0] and the affine map (Wᵀ); ∂L/∂W = Xᵀ ∂L/∂H, ∂L/∂b = Σ_n ∂L/∂H_n.")}

FAMILY = Family(propose=propose, screen=screen, group=lambda g: (np.shape(g["x"]),), verify=verify, answers=answers,
                blanks=blanks, correct=correct, mistakes=MISTAKES, hints=HINTS, stress_cost=3)
