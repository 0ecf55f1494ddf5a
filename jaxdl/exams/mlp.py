"""E1: one example through ``h = W x + b``, ``h' = ReLU(h)``, ``s = wᵀh'``, logistic loss.

The forward and backward passes are written as compositions of jit-compiled elementary
operations (matrix product, vector addition, ReLU, the loss), so that the computational graphs,
the operation counts and the Jacobians' structural zeros can all be read off the code's jaxpr.

Backward, without redundant work, in the exam's layout (vectors are columns, the gradient of a
scalar a row vector; the code keeps both as 1-D arrays)::

  ∂L/∂s  = σ(s) − [y = 1]
  ∂L/∂w  = ∂L/∂s · h'ᵀ         ∂L/∂h' = ∂L/∂s · wᵀ
  ∂L/∂h  = ∂L/∂h' diag([h > 0])
  ∂L/∂(W_[i,:]ᵀ) = ∂L/∂h_i · xᵀ  ∂L/∂b  = ∂L/∂h
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import analysis
from jaxdl import layers
from jaxdl.errors import InputError
from jaxdl.exams._common import display, erratum, matrix, num, tex, tolist
from jaxdl.exams.lang import Lang, both
from jaxdl.exams._legacy_records import Body, Part, Question
from jaxdl.losses import binary_cross_entropy

_relu = layers.relu()


# The elementary operations of the exam (each one node of the graph).
@jax.jit
def matmul(a, b):
    return a @ b


@jax.jit
def add(a, b):
    return a + b


@jax.jit
def relu(h):
    return _relu.apply({}, h)


@jax.jit
def loss(s, y):
    return binary_cross_entropy.apply(s, y)


# The backward pass's operations.
@jax.jit
def loss_grad(s, y):
    return binary_cross_entropy.backward(s, y)


@jax.jit
def scale(a, v):
    return a * v


@jax.jit
def relu_grad(g, h):
    return _relu.backward({}, h, g)[1]


@jax.jit
def outer(u, v):
    return jnp.outer(u, v)


FORWARD_OPS = {"matmul": "·", "add": "+", "relu": "ReLU", "loss": "L(s, y)"}
BACKWARD_OPS = {"loss_grad": "σ(s) − y", "scale": "·", "relu_grad": "elementwise × [h > 0]", "outer": "· xᵀ"}


def forward(W, b, x, w, y):
    """Every intermediate result of the forward pass, by the exam's names."""
    Wx = matmul(W, x)
    h = add(Wx, b)
    h_relu = relu(h)
    s = matmul(w, h_relu)
    return {"Wx": Wx, "h": h, "h'": h_relu, "s": s, "L": loss(s, y)}


def backward(y, s, h_relu, w, h, x):
    """The backward equations (the exam's ``∂L/∂b = ∂L/∂h`` is the same array)."""
    dL_ds = loss_grad(s, y)
    dL_dw = scale(dL_ds, h_relu)
    dL_dh_relu = scale(dL_ds, w)
    dL_dh = relu_grad(dL_dh_relu, h)
    dL_dW = outer(dL_dh, x)
    return {"∂L/∂s": dL_ds, "∂L/∂w": dL_dw, "∂L/∂h'": dL_dh_relu, "∂L/∂h = ∂L/∂b": dL_dh, "∂L/∂W": dL_dW}


def read_config(cfg):
    """Validates E1's config: ``W (m, n)``, ``b (m)``, ``x (n)``, ``w (m)``, ``y`` in {0, 1}."""
    known = {"W", "b", "x", "w", "y"}
    unknown = sorted(set(cfg.keys()) - known)
    if unknown:
        raise InputError(f"config: unknown field {unknown[0]!r} for exam mlp; known: {sorted(known)}")
    W = matrix(cfg, "W", ndim=2)
    m, n = W.shape
    b = matrix(cfg, "b", (m,))
    x = matrix(cfg, "x", (n,))
    w = matrix(cfg, "w", (m,))
    y = cfg.y
    if isinstance(y, bool) or y not in (0, 1):
        raise InputError(f"config: y must be 0 or 1; got {y!r}")
    return W, b, x, w, float(y)


def _hr_count(k: int, one: str, few: str, many: str) -> str:
    """The Croatian form of a noun after the number ``k`` (:meth:`Lang.count`'s agreement)."""
    return Lang("hr").count(k, one, few, many).split(" ", 1)[1]


def _max_abs(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) if np.size(a) else 0.0


def solve(cfg) -> dict:
    """All of E1's answers for the config's numbers, each with its cross-check."""
    W, b, x, w, y = read_config(cfg)
    m, n = W.shape
    with jax.enable_x64(True):
        W, b, x, w = (jnp.asarray(a, jnp.float64) for a in (W, b, x, w))
        y = jnp.asarray(y, jnp.float64)
        fwd = forward(W, b, x, w, y)
        grads = backward(y, fwd["s"], fwd["h'"], w, fwd["h"], x)

        # (d) the manual equations against autodiff, intermediates included.
        def loss_from(W, b, x, w):
            return forward(W, b, x, w, y)["L"]

        auto = dict(zip(("∂L/∂W", "∂L/∂b", "∂L/∂w"), jax.grad(loss_from, argnums=(0, 1, 3))(W, b, x, w)))
        auto["∂L/∂h'"] = jax.grad(lambda hr: loss(matmul(w, hr), y))(fwd["h'"])
        auto["∂L/∂h"] = jax.grad(lambda h: loss(matmul(w, relu(h)), y))(fwd["h"])
        auto["∂L/∂s"] = jax.grad(loss)(fwd["s"], y)

        def fd(f, v, eps=1e-6):
            basis = jnp.eye(v.size, dtype=v.dtype).reshape((v.size,) + v.shape) * eps
            return jax.vmap(lambda e: (f(v + e) - f(v - e)) / (2 * eps))(basis).reshape(v.shape)

        numeric = {
            "∂L/∂W": fd(lambda v: loss_from(v, b, x, w), W),
            "∂L/∂b": fd(lambda v: loss_from(W, v, x, w), b),
            "∂L/∂w": fd(lambda v: loss_from(W, b, x, v), w),
        }
        check = {
            "∂L/∂s": (grads["∂L/∂s"], auto["∂L/∂s"], None),
            "∂L/∂w": (grads["∂L/∂w"], auto["∂L/∂w"], numeric["∂L/∂w"]),
            "∂L/∂h'": (grads["∂L/∂h'"], auto["∂L/∂h'"], None),
            "∂L/∂h": (grads["∂L/∂h = ∂L/∂b"], auto["∂L/∂h"], None),
            "∂L/∂W": (grads["∂L/∂W"], auto["∂L/∂W"], numeric["∂L/∂W"]),
            "∂L/∂b": (grads["∂L/∂h = ∂L/∂b"], auto["∂L/∂b"], numeric["∂L/∂b"]),
        }
        cross_check = {
            k: {"vs_autodiff": _max_abs(g, a), "vs_finite_diff": None if f is None else _max_abs(g, f)}
            for k, (g, a, f) in check.items()
        }

        # (a) operation count of h, from the jaxpr.
        counts = analysis.count_ops(lambda W, x, b: add(matmul(W, x), b), W, x, b)
        closed_form = {"additions": m * n, "multiplications": m * n}

        # (b) element-wise derivatives of h = W x + b as the code's Jacobian tensors.
        def h_of(x, W, b):
            return add(matmul(W, x), b)

        jx, jW, jb = jax.jacobian(h_of, argnums=(0, 1, 2))(x, W, b)
        eye = jnp.eye(m)
        derivatives = {
            "dh_i/dx_j = W_ij": _max_abs(jx, W),
            "dh_i/dW_kl = [k = i] x_l": _max_abs(jW, eye[:, :, None] * x[None, None, :]),
            "dh_i/db_j = [i = j]": _max_abs(jb, eye),
        }

        # (c) shapes and structural zeros.
        zeros_w = int((~analysis.jacobian_sparsity(lambda hr: matmul(w, hr), [fwd["h'"]])).sum())
        zeros_relu = int((~analysis.jacobian_sparsity(relu, [fwd["h"]])).sum())
        zeros_dl = int((~analysis.jacobian_sparsity(lambda hr: loss(matmul(w, hr), y), [fwd["h'"]])).sum())
        jacobians = {
            "w": {"shape": [m], "always_zero": zeros_w},
            "dh_relu_dh": {"shape": [m, m], "always_zero": zeros_relu},
            "dL_dh_relu": {"shape": [1, m], "always_zero": zeros_dl},
        }

        # (e) the graphs, traced from the code.
        fwd_graph = analysis.computational_graph(forward, ["W", "b", "x", "w", "y"], [W, b, x, w, y], FORWARD_OPS)
        bwd_graph = analysis.computational_graph(
            backward, ["y", "s", "h'", "w", "h", "x"],
            [y, fwd["s"], fwd["h'"], w, fwd["h"], x], BACKWARD_OPS,
        )

        # The seed's (d) writes ∂L/∂w = ∂L/∂s wᵀ and ∂L/∂h' = ∂L/∂s h'ᵀ: evaluate that as written.
        seed_dw_err = _max_abs(grads["∂L/∂s"] * w, auto["∂L/∂w"])
        seed_dh_relu_err = _max_abs(grads["∂L/∂s"] * fwd["h'"], auto["∂L/∂h'"])

    zeros = (zeros_w, zeros_relu, zeros_dl)
    errata = [
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
            f"{len(bwd_graph.edges)} edges read off the jaxpr of the backward equations, drawn in the sheet",
            kind="incomplete",
            hr={"seed": "graf unatražnog prolaza: \"TODO unatražni graf\" (nedovršeno)",
                "verified": "graf unatražnog prolaza iz koda za (d): ulazi y, s, h', w, h, x; čvorovi ∂L/∂s "
                            "(σ(s) − y), ∂L/∂w i ∂L/∂h' (oba iz ∂L/∂s), ∂L/∂h = ∂L/∂b (iz ∂L/∂h' i h), ∂L/∂W "
                            "(iz ∂L/∂h i x)",
                "evidence": f"{len(bwd_graph.edges)} bridova očitanih iz jaxpr-a jednadžbi unatražnog prolaza, "
                            "nacrtanih u rješenju"},
        ),
    ]

    return {
        "givens": {"W": tolist(W), "b": tolist(b), "x": tolist(x), "w": tolist(w), "y": int(y)},
        "forward": {"Wx": tolist(fwd["Wx"]), "h": tolist(fwd["h"]), "h_relu": tolist(fwd["h'"]), "s": float(fwd["s"]),
                    "sigma_s": float(jax.nn.sigmoid(fwd["s"])), "L": float(fwd["L"])},
        "grads": {
            "dL_ds": float(grads["∂L/∂s"]),
            "dL_dw": tolist(grads["∂L/∂w"]),
            "dL_dh_relu": tolist(grads["∂L/∂h'"]),
            "dL_dh": tolist(grads["∂L/∂h = ∂L/∂b"]),
            "dL_dW": tolist(grads["∂L/∂W"]),
            "dL_db": tolist(grads["∂L/∂h = ∂L/∂b"]),
        },
        "cross_check": cross_check,
        "op_counts": {
            "additions": counts["additions"],
            "multiplications": counts["multiplications"],
            "closed_form": closed_form,
            "agree": counts["additions"] == closed_form["additions"]
            and counts["multiplications"] == closed_form["multiplications"],
        },
        "derivatives": {k: {"max_abs_err": v, "ok": v == 0.0} for k, v in derivatives.items()},
        "jacobians": jacobians,
        "graphs": {
            "forward": analysis.to_dot(fwd_graph, "E1 forward"),
            "backward": analysis.to_dot(bwd_graph, "E1 backward"),
        },
        "graph_edges": {
            "forward": [list(e) for e in fwd_graph.edges],
            "backward": [list(e) for e in bwd_graph.edges],
        },
        "errata": errata,
        "ok": all(v["vs_autodiff"] <= 1e-12 and (v["vs_finite_diff"] is None or v["vs_finite_diff"] <= 1e-6)
                  for v in cross_check.values())
        and all(v == 0.0 for v in derivatives.values()),
    }


def report(result: dict) -> str:
    """The readable answer to E1."""
    f, g, j, c = result["forward"], result["grads"], result["jacobians"], result["op_counts"]
    m = j["dh_relu_dh"]["shape"][0]
    n = len(g["dL_dW"][0])
    fmt = lambda v: np.array2string(np.asarray(v), precision=4, suppress_small=True, separator=", ")  # noqa: E731
    worst_ad = max(v["vs_autodiff"] for v in result["cross_check"].values())
    worst_fd = max(v["vs_finite_diff"] for v in result["cross_check"].values() if v["vs_finite_diff"] is not None)
    lines = [
        f"E1  MLP with logistic loss, one example (m = {m}, n = {n})",
        f"  forward: h = {fmt(f['h'])}, h' = {fmt(f['h_relu'])}, s = {f['s']:.4f}, L = {f['L']:.4f}",
        f"  (a) h = W x + b: {c['additions']} additions and {c['multiplications']} multiplications "
        f"(counted over the jaxpr; closed form mn = {m * n} each: m(n−1) in the dot products + m for b)",
        "  (b) h_i = Σ_j W_ij x_j + b_i;  ∂h_i/∂x_j = W_ij,  ∂h_i/∂W_kl = [k = i] x_l,  ∂h_i/∂b_j = [i = j]"
        f"  — equal to jax.jacobian of the code: {all(v['ok'] for v in result['derivatives'].values())}",
        f"  (c) w: shape ({m},), always 0: {j['w']['always_zero']};  ∂h'/∂h: shape ({m}, {m}), always 0: "
        f"{j['dh_relu_dh']['always_zero']} (= m² − m, off the diagonal);  ∂L/∂h': shape (1, {m}), always 0: "
        f"{j['dL_dh_relu']['always_zero']}   [structural zeros from the jaxpr]",
        "  (d) gradients as row vectors: ∂L/∂s = σ(s) − [y = 1];  ∂L/∂w = ∂L/∂s · h'ᵀ;  ∂L/∂h' = ∂L/∂s · wᵀ;",
        "      ∂L/∂h = ∂L/∂h' diag([h > 0]);  ∂L/∂(W_[i,:]ᵀ) = ∂L/∂h_i · xᵀ;  ∂L/∂b = ∂L/∂h",
        f"      ∂L/∂s = {g['dL_ds']:.4f}, ∂L/∂w = {fmt(g['dL_dw'])}, ∂L/∂h' = {fmt(g['dL_dh_relu'])}, ∂L/∂h = {fmt(g['dL_dh'])}",
        f"      ∂L/∂W = {fmt(g['dL_dW']).replace(chr(10), ' ')}",
        f"      max |manual − jax.grad| = {worst_ad:.1e}, max |manual − finite diff| = {worst_fd:.1e}",
        "  (e) graphs traced from the code (Graphviz DOT; edges = direct dependencies):",
        "      forward:  " + ", ".join(f"{a}→{b}" for a, b in result["graph_edges"]["forward"]),
        "      backward: " + ", ".join(f"{a}→{b}" for a, b in result["graph_edges"]["backward"]),
    ]
    return "\n".join(lines)


QUESTIONS = (Question(
    "E1", both("Višeslojni perceptron s logističkim gubitkom", "An MLP with the logistic loss"), 10,
    both(r"Jedan primjer $\mathbf{x} \in \mathbb{R}^n$ prolazi mrežom $\mathbf{h} = \mathbf{W}\mathbf{x} + "
         r"\mathbf{b}$ uz $\mathbf{W} \in \mathbb{R}^{m \times n}$, zatim $\mathbf{h}' = \operatorname{ReLU}"
         r"(\mathbf{h})$ i $s = \mathbf{w}^\top \mathbf{h}'$; gubitak je logistički: $L = -\ln \sigma(s)$ za "
         r"$y = 1$, a $L = -\ln(1 - \sigma(s))$ za $y = 0$. Unatražni prolaz treba dovršiti od "
         r"$\partial L / \partial s$ do $\partial L / \partial (\mathbf{W}_{[i,:]}^\top)$ i "
         r"$\partial L / \partial \mathbf{b}$.",
         r"One example $\mathbf{x} \in \mathbb{R}^n$ passes through $\mathbf{h} = \mathbf{W}\mathbf{x} + "
         r"\mathbf{b}$ with $\mathbf{W} \in \mathbb{R}^{m \times n}$, then $\mathbf{h}' = \operatorname{ReLU}"
         r"(\mathbf{h})$ and $s = \mathbf{w}^\top \mathbf{h}'$; the loss is the logistic one: "
         r"$L = -\ln \sigma(s)$ when $y = 1$ and $L = -\ln(1 - \sigma(s))$ when $y = 0$. The backward pass is "
         r"to be completed from $\partial L / \partial s$ to $\partial L / \partial (\mathbf{W}_{[i,:]}^\top)$ "
         r"and $\partial L / \partial \mathbf{b}$."),
    (Part("a", 1, both(r"Koliko skalarnih zbrajanja i množenja zahtijeva najjednostavnija izvedba za računanje "
                       r"$\mathbf{h}$?",
                       r"How many scalar additions and multiplications does the plainest implementation need to "
                       r"compute $\mathbf{h}$?"),
          accepted=both("$mn + m$ zbrajanja", "$mn + m$ additions")),
     Part("b", 2, both(r"Zapišite element $\mathbf{h}_{[i]}$ po definiciji matričnog množenja i izvedite "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{x}_{[j]}$, "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{W}_{[k,l]}$ i "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{b}_{[j]}$.",
                       r"Write the element $\mathbf{h}_{[i]}$ from the definition of the matrix product and derive "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{x}_{[j]}$, "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{W}_{[k,l]}$ and "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{b}_{[j]}$.")),
     Part("c", 1, both(r"Koje su dimenzije vektora $\mathbf{w}$, matrice $\partial \mathbf{h}' / \partial \mathbf{h}$ "
                       r"i gradijenta $\partial L / \partial \mathbf{h}'$ i koliko je njihovih elemenata uvijek "
                       r"jednako 0?",
                       r"What are the shapes of $\mathbf{w}$, $\partial \mathbf{h}' / \partial \mathbf{h}$ and "
                       r"$\partial L / \partial \mathbf{h}'$, and how many of their elements are always 0?"),
          accepted=both(r"dimenzije $(m, 1)$ za $\mathbf{w}$", r"the shape $(m, 1)$ for $\mathbf{w}$")),
     Part("d", 4, both("Dovršite jednadžbe unatražnog prolaza tako da daju derivacije gubitka (jakobijane) po "
                       "međurezultatima i parametrima, bez suvišnih operacija.",
                       "Complete the backward equations so that they give the loss's derivatives (Jacobians) by the "
                       "intermediate results and the parameters, with no redundant work.")),
     Part("e", 2, both(r"Nacrtajte računske grafove unaprijednog i unatražnog prolaza: čvorovi su ulazne varijable "
                       r"i međurezultati s operacijom kojom nastaju, bridovi izravne ovisnosti. Elementarne operacije "
                       r"su matrično množenje, zbrajanje vektora, ReLU i cijeli gubitak $(s, y) \mapsto L$.",
                       r"Draw the computational graphs of the forward and the backward pass: nodes are the inputs "
                       r"and the intermediate results with the operation that makes them, edges direct "
                       r"dependencies. The elementary operations are the matrix product, vector addition, ReLU and "
                       r"the whole loss $(s, y) \mapsto L$."))),
    givens="chosen"),)


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E1's solution in ``lang``: givens, each part's steps and answer (gradients as row vectors)."""
    figures = figures or {}
    gv, f, g, j, c = result["givens"], result["forward"], result["grads"], result["jacobians"], result["op_counts"]
    m, n = len(gv["b"]), len(gv["x"])
    y = gv["y"]
    loss_term = r"-\ln \sigma(s)" if y == 1 else r"-\ln(1 - \sigma(s))"
    mask = (np.asarray(f["h"]) > 0).astype(float)
    worst_ad = max(v["vs_autodiff"] for v in result["cross_check"].values())
    worst_fd = max(v["vs_finite_diff"] for v in result["cross_check"].values() if v["vs_finite_diff"] is not None)
    s_ = lang.s
    d = lambda a, b: rf"\frac{{\partial {a}}}{{\partial {b}}}"  # noqa: E731
    givens = "\n\n".join([
        s_(f"$m = {m}$ {_hr_count(m, 'skrivena jedinica', 'skrivene jedinice', 'skrivenih jedinica')}, $n = {n}$ "
           f"{_hr_count(n, 'ulaz', 'ulaza', 'ulaza')}:", f"$m = {m}$ hidden units, $n = {n}$ inputs:"),
        display(f"W = {tex(gv['W'])}", f"b = {tex(gv['b'])}", f"x = {tex(gv['x'])}", f"w = {tex(gv['w'])}",
                f"y = {y}"),
    ])
    steps, answers = {}, {}
    steps[""] = "\n\n".join([
        s_("Unaprijedni prolaz za zadane vrijednosti:", "The forward pass on the givens:"),
        display(f"W x = {tex(f['Wx'])}", f"h = W x + b = {tex(f['h'])}",
                rf"h' = \operatorname{{ReLU}}(h) = {tex(f['h_relu'])}"),
        display(rf"s = w^\top h' = {num(f['s'])}", rf"\sigma(s) = {num(f['sigma_s'])}",
                rf"L = {loss_term} = {num(f['L'])}"),
    ])
    steps["a"] = s_(
        f"Svaki $h_i = \\sum_{{j=1}}^{{n}} W_{{ij}} x_j + b_i$ zahtijeva $n$ množenja i $n - 1$ zbrajanja za "
        f"skalarni produkt te još jedno zbrajanje za $b_i$; redaka je $m$.",
        f"Each $h_i = \\sum_{{j=1}}^{{n}} W_{{ij}} x_j + b_i$ takes $n$ multiplications and $n - 1$ additions for "
        f"the dot product, and one more addition for $b_i$; there are $m$ rows.")
    answers["a"] = s_(f"$mn = {m * n}$ množenja i $m(n-1) + m = mn = {m * n}$ zbrajanja.",
                      f"$mn = {m * n}$ multiplications and $m(n-1) + m = mn = {m * n}$ additions.")
    steps["b"] = s_("Po definiciji matričnog množenja $h_i = \\sum_j W_{ij} x_j + b_i$; $x_j$ se u $h_i$ javlja "
                    "samo uz $W_{ij}$, a $W_{kl}$ samo kad je $k = i$:",
                    "From the definition of the matrix product, $h_i = \\sum_j W_{ij} x_j + b_i$; $x_j$ appears in "
                    "$h_i$ only with $W_{ij}$, and $W_{kl}$ only when $k = i$:")
    answers["b"] = display(rf"{d('h_i', 'x_j')} = W_{{ij}}", rf"{d('h_i', 'W_{kl}')} = [k = i]\, x_l",
                           rf"{d('h_i', 'b_j')} = [i = j]")
    steps["c"] = "\n".join([
        s_("Elementi koji su 0 za svaki ulaz:", "The elements that are 0 for every input:"),
        "",
        s_("| veličina | dimenzije | uvijek 0 | zašto |", "| quantity | shape | always 0 | why |"),
        "|---|---|---|---|",
        f"| $w$ | ${m} \\times 1$ | {j['w']['always_zero']} | "
        + s_("parametar: može biti bilo koji broj |", "a parameter: any value |"),
        f"| ${d(chr(104) + chr(39), 'h')}$ | ${m} \\times {m}$ | {j['dh_relu_dh']['always_zero']} | "
        + s_(f"$h'_i$ ovisi samo o $h_i$: $m^2 - m$ elemenata izvan dijagonale |",
             f"$h'_i$ depends on $h_i$ only: the $m^2 - m$ entries off the diagonal |"),
        f"| ${d('L', chr(104) + chr(39))}$ | $1 \\times {m}$ | {j['dL_dh_relu']['always_zero']} | "
        + s_("$(\\sigma(s) - y)\\, w^\\top$: nijedan element nije 0 za svaki ulaz |",
             "$(\\sigma(s) - y)\\, w^\\top$: no entry is 0 for every input |"),
    ])
    answers["c"] = s_(
        f"$w$: ${m} \\times 1$, nijedan element nije uvijek 0; $\\partial h' / \\partial h$: ${m} \\times {m}$, uvijek 0 ih "
        f"je $m^2 - m = {j['dh_relu_dh']['always_zero']}$ (izvan dijagonale); $\\partial L / \\partial h'$: "
        f"$1 \\times {m}$, nijedan element nije uvijek 0.",
        f"$w$: ${m} \\times 1$, none always 0; $\\partial h' / \\partial h$: ${m} \\times {m}$, "
        f"$m^2 - m = {j['dh_relu_dh']['always_zero']}$ always 0 (off the diagonal); $\\partial L / \\partial h'$: "
        f"$1 \\times {m}$, none always 0.")
    steps["d"] = "\n\n".join([
        s_("Svaka jednadžba koristi već izračunani rezultat (bez ponavljanja); gradijenti su retčani vektori:",
           "Each equation reuses a result already computed (nothing recomputed); gradients are row vectors:"),
        display(rf"{d('L', 's')} = \sigma(s) - y = {num(f['sigma_s'])} - {y} = {num(g['dL_ds'])}"),
        display(rf"{d('L', 'w')} = {d('L', 's')}\, h'^\top = {tex(g['dL_dw'], row=True)}",
                rf"{d('L', chr(104) + chr(39))} = {d('L', 's')}\, w^\top = {tex(g['dL_dh_relu'], row=True)}"),
        display(rf"{d('L', 'h')} = {d('L', chr(104) + chr(39))} \operatorname{{diag}}([h > 0]) = "
                rf"{tex(g['dL_dh_relu'], row=True)} \operatorname{{diag}}({tex(mask, row=True)}) = "
                rf"{tex(g['dL_dh'], row=True)}", sep=""),
        display(rf"{d('L', '(W_{[i,:]}^' + chr(92) + 'top)')} = {d('L', 'h_i')}\, x^\top",
                rf"{d('L', 'W')} = \left({d('L', 'h')}\right)^{{\!\top}} x^\top = {tex(g['dL_dW'])}",
                rf"{d('L', 'b')} = {d('L', 'h')} = {tex(g['dL_db'], row=True)}"),
    ])
    answers["d"] = display(
        rf"{d('L', 's')} = \sigma(s) - [y = 1]", rf"{d('L', 'w')} = {d('L', 's')}\, h'^\top",
        rf"{d('L', chr(104) + chr(39))} = {d('L', 's')}\, w^\top",
        rf"{d('L', 'h')} = {d('L', chr(104) + chr(39))} \operatorname{{diag}}([h > 0])",
        rf"{d('L', '(W_{[i,:]}^' + chr(92) + 'top)')} = {d('L', 'h_i')}\, x^\top", rf"{d('L', 'b')} = {d('L', 'h')}")
    graph_parts = [s_("Čvorovi su ulazi i međurezultati s operacijom; bridovi su izravne ovisnosti.",
                      "Nodes are the inputs and the intermediate results with their operation; edges are direct "
                      "dependencies.")]
    for kind in ("forward", "backward"):
        name = s_("unaprijedni prolaz", "forward pass") if kind == "forward" else s_("unatražni prolaz", "backward pass")
        if figures.get(f"e1_{kind}"):
            graph_parts.append(f"![E1 {name}]({figures[f'e1_{kind}']})")
    steps["e"] = "\n\n".join(graph_parts)
    answers["e"] = "; ".join(
        (s_("unaprijedni", "forward") if kind == "forward" else s_("unatražni", "backward")) + ": "
        + ", ".join(f"{a} → {b}" for a, b in result["graph_edges"][kind]) for kind in ("forward", "backward")) + "."
    verified = s_(
        f"Sve je izračunano u float64 (`jaxdl exam mlp`, zadane vrijednosti u `configs/exam_mlp.py`). Jednadžbe "
        f"(d) uspoređene su s `jax.grad` (najveća razlika {worst_ad:.1e}) i s centralnim konačnim razlikama "
        f"({worst_fd:.1e}); broj operacija u (a) prebrojan je u jaxpr-u koda (`count_ops`); derivacije (b) "
        f"jednake su `jax.jacobian` koda; nule u (c) očitane su iz jaxpr-a; grafovi (e) iscrtani su iz koda.",
        f"Everything computed in float64 (`jaxdl exam mlp`, givens in `configs/exam_mlp.py`). The equations of (d) "
        f"against `jax.grad` (largest difference {worst_ad:.1e}) and against central finite differences "
        f"({worst_fd:.1e}); the count of (a) read off the code's jaxpr (`count_ops`); the derivatives of (b) equal "
        f"to `jax.jacobian` of the code; the zeros of (c) read off the jaxpr; the graphs of (e) traced from the code.")
    finals = [str(m * n), num(f["L"]), num(g["dL_ds"]), *(num(v) for v in g["dL_dh"] if v != 0)]
    return {"E1": Body(givens, steps, answers, verified, finals)}
