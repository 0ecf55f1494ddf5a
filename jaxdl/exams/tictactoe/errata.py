"""E3's errata: the seed has no official solution for it, so on the exam's givens the erratum says
so, with the model's accuracy on every final board as its evidence."""

from __future__ import annotations

from jaxdl.exams._common import erratum
from jaxdl.exams.tictactoe.compute import EXAM


def errata(result: dict) -> list[dict]:
    """E3's errata, their evidence read from ``result``."""
    gv = result["givens"]
    if (gv["target"], gv["scale"], tuple(gv["board"])) != (EXAM["target"], EXAM["scale"], tuple(EXAM["board"])):
        return []
    total, accuracy = result["boards"]["total"], result["accuracy"]
    return [erratum(
        "E3", "no official solution", "the model, its values, the forward pass and the gradient are worked out "
        "below, and the model is checked on every final board",
        f"the seed's solutions end after E2; this model classifies all {total} final boards "
        f"correctly ({100 * accuracy:.2f}%)", kind="incomplete",
        hr={"seed": "nema službenog rješenja",
            "verified": "model, njegovi parametri, unaprijedni prolaz i gradijent izvedeni su u rješenju, a "
                        "model je provjeren na svim završnim pločama",
            "evidence": f"službena rješenja završavaju nakon zadatka E2; ovaj model ispravno klasificira svih "
                        f"{total} završnih ploča ({100 * accuracy:.2f} %)"})]
