"""E5's errata: the seed has no official solution for it, so on the exam's givens the erratum
says so, with the recurrence's h(2) as its evidence; and the question has two readings (the
recurrence is not written: column or row vectors), each computed on the spot."""

from __future__ import annotations

import numpy as np

from jaxdl.exams._common import erratum
from jaxdl.exams.rnn.compute import EXAM


def _same(a, b) -> bool:
    """Equal shapes and values to rounding (shapes first: a third step is another question, not a
    broadcasting error)."""
    return np.shape(a) == np.shape(b) and np.allclose(np.asarray(a, float), np.asarray(b, float))


def is_exam(givens: dict) -> bool:
    """The givens are the exam's (to rounding)."""
    return givens["activation"] == EXAM["activation"] and all(_same(givens[k], EXAM[k]) for k in EXAM if k != "activation")


def row_reading(givens: dict) -> np.ndarray:
    """The states read with row vectors, ``h(t) = g(h(t−1) W_hh + x(t) W_xh + b_h)`` (the lab's
    layout; g the logistic sigmoid or tanh), in float64 numpy: ``(T, H)``."""
    W_hh, W_xh = np.asarray(givens["W_hh"], float), np.asarray(givens["W_xh"], float)
    b, h = np.asarray(givens["b_h"], float), np.asarray(givens["h0"], float)
    out = []
    for x in np.asarray(givens["xs"], float):
        a = h @ W_hh + x @ W_xh + b
        h = np.tanh(a) if givens["activation"] == "tanh" else 1 / (1 + np.exp(-a))
        out.append(h)
    return np.asarray(out)


def errata(result: dict) -> list[dict]:
    """E5's errata, their evidence read from ``result``."""
    if not is_exam(result["givens"]):
        return []
    hs = result["h"]
    rows = row_reading(result["givens"])
    fmt = lambda v: "[" + ", ".join(f"{x:.6f}" for x in v) + "]"  # noqa: E731
    reading = erratum(
        "E5", "the recurrence is not written: the question gives W_hh, W_xh, b_h and the inputs, but not whether the "
              "vectors multiply the matrices from the right (columns) or from the left (rows)",
        f"read with columns, as the exam prints b_h and x(t): h(t) = σ(W_hh h(t−1) + W_xh x(t) + b_h), "
        f"h(2) = {fmt(hs[1])}",
        f"computed here both ways on the exam's givens: columns h(1) = {fmt(hs[0])}, h(2) = {fmt(hs[1])}; rows "
        f"h(1) = {fmt(rows[0])}, h(2) = {fmt(rows[1])} (W_xh is not symmetric, so the readings differ)",
        kind="reading",
        assumes="column vectors, as the exam prints b_h and the inputs; a student who reads rows (the lab's "
                "h W_hh + x W_xh) answers the other h(2), which is right for that reading",
        hr={"seed": "povratna veza nije napisana: zadatak daje W_hh, W_xh, b_h i ulaze, ali ne i množe li vektori "
                    "matrice zdesna (stupci) ili slijeva (retci)",
            "verified": f"sa stupčanim vektorima, kako ispit ispisuje b_h i x(t): h(t) = σ(W_hh h(t−1) + W_xh x(t) + b_h), "
                        f"h(2) = {fmt(hs[1])}",
            "evidence": f"izračunano ovdje na oba načina na vrijednostima iz ispita: stupci h(1) = {fmt(hs[0])}, "
                        f"h(2) = {fmt(hs[1])}; retci h(1) = {fmt(rows[0])}, h(2) = {fmt(rows[1])} (W_xh nije "
                        f"simetrična, pa se čitanja razlikuju)",
            "assumes": "stupčani vektori, kako ispit ispisuje b_h i ulaze; student koji čita retke (h W_hh + x W_xh, "
                       "kao u laboratorijskoj vježbi) dobiva drugi h(2), točan za to čitanje"})
    return [erratum(
        "E5", "no official solution", "h(2) worked out step by step and in closed form, below",
        f"the seed's solutions end after E2; the recurrence run by jaxdl's rnn layer gives h(2) = "
        f"[{hs[1][0]:.6f}, {hs[1][1]:.6f}]", kind="incomplete",
        hr={"seed": "nema službenog rješenja", "verified": "h(2) izračunan korak po korak i u zatvorenom obliku, u rješenju",
            "evidence": f"službena rješenja završavaju nakon zadatka E2; povratna veza jaxdl-ova sloja rnn daje "
                        f"h(2) = [{hs[1][0]:.6f}, {hs[1][1]:.6f}]"}), reading]
