"""E1's errata: where the official solution miscounts, leaves parts out or swaps two formulas,
each with the evidence computed from the result (the jaxpr's counts and zeros, the formulas
evaluated as written)."""

from __future__ import annotations

import numpy as np

from jaxdl.exams._common import erratum
from jaxdl.exams.lang import Lang


def _hr_count(k: int, one: str, few: str, many: str) -> str:
    """The Croatian form of a noun after the number ``k`` (:meth:`Lang.count`'s agreement)."""
    return Lang("hr").count(k, one, few, many).split(" ", 1)[1]


def errata(result: dict) -> list[dict]:
    """E1's errata, their evidence computed on ``result``'s givens."""
    gv, f, g = result["givens"], result["forward"], result["grads"]
    m, n = len(gv["b"]), len(gv["x"])
    counts = result["op_counts"]
    zeros = tuple(result["jacobians"][k]["always_zero"] for k in ("w", "dh_relu_dh", "dL_dh_relu"))
    # The seed's (d) writes ∂L/∂w = ∂L/∂s wᵀ and ∂L/∂h' = ∂L/∂s h'ᵀ: evaluated as written.
    seed_dw_err = float(np.max(np.abs(g["dL_ds"] * np.asarray(gv["w"]) - np.asarray(g["dL_dw"]))))
    seed_dh_relu_err = float(np.max(np.abs(g["dL_ds"] * np.asarray(f["h_relu"]) - np.asarray(g["dL_dh_relu"]))))
    backward_edges = result["graph_edges"]["backward"]
    return [
        erratum(
            "E1(a)",
            "(m−1)n + m = mn additions",
            f"m(n−1) + m = mn additions: m dot products of length n (n−1 additions each) and m bias "
            f"additions; (m−1)n + m = mn − n + m equals mn only when m = n (here m={m}, n={n}: "
            f"{(m - 1) * n + m} vs {m * n}). The final answer mn is right",
            f"counted over the jaxpr of h: {counts['additions']} additions, {counts['multiplications']} multiplications",
            kind="slip",
            hr={"seed": "(m−1)n + m = mn zbrajanja",
                "verified": f"m(n−1) + m = mn zbrajanja: m skalarnih produkata duljine n (po n−1 zbrajanja) i m "
                            f"zbrajanja pomaka; (m−1)n + m = mn − n + m jednako je mn samo kad je m = n (ovdje m={m}, "
                            f"n={n}: {(m - 1) * n + m} umjesto {m * n}). Konačni odgovor mn je točan",
                "evidence": f"prebrojano u jaxpr-u izraza za h: {counts['additions']} zbrajanja, "
                            f"{counts['multiplications']} množenja"},
        ),
        erratum(
            "E1(c)", "the shapes of w, ∂h'/∂h and ∂L/∂h', without the number of their elements that are always 0",
            f"always 0: none of w's {m}; m² − m = {m * m - m} of ∂h'/∂h's {m * m} (those off the diagonal: h'_i "
            f"depends on h_i only); none of ∂L/∂h''s {m} (it is ∂L/∂s · wᵀ)",
            f"structural zeros read off the jaxpr: w {zeros[0]}, ∂h'/∂h {zeros[1]}, ∂L/∂h' {zeros[2]}",
            kind="incomplete",
            hr={"seed": "dimenzije vektora w, matrice ∂h'/∂h i gradijenta ∂L/∂h', bez broja njihovih elemenata koji su "
                        "uvijek 0",
                "verified": f"uvijek su 0: nijedan od {m} {_hr_count(m, 'elementa', 'elementa', 'elemenata')} w; "
                            f"m² − m = {m * m - m} od {m * m} {_hr_count(m * m, 'elementa', 'elementa', 'elemenata')} "
                            f"∂h'/∂h (oni izvan dijagonale: h'_i ovisi samo o h_i); nijedan od {m} "
                            f"{_hr_count(m, 'elementa', 'elementa', 'elemenata')} ∂L/∂h' (to je ∂L/∂s · wᵀ)",
                "evidence": f"strukturne nule očitane iz jaxpr-a: w {zeros[0]}, ∂h'/∂h {zeros[1]}, ∂L/∂h' {zeros[2]}"},
        ),
        erratum(
            "E1(d)",
            "∂L/∂w = ∂L/∂s · wᵀ,  ∂L/∂h' = ∂L/∂s · h'ᵀ",
            "the two are swapped: ∂s/∂w = h'ᵀ and ∂s/∂h' = wᵀ, so (gradients as row vectors, the exam's layout) "
            "∂L/∂w = ∂L/∂s · h'ᵀ and ∂L/∂h' = ∂L/∂s · wᵀ",
            f"on the sheet's numbers the official formulas differ from jax.grad by "
            f"{seed_dw_err:.4g} (∂L/∂w) and {seed_dh_relu_err:.4g} (∂L/∂h')",
            hr={"seed": "∂L/∂w = ∂L/∂s · wᵀ,  ∂L/∂h' = ∂L/∂s · h'ᵀ",
                "verified": "formule su međusobno zamijenjene: ∂s/∂w = h'ᵀ i ∂s/∂h' = wᵀ, pa je (gradijenti kao "
                            "retčani vektori, kao u ispitu) ∂L/∂w = ∂L/∂s · h'ᵀ i ∂L/∂h' = ∂L/∂s · wᵀ",
                "evidence": f"za vrijednosti iz ovog rješenja službene formule odstupaju od jax.grad za "
                            f"{seed_dw_err:.4g} (∂L/∂w) i {seed_dh_relu_err:.4g} (∂L/∂h')"},
        ),
        erratum(
            "E1(e)", "the backward graph: \"TODO unatražni graf\" (left unfinished)",
            "the backward graph traced from the code of (d): inputs y, s, h', w, h, x; nodes ∂L/∂s (σ(s) − y), "
            "∂L/∂w and ∂L/∂h' (both from ∂L/∂s), ∂L/∂h = ∂L/∂b (from ∂L/∂h' and h), ∂L/∂W (from ∂L/∂h and x)",
            f"{len(backward_edges)} edges read off the jaxpr of the backward equations, drawn in the sheet",
            kind="incomplete",
            hr={"seed": "graf unatražnog prolaza: \"TODO unatražni graf\" (nedovršeno)",
                "verified": "graf unatražnog prolaza iz koda za (d): ulazi y, s, h', w, h, x; čvorovi ∂L/∂s "
                            "(σ(s) − y), ∂L/∂w i ∂L/∂h' (oba iz ∂L/∂s), ∂L/∂h = ∂L/∂b (iz ∂L/∂h' i h), ∂L/∂W "
                            "(iz ∂L/∂h i x)",
                "evidence": f"{len(backward_edges)} bridova očitanih iz jaxpr-a jednadžbi unatražnog prolaza, "
                            "nacrtanih u rješenju"},
        ),
    ]
