"""E1: one example through ``h = W x + b``, ``h' = ReLU(h)``, ``s = wᵀh'``, logistic loss.

The forward and backward passes are written as compositions of jit-compiled elementary
operations (matrix product, vector addition, ReLU, the loss), so that the computational graphs,
the operation counts and the Jacobians' structural zeros can all be read off the code's jaxpr.

Backward, without redundant work (column vectors; ``∂L/∂v`` has the shape of ``v``)::

  ∂L/∂s  = σ(s) − [y = 1]
  ∂L/∂w  = ∂L/∂s · h'          ∂L/∂h' = ∂L/∂s · w
  ∂L/∂h  = ∂L/∂h' ⊙ [h > 0]
  ∂L/∂W  = ∂L/∂h xᵀ            ∂L/∂b  = ∂L/∂h
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import analysis
from jaxdl import layers
from jaxdl.errors import InputError
from jaxdl.exams._common import display, erratum, matrix, num, tex, tolist
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

    errata = [
        erratum(
            "E1(a)",
            "(m−1)n + m = mn additions",
            f"m(n−1) + m = mn additions: m dot products of length n (n−1 additions each) and m bias "
            f"additions; (m−1)n + m = mn − n + m equals mn only when m = n (here m={m}, n={n}: "
            f"{(m - 1) * n + m} vs {m * n})",
            f"count_ops over the jaxpr of h: {counts['additions']} additions, {counts['multiplications']} multiplications",
        ),
        erratum(
            "E1(d)",
            "∂L/∂w = ∂L/∂s · wᵀ,  ∂L/∂h' = ∂L/∂s · h'ᵀ",
            "the two are swapped: ∂s/∂w = h'ᵀ and ∂s/∂h' = wᵀ, so ∂L/∂w = ∂L/∂s · h' and ∂L/∂h' = ∂L/∂s · w",
            f"on the config's numbers the seed's formulas differ from jax.grad by "
            f"{seed_dw_err:.4g} (∂L/∂w) and {seed_dh_relu_err:.4g} (∂L/∂h')",
        ),
        erratum(
            "E1(e)", "the backward graph: \"TODO unatražni graf\" (left unfinished)",
            "the backward graph traced from the code of (d): inputs y, s, h', w, h, x; nodes ∂L/∂s (σ(s) − y), "
            "∂L/∂w and ∂L/∂h' (both from ∂L/∂s), ∂L/∂h = ∂L/∂b (from ∂L/∂h' and h), ∂L/∂W (from ∂L/∂h and x)",
            f"{len(bwd_graph.edges)} edges read off the jaxpr of the backward equations, drawn in the sheet",
            kind="incomplete",
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
        "  (d) ∂L/∂s = σ(s) − [y = 1];  ∂L/∂w = ∂L/∂s · h';  ∂L/∂h' = ∂L/∂s · w;  ∂L/∂h = ∂L/∂h' ⊙ [h > 0];",
        "      ∂L/∂W = ∂L/∂h xᵀ (row i: ∂L/∂h_i · xᵀ);  ∂L/∂b = ∂L/∂h",
        f"      ∂L/∂s = {g['dL_ds']:.4f}, ∂L/∂w = {fmt(g['dL_dw'])}, ∂L/∂h' = {fmt(g['dL_dh_relu'])}, ∂L/∂h = {fmt(g['dL_dh'])}",
        f"      ∂L/∂W = {fmt(g['dL_dW']).replace(chr(10), ' ')}",
        f"      max |manual − jax.grad| = {worst_ad:.1e}, max |manual − finite diff| = {worst_fd:.1e}",
        "  (e) graphs traced from the code (Graphviz DOT; edges = direct dependencies):",
        "      forward:  " + ", ".join(f"{a}→{b}" for a, b in result["graph_edges"]["forward"]),
        "      backward: " + ", ".join(f"{a}→{b}" for a, b in result["graph_edges"]["backward"]),
    ]
    return "\n".join(lines)


def sheet(result: dict, figures: dict | None = None) -> str:
    """E1's solution sheet in Markdown with LaTeX: givens, worked steps, answers, graphs."""
    figures = figures or {}
    gv, f, g, j, c = result["givens"], result["forward"], result["grads"], result["jacobians"], result["op_counts"]
    m, n = len(gv["b"]), len(gv["x"])
    y = gv["y"]
    loss_term = r"-\ln \sigma(s)" if y == 1 else r"-\ln(1 - \sigma(s))"
    mask = (np.asarray(f["h"]) > 0).astype(float)
    worst_ad = max(v["vs_autodiff"] for v in result["cross_check"].values())
    worst_fd = max(v["vs_finite_diff"] for v in result["cross_check"].values() if v["vs_finite_diff"] is not None)
    out = [
        "## E1 — MLP with logistic loss, one example",
        "",
        f"**Givens** (`configs/exam_mlp.py`; $m = {m}$, $n = {n}$; column vectors):",
        "",
        display(f"W = {tex(gv['W'])}", f"b = {tex(gv['b'])}", f"x = {tex(gv['x'])}", f"w = {tex(gv['w'])}",
                f"y = {y}"),
        "",
        "**Forward pass.**",
        "",
        display(f"W x = {tex(f['Wx'])}", f"h = W x + b = {tex(f['h'])}",
                rf"h' = \operatorname{{ReLU}}(h) = {tex(f['h_relu'])}"),
        "",
        display(rf"s = w^\top h' = {num(f['s'])}", rf"\sigma(s) = {num(f['sigma_s'])}",
                rf"L = {loss_term} = {num(f['L'])}"),
        "",
        f"**(a)** Each $h_i = \\sum_{{j=1}}^{{n}} W_{{ij}} x_j + b_i$ takes $n$ multiplications and $n - 1$ "
        f"additions for the dot product, plus one addition for $b_i$: $mn = {m * n}$ multiplications and "
        f"$m(n-1) + m = mn = {m * n}$ additions. Counted over the code's jaxpr: {c['multiplications']} "
        f"multiplications, {c['additions']} additions.",
        "",
        "**(b)** From $h_i = \\sum_j W_{ij} x_j + b_i$:",
        "",
        display(r"\frac{\partial h_i}{\partial x_j} = W_{ij}",
                r"\frac{\partial h_i}{\partial W_{kl}} = [k = i]\, x_l",
                r"\frac{\partial h_i}{\partial b_j} = [i = j]"),
        "",
        "equal, entry by entry, to `jax.jacobian` of the code: "
        + ("yes." if all(v["ok"] for v in result["derivatives"].values()) else "**NO**."),
        "",
        "**(c)** Shapes and the elements that are 0 for every input (structural zeros, found from the jaxpr):",
        "",
        "| quantity | shape | always 0 | why |",
        "|---|---|---|---|",
        f"| $w$ | ${m} \\times 1$ | {j['w']['always_zero']} | a parameter: any value |",
        f"| $\\partial h' / \\partial h$ | ${m} \\times {m}$ | {j['dh_relu_dh']['always_zero']} | "
        f"$h'_i$ depends on $h_i$ only: the $m^2 - m$ entries off the diagonal |",
        f"| $\\partial L / \\partial h'$ | $1 \\times {m}$ | {j['dL_dh_relu']['always_zero']} | "
        "$(\\sigma(s) - y)\\, w^\\top$: no entry is 0 for every input |",
        "",
        "**(d)** The backward equations, each used once (no recomputation), evaluated:",
        "",
        display(rf"\frac{{\partial L}}{{\partial s}} = \sigma(s) - y = {num(f['sigma_s'])} - {y} = {num(g['dL_ds'])}"),
        "",
        display(rf"\frac{{\partial L}}{{\partial w}} = \frac{{\partial L}}{{\partial s}}\, h' = {tex(g['dL_dw'])}",
                rf"\frac{{\partial L}}{{\partial h'}} = \frac{{\partial L}}{{\partial s}}\, w = {tex(g['dL_dh_relu'])}"),
        "",
        display(rf"\frac{{\partial L}}{{\partial h}} = \frac{{\partial L}}{{\partial h'}} \odot [h > 0] = "
                rf"{tex(g['dL_dh_relu'])} \odot {tex(mask)} = {tex(g['dL_dh'])}", sep=""),
        "",
        display(rf"\frac{{\partial L}}{{\partial W}} = \frac{{\partial L}}{{\partial h}}\, x^\top = {tex(g['dL_dW'])}",
                rf"\frac{{\partial L}}{{\partial b}} = \frac{{\partial L}}{{\partial h}} = {tex(g['dL_db'])}"),
        "",
        f"Checked in float64: max |equations − `jax.grad`| = {worst_ad:.1e}, max |equations − central "
        f"finite differences| = {worst_fd:.1e}.",
        "",
        "**(e)** The computational graphs, traced from the code (nodes: inputs, and results with their "
        "operation; edges: direct dependencies):",
        "",
    ]
    for kind in ("forward", "backward"):
        key = f"e1_{kind}"
        if figures.get(key):
            out += [f"![E1 {kind} graph]({figures[key]})", ""]
        out += [f"{kind.capitalize()} edges: " + ", ".join(f"{a} → {b}" for a, b in result["graph_edges"][kind]) + ".", ""]
    return "\n".join(out)
