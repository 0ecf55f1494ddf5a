"""E1's family: each common mistake on the sheet's numbers worked by hand, the printed parts that
ask for every number a blank keys (within the exam's points), the backward equations written
elementwise with their operation count checked, the graphs drawn in each language, the
restatement, and the new errata (the redundant diag product, the two readings of (a))."""

import math

import numpy as np
import pytest

from jaxdl import exams
from jaxdl.exams import generate
from jaxdl.exams.lang import Lang
from jaxdl.exams.mlp import errata as mlp_errata
from jaxdl.exams.mlp import family, figures, text

# configs/exam_mlp.py: h = W x + b = [1 − 4 + 0.5, 0.5 + 2 − 1, −1 + 1 + 0.25] = [−2.5, 1.5, 0.25],
# h' = [0, 1.5, 0.25], s = wᵀh' = −1.5 + 0.5 = −1, y = 1.
GIVENS = {"W": [[1.0, -2.0], [0.5, 1.0], [-1.0, 0.5]], "b": [0.5, -1.0, 0.25], "x": [1.0, 2.0], "w": [1.0, -1.0, 2.0],
          "y": 1}
DS = 1 / (1 + math.e) - 1  # ∂L/∂s = σ(−1) − 1 ≈ −0.7311


def _by_name():
    return {m.name: m.values(GIVENS) for m in family.MISTAKES}


def test_the_keys_by_hand():
    keys = family.correct(GIVENS)
    e = family.entries(GIVENS)
    # (a) mn = 6 multiplications; (c) m² − m = 6 entries of ∂h'/∂h always 0.
    assert keys["mults"] == 6 and keys["zeros"] == 6
    # (b) ∂h_i/∂x_j = W_ij where Wᵀ differs: W_12 = −2 against W_21 = 0.5; ∂h_1/∂W_21 = 0 (k ≠ i).
    assert e["dh_dx"] == (0, 1) and keys["dh_dx"] == -2.0
    assert e["dh_dW"] == (0, 1, 1) and keys["dh_dW"] == 0.0
    # (d) ∂L/∂s; ∂L/∂h = ∂L/∂s w ⊙ [h > 0] = [0, 0.7311, −1.4621]: ∂L/∂b is named at the dead unit 1
    # (key 0), where ReLU's forgotten derivative shows.
    assert keys["dL_ds"] == pytest.approx(DS)
    assert e["db"] == 0 and keys["dL_db_1"] == 0.0
    i = e["dw"]
    assert keys[f"dL_dw_{i + 1}"] == pytest.approx(DS * [0.0, 1.5, 0.25][i])
    k, l = e["dW"]
    assert keys[f"dL_dW_{k + 1}_{l + 1}"] == pytest.approx([0.0, -DS, 2 * DS][k] * [1.0, 2.0][l])


def test_each_mistake_by_hand():
    keys = family.correct(GIVENS)
    by = _by_name()
    e = family.entries(GIVENS)
    # (a) counting the 3 dot products, not the 6 scalar multiplications.
    assert by["dot_products"] == {"mults": 3.0}
    # (b) W_21 = 0.5 for W_12; x_2 = 2 for ∂h_1/∂W_22's 0 (the condition k = i forgotten).
    assert by["dh_dx_transposed"] == {"dh_dx": 0.5} and by["indicator_forgotten"] == {"dh_dW": 2.0}
    # (c) the zeros on these givens: the 6 off the diagonal and h_1 = −2.5 ≤ 0's, 7.
    assert by["zeros_on_givens"] == {"zeros": 7.0}
    # (d) the official swap: ∂L/∂w = ∂L/∂s w = [−0.7311, 0.7311, −1.4621].
    i = e["dw"]
    assert by["swapped"][f"dL_dw_{i + 1}"] == pytest.approx(DS * [1.0, -1.0, 2.0][i])
    # The sign of σ(s) − y turned: +0.7311, and every gradient after it negated.
    assert by["sign"]["dL_ds"] == pytest.approx(-DS) and by["sign"][f"dL_dw_{i + 1}"] == pytest.approx(-keys[f"dL_dw_{i + 1}"])
    # ReLU's derivative forgotten: ∂L/∂b_1 = ∂L/∂h'_1 = ∂L/∂s · w_1 = −0.7311 for the key 0.
    assert by["mask_forgotten"]["dL_db_1"] == pytest.approx(DS)
    # ∂L/∂W transposed: x ∂L/∂hᵀ read at (k, l) = x_k ∂L/∂h_l.
    k, l = e["dW"]
    dh = [0.0, -DS, 2 * DS]
    assert by["dw_transposed"][f"dL_dW_{k + 1}_{l + 1}"] == pytest.approx([1.0, 2.0][k] * dh[l])
    for name, found in by.items():
        assert found and any(abs(v - keys[b]) > 0.01 for b, v in found.items()), name


def test_the_backward_equations_are_elementwise_and_counted():
    r = exams.solve("mlp")
    # m = 3, n = 2: ∂L/∂w, ∂L/∂h', ∂L/∂h m multiplications each, ∂L/∂W mn: 3 + 3 + 3 + 6 = 15; the one
    # addition is σ(s) − y.
    assert r["backward_op_counts"]["multiplications"] == 15 and r["backward_op_counts"]["additions"] == 1
    assert r["backward_op_counts"]["agree"] and r["ok"]
    for lang in ("hr", "en"):
        body = text.sheet(r, None, Lang(lang))["E1"]
        assert r"\odot [h > 0]" in body.answers["d"] and "diag" not in body.answers["d"]
        assert "15" in body.steps["d"]
    # The official diag(sgn(h')) form: 3 + 3 + 9 + 6 = 21 multiplications, 1 + 6 = 7 additions.
    work = mlp_errata.redundant_work(r)
    assert (work["official"]["multiplications"], work["official"]["additions"]) == (21, 7)
    assert work["diff"] == 0.0


def test_the_graphs_are_drawn_in_each_language(tmp_path):
    r = exams.solve("mlp")
    drawn, warnings = figures.figures(r, str(tmp_path), Lang("hr"))
    # Broke before: the Croatian sheet's backward graph said "elementwise × [h > 0]".
    assert not warnings and drawn["e1_backward"].endswith("e1_backward_hr.svg")
    dot = (tmp_path / "e1_backward_hr.dot").read_text(encoding="utf-8")
    assert "po elementima" in dot and "elementwise" not in dot and "E1 unatražni prolaz" in dot
    drawn, _ = figures.figures(r, str(tmp_path), Lang("en"))
    assert drawn["e1_backward"].endswith("e1_backward.svg")
    assert "elementwise × [h > 0]" in (tmp_path / "e1_backward.dot").read_text(encoding="utf-8")


def test_the_restatement_follows_the_exam():
    q = text.QUESTIONS[0]
    parts = {p.id: p for p in q.parts}
    # (c) asks for the shapes of "tensors", as the exam does (not "vector", "matrix", "gradient").
    assert "tenzora" in parts["c"].text["hr"] and "vektora" not in parts["c"].text["hr"]
    assert "tensors" in parts["c"].text["en"]
    # The exam's unfinished template, with its given ∂L/∂b = ∂L/∂h; the loss with Iverson brackets.
    for lang in ("hr", "en"):
        assert r"\frac{\partial L}{\partial \mathbf{b}} = \frac{\partial L}{\partial \mathbf{h}}" in q.stem[lang]
        assert "[y = 1]" in q.stem[lang] and "[y = 0]" in q.stem[lang]
        assert r"(\mathbf{h}, +)" in parts["e"].text[lang]
    assert "redundantnih" in parts["d"].text["hr"]


@pytest.fixture(scope="module")
def variants():
    return generate.records("mlp", 7, 8)


def test_every_blank_is_asked_for_by_its_printed_part(variants):
    # Broke before: up to 17 blanks (s, L, ∂L/∂w, ∂L/∂b, ∂L/∂W …) all under E1(d), which asked for none.
    plain = {p.id: p for p in text.QUESTIONS[0].parts}
    for r in variants:
        (q,) = text.questions(r)
        parts = {f"E1({p.id})": p for p in q.parts}
        blanks = family.FAMILY.blanks(r)
        counts = {key: sum(b.part == key for b in blanks) for key in parts}
        assert counts == {"E1(a)": 1, "E1(b)": 2, "E1(c)": 1, "E1(d)": 4, "E1(e)": 0}
        for b in blanks:
            part = parts[b.part]
            assert part.text["en"] != plain[b.part[3]].text["en"] and part.text["hr"] != plain[b.part[3]].text["hr"]
        e = family.entries(r["givens"])
        (i, j), (i2, k, l) = e["dh_dx"], e["dh_dW"]
        assert rf"\partial x_{{{j + 1}}}" in parts["E1(b)"].text["en"] and rf"\partial W_{{{k + 1}{l + 1}}}" in parts["E1(b)"].text["en"]
        kw, lw = e["dW"]
        assert rf"(\partial L / \partial \mathbf{{W}})_{{{kw + 1}{lw + 1}}}" in parts["E1(d)"].text["en"]
        assert rf"(\partial L / \partial \mathbf{{w}})_{{{e['dw'] + 1}}}" in parts["E1(d)"].text["hr"]
        assert k != i2 or len(r["givens"]["b"]) == 1


def test_the_new_errata():
    r = exams.solve("mlp")
    errata = mlp_errata.errata(r)
    by = {}
    for e in errata:
        by.setdefault(e["problem"], []).append(e)
    reading = next(e for e in by["E1(a)"] if e.get("assumes"))
    # Read as dot products: m = 3 of length n = 2, and m = 3 additions of b.
    assert reading["kind"] == "reading" and "3 dot products of length 2" in reading["evidence"]
    assert "3 skalarna produkta duljine 2" in reading["hr"]["evidence"]
    diag = next(e for e in by["E1(d)"] if e["kind"] == "slip")
    assert "21 multiplications and 7 additions" in diag["evidence"] and "take 15 and 1" in diag["evidence"]
    assert "21 množenje i 7 zbrajanja" in diag["hr"]["evidence"] and diag["assumes"]
    np.testing.assert_equal(len(errata), 6)
