"""Next year's exam (``jaxdl exam generate``): every family's variants verified three ways, the
draws it refuses and why, and what it writes — the same bytes for the same seed, a Moodle bank
whose answers are the verified keys, a sheet per variant."""

from __future__ import annotations

import json
import math
import os
import re
import xml.etree.ElementTree as ET
from fractions import Fraction

import numpy as np
import pytest

from jaxdl import cli, exams
from jaxdl.config import to_config
from jaxdl.exams import generate
from jaxdl.check import numeric
from jaxdl.check.numeric import NOT_RUN, tolerance
from jaxdl.exams.problem import CAUSES, Rejected, variant_id
from jaxdl.exams.registry import PROBLEMS as REGISTRY, with_family

PROBLEMS = with_family()
FAMILIES = {name: REGISTRY[name].family for name in PROBLEMS}
PAIRS = {  # the computations each family's key is checked against (beside the hand-derived one)
    "mlp": {"autodiff", "finite differences"}, "resblock": {"autodiff", "finite differences"},
    "tictactoe": {"autodiff", "finite differences"}, "gan": {"autodiff", "finite differences"},
    "quiz": {"autodiff", "finite differences", "closed form", "independent"},
    "rnn": {"closed form", "independent"}, "lstm": {"jaxdl", "flax", "PyTorch"},
}


def sigmoid(s):
    return 1 / (1 + np.exp(-s))


# ---------------------------------------------------------------------------------------------
# 200 variants per family, batched, three ways; and each key recomputed here from the formulas.


def _independent(problem: str, g: dict, a: dict) -> None:
    """The key of one variant against this test's own arithmetic (numpy, float64)."""
    if problem == "mlp":
        W, b, x, w, y = (np.asarray(g[k], float) for k in ("W", "b", "x", "w", "y"))
        h = W @ x + b
        s = w @ np.maximum(h, 0)
        ds = sigmoid(s) - y
        dh = ds * w * (h > 0)
        np.testing.assert_allclose(a["s"], s, atol=1e-12)
        np.testing.assert_allclose(a["dL_dW"], np.outer(dh, x), atol=1e-12)
        np.testing.assert_allclose(a["dL_dw"], ds * np.maximum(h, 0), atol=1e-12)
    elif problem == "resblock":
        W, b, x, dy = (np.asarray(g[k], float) for k in ("W", "b", "x", "dy"))
        h = x @ W + b
        mask = dy * (h > 0)
        np.testing.assert_allclose(a["out"], x + np.maximum(h, 0), atol=1e-12)
        np.testing.assert_allclose(a["dx"], dy + mask @ W.T, atol=1e-12)
        np.testing.assert_allclose(a["dW"], x.T @ mask, atol=1e-12)
    elif problem == "rnn":
        # Exact: every given is a whole multiple of L; σ(q ln 2) = 2^q/(1 + 2^q), tanh(q ln √2) = (2^q − 1)/(2^q + 1).
        unit = math.log(2) if g["activation"] == "sigmoid" else math.log(2) / 2
        frac = lambda v: Fraction(round(v / unit))  # noqa: E731
        W_hh = [[frac(v) for v in row] for row in g["W_hh"]]
        b = [frac(v) for v in g["b_h"]]
        h = [Fraction(0), Fraction(0)]
        for xt in g["xs"]:
            xq = [frac(v) for v in xt]
            q = [sum(W_hh[i][j] * h[j] + Fraction(g["W_xh"][i][j]) * xq[j] for j in range(2)) + b[i] for i in range(2)]
            assert all(v.denominator == 1 for v in q)
            p = [Fraction(2) ** int(v) for v in q]
            h = [pi / (1 + pi) if g["activation"] == "sigmoid" else (pi - 1) / (pi + 1) for pi in p]
        np.testing.assert_allclose(a["h"][-1], [float(v) for v in h], atol=1e-14)
    elif problem == "lstm":
        gates = {"lstm": 4, "gru": 3, "rnn": 1}[g["cell"]]
        dirs = 2 if g["bidirectional"] else 1
        H, total = g["hidden_size"], 0
        for layer in range(g["num_layers"]):
            D = g["input_size"] if layer == 0 else dirs * H
            total += dirs * gates * H * (D + H)
        assert a["one_bias"] == total + g["num_layers"] * dirs * gates * H
        assert a["two_biases"] == total + g["num_layers"] * dirs * 2 * gates * H
    elif problem == "tictactoe":
        from jaxdl.models import tictactoe as ttt

        y = int(ttt.truth(g["target"], [g["board"]])[0])
        assert (a["probability"] > 0.5) == bool(y)  # the hand-set model is right on this board
        np.testing.assert_allclose(a["dL_ds"], sigmoid(a["s"]) - y, atol=1e-12)
        du = np.asarray(a["dL_du"])
        assert np.count_nonzero(du) == 1 and du.sum() == pytest.approx(a["dL_ds"], abs=1e-15)
    elif problem == "quiz":
        k, image = g["q2"]["K"], np.asarray(g["q2"]["x"], float)[0]
        c, h, w = image.shape
        windows = image[:, : h // k * k, : w // k * k].reshape(c, h // k, k, w // k, k).mean(axis=(2, 4))
        np.testing.assert_allclose(a["q2"], windows, atol=1e-12)
        x3, W3, b3 = np.asarray(g["q3"]["x"], float)[0], np.asarray(g["q3"]["W"]), np.asarray(g["q3"]["b"])
        half = x3.shape[0] // 2
        y2 = x3[half:] + np.einsum("oi,ihw->ohw", W3, np.maximum(x3[:half], 0)) + b3[:, None, None]
        np.testing.assert_allclose(a["q3"], np.concatenate([x3[:half], y2]), atol=1e-12)
        X, A, bq = np.asarray(g["q1"]["x"]), np.asarray(g["q1"]["A"]), g["q1"]["b"]
        dY = np.asarray(g["q1"]["dy"])
        np.testing.assert_allclose(a["q1a_dx"], 2 * X * (dY @ A) + bq * dY, atol=1e-12)
    elif problem == "gan":
        from jaxdl.exams.gan.compute import by_hand

        hand = by_hand({"generator": g["generator"], "discriminator": g["discriminator"]},
                       np.asarray(g["noise"])[:, None], np.asarray(g["data"]), g["learning_rate"],
                       g["leaky_slope"], g["generator_loss"])
        np.testing.assert_allclose(a["new_d_W1"], hand["new"]["discriminator"]["W1"], atol=1e-12)
        np.testing.assert_allclose(a["new_g_W2"], hand["new"]["generator"]["W2"], atol=1e-12)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_200_variants_of_every_family_agree_three_ways(problem):
    drawn = generate.draw(problem, seed=11, count=200)
    assert len({json.dumps(g, sort_keys=True) for g in drawn.givens}) == 200  # no duplicates
    # The seed exam's own givens ride in the same batch: its key must be `jaxdl exam PROBLEM`'s
    # answers (the existing answers are the generator's special case, not a second code path).
    exam = exams.solve(problem)
    answers, disagreement = generate.verify(problem, [exam["givens"], *drawn.givens])
    assert set(disagreement) == PAIRS[problem]
    for pair, values in disagreement.items():
        ran = values[values != NOT_RUN]
        assert len(ran) > 0 and np.all(ran <= tolerance(pair, FAMILIES[problem].dtype)), (pair, float(np.max(values)))
    for name, value in FAMILIES[problem].answers(exam).items():
        np.testing.assert_array_equal(np.asarray(answers[0][name], float), np.asarray(value, float), err_msg=name)
    for g, a in zip(drawn.givens, answers[1:]):
        assert all(np.all(np.isfinite(np.asarray(v, float))) for v in a.values())
        FAMILIES[problem].screen(g)  # every published variant passes the screen it was drawn through
    for g, a in list(zip(drawn.givens, answers[1:]))[:40]:
        _independent(problem, g, a)


def test_a_variant_does_not_depend_on_how_many_are_drawn():
    assert generate.draw("gan", 4, 3).givens[:2] == generate.draw("gan", 4, 2).givens


# ---------------------------------------------------------------------------------------------
# Refused draws, one per cause.


def _cause(problem, givens):
    with pytest.raises(Rejected) as info:
        FAMILIES[problem].screen(givens)
    return info.value.cause


def test_a_zero_pre_activation_is_refused_only_where_the_derivative_at_zero_changes_an_answer():
    # h = W x + b = [1 − 1, 0.5 + 2] = [0, 2.5] and w_1 ≠ 0: ∂L/∂h_1 is 0 or ∂L/∂s · w_1 by convention.
    mlp = {"W": [[1.0, 0.0], [0.5, 1.0]], "b": [-1.0, 0.0], "x": [1.0, 2.0], "w": [1.0, 1.0], "y": 1}
    assert _cause("mlp", mlp) == "kink"
    res = {"W": [[1.0, 0.0], [0.0, 1.0]], "b": [-1.0, 1.0], "x": [[1.0, 1.0]], "dy": [[1.0, 1.0]]}  # H_11 = 0
    assert _cause("resblock", res) == "kink"
    # The exam's GAN has a noise z = 0 (so g1 = 0) and a data point [0, 0] (so a1 = 0): the
    # conventions give the same step there (a zero input multiplies every gradient it feeds).
    seed = exams.solve("gan")["givens"]
    FAMILIES["gan"].screen(seed)
    # The discriminator's first unit exactly at 0 on the real point [1, 1] (W1 row [0.5, −0.5]): its
    # gradient there is the slope or 1 by convention, and the point is not 0: refused.
    kinked = json.loads(json.dumps(seed))
    kinked["discriminator"]["W1"][0] = [0.5, -0.5]
    kinked["data"] = [[1.0, 1.0], [1.0, 2.0], [2.0, 2.0]]
    assert _cause("gan", kinked) == "kink"


def test_dead_units_saturated_sigmoids_ties_digits_and_accuracy_are_refused():
    dead = {"W": [[-1.0, 0.0], [0.0, -1.0]], "b": [0.0, 0.0], "x": [1.0, 1.0], "w": [1.0, 1.0], "y": 1}
    assert _cause("mlp", dead) == "dead"  # every unit inactive: ∂L/∂W = 0
    column = {"W": [[1.0, -1.0], [0.0, -1.0]], "b": [0.5, -0.5], "x": [[1.0, 1.0], [2.0, 0.0]], "dy": [[1.0, 1.0], [1.0, 1.0]]}
    assert _cause("resblock", column) == "dead"  # H[:, 1] = [−2.5, −2.5]: its ∂L/∂W column is 0
    saturated = {"W": [[2.0, 2.0], [-1.0, -1.0]], "b": [0.0, 0.0], "x": [2.0, 2.0], "w": [1.0, 1.0], "y": 1}
    # h = [8, −4], s = 8: σ(s) = 0.99966, beyond 0.999
    assert _cause("mlp", saturated) == "saturated"
    digits = {"W": [[1.0, 0.0], [0.5, 1.0]], "b": [0.125, 0.0], "x": [1.0, 2.0], "w": [1.0, 1.0], "y": 1}
    assert _cause("mlp", digits) == "digits"  # h_1 = 1.125: three decimals
    # E5: the exam's own givens give h(2) = 2^1.55/(1 + 2^1.55), not a fraction.
    assert _cause("rnn", exams.solve("rnn")["givens"]) == "digits"
    # E3: X holds row 1 and column 1 (X X X / X O O / X O O, X's last move in the corner): two units at the max.
    tie = {"target": "x_wins", "scale": 20.0, "board": [1, 1, 1, 1, -1, -1, 1, -1, -1]}
    from jaxdl.models import tictactoe as ttt

    assert any(np.array_equal(b, tie["board"]) for b in ttt.final_boards()[0])
    assert _cause("tictactoe", tie) == "tie"
    # A draw needs every line mixed, which the max over units cannot say: 93.5 % on the final boards.
    assert _cause("tictactoe", {"target": "draw", "scale": 20.0, "board": tie["board"]}) == "accuracy"
    quiz = exams.solve("quiz")["givens"]
    quiz["q3"]["x"] = [[[[-1.0, -2.0]], [[-0.5, -1.0]], [[2.0, 0.0]], [[-1.0, 1.5]]]]  # ReLU(x1) = 0
    assert _cause("quiz", quiz) == "dead"


def test_duplicates_are_refused_and_counted(monkeypatch):
    import dataclasses

    same = {"W": [[1.0, 2.0]], "b": [0.5], "x": [1.0, 1.0], "w": [1.0], "y": 1}
    family = dataclasses.replace(FAMILIES["mlp"], propose=lambda rng: same)
    monkeypatch.setitem(REGISTRY, "mlp", dataclasses.replace(REGISTRY["mlp"], family=family))
    one = generate.draw("mlp", 0, 1)
    assert one.givens == [same] and one.causes == {}
    with pytest.raises(generate.KeyDisagreement, match=r"mlp: seed 0, variant 1: no acceptable draw .*duplicate"):
        generate.draw("mlp", 0, 2)


def test_every_cause_is_seen_when_drawing():
    causes = {}
    for problem in PROBLEMS:
        for cause, n in generate.draw(problem, 2, 150).causes.items():
            causes[cause] = causes.get(cause, 0) + n
    assert set(causes) == set(CAUSES) and all(causes.values())
    rows = [generate.StressRow(p, 150, 0, {c: 1}, {"autodiff": 0.0}, 1.0, 0.5) for p, c in zip(PROBLEMS, CAUSES)]
    report = generate.stress_report(rows)
    assert all(r.problem in report for r in rows) and "refused draws: kink:" in report


# ---------------------------------------------------------------------------------------------
# What it writes.


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("variants")
    bank = out / "bank.xml"
    assert cli.main(["exam", "generate", "all", "--seed", "5", "--count", "1", "--out", str(out / "a"),
                     "--moodle", str(bank), "--lang", "hr"]) == 0
    return out / "a", bank


def test_records_are_the_exam_json_plus_problem_variant_seed(generated):
    out, _ = generated
    records = json.loads((out / "variants.json").read_text(encoding="utf-8"))
    assert [(r["problem"], r["variant"]) for r in records] == [(p, 0) for p in PROBLEMS]
    for problem in PROBLEMS:
        exam_keys = set(exams.solve(problem))
        for r in records:
            if r["problem"] == problem:
                assert set(r) == exam_keys | {"problem", "variant", "seed"} and r["seed"] == 5
                assert r["errata"] == []  # a variant has no official solution to correct
                # `givens` carries exactly the config's fields: solving them again gives the record.
                again = json.loads(json.dumps(exams.solve_config(problem, to_config(r["givens"]))))
                del again["errata"]
                assert again == {k: v for k, v in r.items() if k not in ("problem", "variant", "seed", "errata")}


def test_the_same_seed_writes_the_same_bytes(generated, tmp_path):
    out, bank = generated
    again = tmp_path / "b"
    assert cli.main(["exam", "generate", "all", "--seed", "5", "--count", "1", "--out", str(again),
                     "--moodle", str(tmp_path / "bank.xml"), "--lang", "hr"]) == 0
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert len(files) == 1 + 7 * 2 * 2  # variants.json, and per variant two editions as md and html
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for f in files:
        assert (out / f).read_bytes() == (again / f).read_bytes(), f
    assert bank.read_bytes() == (tmp_path / "bank.xml").read_bytes()
    other = tmp_path / "c"
    assert cli.main(["exam", "generate", "mlp", "--seed", "6", "--count", "2", "--out", str(other)]) == 0
    first = json.loads((out / "variants.json").read_text())[0]["givens"]
    assert json.loads((other / "variants.json").read_text())[0]["givens"] != first


_BLANK = re.compile(r"\{(\d+):NUMERICAL:=([^:{}#~]+):([^:{}#~]+)")


def _expected_answers(r: dict) -> list[float]:
    """The numbers a variant's question must ask for: its blanks' keys, each equal to the numpy
    catalogue's computation of it (a computation apart from the one the record holds)."""
    family = FAMILIES[r["problem"]]
    keys = family.correct(r["givens"])
    out = []
    for b in family.blanks(r):
        assert b.value == pytest.approx(keys[b.id], rel=1e-9, abs=1e-12), b.id
        # A count is exact; any other number within 0.01 or 1 %, whichever is larger.
        assert b.tolerance in (0.0, pytest.approx(max(0.01, 0.01 * abs(b.value)))), b.id
        out.append((b.value, b.tolerance))
    return out


def test_the_moodle_bank_holds_the_verified_keys(generated):
    out, bank = generated
    records = json.loads((out / "variants.json").read_text(encoding="utf-8"))
    root = ET.fromstring(bank.read_text(encoding="utf-8"))
    questions = root.findall("question")
    categories = [q.find("category/text").text for q in questions if q.get("type") == "category"]
    assert categories == [f"$course$/top/jaxdl/{p}" for p in PROBLEMS]
    cloze = [q for q in questions if q.get("type") == "cloze"]
    assert len(cloze) == len(records)
    by_id = {q.find("idnumber").text: q for q in cloze}
    for r in records:
        q = by_id[f"jaxdl-{r['problem']}-{variant_id(r)}"]
        text = q.find("questiontext/text").text
        assert "Zadano" in text and "$" not in text.replace("$course$", "")  # Croatian; TeX as \( \) for MathJax
        blanks = [(float(v), float(t)) for _, v, t in _BLANK.findall(text)]
        expected = _expected_answers(r)
        assert len(blanks) == len(expected)
        for (value, tol), (want, want_tol) in zip(blanks, expected):
            assert value == pytest.approx(want, rel=1e-9, abs=1e-12)
            assert tol == pytest.approx(want_tol)


def test_every_familys_variant_sheet(generated):
    out, _ = generated
    records = json.loads((out / "variants.json").read_text(encoding="utf-8"))
    from jaxdl.exams import sheet

    for r in records:
        if r["variant"]:
            continue
        base = out / r["problem"] / f"{r['problem']}-000"
        teachers = (base.parent / (base.name + "-teachers.md")).read_text(encoding="utf-8")
        students = (base.parent / (base.name + "-students.md")).read_text(encoding="utf-8")
        # The seed is the key's secret: the teaching assistants' sheet names it, the students' does not.
        assert f"izvučeno za inačicu {variant_id(r)}; sjeme 5, redni broj 0" in teachers
        assert f"izvučeno za inačicu {variant_id(r)})" in students and "sjeme" not in students
        assert "### Rješenje" in teachers and "### Rješenje" not in students and "Prostor za rješavanje" in students
        for finals in sheet.finals({r["problem"]: r}, [r["problem"]], "hr").values():
            for v in finals:
                assert v in teachers
        html = (base.parent / (base.name + "-teachers.html")).read_text(encoding="utf-8")
        assert html.startswith("<!doctype html>") and "<math" in html and "$" not in html.split("<body>")[1]


def test_a_pdf_per_sheet_the_same_for_the_same_seed(tmp_path):
    from jaxdl.render import browser

    if browser() is None:
        pytest.skip("no Chromium here (CI installs it)")
    for name in ("a", "b"):
        assert cli.main(["exam", "generate", "lstm", "--count", "1", "--out", str(tmp_path / name), "--pdf"]) == 0
    pdf = "lstm/lstm-000-students.pdf"
    assert (tmp_path / "a" / pdf).read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "a" / pdf).read_bytes() == (tmp_path / "b" / pdf).read_bytes()


# ---------------------------------------------------------------------------------------------
# The command line.


@pytest.mark.parametrize("argv, message", [
    (["nosuch", "--out", "{d}/o"], "unknown problem 'nosuch'"),
    (["mlp", "--count", "0", "--out", "{d}/o"], "--count: expected an integer >= 1; got 0"),
    (["mlp", "--seed", "abc", "--out", "{d}/o"], "--seed expects an integer ≥ 0; got 'abc'"),
    (["mlp", "--seed", "-1", "--out", "{d}/o"], "--seed expects an integer ≥ 0; got -1"),
    (["mlp", "--out", "{d}/file"], "is a file; expected a folder"),
    (["mlp"], "expected --out DIR, --practice FILE or --stress N"),
    (["mlp", "--stress", "5", "--out", "{d}/o"], "--stress: writes nothing; drop --out"),
])
def test_bad_input_is_one_line_exit_2_before_any_work(argv, message, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    argv = [a.replace("{d}", str(tmp_path)) for a in argv]
    assert cli.main(["exam", "generate", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_a_key_the_computations_disagree_on_is_never_published(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(numeric.TOLERANCES["float64"], "finite differences", 0.0)  # finite differences are never exact
    assert cli.main(["exam", "generate", "resblock", "--seed", "3", "--count", "2", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert re.search(r"FAILED: resblock: seed 3, variant \d+: the hand-derived computation and the finite differences "
                     r"differ by", err)
    assert not (tmp_path / "o" / "variants.json").exists()


def test_the_stress_command_reports_causes_and_differences(capsys):
    assert cli.main(["exam", "generate", "rnn", "--stress", "40", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("rnn "))
    assert row.split()[1] == "40" and "closed form" in row
    assert "40 variants of each of 1 problem drawn and verified in" in out
