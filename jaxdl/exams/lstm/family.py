"""E4's variants: an LSTM, GRU or vanilla RNN of one to three layers, one- or bidirectional, with
input and hidden sizes a network might have; each count in closed form, against jaxdl's layers,
flax's cells and PyTorch's modules (exact integers)."""

from __future__ import annotations

import numpy as np

from jaxdl.check.numeric import NOT_RUN
from jaxdl.exams.lstm.compute import count
from jaxdl.exams.problem import Family, Verified
from jaxdl.exams.variants import blank

INPUT_SIZES = (10, 16, 20, 32, 50, 64, 100, 128, 200, 256, 300, 512)
HIDDEN_SIZES = (16, 32, 50, 64, 100, 128, 200, 256, 300, 500)


def propose(rng):
    return {"cell": str(rng.choice(["lstm", "gru", "rnn"])), "input_size": int(rng.choice(INPUT_SIZES)),
            "hidden_size": int(rng.choice(HIDDEN_SIZES)), "num_layers": int(rng.choice([1, 2, 3])),
            "bidirectional": bool(rng.integers(2))}


def screen(g):
    del g  # every network is a fair question: a count needs no nice numbers


def verify(givens):
    answers, dis = [], {"jaxdl": [], "flax": [], "PyTorch": []}
    for g in givens:
        counts = count(g["cell"], g["input_size"], g["hidden_size"], g["num_layers"], g["bidirectional"])
        answers.append({"one_bias": np.asarray(counts["one_bias"]), "two_biases": np.asarray(counts["two_biases"])})
        for pair in dis:  # NOT_RUN where the count does not exist (jaxdl has no GRU, PyTorch is not installed)
            dis[pair].append(counts["disagreement"].get(pair, NOT_RUN))
    return Verified(answers, {k: np.asarray(v, float) for k, v in dis.items()})


def answers(r):
    return {"one_bias": r["one_bias"], "two_biases": r["two_biases"]}


def blanks(r):
    return [blank("E4", "one_bias", "jedan pomak po propusnici", "one bias per gate", r["one_bias"], 0),
            blank("E4", "two_biases", "dva pomaka (PyTorch)", "two biases (PyTorch)", r["two_biases"], 0)]


FAMILY = Family(propose=propose, screen=screen, group=lambda g: (), verify=verify, answers=answers, blanks=blanks,
                dtype="int64", stress_cost=9)
