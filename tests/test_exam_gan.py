"""E6's family: (c) keyed on the two h1 layers the exam asks for, its readings stated in a variant
and named as errata on the exam's, the points split and said to be jaxdl's, and the common
mistakes each against this test's own per-example step."""

from __future__ import annotations

import numpy as np
import pytest

from jaxdl import exams
from jaxdl.exams.gan import family
from jaxdl.exams.lang import Lang
from jaxdl.exams.registry import PROBLEMS


def sigmoid(s):
    return 1 / (1 + np.exp(-s))


def step_by_example(g, mean=True, updated=True, loss=None, ascend=False, slope_grad=None, transposed=False):
    """One step worked example by example (float64), independent of jaxdl: the new (W_g1, W_d1)."""
    G1, G2 = np.asarray(g["generator"]["W1"], float), np.asarray(g["generator"]["W2"], float)
    D1, d2 = np.asarray(g["discriminator"]["W1"], float), np.asarray(g["discriminator"]["w2"], float)[0]
    z, X, lr, a = np.asarray(g["noise"], float), np.asarray(g["data"], float), g["learning_rate"], g["leaky_slope"]
    loss = loss or g["generator_loss"]
    slope_grad = a if slope_grad is None else slope_grad
    c = 1 / len(z) if mean else 1
    leaky = lambda v: np.where(v > 0, v, a * v)  # noqa: E731
    dleaky = lambda v: np.where(v > 0, 1.0, slope_grad)  # noqa: E731
    fakes = [np.maximum(G2 @ np.maximum(G1[:, 0] * zi, 0), 0) for zi in z]
    gD1, gd2 = np.zeros_like(D1), np.zeros_like(d2)
    for v, target in [(x, 1) for x in X] + [(f, 0) for f in fakes]:
        pre = D1 @ v
        delta = c * (sigmoid(d2 @ leaky(pre)) - target)
        gd2 += delta * leaky(pre)
        gD1 += np.outer(delta * d2 * dleaky(pre), v)
    sign = -1 if ascend else 1
    D1n, d2n = D1 - sign * lr * gD1, d2 - sign * lr * gd2
    E1, e2 = (D1n, d2n) if updated else (D1, d2)
    gG1 = np.zeros(2)
    for zi, f in zip(z, fakes):
        g1 = G1[:, 0] * zi
        g2 = G2 @ np.maximum(g1, 0)
        pre = E1 @ f
        D = sigmoid(e2 @ leaky(pre))
        delta = c * (-D if loss == "minimax" else D - 1)
        back = delta * e2 * dleaky(pre)
        dx = (E1 if transposed else E1.T) @ back
        gG1 += ((G2.T @ (dx * (g2 > 0))) * (g1 > 0)) * zi
    return G1[:, 0] - lr * gG1, D1n


def _values(wg1, wd1):
    return {"W_g1_1_1": wg1[0], "W_g1_2_1": wg1[1], "W_d1_1_1": wd1[0, 0], "W_d1_1_2": wd1[0, 1],
            "W_d1_2_1": wd1[1, 0], "W_d1_2_2": wd1[1, 1]}


EXAM = exams.solve("gan")["givens"]


def test_the_keys_on_the_exams_numbers():
    # The exam's step (mean over the minibatch, G through the updated D), also from an independent
    # examiner's script: W_g1 = [0.587311, −1.030661], W_d1 = [[1.366227, −0.129003], [−1.211499, 0.808296]].
    keys = family.correct(EXAM)
    assert keys == pytest.approx(_values(*step_by_example(EXAM)), abs=1e-12)
    assert [keys["W_g1_1_1"], keys["W_g1_2_1"]] == pytest.approx([0.587311, -1.030661], abs=1e-6)
    assert [keys["W_d1_1_1"], keys["W_d1_1_2"], keys["W_d1_2_1"], keys["W_d1_2_2"]] == pytest.approx(
        [1.366227, -0.129003, -1.211499, 0.808296], abs=1e-6)


def _mistake(name):
    return next(m for m in family.MISTAKES if m.name == name)


@pytest.mark.parametrize("name, options, which", [
    ("old_discriminator", {"updated": False}, "g"),
    ("sum_not_mean", {"mean": False}, "gd"),
    ("other_generator_loss", {"loss": "non_saturating"}, "g"),
    ("discriminator_ascends", {"ascend": True}, "gd"),
    ("leaky_slope_ignored", {"slope_grad": 0.0}, "gd"),
    ("d1_not_transposed", {"transposed": True}, "g"),
])
def test_each_mistake_against_the_per_example_step(name, options, which):
    values = _mistake(name).values(EXAM)
    expected = _values(*step_by_example(EXAM, **options))
    keys = family.correct(EXAM)
    wanted = {k for k in expected if ("g" in which and k.startswith("W_g1")) or ("d" in which and k.startswith("W_d1"))}
    assert set(values) == wanted
    assert values == pytest.approx({k: expected[k] for k in wanted}, abs=1e-12)
    assert any(abs(values[k] - keys[k]) > 1e-6 for k in values)  # (whether a student's typing tells it: screened)


def test_two_mistakes_by_hand_on_the_discriminator():
    # The discriminator's step alone, by hand from the key: with the sum, its gradient is m = 3 times the
    # mean's, W_d1 − 3 (W_d1 − W_d1'); ascending, W_d1 + (W_d1 − W_d1') = 2 W_d1 − W_d1'.
    D1 = np.asarray(EXAM["discriminator"]["W1"], float)
    key = np.array([[1.366227, -0.129003], [-1.211499, 0.808296]])
    summed, ascends = _mistake("sum_not_mean").values(EXAM), _mistake("discriminator_ascends").values(EXAM)
    for (i, j) in np.ndindex(2, 2):
        assert summed[f"W_d1_{i + 1}_{j + 1}"] == pytest.approx(D1[i, j] - 3 * (D1[i, j] - key[i, j]), abs=1e-5)
        assert ascends[f"W_d1_{i + 1}_{j + 1}"] == pytest.approx(2 * D1[i, j] - key[i, j], abs=1e-6)
    # The examiner's sum reading: W_g1 = [1.338, −1.926297], W_d1 = [[2.098681, 0.612992], [−2.634498, −0.575111]].
    assert [summed["W_g1_1_1"], summed["W_g1_2_1"]] == pytest.approx([1.338, -1.926297], abs=1e-6)
    # … and the original-discriminator reading: W_g1 = [0.508437, −0.918277].
    old = _mistake("old_discriminator").values(EXAM)
    assert [old["W_g1_1_1"], old["W_g1_2_1"]] == pytest.approx([0.508437, -0.918277], abs=1e-6)


def test_leakys_slope_is_not_told_where_no_pre_activation_is_negative():
    # Data and generated points in the positive quadrant, W_d1 ≥ 0: every pre-activation of D is > 0, so
    # LeakyReLU′ is 1 everywhere and its slope cannot show.
    g = {**EXAM, "discriminator": {"W1": [[1.0, 0.5], [0.5, 1.0]], "w2": [[0.5, -1.0]]},
         "generator": {"W1": [[0.5], [1.0]], "W2": [[1.0, 0.5], [0.5, 1.0]]}, "noise": [0.5, 1.0, 1.5],
         "data": [[1.0, 1.0], [1.0, 2.0], [2.0, 1.0]]}
    assert _mistake("leaky_slope_ignored").values(g) == {}


def test_the_readings_are_errata_and_a_variant_states_them():
    result = exams.solve("gan")
    readings = [e for e in result["errata"] if e.get("assumes")]
    assert [e["problem"] for e in readings] == ["E6 (c)", "E6 (c)"]
    assert "1.338000" in readings[0]["evidence"] and "0.508437" in readings[1]["evidence"]
    assert all(e["hr"]["assumes"] for e in readings)
    (q,) = PROBLEMS["gan"].questions(result)
    assert [p.points for p in q.parts] == [2, 2, 6] and "jaxdl's" in q.stem["en"]
    assert "jaxdl" not in q.stem["hr"] and "podjela 2 + 2 + 6" in q.stem["hr"]
    assert "means over the minibatch" not in q.parts[2].text["en"]  # the exam's own question, as asked
    steps = PROBLEMS["gan"].sheet(result, None, Lang("en"))["E6"].steps["c"]
    assert "jaxdl's reading" in steps
    variant = {"problem": "gan", "variant": 0, "seed": 1, **result}
    (qv,) = PROBLEMS["gan"].questions(variant)
    assert "both losses are means over the minibatch" in qv.parts[2].text["en"]
    assert "oba gubitka su prosjeci po minigrupi" in qv.parts[2].text["hr"]
    # The blanks: the h1 layers the exam asks for (2 + 4 numbers for (c)'s 6 points), no w_d2, W_g2.
    assert [b.id for b in family.blanks(variant)] == list(_values(np.zeros(2), np.zeros((2, 2))))
