"""E1: one example through ``h = W x + b``, ``h' = ReLU(h)``, ``s = wᵀh'``, logistic loss.

The forward and backward passes are written as compositions of jit-compiled elementary
operations (matrix product, vector addition, ReLU, the loss), so that the computational graphs,
the operation counts and the Jacobians' structural zeros can all be read off the code's jaxpr.

Backward, without redundant work, in the exam's layout (vectors are columns, the gradient of a
scalar a row vector; the code keeps both as 1-D arrays)::

  ∂L/∂s  = σ(s) − [y = 1]
  ∂L/∂w  = ∂L/∂s · h'ᵀ         ∂L/∂h' = ∂L/∂s · wᵀ
  ∂L/∂h  = ∂L/∂h' ⊙ [h > 0]
  ∂L/∂(W_[i,:]ᵀ) = ∂L/∂h_i · xᵀ  ∂L/∂b  = ∂L/∂h

(mn + 3m multiplications and one addition in all, σ(s) kept from the forward pass; the product
with diag([h > 0]) would take m² multiplications and m(m − 1) additions where m do).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import analysis
from jaxdl import layers
from jaxdl.check.numeric import agrees, central_differences
from jaxdl.errors import InputError
from jaxdl.exams._common import matrix, tolist
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
# The graphs' words in Croatian (the operations' symbols read the same in both languages).
GRAPH_WORDS_HR = {"elementwise × [h > 0]": "× po elementima [h > 0]", "E1 forward": "E1 unaprijedni prolaz",
                  "E1 backward": "E1 unatražni prolaz"}


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


def _cross_check(W, b, x, w, y, fwd, grads) -> dict:
    """(d): each of the manual equations' gradients against autodiff, and the parameters'
    against central finite differences: ``{name: {"vs_autodiff", "vs_finite_diff"}}``."""
    def loss_from(W, b, x, w):
        return forward(W, b, x, w, y)["L"]

    auto = dict(zip(("∂L/∂W", "∂L/∂b", "∂L/∂w"), jax.grad(loss_from, argnums=(0, 1, 3))(W, b, x, w)))
    auto["∂L/∂h'"] = jax.grad(lambda hr: loss(matmul(w, hr), y))(fwd["h'"])
    auto["∂L/∂h"] = jax.grad(lambda h: loss(matmul(w, relu(h)), y))(fwd["h"])
    auto["∂L/∂s"] = jax.grad(loss)(fwd["s"], y)
    numeric = {
        "∂L/∂W": central_differences(lambda v: loss_from(v, b, x, w), W),
        "∂L/∂b": central_differences(lambda v: loss_from(W, v, x, w), b),
        "∂L/∂w": central_differences(lambda v: loss_from(W, b, x, v), w),
    }
    manual = {"∂L/∂s": grads["∂L/∂s"], "∂L/∂w": grads["∂L/∂w"], "∂L/∂h'": grads["∂L/∂h'"],
              "∂L/∂h": grads["∂L/∂h = ∂L/∂b"], "∂L/∂W": grads["∂L/∂W"], "∂L/∂b": grads["∂L/∂h = ∂L/∂b"]}
    return {k: {"vs_autodiff": _max_abs(g, auto[k]),
                "vs_finite_diff": _max_abs(g, numeric[k]) if k in numeric else None} for k, g in manual.items()}


def backward_counts(y, s, h_relu, w, h, x) -> dict:
    """(d): the backward equations' scalar multiplications and additions, counted over their jaxpr
    (as (a) is), against the closed form of the equations without redundant work: ∂L/∂s one
    subtraction (σ(s) kept from the forward pass), ∂L/∂w and ∂L/∂h' m multiplications each,
    ∂L/∂h = ∂L/∂h' ⊙ [h > 0] m, ∂L/∂W = ∂L/∂h xᵀ mn; ∂L/∂b = ∂L/∂h nothing."""
    m, n = h.shape[0], x.shape[0]
    counts = analysis.count_ops(backward, y, s, h_relu, w, h, x)
    closed = {"multiplications": m * n + 3 * m, "additions": 1}
    return {"additions": counts["additions"], "multiplications": counts["multiplications"], "closed_form": closed,
            "agree": counts["additions"] == closed["additions"] and counts["multiplications"] == closed["multiplications"]}


def _relabelled(graph: analysis.Graph, words: dict) -> analysis.Graph:
    return analysis.Graph(tuple((name, words.get(op, op)) for name, op in graph.nodes), graph.edges)


def _structure(W, b, x, w, y, fwd) -> tuple[dict, dict, dict]:
    """(a) the operation count of h, from the jaxpr; (b) h's elementwise derivatives against the
    code's Jacobians; (c) the shapes and structural zeros of w, ∂h'/∂h and ∂L/∂h'."""
    m, n = W.shape
    counts = analysis.count_ops(lambda W, x, b: add(matmul(W, x), b), W, x, b)
    closed_form = {"additions": m * n, "multiplications": m * n}
    op_counts = {
        "additions": counts["additions"],
        "multiplications": counts["multiplications"],
        "closed_form": closed_form,
        "agree": counts["additions"] == closed_form["additions"]
        and counts["multiplications"] == closed_form["multiplications"],
    }

    def h_of(x, W, b):
        return add(matmul(W, x), b)

    jx, jW, jb = jax.jacobian(h_of, argnums=(0, 1, 2))(x, W, b)
    eye = jnp.eye(m)
    derivatives = {
        "dh_i/dx_j = W_ij": _max_abs(jx, W),
        "dh_i/dW_kl = [k = i] x_l": _max_abs(jW, eye[:, :, None] * x[None, None, :]),
        "dh_i/db_j = [i = j]": _max_abs(jb, eye),
    }
    zeros_w = int((~analysis.jacobian_sparsity(lambda hr: matmul(w, hr), [fwd["h'"]])).sum())
    zeros_relu = int((~analysis.jacobian_sparsity(relu, [fwd["h"]])).sum())
    zeros_dl = int((~analysis.jacobian_sparsity(lambda hr: loss(matmul(w, hr), y), [fwd["h'"]])).sum())
    jacobians = {
        "w": {"shape": [m], "always_zero": zeros_w},
        "dh_relu_dh": {"shape": [m, m], "always_zero": zeros_relu},
        "dL_dh_relu": {"shape": [1, m], "always_zero": zeros_dl},
    }
    return op_counts, derivatives, jacobians


def solve(cfg) -> dict:
    """All of E1's answers for the config's numbers, each with its cross-check."""
    W, b, x, w, y = read_config(cfg)
    with jax.enable_x64(True):
        W, b, x, w = (jnp.asarray(a, jnp.float64) for a in (W, b, x, w))
        y = jnp.asarray(y, jnp.float64)
        fwd = forward(W, b, x, w, y)
        grads = backward(y, fwd["s"], fwd["h'"], w, fwd["h"], x)
        cross_check = _cross_check(W, b, x, w, y, fwd, grads)
        op_counts, derivatives, jacobians = _structure(W, b, x, w, y, fwd)
        backward_op_counts = backward_counts(y, fwd["s"], fwd["h'"], w, fwd["h"], x)
        # (e) the graphs, traced from the code.
        fwd_graph = analysis.computational_graph(forward, ["W", "b", "x", "w", "y"], [W, b, x, w, y], FORWARD_OPS)
        bwd_graph = analysis.computational_graph(
            backward, ["y", "s", "h'", "w", "h", "x"],
            [y, fwd["s"], fwd["h'"], w, fwd["h"], x], BACKWARD_OPS,
        )
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
        "op_counts": op_counts,
        "derivatives": {k: {"max_abs_err": v, "ok": v == 0.0} for k, v in derivatives.items()},
        "jacobians": jacobians,
        "backward_op_counts": backward_op_counts,
        "graphs": {
            "forward": analysis.to_dot(fwd_graph, "E1 forward"),
            "backward": analysis.to_dot(bwd_graph, "E1 backward"),
        },
        "graphs_hr": {
            "forward": analysis.to_dot(_relabelled(fwd_graph, GRAPH_WORDS_HR), GRAPH_WORDS_HR["E1 forward"]),
            "backward": analysis.to_dot(_relabelled(bwd_graph, GRAPH_WORDS_HR), GRAPH_WORDS_HR["E1 backward"]),
        },
        "graph_edges": {
            "forward": [list(e) for e in fwd_graph.edges],
            "backward": [list(e) for e in bwd_graph.edges],
        },
        "errata": [],
        "ok": all(agrees("autodiff", v["vs_autodiff"])
                  and (v["vs_finite_diff"] is None or agrees("finite differences", v["vs_finite_diff"]))
                  for v in cross_check.values())
        and all(v == 0.0 for v in derivatives.values()) and backward_op_counts["agree"],
    }


def report(result: dict) -> str:
    """The readable answer to E1."""
    f, g, j, c = result["forward"], result["grads"], result["jacobians"], result["op_counts"]
    bc = result["backward_op_counts"]
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
        "      ∂L/∂h = ∂L/∂h' ⊙ [h > 0];  ∂L/∂(W_[i,:]ᵀ) = ∂L/∂h_i · xᵀ;  ∂L/∂b = ∂L/∂h",
        f"      {bc['multiplications']} multiplications and {bc['additions']} addition{'s' if bc['additions'] != 1 else ''} "
        f"(counted over the jaxpr; closed form mn + 3m = {bc['closed_form']['multiplications']} and "
        f"{bc['closed_form']['additions']}: nothing recomputed)",
        f"      ∂L/∂s = {g['dL_ds']:.4f}, ∂L/∂w = {fmt(g['dL_dw'])}, ∂L/∂h' = {fmt(g['dL_dh_relu'])}, ∂L/∂h = {fmt(g['dL_dh'])}",
        f"      ∂L/∂W = {fmt(g['dL_dW']).replace(chr(10), ' ')}",
        f"      max |manual − jax.grad| = {worst_ad:.1e}, max |manual − finite diff| = {worst_fd:.1e}",
        "  (e) graphs traced from the code (Graphviz DOT; edges = direct dependencies):",
        "      forward:  " + ", ".join(f"{a}→{b}" for a, b in result["graph_edges"]["forward"]),
        "      backward: " + ", ".join(f"{a}→{b}" for a, b in result["graph_edges"]["backward"]),
    ]
    return "\n".join(lines)


