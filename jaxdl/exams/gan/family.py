"""E6's variants: a GAN of the exam's shape (2 hidden units, noise of size 1, data of size 2) with
weights, noise and data in halves, refused where a unit is dead for the whole minibatch, a
sigmoid saturates, the derivative's value at a kink would change the step, or the working needs
too many digits; each step verified against autodiff and finite differences, batched."""

from __future__ import annotations

import jax
import numpy as np
import optax

from jaxdl.check.numeric import central_differences
from jaxdl.exams.gan.compute import by_hand
from jaxdl.exams.problem import Family, Rejected, Verified
from jaxdl.exams.variants import batched, blanks_of, few_digits, pick, split, stack
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


def blanks(r):
    d, g = r["discriminator_step"], r["generator_step"]
    part = "E6(c)"
    return (blanks_of(part, "d_W1", "novi W1 diskriminatora", "D's new W1", d["new"]["W1"])
            + blanks_of(part, "d_w2", "novi w2 diskriminatora", "D's new w2", d["new"]["w2"])
            + blanks_of(part, "g_W1", "novi W1 generatora", "G's new W1", g["new"]["W1"])
            + blanks_of(part, "g_W2", "novi W2 generatora", "G's new W2", g["new"]["W2"]))


FAMILY = Family(propose=propose, screen=screen, group=lambda g: (g["leaky_slope"], g["generator_loss"]), verify=verify,
                answers=answers, blanks=blanks, stress_cost=9)
