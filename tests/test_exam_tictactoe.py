"""E3's family: keys that every correct design shares (the board's class; ∂L/∂s = σ(s) − y at a logit
the part states), the restatement as the exam asks (count the games; gradients, plural; the lost
figure said so), the Croatian counts, and the common mistakes each worked by hand."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from jaxdl import exams
from jaxdl.config import to_config
from jaxdl.exams import moodle
from jaxdl.exams.lang import Lang
from jaxdl.exams.problem import variant_id
from jaxdl.exams.registry import PROBLEMS
from jaxdl.exams.tictactoe import family
from jaxdl.models import tictactoe as ttt


def sigmoid(s):
    return 1 / (1 + math.exp(-s))


X_ROW = [1, 1, 1, -1, -1, 0, 0, 0, 0]  # X X X / O O . / . . .: X won on row 1 (5 moves)
O_ROW = [-1, -1, -1, 1, 1, 0, 1, 0, 0]  # O O O / X X . / X . .: O won on row 1 (6 moves)
X_FULL = [1, -1, 1, -1, 1, -1, -1, 1, 1]  # X O X / O X O / O X X: X's 9th move completes the ↘ diagonal


def _record(target, board, logit, scale=20.0):
    givens = {"target": target, "scale": scale, "board": board, "logit": logit}
    return {"problem": "tictactoe", "variant": 0, "seed": 1, **exams.solve_config("tictactoe", to_config(givens))}


def _mistake(name):
    return next(m for m in family.MISTAKES if m.name == name)


def test_the_boards_here_are_final_boards_of_legal_games():
    boards = {tuple(int(v) for v in b) for b in ttt.final_boards()[0]}
    assert {tuple(X_ROW), tuple(O_ROW), tuple(X_FULL)} <= boards


def test_two_variants_that_read_the_same_have_the_same_keys_whatever_the_reference_models_scale():
    # Broke: keyed on jaxdl's own model, the same target and board gave s = −2, σ = 0.1192 at one scale and
    # s = −5, σ = 0.00669 at another, though the question asks every student for their own design.
    a, b = _record("x_wins", O_ROW, -1.0, scale=4.0), _record("x_wins", O_ROW, -1.0, scale=10.0)
    assert a["bce_gradient"]["s"] != b["bce_gradient"]["s"]  # the two reference models differ …
    keys = lambda r: {bl.id: bl.value for bl in family.blanks(r)}  # noqa: E731
    assert keys(a) == keys(b) == {"y": 0.0, "dL_ds": pytest.approx(sigmoid(-1.0))}  # … the keys do not
    # … and a student reads the same question (the bank's text, its opaque variant id aside).
    read = lambda r: re.sub(r"\{\d+:NUMERICAL:[^\n]*?\}</td>", "</td>", ET.fromstring(  # noqa: E731
        f"<q>{moodle.question_xml(r, Lang('en'))}</q>").find("question/questiontext/text").text).replace(variant_id(r), "")
    assert read(a) == read(b)


def test_the_keys_by_hand():
    # X won on row 1, s = 1: y = 1, ∂L/∂s = σ(1) − 1 = −0.268941.
    assert family.correct({"target": "x_wins", "board": X_ROW, "logit": 1.0}) == pytest.approx(
        {"y": 1.0, "dL_ds": -0.2689414213699951}, abs=1e-15)
    r = _record("x_wins", X_ROW, 1.0)
    assert r["asked"]["manual"] == pytest.approx(sigmoid(1.0) - 1, abs=1e-15)
    assert r["asked"]["autodiff"] == pytest.approx(sigmoid(1.0) - 1, abs=1e-12)
    assert r["label"] == 1


@pytest.mark.parametrize("name, target, board, logit, expected", [
    # ∂L/∂s = σ(1) − 1 with the sign flipped: 1 − σ(1) = 0.268941.
    ("sign_flipped", "x_wins", X_ROW, 1.0, {"dL_ds": 1 - sigmoid(1.0)}),
    # ∂L/∂σ for y = 1: −1/σ(1) = −(1 + e^−1) = −1.367879.
    ("by_probability", "x_wins", X_ROW, 1.0, {"dL_ds": -(1 + math.exp(-1))}),
    # For y = 0: 1/(1 − σ(−1)) = 1/σ(1) = 1 + e^−1.
    ("by_probability", "x_wins", O_ROW, -1.0, {"dL_ds": 1 + math.exp(-1)}),
    # (σ(1) − 1) σ(1)(1 − σ(1)) = −(1 − σ(1))² σ(1).
    ("sigmoid_derivative_again", "x_wins", X_ROW, 1.0, {"dL_ds": -(1 - sigmoid(1.0)) ** 2 * sigmoid(1.0)}),
    # O's row counted as a win of X: y = 1 and σ(−1) − 1.
    ("other_player", "x_wins", O_ROW, -1.0, {"y": 1.0, "dL_ds": sigmoid(-1.0) - 1}),
    # X's row counted for "X won on a diagonal": y = 1 and σ(2) − 1.
    ("other_line", "x_diagonal", X_ROW, 2.0, {"y": 1.0, "dL_ds": sigmoid(2.0) - 1}),
    # X's full board read as a draw: y = 0 and σ(−0.5) − 0.
    ("full_board_draw", "x_wins", X_FULL, -0.5, {"y": 0.0, "dL_ds": sigmoid(-0.5)}),
])
def test_each_mistake_by_hand(name, target, board, logit, expected):
    g = {"target": target, "board": board, "logit": logit}
    values = _mistake(name).values(g)
    assert values == pytest.approx(expected, abs=1e-15)
    keys = family.correct(g)
    assert all(abs(values[k] - keys[k]) > 0.01 for k in values)


@pytest.mark.parametrize("name, target, board", [
    ("other_player", "x_wins", X_ROW), ("other_player", "someone_wins", O_ROW),  # nobody else to count
    ("other_line", "x_wins", X_ROW), ("other_line", "x_row", X_ROW),
    ("full_board_draw", "x_wins", X_ROW),  # the board is not full
])
def test_a_misread_label_is_told_only_on_its_kind_of_board(name, target, board):
    assert _mistake(name).values({"target": target, "board": board, "logit": 1.0}) == {}


def test_a_variant_asks_for_what_it_keys_and_the_exam_as_it_asked():
    r = _record("x_diagonal", X_ROW, 1.5)
    (q,) = PROBLEMS["tictactoe"].questions(r)
    a, b, c = q.parts
    assert "give the class your model gives that image (1: X won on a diagonal, 0: otherwise)" in b.text["en"]
    assert "$s = 1.5$" in c.text["en"] and "$s = 1.5$" in c.text["hr"]
    assert [(bl.part, bl.id) for bl in family.blanks(r)] == [("E3(b)", "y"), ("E3(c)", "dL_ds")]
    assert q.givens == "chosen"
    # The exam's question: count the games; the gradients (plural) by the sigmoid's inputs; its figure lost.
    (exam,) = PROBLEMS["tictactoe"].questions(exams.solve("tictactoe"))
    assert "wants to count the games in which X won" in exam.stem["en"] and "prebrojati" in exam.stem["hr"]
    assert "gradients" in exam.parts[2].text["en"] and "po ulazima sigmoide" in exam.parts[2].text["hr"]
    assert exam.givens == "lost" and "top-left" in exam.assumed["en"] and "gornjoj lijevoj" in exam.assumed["hr"]
    assert "s = " not in exam.parts[2].text["en"]


def test_the_teachers_sheet_says_which_designs_are_accepted_and_the_keyed_number():
    r = _record("x_wins", O_ROW, -1.0)
    body = PROBLEMS["tictactoe"].sheet(r, None, Lang("en"))["E3"]
    assert "Any model of the given shape" in body.answers["a"] and "every final board" in body.answers["a"]
    assert f"= {sigmoid(-1.0):.6f}" in body.answers["c"]
    hr = PROBLEMS["tictactoe"].sheet(r, None, Lang("hr"))["E3"]
    assert "Prihvaća se svaki model zadanog oblika" in hr.answers["a"]


@pytest.mark.parametrize("target, units", [("x_diagonal", "2 jedinice"), ("x_row", "3 jedinice"),
                                           ("x_through_centre", "4 jedinice"), ("x_wins", "8 jedinica"),
                                           ("someone_wins", "16 jedinica")])
def test_croatian_unit_counts_agree(target, units):
    board = {"x_diagonal": X_FULL, "x_through_centre": X_FULL}.get(target, X_ROW)
    steps = PROBLEMS["tictactoe"].sheet(_record(target, board, 1.0), None, Lang("hr"))["E3"].steps["a"]
    assert f"({units})" in steps and "nad svih" not in steps


def test_the_signed_detectors_weights_are_plus_or_minus_in_the_table_and_the_answer():
    # Broke: "someone won" variants showed ±2 in the table and "2" in the answer.
    r = _record("someone_wins", X_ROW, 1.0, scale=2.0)
    for lang in ("hr", "en"):
        body = PROBLEMS["tictactoe"].sheet(r, None, Lang(lang))["E3"]
        assert r"$\pm 2$" in body.steps["a"] and r"$\pm 2$" in body.answers["a"]
    assert np.array_equal(np.unique(np.asarray(r["model"]["layers"][1]["W"])), [-2.0, 0.0, 2.0])
