"""E6's variants: a GAN of the exam's shape (2 hidden units, noise of size 1, data of size 2) with
weights, noise and data in halves, refused where a unit is dead for the whole minibatch, a
sigmoid saturates, the derivative's value at a kink would change the step, or the working needs
too many digits; each step verified against autodiff and finite differences, batched.

A variant's part (c) states the reading the exam leaves open (both losses are means over the
minibatch; the generator steps through the discriminator already updated) and keys what the exam
asks for, the new weights of the two h1 layers: W_g1 (2 numbers) and W_d1 (4), six for the 6 points
jaxdl gives (c). (a) and (b), a description and the objective, are marked by hand. The catalogue
computes the step by the course's formulas in numpy (the whole minibatch at once) and, beside it,
the course's common mistakes, each a step of its own.
"""

from __future__ import annotations

import jax
import numpy as np
import optax

from jaxdl.check.numeric import central_differences
from jaxdl.exams.gan.compute import by_hand
from jaxdl.exams.lang import both
from jaxdl.exams.problem import Family, Mistake, Rejected, Verified
from jaxdl.exams.variants import batched, blanks_of, few_digits, pick, split, stack, values_of
from jaxdl.models import gan as gan_lib


def some_positive(W):
    """Each row with a positive entry (a row of the generator's W2 ≤ 0 would be a dead unit: its
    input h1 ≥ 0), by flipping the sign of the rows that have none."""
    return np.where(np.max(W, axis=1, keepdims=True) <= 0, -W, W)


def propose(rng):
    return {
        "generator": {"W1": pick(rng, [-1.5, -1, -0.5, 0.5, 1, 1.5], (2, 1)).tolist(),
                      "W2": some_positive(pick(rng, [-1, -0.5, 0, 0.5, 1, 1.5], (2, 2))).tolist()},
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


def screen(givens):
    view = {"generator": givens["generator"], "discriminator": givens["discriminator"]}  # the exam's layout
    z, x, lr, slope, loss = np.asarray(givens["noise"])[:, None], np.asarray(givens["data"]), \
        givens["learning_rate"], givens["leaky_slope"], givens["generator_loss"]
    with np.errstate(all="ignore"):
        hand = by_hand(view, z, x, lr, slope, loss)
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
            other = by_hand(view, z, x, lr, slope, loss, at_zero=1.0)
        new = lambda s: np.concatenate([np.ravel(s["new"][p][k]) for p, k in  # noqa: E731
                                        (("discriminator", "W1"), ("discriminator", "w2"), ("generator", "W1"),
                                         ("generator", "W2"))])
        if not np.allclose(new(hand), new(other), rtol=0, atol=1e-12):
            raise Rejected("kink")
    exact = [g[k] for g in gen for k in ("g1", "g2")] + [r[k] for r in hand["real"] + hand["fake"] for k in ("a1", "s")]
    if not few_digits(exact, 4):
        raise Rejected("digits")


def one_step(gen_w1, gen_w2, dis_w1, dis_w2, z, x, lr, slope, loss):  # lr: batched, slope and loss: static
    """One variant's step by jaxdl's training step, and its losses and gradients by autodiff and by
    central differences of the two objectives."""
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
    return answers, {"autodiff": ref(lambda f, v: jax.grad(f)(v)), "finite differences": ref(central_differences)}


def verify(givens):
    g0 = givens[0]
    stacked = stack(givens, "noise", "data")
    weights = tuple(np.stack([np.asarray(g[part][k], float) for g in givens])
                    for part, k in (("generator", "W1"), ("generator", "W2"), ("discriminator", "W1"),
                                    ("discriminator", "w2")))
    lrs = np.asarray([g["learning_rate"] for g in givens], float)
    run = lambda *a: one_step(*a, g0["leaky_slope"], g0["generator_loss"])  # noqa: E731
    answers, dis = batched(run, weights + stacked + (lrs,))
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


def answers(r):
    d, g = r["discriminator_step"], r["generator_step"]
    return {"d_loss": d["loss"], "g_loss": g["loss"], "d_W1": d["grads"]["W1"], "d_w2": d["grads"]["w2"],
            "g_W1": g["grads"]["W1"], "g_W2": g["grads"]["W2"], "new_d_W1": d["new"]["W1"], "new_d_w2": d["new"]["w2"],
            "new_g_W1": g["new"]["W1"], "new_g_W2": g["new"]["W2"]}


PART = "E6(c)"


def blanks(r):
    d, g = r["discriminator_step"], r["generator_step"]
    return (blanks_of(PART, "W_g1", "novi W_g1", "new W_g1", g["new"]["W1"])
            + blanks_of(PART, "W_d1", "novi W_d1", "new W_d1", d["new"]["W1"]))


# --------------------------------------------------------------------------------------------
# The catalogue: the step by the course's formulas (numpy, the minibatch at once), and its common
# mistakes, each a step of its own.


def step(g, *, mean=True, updated=True, loss=None, d_sign=1.0, slope_grad=None, d1_transposed=False) -> dict:
    """One step: the discriminator descends ``L_D = −(1/m) Σ [ln D(x_i) + ln(1 − D(G(z_i)))]``, then
    the generator, through the updated discriminator, descends its loss (``minimax``:
    ``(1/m) Σ ln(1 − D(G(z_i)))``, ``non_saturating``: ``−(1/m) Σ ln D(G(z_i))``); plain SGD, the
    layers ``h = W x``. Returns the new ``{"W_g1", "W_d1"}``.

    The keywords take it the wrong way: sums for the means, the generator through the original
    discriminator, the other generator loss, the discriminator ascending (``d_sign = −1``),
    LeakyReLU's derivative with another slope below 0, or W_d1 not transposed in the generator's
    backward pass."""
    G1, G2 = (np.asarray(g["generator"][k], float) for k in ("W1", "W2"))
    D1, d2 = (np.asarray(g["discriminator"][k], float) for k in ("W1", "w2"))
    z, X = np.asarray(g["noise"], float), np.asarray(g["data"], float)
    lr, slope = g["learning_rate"], g["leaky_slope"]
    loss = loss or g["generator_loss"]
    slope_grad = slope if slope_grad is None else slope_grad
    c = 1 / len(z) if mean else 1.0
    sig = lambda s: 1 / (1 + np.exp(-s))  # noqa: E731
    leaky = lambda a: np.where(a > 0, a, slope * a)  # noqa: E731
    leaky_grad = lambda a: np.where(a > 0, 1.0, slope_grad)  # noqa: E731

    g1 = z[:, None] * G1[:, 0]  # (m, 2): W_g1 z_i, one row per example
    h1 = np.maximum(g1, 0)
    g2 = h1 @ G2.T
    fake = np.maximum(g2, 0)

    # The discriminator: ∂L_D/∂s = c (D(x) − 1) for a real example, c D(x̂) for a generated one.
    V = np.concatenate([X, fake])
    a = V @ D1.T
    s = leaky(a) @ d2[0]
    delta = c * (sig(s) - np.concatenate([np.ones(len(X)), np.zeros(len(fake))]))
    da = delta[:, None] * d2[0] * leaky_grad(a)
    new_D1 = D1 - lr * d_sign * (da.T @ V)
    new_d2 = d2 - lr * d_sign * (delta @ leaky(a))[None, :]

    # The generator, through the discriminator it steps through.
    E1, e2 = (new_D1, new_d2) if updated else (D1, d2)
    a = fake @ E1.T
    Dg = sig(leaky(a) @ e2[0])
    delta = c * (-Dg if loss == "minimax" else Dg - 1)
    da = delta[:, None] * e2[0] * leaky_grad(a)
    dfake = da @ (E1.T if d1_transposed else E1)
    dg1 = ((dfake * (g2 > 0)) @ G2) * (g1 > 0)
    new_G1 = G1 - lr * (dg1.T @ z)[:, None]
    return {"W_g1": new_G1, "W_d1": new_D1}


def _keyed(new: dict, which=("W_g1", "W_d1")) -> dict:
    return {k: v for name in which for k, v in values_of(name, new[name]).items()}


def correct(g) -> dict:
    return _keyed(step(g))


def _changed(g, new: dict, which=("W_g1", "W_d1")) -> dict:
    """The mistake's values, or {} where it changes no key (it does not apply to the variant)."""
    values, keys = _keyed(new, which), correct(g)
    return values if any(not np.isclose(v, keys[k], rtol=0, atol=1e-12) for k, v in values.items()) else {}


def _old_discriminator(g):
    return _changed(g, step(g, updated=False), ("W_g1",))


def _sum_not_mean(g):
    return _changed(g, step(g, mean=False))


def _other_loss(g):
    other = "non_saturating" if g["generator_loss"] == "minimax" else "minimax"
    return _changed(g, step(g, loss=other), ("W_g1",))


def _discriminator_ascends(g):
    return _changed(g, step(g, d_sign=-1.0))


def _leaky_slope_ignored(g):
    return _changed(g, step(g, slope_grad=0.0))


def _d1_not_transposed(g):
    return _changed(g, step(g, d1_transposed=True), ("W_g1",))


MISTAKES = (
    Mistake(name="old_discriminator", title=both("generator kroz stari diskriminator", "the generator through the old discriminator"),
            why=both("diskriminator se ažurira prvi, pa gradijent generatora prolazi kroz njegove nove težine",
                     "the discriminator is updated first, so the generator's gradient goes through its new weights"),
            values=_old_discriminator),
    Mistake(name="sum_not_mean", title=both("zbroj umjesto prosjeka", "a sum instead of the mean"),
            why=both("oba gubitka su prosjeci po minigrupi (1/m Σ), pa se gradijent svakog primjera dijeli s m",
                     "both losses are means over the minibatch (1/m Σ), so each example's gradient is divided by m"),
            values=_sum_not_mean),
    Mistake(name="other_generator_loss", title=both("drugi gubitak generatora", "the other generator loss"),
            why=both("minimaks gubitak ln(1 − D(G(z))) daje ∂L_G/∂s = −D/m, a nezasićujući −ln D(G(z)) daje (D − 1)/m; "
                     "zadatak kaže koji se koristi",
                     "the minimax loss ln(1 − D(G(z))) gives ∂L_G/∂s = −D/m, the non-saturating −ln D(G(z)) gives "
                     "(D − 1)/m; the question says which one is used"),
            values=_other_loss),
    Mistake(name="discriminator_ascends", title=both("diskriminator ide uzbrdo", "the discriminator ascends"),
            why=both("L_D = −(1/m) Σ [ln D(x) + ln(1 − D(G(z)))] se smanjuje: W ← W − η ∂L_D/∂W (time se "
                     "V(D, G) povećava)",
                     "L_D = −(1/m) Σ [ln D(x) + ln(1 − D(G(z)))] is descended: W ← W − η ∂L_D/∂W (which ascends V(D, G))"),
            values=_discriminator_ascends),
    Mistake(name="leaky_slope_ignored", title=both("zanemaren nagib LeakyReLU-a", "LeakyReLU's slope ignored"),
            why=both("derivacija LeakyReLU-a za negativne ulaze je nagib (0.2), a ne 0 kao kod ReLU-a",
                     "LeakyReLU's derivative below 0 is its slope (0.2), not 0 as ReLU's"),
            values=_leaky_slope_ignored),
    Mistake(name="d1_not_transposed", title=both("W_d1 umjesto W_d1ᵀ", "W_d1 instead of W_d1ᵀ"),
            why=both("a = W_d1 x̂, pa gradijent po x̂ množi ∂L/∂a s W_d1ᵀ: ∂L/∂x̂ = W_d1ᵀ ∂L/∂a",
                     "a = W_d1 x̂, so the gradient by x̂ multiplies ∂L/∂a by W_d1ᵀ: ∂L/∂x̂ = W_d1ᵀ ∂L/∂a"),
            values=_d1_not_transposed),
)

HINTS = {PART: both("Najprije korak diskriminatora: δ = (D(x_i) − 1)/m za stvarne i D(x̂_i)/m za generirane primjere, kroz "
                    "LeakyReLU′ do W_d1; zatim generator kroz ažurirani diskriminator, natrag kroz W_d1ᵀ, ReLU′ i W_g2ᵀ do "
                    "W_g1; W ← W − η ∂L/∂W.",
                    "First the discriminator's step: δ = (D(x_i) − 1)/m for the real examples and D(x̂_i)/m for the "
                    "generated ones, through LeakyReLU′ to W_d1; then the generator through the updated discriminator, "
                    "back through W_d1ᵀ, ReLU′ and W_g2ᵀ to W_g1; W ← W − η ∂L/∂W.")}

FAMILY = Family(propose=propose, screen=screen, group=lambda g: (g["leaky_slope"], g["generator_loss"]), verify=verify,
                answers=answers, blanks=blanks, correct=correct, mistakes=MISTAKES, hints=HINTS, stress_cost=9)
