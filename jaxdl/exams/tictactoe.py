"""E3: the hand-set tic-tac-toe classifier, one forward pass, the BCE gradient, and its accuracy
over every final board of a legal game."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.exams._common import tolist
from jaxdl.losses import binary_cross_entropy
from jaxdl.models import tictactoe as ttt

# The example: X won on the ↘ diagonal; O holds the left column's two lower cells.
EXAMPLE_BOARD = (1, 0, 0, -1, 1, 0, -1, 0, 1)


def _board_text(board) -> list[str]:
    sym = {1: "X", -1: "O", 0: "."}
    return [" ".join(sym[int(v)] for v in board[r * 3:(r + 1) * 3]) for r in range(3)]


def solve(cfg=None) -> dict:
    del cfg
    boards, outcome = ttt.final_boards()
    model, params = ttt.classifier(), ttt.hand_set_params()
    images = jnp.asarray(ttt.board_images(boards))
    probs = np.asarray(model.apply(params, images))[:, 0]
    labels = (outcome == 1).astype(np.int8)
    accuracy = float(np.mean((probs > 0.5) == labels))

    # One forward pass, layer by layer.
    image = jnp.asarray(ttt.board_images([EXAMPLE_BOARD]))
    steps, x = [], image
    names = ("convolution", "flatten (a reshape)", "fully connected", "global max pooling", "sigmoid")
    for key, layer, name in zip(params, ttt.classifier_layers(), names):
        x = layer.apply(params[key], x)
        steps.append({"layer": name, "output": tolist(np.asarray(x)[0])})

    # ∂L/∂s of the BCE loss at the sigmoid's input s (the logit), for the example and label 1.
    logit = float(np.asarray(steps[3]["output"])[0])
    with jax.enable_x64(True):
        s = jnp.asarray([[logit]], jnp.float64)
        y = jnp.ones((1, 1), jnp.float64)
        manual = float(binary_cross_entropy.backward(s, y)[0, 0])
        autodiff = float(jax.grad(binary_cross_entropy.apply)(s, y)[0, 0])
        eps = 1e-6
        numeric = float((binary_cross_entropy.apply(s + eps, y) - binary_cross_entropy.apply(s - eps, y)) / (2 * eps))

    conv_w = np.asarray(params["conv2d_0"]["W"])[0, 0]
    return {
        "model": {
            "layers": [
                {"layer": "convolution", "filters": 1, "kernel_size": 3, "stride": 3, "padding": 0,
                 "W": tolist(conv_w), "b": 0.0,
                 "why": "per 3×3 cell: X glyph → 5/5 = 1, O glyph → (4 − 4)/5 = 0, empty → 0"},
                {"layer": "fully connected", "inputs": 9, "outputs": 8, "W": tolist(np.asarray(params["dense_2"]["W"])),
                 "b": tolist(np.asarray(params["dense_2"]["b"])),
                 "why": f"one unit per line ({', '.join(ttt.LINE_NAMES)}): {ttt.ALPHA:g}·(#X on the line − 2.5)"},
                {"layer": "global max pooling", "over": 8, "why": "the best line: +10 iff three X in a row, else ≤ −10"},
                {"layer": "sigmoid", "why": "P(X won)"},
            ],
        },
        "forward_example": {"board": list(EXAMPLE_BOARD), "image": tolist(np.asarray(image)[0, 0]), "steps": steps,
                            "probability": float(np.asarray(x)[0, 0])},
        "bce_gradient": {
            "formula": "L = −y ln σ(s) − (1 − y) ln(1 − σ(s)),  ∂L/∂s = σ(s) − y  (a minibatch mean divides by N)",
            "s": logit, "y": 1, "manual": manual, "autodiff": autodiff, "finite_diff": numeric,
        },
        "boards": {
            "total": int(len(boards)),
            "x_wins": int(np.sum(outcome == 1)),
            "o_wins": int(np.sum(outcome == -1)),
            "draws": int(np.sum(outcome == 0)),
        },
        "accuracy": accuracy,
        "min_margin": float(min(probs[labels == 1].min(), 1 - probs[labels == 0].max())),
        "errata": [],
    }


def report(result: dict) -> str:
    m, ex, g, b = result["model"]["layers"], result["forward_example"], result["bce_gradient"], result["boards"]
    conv = np.asarray(m[0]["W"])
    lines = [
        "E3  Tic-tac-toe: convolution → fully connected → global max pooling → sigmoid",
        f"  convolution: {m[0]['filters']} filter {m[0]['kernel_size']}×{m[0]['kernel_size']}, stride {m[0]['stride']}, "
        f"no padding, bias 0, W = (2·X − 1)/5 = {np.rint(conv * 5).astype(int).tolist()}/5",
        f"      {m[0]['why']}",
        f"  fully connected 9 → 8, W = 20 on the line's cells, b = −50:  {m[1]['why']}",
        f"  global max pooling over the 8 lines: {m[2]['why']};  sigmoid: {m[3]['why']}",
        "  forward pass on the board " + " / ".join(_board_text(ex["board"])) + ":",
    ]
    for step in ex["steps"]:
        out = np.asarray(step["output"])
        lines.append(f"      {step['layer']:<22} {np.array2string(out.reshape(-1) if out.ndim > 1 else out, precision=5, separator=', ', max_line_width=200)}")
    lines += [
        f"  → P(X won) = {ex['probability']:.6f}",
        f"  BCE gradient at the sigmoid's input: {g['formula']}",
        f"      s = {g['s']:g}, y = 1: manual {g['manual']:.6e}, jax.grad {g['autodiff']:.6e}, finite diff {g['finite_diff']:.6e}",
        f"  all final boards of legal games (game-tree search): {b['total']} = {b['x_wins']} X wins + "
        f"{b['o_wins']} O wins + {b['draws']} draws",
        f"  accuracy over them: {100 * result['accuracy']:.2f}% (smallest margin from the 0.5 threshold: {result['min_margin']:.6f})",
    ]
    return "\n".join(lines)
