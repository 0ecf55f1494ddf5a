"""The quiz's family (Q1a, Q1b, Q2, Q3): each common mistake on numbers worked by hand, the printed
parts that ask for every number a blank keys, the restatements (Q2's skeleton, "okno", Q1b's
backward_params), and the new errata with their evidence run here."""

import math
import re

import numpy as np
import pytest

from jaxdl import exams
from jaxdl.config import to_config
from jaxdl.exams import generate
from jaxdl.exams._common import lab_source
from jaxdl.exams.lang import Lang
from jaxdl.exams.problem import close, tolerance_for
from jaxdl.exams.quiz import errata as quiz_errata
from jaxdl.exams.quiz import family, text

# Small numbers, worked by hand below. Q1: A not symmetric, b = 2, β = 2; Q2: K = 2 on a 2-channel
# 5 × 4 image (the floor drops row 5); Q3: C = 2, W_h = [2], b_h = −1.
GIVENS = {
    "q1": {"A": [[1.0, 2.0], [0.0, 1.0]], "c": [0.5, -1.0], "b": 2.0, "beta": 2.0,
           "x": [[1.0, -1.0], [2.0, 1.0]], "dy": [[1.0, 0.0], [-1.0, 1.0]]},
    "q2": {"K": 2, "x": [[[[4.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 0.0, 0.0], [2.0, 2.0, 0.0, 4.0],
                           [3.0, 3.0, 3.0, 3.0]],
                          [[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0],
                           [1.0, 1.0, 1.0, 1.0]]]]},
    "q3": {"W": [[2.0]], "b": [-1.0], "x": [[[[1.0, -1.0, 0.5]], [[0.5, 2.0, -1.0]]]]},
}


def _a(v):
    return np.asarray(v, float)


def test_q1a_forward_and_its_mistake_by_hand():
    A, c, b, X = _a(GIVENS["q1"]["A"]), _a(GIVENS["q1"]["c"]), 2.0, _a(GIVENS["q1"]["x"])
    # X ⊙ X = [[1, 1], [4, 1]]; (X ⊙ X) Aᵀ = [[3, 1], [6, 1]]; + 2X = [[2, −2], [4, 2]]; + c.
    np.testing.assert_array_equal(family.q1a_forward(A, c, b, X), [[5.5, -2.0], [10.5, 2.0]])
    # A's layout confused: (X ⊙ X) A = [[1, 3], [4, 9]], then the same + 2X + c.
    np.testing.assert_array_equal(family.q1a_forward(A, c, b, X, transpose=False), [[3.5, 0.0], [8.5, 10.0]])


def test_q1a_backward_and_its_mistakes_by_hand():
    A, b, X, DY = _a(GIVENS["q1"]["A"]), 2.0, _a(GIVENS["q1"]["x"]), _a(GIVENS["q1"]["dy"])
    # ∂L/∂Y A = [[1, 2], [−1, −1]]; 2 X ⊙ that = [[2, −4], [−4, −2]]; + 2 ∂L/∂Y = [[2, 0], [−2, 2]].
    key = family.q1a_dx(A, b, X, DY)
    np.testing.assert_array_equal(key, [[4.0, -4.0], [-6.0, 0.0]])
    # The factor 2 of ∂(x²)/∂x forgotten: [[1, −2], [−2, −1]] + [[2, 0], [−2, 2]].
    np.testing.assert_array_equal(family.q1a_dx(A, b, X, DY, two=1.0), [[3.0, -2.0], [-4.0, 1.0]])
    # The b x term's derivative forgotten: 2 X ⊙ (∂L/∂Y A) alone.
    np.testing.assert_array_equal(family.q1a_dx(A, b, X, DY, b_term=False), [[2.0, -4.0], [-4.0, -2.0]])
    # A's layout confused: ∂L/∂Y Aᵀ = [[1, 0], [1, 1]]; 2 X ⊙ that = [[2, 0], [4, 2]]; + 2 ∂L/∂Y.
    np.testing.assert_array_equal(family.q1a_dx(A, b, X, DY, transpose=False), [[4.0, 0.0], [2.0, 4.0]])
    # The official Jacobian, per example ∂L/∂Y_n (2 A ⊙ diag(x_n) + b): example 1: 2 A ⊙ diag(1, −1) =
    # [[2, 0], [0, −2]], + 2 → [[4, 2], [2, 0]], [1, 0] times it = [4, 2]; example 2: [[6, 2], [2, 4]],
    # [−1, 1] times it = [−4, 2].
    official = family.q1a_dx_official(A, b, X, DY)
    np.testing.assert_array_equal(official, [[4.0, 2.0], [-4.0, 2.0]])
    for wrong in (official, family.q1a_dx(A, b, X, DY, two=1.0), family.q1a_dx(A, b, X, DY, transpose=False)):
        assert not np.array_equal(wrong, key)


def test_q1a_parameter_gradients_and_their_mistakes_by_hand():
    keys = family.correct(GIVENS)
    # ∂L/∂c = Σ_n ∂L/∂Y_n = [1 − 1, 0 + 1] = [0, 1]; the first example's alone is [1, 0].
    assert (keys["q1a_dc_1"], keys["q1a_dc_2"]) == (0.0, 1.0)
    m = next(m for m in family.MISTAKES if m.name == "dc_not_summed")
    assert m.values(GIVENS) == {"q1a_dc_1": 1.0, "q1a_dc_2": 0.0}
    # ∂L/∂A = ∂L/∂Yᵀ (X ⊙ X) = [[1, −1], [0, 1]] [[1, 1], [4, 1]] = [[−3, 0], [4, 1]]: two entries asked (D = 2),
    # where the transpose [[−3, 4], [0, 1]] differs.
    asked = family.q1a_entries(GIVENS)["dA"]
    assert asked == [(0, 1), (1, 0)]
    assert (keys["q1a_dA_1_2"], keys["q1a_dA_2_1"]) == (0.0, 4.0)
    m = next(m for m in family.MISTAKES if m.name == "da_transposed")
    assert m.values(GIVENS) == {"q1a_dA_1_2": 4.0, "q1a_dA_2_1": 0.0}


def test_q1b_mistakes_by_hand():
    X, DY = _a(GIVENS["q1"]["x"]), _a(GIVENS["q1"]["dy"])
    s2 = 1 / (1 + math.exp(-2))  # σ(2) ≈ 0.8808, at x = 1 with β = 2
    s1 = 1 / (1 + math.exp(-1))  # σ(1) ≈ 0.7311
    # g'(1) = σ(2) + 2·1·σ(2)(1 − σ(2)) ≈ 0.8808 + 0.2100 = 1.0908 (∂L/∂Y = 1 there).
    right = family.swish_derivative(X, 2.0)[0, 0]
    assert right == pytest.approx(s2 + 2 * s2 * (1 - s2)) and right == pytest.approx(1.0908, abs=1e-4)
    # β of the chain rule left out: 0.8808 + 0.1050 = 0.9858; no product rule: σ(2) = 0.8808;
    # β left out everywhere: σ(1) + σ(1)(1 − σ(1)) = 0.7311 + 0.1966 = 0.9277.
    assert family.swish_derivative(X, 2.0, chain_beta=False)[0, 0] == pytest.approx(0.9858, abs=1e-4)
    assert family.swish_derivative(X, 2.0, product_rule=False)[0, 0] == pytest.approx(s2)
    assert family.swish_derivative(X, 1.0)[0, 0] == pytest.approx(s1 + s1 * (1 - s1)) == pytest.approx(0.9277, abs=1e-4)
    keys = family.correct(GIVENS)
    for m in family.MISTAKES:
        if m.name.startswith("q1b_"):
            found = m.values(GIVENS)
            assert found and any(not close(v, keys[b], tolerance_for(keys[b])) for b, v in found.items()), m.name
    # β = 1: the mistakes about β change nothing, and are not told.
    one = {**GIVENS, "q1": {**GIVENS["q1"], "beta": 1.0}}
    assert all(m.values(one) == {} for m in family.MISTAKES if m.name in ("beta_forgotten", "chain_beta"))
    del DY


def test_q2_mistakes_by_hand():
    keys = family.correct(GIVENS)
    # kernel_size = stride = K = 2, padding 0; the weight 1/K² = 0.25 on the channel diagonal, 0 off it.
    assert [keys[k] for k in ("q2_kernel_size", "q2_stride", "q2_padding", "q2_w_same", "q2_w_other")] == [2, 2, 0, 0.25, 0]
    # H = 5: ⌊5/2⌋ = 2 rows; kept partial windows: ⌈5/2⌉ = 3; stride 1 (nn.Conv2d's default): 5 − 2 + 1 = 4.
    assert family.cut_dimension(GIVENS) == ("H", 5) and keys["q2_out_size"] == 2
    by = {m.name: m.values(GIVENS) for m in family.MISTAKES}
    assert by["ceil"] == {"q2_out_size": 3.0}
    assert by["stride_default"] == {"q2_stride": 1.0, "q2_out_size": 4.0}
    # Counted as trainable, the weight has C² K² = 4 · 4 = 16 entries; the key is 0.
    assert keys["q2_params"] == 0 and by["weight_trainable"] == {"q2_params": 16.0}
    # Channel 0's windows: (4+0+0+0)/4 = 1, (1+1+1+1)/4 = 1, (2+2+2+2)/4 = 2, (0+0+0+4)/4 = 1;
    # channel 1's: 0, 2, 1, 0. A mean over both channels: 0.5, 1.5, 1.5, 0.5; 1/K instead of 1/K²: twice the key.
    image, k = _a(GIVENS["q2"]["x"])[0], 2
    np.testing.assert_array_equal(family.q2_pool(image, k), [[[1, 1], [2, 1]], [[0, 2], [1, 0]]])
    np.testing.assert_array_equal(family.q2_pool(image, k, channel_mean=True)[0], [[0.5, 1.5], [1.5, 0.5]])
    c, p, q = family.q2_entry(GIVENS)
    key = keys[f"q2_y_{c + 1}_{p + 1}_{q + 1}"]
    assert by["divide_by_k"][f"q2_y_{c + 1}_{p + 1}_{q + 1}"] == 2 * key and by["divide_by_k"]["q2_w_same"] == 0.5
    assert by["channel_mean"]["q2_w_same"] == by["channel_mean"]["q2_w_other"] == 1 / 8
    assert by["channel_mean"][f"q2_y_{c + 1}_{p + 1}_{q + 1}"] != key


def test_q3_mistakes_by_hand():
    keys = family.correct(GIVENS)
    # x1 = [1, −1, 0.5], x2 = [0.5, 2, −1]: y2 = x2 + 2 ReLU(x1) − 1 = [1.5, 1, −1].
    W, b, x = family._q3(GIVENS)
    np.testing.assert_array_equal(family.q3_y(W, b, x)[1, 0], [1.5, 1.0, -1.0])
    # ReLU after the convolution: x2 + ReLU(2 x1 − 1) = [1.5, 2, −1]; h of x2: x2 + 2 ReLU(x2) − 1 =
    # [0.5, 5, −2]; the halves swapped: the second half holds x1 = [1, −1, 0.5].
    np.testing.assert_array_equal(family.q3_y(W, b, x, order="relu_after")[1, 0], [1.5, 2.0, -1.0])
    np.testing.assert_array_equal(family.q3_y(W, b, x, on="x2")[1, 0], [0.5, 5.0, -2.0])
    np.testing.assert_array_equal(family.q3_y(W, b, x, swapped=True)[1, 0], [1.0, -1.0, 0.5])
    # The two entries asked tell every mistake apart: (1, 0, 1) (key 1; 2, 5, −1) and one more.
    asked = family.q3_entries(GIVENS)
    assert (1, 0, 1) in asked and len(asked) == 2
    assert (keys["q3_in_channels"], keys["q3_out_channels"]) == (1, 1)
    by = {m.name: m.values(GIVENS) for m in family.MISTAKES}
    assert by["whole_c"] == {"q3_in_channels": 2.0, "q3_out_channels": 2.0}
    assert by["relu_after"]["q3_y_2_1_2"] == 2.0 and by["h_of_x2"]["q3_y_2_1_2"] == 5.0
    assert by["swapped"]["q3_y_2_1_2"] == -1.0 and keys["q3_y_2_1_2"] == 1.0


@pytest.fixture(scope="module")
def variants():
    return generate.records("quiz", 3, 8)


def test_every_blank_is_asked_for_by_its_printed_part(variants):
    # Broke before: the bank keyed ∂L/∂X, ∂L/∂A, … (up to 40 numbers) that no printed part asked for,
    # Q1a (d) six blanks for its four points.
    plain = {f"{q.code}({p.id})": p for q in text.QUESTIONS for p in q.parts}
    for r in variants:
        parts = {f"{q.code}({p.id})": p for q in text.questions(r) for p in q.parts}
        blanks = family.FAMILY.blanks(r)
        for b in blanks:
            part = parts[b.part]
            for lang in ("hr", "en"):  # the code part asks for numbers too
                assert part.text[lang].startswith(plain[b.part].text[lang] + "; "), (b.part, part.text[lang])
            m = re.fullmatch(r"(q1[ab])_(y|dx|dA)_(\d)_(\d)", b.id)
            if m:  # a matrix entry: the part names it by its 1-based indices
                assert f"_{{{m.group(3)},{m.group(4)}}}" in part.text["en"], (b.id, part.text["en"])
            if b.id.startswith(("q2_y_", "q3_y_")):  # a tensor entry: named as PyTorch indexes it
                assert f"`{b.label['en'].replace(',', ', ')}`" in part.text["en"], (b.id, part.text["en"])
        for key, part in parts.items():
            n = sum(b.part == key for b in blanks)
            assert n <= (part.points or 0), (key, n)


def test_each_question_keys_only_its_own_givens(variants):
    # Q1, Q2 and Q3 are practised apart: changing one question's givens changes no other's keys.
    r = variants[0]["givens"]
    other = {**r, "q2": GIVENS["q2"], "q3": GIVENS["q3"]}
    k0, k1 = family.correct(r), family.correct(other)
    assert {k: v for k, v in k0.items() if k.startswith("q1")} == {k: v for k, v in k1.items() if k.startswith("q1")}


def _sheet(givens, lang):
    result = exams.solve_config("quiz", to_config(givens))
    return result, text.sheet(result, None, Lang(lang))


def test_q1b_stands_alone_and_its_backward_params_answer_agrees_with_the_class():
    result, body = _sheet(GIVENS, "en")
    assert "X = " in body["Q1b"].givens and r"\frac{\partial L}{\partial Y} = " in body["Q1b"].givens
    # The printed class has no backward_params (it inherits Layer's, which returns None): so says (d).
    assert "def backward_params" not in lab_source("Swish")
    assert "does not define `backward_params`" in body["Q1b"].answers["d"]
    assert "ne definira `backward_params`" in _sheet(GIVENS, "hr")[1]["Q1b"].answers["d"]


def test_q2_restates_the_skeleton_and_says_okno():
    q2 = text.QUESTIONS[2]
    for lang in ("hr", "en"):
        stem = q2.stem[lang]
        assert "class ConvAvgPool2d(nn.Module):" in stem and "def init_weight(self):" in stem
        assert "def parameters(self, recurse=True):" in stem and "def forward(self, x):" in stem
        assert "self.conv.weight = self.init_weight()" in stem and "kernel_size=..." in stem
    okno = re.compile(r"\bok(no|na|nu|nom)\b")  # the course's word for a window, in any case
    assert okno.search(q2.stem["hr"]) and "prozor" not in q2.stem["hr"]
    _, body = _sheet(GIVENS, "hr")
    assert "prozor" not in body["Q2"].steps[""] and okno.search(body["Q2"].steps[""])
    # Q3 restates the exam's sequence of transformations, its names kept.
    assert "divide(x, dim=1)" in text.QUESTIONS[3].stem["en"] and "concatenate((y1, y2), dim=1)" in text.QUESTIONS[3].stem["hr"]


def test_the_new_errata_with_their_evidence():
    result = exams.solve("quiz")
    errata = quiz_errata.errata(result)
    seeds = [e["seed"] for e in errata]
    # Q1b: grad_layer's three lines do not compile as printed, nor dedented; in parentheses they do.
    printed, dedented = quiz_errata.q1b_continued()
    assert printed.startswith("IndentationError: unexpected indent") and "can't use starred expression" in dedented
    continued = next(e for e in errata if e["seed"].startswith("grad_layer = self._sigm"))
    assert printed in continued["evidence"] and "(<službeno rješenje>, line" in continued["hr"]["evidence"]
    # The seed's bare formula line keeps its backslash.
    assert "unexpected character after line continuation character" in quiz_errata.q1b_bare_line()
    # Q1a: no equation for ∂L/∂c; equation (5) a row for a column; the lab's update on the official grad_c.
    assert any("derive ∂L/∂A only" in s for s in seeds) and any(s.startswith("equation (5)") for s in seeds)
    grad_c = next(e for e in errata if e["seed"] == "grad_c = grads")
    assert "non-broadcastable output operand with shape (3,)" in grad_c["evidence"]
    # Q2: the skeleton as printed does not compile.
    assert "unterminated string literal" in quiz_errata.q2_skeleton()[0] and quiz_errata.q2_skeleton()[1] is None
    # Q3: the algebraic inverse is not given; the two readings of Conv1×1 ∘ ReLU, each on the givens.
    bonus = next(e for e in errata if e["seed"].startswith("bonus (i)"))
    assert bonus["kind"] == "incomplete" and "__init__, forward, inverse" in bonus["evidence"]
    reading = next(e for e in errata if e["seed"].startswith("h = Conv1×1 ∘ ReLU"))
    # x1 = [[1, −2]], [[0.5, 1]]: ReLU first, h = W ReLU(x1) + b = [[1, −0.5], [0.5, 0.5]];
    # the convolution first, ReLU(W x1 + b) = [[1, 0], [0.5, 0]].
    assert reading["assumes"] and "[[1.0, -0.5], [0.5, 0.5]]" in reading["evidence"]
    assert "[[1.0, 0.0], [0.5, 0.0]]" in reading["evidence"]


def test_the_croatian_errata_quote_program_messages_and_describe_jaxdls_own():
    errata = quiz_errata.errata(exams.solve("quiz"))
    hr = "\n".join(e["hr"]["evidence"] for e in errata)
    # Broke before: "(<official solution>, line 7)" and jaxdl's "conv2d: params do not match…" in Croatian.
    assert "<official solution>" not in hr and "params do not match" not in hr
    assert "`SyntaxError: non-default argument follows default argument (<službeno rješenje>, line 7)`" in hr
    for message in re.findall(r"(?:^|[ (])((?:Syntax|Indentation|Name|Type|Value|Runtime)Error: [^`]*)", hr):
        raise AssertionError(f"a program's message outside backticks: {message}")


def test_overriding_parameters_leaves_the_weight_trainable():
    pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'jaxdl[torch]')")
    found = quiz_errata.q2_override(GIVENS["q2"]["x"], 2)
    # parameters() is empty, but named_parameters() and an enclosing model still hold the weight,
    # and one SGD step moves it: the layer averages no longer.
    assert found["parameters"] == 0 and found["named"] == ["conv.weight"]
    assert found["model"][0] == (2, 2, 2, 2) and found["moved"] > 0 and not found["still_pooling"]
    assert found["default"] == "True" and found["conv2D"] is False
