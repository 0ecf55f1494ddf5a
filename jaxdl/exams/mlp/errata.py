"""E1's errata: where the official solution miscounts, leaves parts out or swaps two formulas,
each with the evidence computed from the result (the jaxpr's counts and zeros, the formulas
evaluated as written)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import analysis
from jaxdl.exams._common import erratum
from jaxdl.exams.lang import Lang


def _hr_count(k: int, one: str, few: str, many: str) -> str:
    """The Croatian form of a noun after the number ``k`` (:meth:`Lang.count`'s agreement)."""
    return Lang("hr").count(k, one, few, many).split(" ", 1)[1]


def official_backward(y, s, h_relu, w, jacobian, x):
    """(d)'s official equations as written (the swap of ∂L/∂w and ∂L/∂h' set right, which changes
    no count): ∂L/∂h = ∂L/∂h' diag(sgn(h')), a row vector times the m × m matrix ``jacobian`` =
    diag(sgn(h')) (built beforehand, and not counted)."""
    dL_ds = jax.nn.sigmoid(s) - y
    dL_dw = dL_ds * h_relu
    dL_dh_relu = dL_ds * w
    dL_dh = dL_dh_relu @ jacobian
    return {"∂L/∂w": dL_dw, "∂L/∂h": dL_dh, "∂L/∂W": jnp.outer(dL_dh, x)}


def redundant_work(result: dict) -> dict:
    """(d): the official equations' scalar operations against the sheet's (both counted over their
    jaxpr on the sheet's givens), and the two ∂L/∂h's largest difference."""
    from jaxdl.exams.mlp.compute import backward

    gv, f = result["givens"], result["forward"]
    with jax.enable_x64(True):
        W, b, x, w = (jnp.asarray(gv[k], jnp.float64) for k in ("W", "b", "x", "w"))
        y, s = jnp.asarray(float(gv["y"])), jnp.asarray(f["s"], jnp.float64)
        h, h_relu = jnp.asarray(f["h"], jnp.float64), jnp.asarray(f["h_relu"], jnp.float64)
        args, jacobian = (y, s, h_relu, w, h, x), jnp.diag(jnp.sign(h_relu))
        official_args = (y, s, h_relu, w, jacobian, x)
        official, ours = analysis.count_ops(official_backward, *official_args), analysis.count_ops(backward, *args)
        diff = float(jnp.max(jnp.abs(official_backward(*official_args)["∂L/∂h"] - backward(*args)["∂L/∂h = ∂L/∂b"])))
        diag = analysis.count_ops(lambda g, d: g @ d, w, jacobian)
    return {"official": official, "ours": ours, "diff": diff, "diag": diag}


def dot_products(result: dict) -> dict:
    """(a) read off the jaxpr of h = W x + b: its products (each a row of W times x: a dot product
    of length n) and its additions of b, per equation."""
    gv = result["givens"]
    W, b, x = (jnp.asarray(gv[k], jnp.float32) for k in ("W", "b", "x"))
    jaxpr = jax.make_jaxpr(lambda W, x, b: W @ x + b)(W, x, b).jaxpr
    out = {"dot products": 0, "length": 0, "additions": 0}
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "dot_general":
            out["dot products"] += int(np.prod(eqn.outvars[0].aval.shape))
            out["length"] = int(eqn.invars[1].aval.shape[0])
        elif eqn.primitive.name == "add":
            out["additions"] += int(np.prod(eqn.outvars[0].aval.shape))
    return out


def _hr_count_n(k: int, one: str, few: str, many: str) -> str:
    return Lang("hr").count(k, one, few, many)


def _n(k: int, noun: str) -> str:
    """``k`` operations in Croatian: "1 zbrajanje", "7 zbrajanja", "21 množenje"."""
    return Lang("hr").count(k, noun, noun[:-1] + "a", noun[:-1] + "a")


def errata(result: dict) -> list[dict]:
    """E1's errata, their evidence computed on ``result``'s givens.

    Long because it is data: one erratum per entry, each in both languages with its evidence."""
    gv, f, g = result["givens"], result["forward"], result["grads"]
    m, n = len(gv["b"]), len(gv["x"])
    counts = result["op_counts"]
    zeros = tuple(result["jacobians"][k]["always_zero"] for k in ("w", "dh_relu_dh", "dL_dh_relu"))
    # The seed's (d) writes ∂L/∂w = ∂L/∂s wᵀ and ∂L/∂h' = ∂L/∂s h'ᵀ: evaluated as written.
    seed_dw_err = float(np.max(np.abs(g["dL_ds"] * np.asarray(gv["w"]) - np.asarray(g["dL_dw"]))))
    seed_dh_relu_err = float(np.max(np.abs(g["dL_ds"] * np.asarray(f["h_relu"]) - np.asarray(g["dL_dh_relu"]))))
    backward_edges = result["graph_edges"]["backward"]
    work, dots = redundant_work(result), dot_products(result)
    off, ours, diag = work["official"], work["ours"], work["diag"]
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
            "E1(a)",
            "(m−1)n + m = mn additions (mn + m accepted), mn multiplications: scalar operations only",
            f"read as scalar products (dot products) and scalar additions, the plainest implementation takes m dot "
            f"products of length n (one per row of W) and m additions of b: here {dots['dot products']} and "
            f"{dots['additions']}. The question should say which it counts; the official answer takes the first reading",
            f"read off the jaxpr of h = W x + b: one matrix–vector product, {dots['dot products']} dot products of length "
            f"{dots['length']}, and one vector addition of {dots['additions']} entries; counted as scalar operations, "
            f"{counts['multiplications']} multiplications and {counts['additions']} additions",
            kind="reading",
            assumes="“scalar addition and multiplication” read as scalar additions and scalar (dot) products, the "
                    "double meaning the exam's own improvement note names",
            hr={"seed": "(m−1)n + m = mn zbrajanja (priznaje se i mn + m), mn množenja: samo skalarne operacije",
                "verified": f"pročitano kao skalarni produkti i skalarna zbrajanja, najjednostavnija izvedba traži m "
                            f"skalarnih produkata duljine n (po jedan za svaki redak od W) i m zbrajanja pomaka b: ovdje "
                            f"{dots['dot products']} i {dots['additions']}. Zadatak treba reći što se broji; službeni "
                            "odgovor uzima prvo čitanje",
                "evidence": f"očitano iz jaxpr-a izraza h = W x + b: jedan umnožak matrice i vektora, "
                            f"{_hr_count_n(dots['dot products'], 'skalarni produkt', 'skalarna produkta', 'skalarnih produkata')} "
                            f"duljine {dots['length']} i jedno zbrajanje vektora od "
                            f"{_hr_count_n(dots['additions'], 'elementa', 'elementa', 'elemenata')}; brojeno kao skalarne "
                            f"operacije, {_n(counts['multiplications'], 'množenje')} i {_n(counts['additions'], 'zbrajanje')}",
                "assumes": "„skalarno zbrajanje i množenje” pročitano kao skalarna zbrajanja i skalarni produkti, "
                           "dvoznačnost koju navodi i napomena o poboljšanju zadatka u samom ispitu"},
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
            "E1(d)",
            "∂L/∂h = ∂L/∂h' ∂h'/∂h = ∂L/∂h' diag(sgn(h'))",
            "∂L/∂h = ∂L/∂h' ⊙ [h > 0]: m multiplications (or m selections) where the product with the m × m diagonal "
            "matrix takes m² and m(m − 1) additions; the value is the same. The final answer is right",
            f"counted over the jaxpr on the sheet's givens (m = {m}, n = {n}): the official equations of (d) take "
            f"{off['multiplications']} multiplications and {off['additions']} additions, of which the product with "
            f"diag(sgn(h')) alone {diag['multiplications']} and {diag['additions']}; the equations with ⊙ [h > 0] take "
            f"{ours['multiplications']} and {ours['additions']} (σ(s) kept from the forward pass in both, the sign "
            f"evaluations and the building of diag(sgn(h')) not counted); the two ∂L/∂h differ by {work['diff']:.1e}",
            kind="slip",
            assumes="“without redundant operations” read as the least arithmetic; read as not rewriting what is "
                    "already written (the exam's own improvement note), the official equations pass",
            hr={"seed": "∂L/∂h = ∂L/∂h' ∂h'/∂h = ∂L/∂h' diag(sgn(h'))",
                "verified": "∂L/∂h = ∂L/∂h' ⊙ [h > 0]: m množenja (ili m odabira), a umnožak s dijagonalnom matricom "
                            "m × m traži m² množenja i m(m − 1) zbrajanja; vrijednost je ista. Konačni odgovor je točan",
                "evidence": f"prebrojano u jaxpr-u na zadanim vrijednostima iz ovog rješenja (m = {m}, n = {n}): "
                            f"službene jednadžbe za (d) traže {_n(off['multiplications'], 'množenje')} i "
                            f"{_n(off['additions'], 'zbrajanje')}, od toga sam umnožak s diag(sgn(h')) "
                            f"{_n(diag['multiplications'], 'množenje')} i {_n(diag['additions'], 'zbrajanje')}; "
                            f"jednadžbe s ⊙ [h > 0] traže {_n(ours['multiplications'], 'množenje')} i "
                            f"{_n(ours['additions'], 'zbrajanje')} (σ(s) se u oba slučaja uzima iz unaprijednog "
                            f"prolaza, a predznaci i izgradnja matrice diag(sgn(h')) nisu brojeni); dva ∂L/∂h "
                            f"razlikuju se za {work['diff']:.1e}",
                "assumes": "„bez redundantnih operacija” pročitano kao najmanje računanja; pročitano kao bez "
                           "prepisivanja već napisanog (napomena o poboljšanju zadatka u samom ispitu), službene "
                           "jednadžbe zadovoljavaju"},
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
