"""E4's variants: an LSTM, GRU or vanilla RNN of one to three layers, one- or bidirectional, with
input and hidden sizes a network might have; each count in closed form, against jaxdl's layers,
flax's cells and PyTorch's modules (exact integers).

The exam asks for the whole network's parameter count and leaves the bias convention open, so a
variant asks for what every convention shares, the weights (without the biases), and for the total
under each convention it names: one bias vector per layer and direction, or two (``b_ih`` and
``b_hh``, as PyTorch's). Three numbers for the exam's 3 points. The catalogue counts the course's
common mistakes from the givens, each a count of its own.
"""

from __future__ import annotations

import numpy as np

from jaxdl.check.numeric import NOT_RUN
from jaxdl.exams.lang import both
from jaxdl.exams.lstm.compute import count
from jaxdl.exams.problem import Family, Mistake, Verified
from jaxdl.exams.variants import blank

PART = "E4"
INPUT_SIZES = (10, 16, 20, 32, 50, 64, 100, 128, 200, 256, 300, 512)
HIDDEN_SIZES = (16, 32, 50, 64, 100, 128, 200, 256, 300, 500)
GATES = {"lstm": 4, "gru": 3, "rnn": 1}  # affine blocks per cell: LSTM i, f, o and the candidate; GRU z, r, n


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
        answers.append({k: np.asarray(counts[k]) for k in ("weights", "one_bias", "two_biases")})
        for pair in dis:  # NOT_RUN where the count does not exist (jaxdl has no GRU, PyTorch is not installed)
            dis[pair].append(counts["disagreement"].get(pair, NOT_RUN))
    return Verified(answers, {k: np.asarray(v, float) for k, v in dis.items()})


def answers(r):
    return {"weights": r["weights"], "one_bias": r["one_bias"], "two_biases": r["two_biases"]}


def blanks(r):
    return [blank(PART, "weights", "broj težina (bez pomaka)", "weights (no biases)", r["weights"], 0),
            blank(PART, "one_bias", "ukupno, jedan vektor pomaka", "total, one bias vector", r["one_bias"], 0),
            blank(PART, "two_biases", "ukupno, dva vektora pomaka (b_ih, b_hh)", "total, two bias vectors (b_ih, b_hh)",
                  r["two_biases"], 0)]


# --------------------------------------------------------------------------------------------
# The catalogue: the course's count, and its common mistakes, each a count of its own.


def network(g, *, gates=None, directions=None, later=None, recurrent=True) -> dict:
    """The keys by the course's count: per layer and direction ``gates·H·(D_l + H)`` weights (the
    input matrix and the recurrent H × H one per block) and ``gates·H`` biases per bias vector, with
    ``D_1 = D`` and every later layer's input the previous layer's output (``directions·H``).

    The keywords count it the wrong way: another number of blocks, of directions, another input to
    the later layers, or the recurrent matrix left out."""
    gates = GATES[g["cell"]] if gates is None else gates
    dirs = (2 if g["bidirectional"] else 1) if directions is None else directions
    H = g["hidden_size"]
    later = dirs * H if later is None else later
    weights = biases = 0
    for layer in range(g["num_layers"]):
        d = g["input_size"] if layer == 0 else later
        weights += dirs * gates * H * (d + (H if recurrent else 0))
        biases += dirs * gates * H
    return {"weights": weights, "one_bias": weights + biases, "two_biases": weights + 2 * biases}


def correct(g) -> dict:
    return {k: float(v) for k, v in network(g).items()}


def _as_floats(keys: dict) -> dict:
    return {k: float(v) for k, v in keys.items()}


def _biases_swapped(g):
    keys = network(g)
    return _as_floats({"one_bias": keys["two_biases"], "two_biases": keys["one_bias"]})


def _later_input_d(g):
    dirs = 2 if g["bidirectional"] else 1
    if g["num_layers"] == 1 or g["input_size"] == dirs * g["hidden_size"]:
        return {}
    return _as_floats(network(g, later=g["input_size"]))


def _recurrent_forgotten(g):
    return _as_floats(network(g, recurrent=False))


def _one_direction(g):
    return _as_floats(network(g, directions=1)) if g["bidirectional"] else {}


def _bidirectional_input_h(g):
    if not g["bidirectional"] or g["num_layers"] == 1:
        return {}
    return _as_floats(network(g, later=g["hidden_size"]))


def _candidate_forgotten(g):
    return _as_floats(network(g, gates=GATES[g["cell"]] - 1)) if g["cell"] != "rnn" else {}


def _gru_as_lstm(g):
    return _as_floats(network(g, gates=4)) if g["cell"] == "gru" else {}


MISTAKES = (
    Mistake(name="biases_swapped", title=both("zamijenjene konvencije pomaka", "the bias conventions swapped"),
            why=both("s jednim vektorom pomaka svaki blok ima H pomaka, s dva (b_ih i b_hh, kao u PyTorchu) 2H: "
                     "dva vektora daju veći broj",
                     "with one bias vector each block has H biases, with two (b_ih and b_hh, as PyTorch's) 2H: two "
                     "vectors give the larger count"),
            values=_biases_swapped),
    Mistake(name="later_input_d", title=both("ulaz drugog sloja kao ulaz prvog", "the second layer's input taken as the first's"),
            why=both("ulaz svakog sljedećeg sloja je skriveno stanje prethodnog (H, odnosno 2H za dvosmjernu mrežu), a ne "
                     "ulaz mreže D",
                     "every later layer reads the previous layer's hidden state (H, or 2H when bidirectional), not the "
                     "network's input D"),
            values=_later_input_d),
    Mistake(name="recurrent_forgotten", title=both("zaboravljena povratna matrica", "the recurrent matrix forgotten"),
            why=both("svaki blok ima i matricu H × H na prethodnom skrivenom stanju, pa je težina H·(D + H), a ne H·D",
                     "every block also has an H × H matrix on the previous hidden state: H·(D + H) weights, not H·D"),
            values=_recurrent_forgotten),
    Mistake(name="one_direction", title=both("dvosmjerna mreža brojana jednom", "the bidirectional network counted once"),
            why=both("dvosmjerni sloj ima dvije ćelije sa zasebnim parametrima, po jednu za svaki smjer",
                     "a bidirectional layer holds two cells with their own parameters, one per direction"),
            values=_one_direction),
    Mistake(name="bidirectional_input_h", title=both("ulaz sljedećeg sloja H umjesto 2H", "the next layer's input H, not 2H"),
            why=both("sljedeći sloj dvosmjerne mreže čita spojena stanja obaju smjerova, vektor veličine 2H",
                     "a bidirectional network's next layer reads both directions' states joined, a vector of size 2H"),
            values=_bidirectional_input_h),
    Mistake(name="candidate_forgotten", title=both("zaboravljen kandidat", "the candidate forgotten"),
            why=both("uz propusnice i kandidat za novo stanje ima svoje težine i pomak: LSTM ima 4 bloka, GRU 3",
                     "besides the gates the candidate state has its own weights and bias: an LSTM has 4 blocks, a GRU 3"),
            values=_candidate_forgotten),
    Mistake(name="gru_as_lstm", title=both("GRU brojan kao LSTM", "the GRU counted as an LSTM"),
            why=both("GRU ima dvije propusnice (z i r) i kandidata, 3 bloka, a ne 4 kao LSTM",
                     "a GRU has two gates (z and r) and the candidate, 3 blocks, not an LSTM's 4"),
            values=_gru_as_lstm),
)

HINTS = {PART: both("Brojite po sloju i smjeru: svaki blok (propusnica ili kandidat) ima matricu H × D na ulazu, "
                    "matricu H × H na prethodnom skrivenom stanju i H pomaka po vektoru pomaka; ulaz sljedećeg sloja je "
                    "izlaz prethodnog.",
                    "Count per layer and direction: every block (a gate or the candidate) has an H × D matrix on the "
                    "input, an H × H matrix on the previous hidden state and H biases per bias vector; a later layer's "
                    "input is the previous layer's output.")}

FAMILY = Family(propose=propose, screen=screen, group=lambda g: (), verify=verify, answers=answers, blanks=blanks,
                correct=correct, mistakes=MISTAKES, hints=HINTS, dtype="int64", stress_cost=9)
