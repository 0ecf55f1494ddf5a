"""E4's family: the keys every bias convention shares or the question names, the common mistakes
each counted by hand, and the bias conventions attributed only to the layers counted here."""

from __future__ import annotations

import pytest

from jaxdl import exams
from jaxdl.config import to_config
from jaxdl.exams.lang import Lang
from jaxdl.exams.lstm import family
from jaxdl.exams.lstm.compute import flax_count, torch_count
from jaxdl.exams.registry import PROBLEMS

# A two-layer LSTM, D = 3, H = 2, by hand: per layer 4 blocks of H·(D_l + H) weights and 4·H biases
# per bias vector. Layer 1: 4·2·(3 + 2) = 40 weights, 8 biases; layer 2 (its input is H = 2):
# 4·2·(2 + 2) = 32 weights, 8 biases. Weights 72; one bias vector 72 + 16 = 88; two 72 + 32 = 104.
SMALL = {"cell": "lstm", "input_size": 3, "hidden_size": 2, "num_layers": 2, "bidirectional": False}
# The same, bidirectional: layer 1 2·40 = 80, layer 2 reads 2H = 4: 2·4·2·(4 + 2) = 96; weights 176,
# biases 2·8 per layer and vector: one 176 + 32 = 208, two 176 + 64 = 240.
BI = {**SMALL, "bidirectional": True}
# A one-layer GRU, D = 3, H = 2: 3 blocks, 3·2·(3 + 2) = 30 weights, 6 biases: one 36, two 42.
GRU = {"cell": "gru", "input_size": 3, "hidden_size": 2, "num_layers": 1, "bidirectional": False}


def _mistake(name):
    return next(m for m in family.MISTAKES if m.name == name)


def test_the_keys_by_hand_and_by_pytorch():
    assert family.correct(SMALL) == {"weights": 72, "one_bias": 88, "two_biases": 104}
    assert family.correct(BI) == {"weights": 176, "one_bias": 208, "two_biases": 240}
    assert family.correct(GRU) == {"weights": 30, "one_bias": 36, "two_biases": 42}
    if torch_count("lstm", 3, 2, 2, False) is None:
        pytest.skip("PyTorch is not installed")
    # PyTorch's modules, built and counted: two bias vectors; without biases, the weights alone.
    assert torch_count("lstm", 3, 2, 2, False) == 104 and torch_count("lstm", 3, 2, 2, False, bias=False) == 72
    assert torch_count("lstm", 3, 2, 2, True) == 240 and torch_count("lstm", 3, 2, 2, True, bias=False) == 176
    assert torch_count("gru", 3, 2, 1, False) == 42 and torch_count("gru", 3, 2, 1, False, bias=False) == 30


@pytest.mark.parametrize("name, givens, expected", [
    # Each bias convention's total typed for the other's.
    ("biases_swapped", SMALL, {"one_bias": 104, "two_biases": 88}),
    # Layer 2 read as D = 3: 4·2·(3 + 2) = 40, weights 80, one 96, two 112.
    ("later_input_d", SMALL, {"weights": 80, "one_bias": 96, "two_biases": 112}),
    # No H × H matrices: 4·2·3 + 4·2·2 = 40 weights, one 56, two 72.
    ("recurrent_forgotten", SMALL, {"weights": 40, "one_bias": 56, "two_biases": 72}),
    # Three blocks for the LSTM: 3·2·5 + 3·2·4 = 54 weights, 6 biases per layer: one 66, two 78.
    ("candidate_forgotten", SMALL, {"weights": 54, "one_bias": 66, "two_biases": 78}),
    # The GRU with an LSTM's four blocks: 4·2·5 = 40 weights, 8 biases: one 48, two 56.
    ("gru_as_lstm", GRU, {"weights": 40, "one_bias": 48, "two_biases": 56}),
    # The bidirectional network counted as one direction: SMALL's keys.
    ("one_direction", BI, {"weights": 72, "one_bias": 88, "two_biases": 104}),
    # Both directions, but layer 2 reads H = 2: 2·4·2·(2 + 2) = 64, weights 80 + 64 = 144, one 176, two 208.
    ("bidirectional_input_h", BI, {"weights": 144, "one_bias": 176, "two_biases": 208}),
])
def test_each_mistake_by_hand(name, givens, expected):
    values = _mistake(name).values(givens)
    assert values == expected
    keys = family.correct(givens)
    assert any(values[k] != keys[k] for k in values)


@pytest.mark.parametrize("name, givens", [
    ("later_input_d", {**SMALL, "num_layers": 1}),  # no later layer
    ("later_input_d", {**SMALL, "input_size": 2}),  # D = H: the same count
    ("one_direction", SMALL), ("bidirectional_input_h", SMALL), ("bidirectional_input_h", {**BI, "num_layers": 1}),
    ("candidate_forgotten", {**GRU, "cell": "rnn"}),  # a vanilla cell has one block and no candidate
    ("gru_as_lstm", SMALL),
])
def test_a_mistake_that_cannot_be_made_is_not_told(name, givens):
    assert _mistake(name).values(givens) == {}


def test_flax_and_pytorch_bias_conventions_are_counted_not_claimed():
    # flax's LSTMCell and SimpleCell: one bias vector per block (4H, H); its GRUCell four (4H, not 3H);
    # PyTorch two per block (its GRU 6H). The sheet names a library for a convention only on these counts.
    H, D = 500, 300
    assert flax_count("lstm", D, H) == 4 * H * (D + H) + 4 * H
    assert flax_count("rnn", D, H) == H * (D + H) + H
    assert flax_count("gru", D, H) == 3 * H * (D + H) + 4 * H
    gru = exams.solve("lstm", overrides=["cell=gru"])
    text = "\n".join(PROBLEMS["lstm"].sheet(gru, None, Lang(lang))["E4"].steps[""] for lang in ("hr", "en"))
    report = PROBLEMS["lstm"].report(gru)
    # Broke: "one bias per gate: flax, Keras" for a GRU, whose flax cell has 4H and Keras is not installed.
    assert "Keras" not in text and "Keras" not in report
    assert "(kao flaxova ćelija)" not in text and "(as flax's cell)" not in text
    lstm = exams.solve("lstm")
    assert "(as flax's cell)" in PROBLEMS["lstm"].sheet(lstm, None, Lang("en"))["E4"].steps[""]
    assert "one bias vector: flax's cell" in PROBLEMS["lstm"].report(lstm)


def test_a_variant_asks_for_every_number_it_keys():
    record = {"problem": "lstm", "variant": 0, "seed": 1, **exams.solve_config("lstm", to_config(BI))}
    (q,) = PROBLEMS["lstm"].questions(record)
    assert "number of weights (without the biases)" in q.stem["en"] and "$b_{ih}$ and $b_{hh}$" in q.stem["en"]
    assert "po sloju i smjeru" in q.stem["hr"]
    assert [b.id for b in family.blanks(record)] == ["weights", "one_bias", "two_biases"]
    assert [b.value for b in family.blanks(record)] == [176, 208, 240]
    # The exam's own question asks as the exam does.
    (exam,) = PROBLEMS["lstm"].questions(exams.solve("lstm"))
    assert exam.stem["en"].endswith("How many parameters does the whole network have?")


def test_croatian_counts_name_no_gates_for_a_plain_rnn_and_read_naturally():
    rnn = exams.solve("lstm", overrides=["cell=rnn"])
    hr = PROBLEMS["lstm"].sheet(rnn, None, Lang("hr"))["E4"]
    assert "propusnic" not in hr.answers[""]  # a vanilla RNN has no gates
    assert "slažu se" not in hr.verified and "jednak je svakome od njih" in hr.verified
    lstm = PROBLEMS["lstm"].sheet(exams.solve("lstm"), None, Lang("hr"))["E4"]
    assert "po propusnici" in lstm.answers[""]
    # The givens are the question's alone; how a later layer reads the one before is the working's.
    assert lstm.givens == "2 sloja, skriveno stanje $H = 500$, ulaz prvog sloja $D = 300$."
    assert "njegovo skriveno stanje ($D = H$)" in lstm.steps[""]
