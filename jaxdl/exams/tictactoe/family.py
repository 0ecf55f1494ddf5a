"""E3's variants: a target of :data:`jaxdl.models.tictactoe.TARGETS`, a scale for the hand-set
weights and a final board of a legal game, refused where the classifier is below 100 % on the
final boards or two units tie at the max; each key (the logit, σ, ∂L/∂s, ∂L/∂u) by the layers'
backward passes, against autodiff and finite differences, batched."""

from __future__ import annotations

import functools

import jax
import numpy as np

from jaxdl.check.numeric import central_differences
from jaxdl.core import serial
from jaxdl.exams.problem import Family, Rejected
from jaxdl.exams.variants import batched, blank, verified
from jaxdl.losses import binary_cross_entropy as bce
from jaxdl.models import tictactoe as ttt

SCALES = (2.0, 4.0, 10.0, 20.0)


def accuracy(target: str) -> dict:
    """The hand-set classifier's accuracy on every final board, per scale."""
    return accuracies(ttt.unit_count(target))[target]


@functools.lru_cache(maxsize=None)
def accuracies(units: int) -> dict:
    """``{target: {scale: accuracy}}`` for the targets with ``units`` units, run together (their
    parameters batched: one compiled program)."""
    same = [t for t in ttt.TARGETS if ttt.unit_count(t) == units]
    boards, _ = ttt.final_boards()
    cases = [(t, sc) for t in same for sc in SCALES]
    params = jax.tree_util.tree_map(lambda *a: np.stack([np.asarray(v) for v in a]),
                                    *[ttt.hand_set_params(t, sc) for t, sc in cases])
    probs = np.asarray(jax.jit(jax.vmap(ttt.classifier(same[0]).apply, in_axes=(0, None)))(
        params, ttt.board_images(boards)))[:, :, 0]
    out: dict = {t: {} for t in same}
    for (t, sc), p in zip(cases, probs):
        out[t][sc] = float(np.mean((p > 0.5) == final_labels(t)))
    return out


@functools.lru_cache(maxsize=None)
def final_labels(target: str) -> np.ndarray:
    """Whether each final board is in ``target``'s class (0 or 1)."""
    return ttt.truth(target, ttt.final_boards()[0])


def propose(rng):
    target = str(rng.choice(list(ttt.TARGETS)))
    scale = float(rng.choice(SCALES))
    boards, _ = ttt.final_boards()
    y = int(rng.integers(2))
    candidates = np.flatnonzero(final_labels(target) == y)
    board = boards[int(rng.choice(candidates))] if len(candidates) else boards[int(rng.integers(len(boards)))]
    return {"target": target, "scale": scale, "board": [int(v) for v in board]}


def screen(g):
    if accuracy(g["target"])[g["scale"]] < 1:
        raise Rejected("accuracy")
    units = np.sort(ttt.unit_outputs(g["target"], g["scale"], g["board"]))
    if len(units) > 1 and units[-1] == units[-2]:  # ∂L/∂u goes to the best unit: there must be one
        raise Rejected("tie")


def key_three_ways(image, y, params, target):
    """E3's key on one board: the logit s, σ(s), ∂L/∂s and ∂L/∂u (u: the fully connected layer's
    outputs, through the max) by the layers' backward passes, against autodiff and finite
    differences."""
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
        "finite differences": {"dL_ds": central_differences(of_s, s)[0, 0], "dL_du": central_differences(of_u, u[0])},
    }


def verify(givens):
    target = givens[0]["target"]  # every target of the batch has as many units: one program
    params = jax.tree_util.tree_map(lambda *a: np.stack([np.asarray(v, np.float64) for v in a]),
                                    *[ttt.hand_set_params(g["target"], g["scale"]) for g in givens])
    boards = np.array([g["board"] for g in givens])
    images = ttt.board_images(boards).astype(np.float64)
    labels = np.array([ttt.truth(g["target"], [g["board"]])[0] for g in givens], np.float64)
    answers, dis = batched(lambda im, y, p: key_three_ways(im, y, p, target), (images, labels, params))
    return verified(answers, dis, len(givens))


def answers(r):
    g = r["bce_gradient"]
    return {"s": g["s"], "probability": r["forward_example"]["probability"], "dL_ds": g["manual"], "dL_du": g["by_units"]}


def blanks(r):
    g = r["bce_gradient"]
    return [blank("E3(b)", "p", "σ(s)", "σ(s)", r["forward_example"]["probability"]),
            blank("E3(b)", "s", "s", "s", g["s"]), blank("E3(c)", "dL_ds", "∂L/∂s", "∂L/∂s", g["manual"])]


FAMILY = Family(propose=propose, screen=screen, group=lambda g: (ttt.unit_count(g["target"]),), verify=verify,
                answers=answers, blanks=blanks, stress_cost=7)
