"""E6's errata: the seed has no official solution for it (and the exam's figure of the
architecture and weights is lost), so the erratum says what stands for it, with the agreement of
the per-example working and jaxdl's training step as its evidence; and the question leaves two
things open that change (c)'s numbers (a mean or a sum over the minibatch; the generator through
the updated or the original discriminator), each reading computed on the spot."""

from __future__ import annotations

import numpy as np

from jaxdl.exams._common import erratum
from jaxdl.exams.gan.family import step


def _fmt(a) -> str:
    a = np.asarray(a, float)
    if a.shape[-1] == 1:
        a = a[:, 0]
    if a.ndim == 1:
        return "[" + ", ".join(f"{v:.6f}" for v in a) + "]"
    return "[" + ", ".join(_fmt(r) for r in a) + "]"


def _readings(result: dict) -> list[dict]:
    """The two readings of (c) the question leaves open, each computed both ways on the givens."""
    g = result["givens"]
    with np.errstate(all="ignore"):  # a diverging config (say lr = 1e999) shows non-finite numbers, never raises
        jaxdl, summed, original = step(g), step(g, mean=False), step(g, updated=False)
    m, lr = len(g["noise"]), g["learning_rate"]
    ours = f"W_g1 = {_fmt(jaxdl['W_g1'])}, W_d1 = {_fmt(jaxdl['W_d1'])}"
    return [
        erratum(
            "E6 (c)", "the question does not say whether a minibatch's loss is the mean or the sum of its examples' "
                      "losses",
            f"the mean, 1/m Σ_i, as in Goodfellow et al. (2014), Algorithm 1: {ours}",
            f"computed here both ways: the mean gives {ours}; the sum gives W_g1 = {_fmt(summed['W_g1'])}, W_d1 = "
            f"{_fmt(summed['W_d1'])} (summed, each gradient is m = {m} times the mean's; the learning rate {lr:g} does not "
            f"scale it back)",
            kind="reading",
            assumes="the mean over the minibatch; a student who sums answers the other numbers, right for that reading",
            hr={"seed": "zadatak ne kaže je li gubitak minigrupe prosjek ili zbroj gubitaka njezinih primjera",
                "verified": f"prosjek, 1/m Σ_i, kao u radu Goodfellow i sur. (2014), algoritam 1: {ours}",
                "evidence": f"izračunano ovdje na oba načina: prosjek daje {ours}; zbroj daje W_g1 = "
                            f"{_fmt(summed['W_g1'])}, W_d1 = {_fmt(summed['W_d1'])} (kod zbroja je svaki gradijent m = {m} "
                            f"puta veći od prosjeka, a stopa učenja {lr:g} to ne poništava)",
                "assumes": "prosjek po minigrupi; student koji zbraja dobiva druge brojeve, točne za to čitanje"}),
        erratum(
            "E6 (c)", "the question says the discriminator's weights are corrected before the generator's, but not "
                      "whether the generator's gradient goes through the discriminator before or after that correction",
            f"through the updated discriminator, the order the question gives (as in Goodfellow et al. (2014), "
            f"Algorithm 1, where the generator's step uses the discriminator as its own steps left it): "
            f"W_g1 = {_fmt(jaxdl['W_g1'])}",
            f"computed here both ways: through the updated discriminator W_g1 = {_fmt(jaxdl['W_g1'])}, through the "
            f"original one W_g1 = {_fmt(original['W_g1'])} (W_d1 is the same either way)",
            kind="reading",
            assumes="the generator through the updated discriminator; a student who takes the original one (both "
                    "gradients from one forward pass) answers the other W_g1, right for that reading",
            hr={"seed": "zadatak kaže da se težine diskriminatora korigiraju prije težina generatora, ali ne i prolazi "
                        "li gradijent generatora kroz diskriminator prije ili nakon te korekcije",
                "verified": f"kroz ažurirani diskriminator, redoslijedom koji zadatak navodi (kao u radu Goodfellow i "
                            f"sur. (2014), algoritam 1, gdje korak generatora koristi diskriminator kakvim su ga "
                            f"ostavili njegovi koraci): W_g1 = {_fmt(jaxdl['W_g1'])}",
                "evidence": f"izračunano ovdje na oba načina: kroz ažurirani diskriminator W_g1 = {_fmt(jaxdl['W_g1'])}, "
                            f"kroz izvorni W_g1 = {_fmt(original['W_g1'])} (W_d1 je isti u oba slučaja)",
                "assumes": "generator kroz ažurirani diskriminator; student koji uzme izvorni (oba gradijenta iz istog "
                           "unaprijednog prolaza) dobiva drugi W_g1, točan za to čitanje"}),
    ]


def errata(result: dict) -> list[dict]:
    """E6's errata, their evidence read from ``result`` (and computed from its givens)."""
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
                        f"jaxdl-ovim prevedenim korakom učenja do {by_hand_err:.1e}"})] + _readings(result)
