"""E6's errata: the seed has no official solution for it (and the exam's figure of the
architecture and weights is lost), so the erratum says what stands for it, with the agreement of
the per-example working and jaxdl's training step as its evidence."""

from __future__ import annotations

from jaxdl.exams._common import erratum


def errata(result: dict) -> list[dict]:
    """E6's errata, their evidence read from ``result``."""
    by_hand_err = result["by_hand_max_abs_err"]
    return [erratum(
        "E6", "no official solution; the exam's figure of the architecture and weights is lost",
        "(a) and (b) answered, (c) worked out per example on the architecture and weights jaxdl fixes "
        "(SPEC §2 and §4), below", f"the seed's solutions end after E2; the per-example working agrees with "
        f"jaxdl's compiled training step to {by_hand_err:.1e}", kind="incomplete",
        hr={"seed": "nema službenog rješenja; slika ispita s arhitekturom i težinama nije sačuvana",
            "verified": "odgovori na (a) i (b) dani su u rješenju, a (c) je izračunan po primjerima uz "
                        "arhitekturu i težine koje pretpostavlja jaxdl",
            "evidence": f"službena rješenja završavaju nakon zadatka E2; račun po primjerima slaže se s "
                        f"jaxdl-ovim prevedenim korakom učenja do {by_hand_err:.1e}"})]
