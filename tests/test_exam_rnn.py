"""E5's family and restatement: the exam's own notation (multiples of ln √2, columns, the
recurrence left to the student), the row/column reading as an erratum, and the common mistakes,
each worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jaxdl import exams
from jaxdl.exams.lang import Lang
from jaxdl.exams.registry import PROBLEMS
from jaxdl.exams.rnn import family

L = math.log(2)  # = 2 ln √2


def frac(q):
    """σ(q ln 2) = 2^q / (1 + 2^q)."""
    return 2.0 ** q / (1 + 2.0 ** q)


# By hand (column vectors): h(1) = σ(W_xh x(1)) = σ([L, 0]) = [2/3, 1/2];
# a(2) = W_hh h(1) + W_xh x(2) = L [2 · 1/2, 0] + [L, L] = L [2, 1], so h(2) = [4/5, 2/3].
SMALL = {"W_hh": [[0.0, 2 * L], [0.0, 0.0]], "W_xh": [[1.0, 1.0], [0.0, 1.0]], "b_h": [0.0, 0.0], "h0": [0.0, 0.0],
         "xs": [[L, 0.0], [0.0, L]], "activation": "sigmoid"}


def _mistake(name):
    return next(m for m in family.MISTAKES if m.name == name)


def test_the_key_is_the_last_state_by_hand():
    assert family.correct(SMALL) == pytest.approx({"h_1": 4 / 5, "h_2": 2 / 3}, abs=1e-15)


@pytest.mark.parametrize("name, expected", [
    # Rows: h(1) = σ(W_xhᵀ x(1)) = σ([L, L]) = [2/3, 2/3]; a(2) = W_hhᵀ h(1) + W_xhᵀ x(2)
    # = L [0, 2 · 2/3] + [0, L] = L [0, 7/3].
    ("row_reading", [1 / 2, frac(7 / 3)]),
    # W_xh transposed alone: h(1) = [2/3, 2/3]; a(2) = L [2 · 2/3, 0] + [0, L] = L [4/3, 1].
    ("w_xh_transposed", [frac(4 / 3), 2 / 3]),
    # tanh: h(1) = tanh([L, 0]) = [3/5, 0] (tanh ln 2 = (2 − 1/2)/(2 + 1/2)); a(2) = [0, 0] + [L, L].
    ("other_function", [3 / 5, 3 / 5]),
    # W_hh h(t − 1) dropped: h(2) = σ(W_xh x(2)) = σ([L, L]).
    ("no_recurrence", [2 / 3, 2 / 3]),
    # h(1) typed for h(2).
    ("one_step", [2 / 3, 1 / 2]),
    # ln √2 read as ln 2: every multiple of it doubled: h(1) = σ([2L, 0]) = [4/5, 1/2];
    # a(2) = 2L [2 · 1/2, 0] + [2L, 2L] = L [4, 2].
    ("root_dropped", [16 / 17, 4 / 5]),
])
def test_each_mistake_by_hand(name, expected):
    values = _mistake(name).values(SMALL)
    assert [values["h_1"], values["h_2"]] == pytest.approx(expected, abs=1e-14)
    key = family.correct(SMALL)
    assert any(abs(values[k] - key[k]) > 0.01 for k in key)


def test_a_mistake_that_cannot_be_told_apart_is_not_kept():
    symmetric = {**SMALL, "W_hh": [[L, 0.0], [0.0, 2 * L]]}
    # With W_hh symmetric, W_xh transposed is the row reading's number: only the reading is named.
    assert _mistake("w_xh_transposed").values(symmetric) == {}
    assert _mistake("row_reading").values(symmetric) != {}
    one = {**SMALL, "xs": [[L, 0.0]]}
    assert _mistake("one_step").values(one) == {} and _mistake("no_recurrence").values(one) == {}


def test_the_exams_question_in_its_own_notation():
    result = exams.solve("rnn")
    (q,) = PROBLEMS["rnn"].questions(result)
    # Broke: the recurrence written out and W_hh printed as ln 2 · I; the exam leaves the recurrence to
    # the student and writes 2 ln(√2), x(2) = [0, 1.5 ln(√2)], b_h a column.
    assert "h^{(t)}" not in q.stem["en"] and "h^{(t)}" not in q.stem["hr"]
    assert "prijenosnom funkcijom" in q.stem["hr"] and "aktivacijsk" not in q.stem["hr"]
    givens = PROBLEMS["rnn"].sheet(result, None, Lang("hr"))["E5"].givens
    assert r"W_{hh} = \begin{bmatrix} 2 \ln(\sqrt{2}) & 0 \\ 0 & 2 \ln(\sqrt{2}) \end{bmatrix}" in givens
    assert r"x^{(2)} = \begin{bmatrix} 0 \\ 1.5 \ln(\sqrt{2}) \end{bmatrix}" in givens
    assert r"b_h = \begin{bmatrix} 0 \\ 0 \end{bmatrix}" in givens and r"\ln 2 \cdot" not in givens
    steps = PROBLEMS["rnn"].sheet(result, None, Lang("en"))["E5"].steps[""]
    assert "read with column vectors" in steps and "see the errata" in steps


def test_the_row_reading_is_an_erratum_with_both_readings_computed():
    result = exams.solve("rnn")
    (reading,) = [e for e in result["errata"] if e.get("assumes")]
    assert reading["problem"] == "E5" and reading["hr"]["assumes"].startswith("stupčani vektori")
    # Columns: h(1) = [4/5, 1/3], h(2) = σ(L [4/5 + 3/4, 1/3]); rows: h(1) = σ([L − L, L]) = [1/2, 2/3],
    # a(2) = L [1/2 − 3/4, 2/3]: h(2) = [σ(−L/4), σ(2L/3)].
    columns = [frac(4 / 5 + 3 / 4), frac(1 / 3)]
    rows = [frac(-1 / 4), frac(2 / 3)]
    for v in columns + rows + [4 / 5, 1 / 3, 1 / 2, 2 / 3]:
        assert f"{v:.6f}" in reading["evidence"] and f"{v:.6f}" in reading["hr"]["evidence"]
    np.testing.assert_allclose(result["h"][1], columns, atol=1e-14)
    assert family.correct(result["givens"]) == pytest.approx({"h_1": columns[0], "h_2": columns[1]}, abs=1e-14)


def test_a_variant_keys_the_asked_state_only():
    from jaxdl.exams import generate

    (r,) = generate.records("rnn", 3, 1)
    blanks = family.blanks(r)
    t = len(r["h"])
    assert [b.id for b in blanks] == ["h_1", "h_2"] and all(b.part == "E5" for b in blanks)
    assert [b.label["en"] for b in blanks] == [f"h({t})[1]", f"h({t})[2]"]
    assert "see the errata" not in PROBLEMS["rnn"].sheet(r, None, Lang("en"))["E5"].steps[""]
