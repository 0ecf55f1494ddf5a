"""E4: the parameter count of a stacked LSTM, from the leaves of an initialized jaxdl LSTM."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.core import check_int, init_shapes, serial, tree_size
from jaxdl.exams._common import display
from jaxdl.layers import lstm


def closed_form(input_size: int, hidden_size: int, biases: int) -> int:
    """4 gates, each ``H × (D + H)`` weights and ``biases × H`` biases."""
    return 4 * hidden_size * (input_size + hidden_size) + biases * 4 * hidden_size


def flax_count(input_size: int, hidden_size: int) -> int:
    """Parameters of ``flax.linen.LSTMCell(hidden_size)`` on inputs of size ``input_size`` (shapes only)."""
    cell = nn.LSTMCell(features=hidden_size)
    carry = (jnp.zeros((1, hidden_size)), jnp.zeros((1, hidden_size)))
    shapes = jax.eval_shape(cell.init, jax.random.PRNGKey(0), carry, jnp.zeros((1, input_size)))
    return tree_size(shapes)


def solve(input_size: int = 300, hidden_size: int = 500, num_layers: int = 2) -> dict:
    d = check_int("exam lstm", "--input-size", input_size)
    h = check_int("exam lstm", "--hidden-size", hidden_size)
    n = check_int("exam lstm", "--num-layers", num_layers)
    net = serial(*[lstm(h) for _ in range(n)])
    _, params = init_shapes(net.init, (1, 1, d))
    per_layer = []
    for i, key in enumerate(params):
        layer_in = d if i == 0 else h
        one = tree_size(params[key])
        # PyTorch's LSTM keeps two bias vectors (b_ih and b_hh); their sum acts as the one bias.
        two = one + tree_size(params[key]["b"])
        per_layer.append({
            "input_size": layer_in,
            "shapes": {k: list(v.shape) for k, v in params[key].items()},
            "one_bias": one,
            "two_biases": two,
            "closed_form_one_bias": closed_form(layer_in, h, 1),
            "closed_form_two_biases": closed_form(layer_in, h, 2),
            "flax_lstm_cell": flax_count(layer_in, h),
        })
    agree = all(
        p["one_bias"] == p["closed_form_one_bias"] == p["flax_lstm_cell"] and p["two_biases"] == p["closed_form_two_biases"]
        for p in per_layer
    )
    return {
        "one_bias": sum(p["one_bias"] for p in per_layer),
        "two_biases": sum(p["two_biases"] for p in per_layer),
        "per_layer": per_layer,
        "agree": agree,
        "errata": [],
    }


def report(result: dict) -> str:
    lines = ["E4  LSTM parameter count: per layer 4·H·(D + H) weights + 4·H biases per bias vector"]
    for i, p in enumerate(result["per_layer"], start=1):
        lines.append(
            f"  layer {i}: D = {p['input_size']}: {p['one_bias']:,} (one bias per gate: flax, Keras) or "
            f"{p['two_biases']:,} (two: PyTorch); flax.linen.LSTMCell has {p['flax_lstm_cell']:,}"
        )
    lines.append(f"  total: {result['one_bias']:,} with one bias per gate, {result['two_biases']:,} with two"
                 f"  (jaxdl leaves = closed form = flax: {result['agree']})")
    return "\n".join(lines)


def sheet(result: dict, figures: dict | None = None) -> str:
    """E4's solution sheet: the count per layer, worked out, under both bias conventions."""
    del figures
    out = [
        "## E4 — LSTM parameter count",
        "",
        "Each of the 4 gates (input, forget, output, candidate) of a layer with input size $D$ and hidden size "
        "$H$ has an $H \\times (D + H)$ weight matrix (on the input and on the previous hidden state) and a bias "
        "of size $H$ per bias vector: one (flax, Keras) or two ($b_{ih}$ and $b_{hh}$: PyTorch).",
        "",
    ]
    for i, p in enumerate(result["per_layer"], start=1):
        d = p["input_size"]
        hh = p["shapes"]["W_h"][0]  # W_h: (H, 4H), the four gates side by side
        weights = 4 * hh * (d + hh)
        out += [
            f"Layer {i} ($D = {d}$, $H = {hh}$):",
            "",
            display(rf"4 \cdot {hh} \cdot ({d} + {hh}) + 4 \cdot {hh} = {weights:,} + {4 * hh:,} = {p['one_bias']:,}".replace(",", "{,}"),
                    rf"\text{{two biases: }} {weights:,} + 2 \cdot 4 \cdot {hh} = {p['two_biases']:,}".replace(",", "{,}")),
            "",
        ]
    out += [
        f"**Total: {result['one_bias']:,} parameters with one bias per gate, {result['two_biases']:,} with two.** "
        "Counted from the leaves of an initialized jaxdl LSTM and from `flax.linen.LSTMCell`; they agree with the "
        f"closed form: {'yes' if result['agree'] else '**NO**'}.",
    ]
    return "\n".join(out)
