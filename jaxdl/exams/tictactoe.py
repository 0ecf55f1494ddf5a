"""E3: the hand-set tic-tac-toe classifier, one forward pass, the BCE gradient, and its accuracy
over every final board of a legal game."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.exams._common import display, num, tex, tolist
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
        "glyphs": {"X": tolist(ttt.GLYPHS[1]), "O": tolist(ttt.GLYPHS[-1]), "empty": tolist(ttt.GLYPHS[0])},
        "model": {
            "layers": [
                {"layer": "convolution", "filters": 1, "kernel_size": 3, "stride": 3, "padding": 0,
                 "W": tolist(conv_w), "b": 0.0,
                 "why": "per 3×3 cell: X glyph → 5/5 = 1, O glyph → (4 − 4)/5 = 0, empty → 0"},
                {"layer": "fully connected", "inputs": 9, "outputs": 8, "W": tolist(np.asarray(params["dense_2"]["W"])),
                 "b": tolist(np.asarray(params["dense_2"]["b"])), "lines": list(ttt.LINE_NAMES),
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


def sheet(result: dict, figures: dict | None = None) -> str:
    """E3's solution sheet: every hyperparameter and weight, the forward pass on a drawn board,
    the derivation of the BCE gradient."""
    figures = figures or {}
    m, ex, g, b = result["model"]["layers"], result["forward_example"], result["bce_gradient"], result["boards"]
    glyphs = result["glyphs"]
    conv, fc_w, fc_b = np.asarray(m[0]["W"]), np.asarray(m[1]["W"]), np.asarray(m[1]["b"])
    steps = {s["layer"]: np.asarray(s["output"]) for s in ex["steps"]}
    lines_out = steps["fully connected"]
    out = [
        "## E3 — Tic-tac-toe: convolution → fully connected → global max pooling → sigmoid",
        "",
        "**Givens.** A final board is a $9 \\times 9$ binary image (1 = black); each of the 9 cells is a "
        "$3 \\times 3$ block holding a glyph:",
        "",
        display(f"X = {tex(glyphs['X'])}", f"O = {tex(glyphs['O'])}", f"\\text{{empty}} = {tex(glyphs['empty'])}"),
        "",
        "**The model and all its values.** The convolution scores each cell, one fully connected unit per line "
        "counts the X on that line, the global max pooling keeps the best line, the sigmoid turns it into "
        "P(X won).",
        "",
        "| layer | hyperparameters | parameters |",
        "|---|---|---|",
        f"| convolution | 1 filter ${m[0]['kernel_size']} \\times {m[0]['kernel_size']}$, stride {m[0]['stride']}, "
        f"padding {m[0]['padding']} | $W_c = (2X - 1)/5$ (below), bias $b_c = 0$ |",
        f"| fully connected | {m[1]['inputs']} → {m[1]['outputs']} (the $3 \\times 3$ map flattened row by row) | "
        f"${num(fc_w.max())}$ on the 3 cells of the unit's line, 0 elsewhere; bias ${num(fc_b[0])}$ |",
        f"| global max pooling | over the {m[2]['over']} units | none |",
        "| sigmoid | | none |",
        "",
        display(rf"W_c = \frac{{1}}{{5}} {tex(np.rint(conv * 5))}"),
        "",
        f"A cell's score is $\\langle W_c, \\text{{cell}} \\rangle$: {m[0]['why']}. With $k$ X on a line, its unit "
        f"outputs ${num(fc_w.max())} k - {num(-fc_b[0])}$: $+10$ for three X, at most $-10$ otherwise, so the "
        "sigmoid of the best line is above $0.99995$ exactly when X has three in a row.",
        "",
        "The fully connected weights, one row per line (" + ", ".join(LINE_NAMES_PLAIN) + "), columns the "
        "cells row by row:",
        "",
        display(rf"W_{{\text{{fc}}}}^\top = {tex(fc_w.T)}", rf"b_{{\text{{fc}}}} = {tex(fc_b)}"),
        "",
    ]
    if figures.get("e3_lines"):
        out += [f"![the fully connected units as 3×3 filters over the cells]({figures['e3_lines']})", ""]
    if figures.get("e3_filter"):
        out += [f"![the convolution filter W_c]({figures['e3_filter']})", ""]
    out += [
        "**One forward pass** on the board " + " / ".join(_board_text(ex["board"])) + " (X won on the ↘ diagonal):",
        "",
    ]
    if figures.get("e3_board"):
        out += [f"![the example board as a 9×9 image]({figures['e3_board']})", ""]
    out += [
        display(rf"\text{{image}} = {tex(ex['image'], sig=1)}"),
        "",
        display(rf"\text{{convolution}} = {tex(steps['convolution'].reshape(3, 3))}",
                rf"\text{{fully connected}} = {tex(lines_out, row=True)}"),
        "",
        display(rf"s = \max_k (\text{{fully connected}})_k = {num(steps['global max pooling'][0])}",
                rf"\sigma(s) = {num(ex['probability'], 6)}"),
        "",
        "| line | " + " | ".join(ttt.LINE_NAMES) + " |",
        "|---|" + "---|" * len(ttt.LINE_NAMES),
        "| unit output | " + " | ".join(f"${num(v)}$" for v in lines_out) + " |",
        "",
        "**The gradient of the binary cross-entropy at the sigmoid's input** $s$. With "
        "$L = -y \\ln \\sigma(s) - (1 - y) \\ln(1 - \\sigma(s))$ and $\\sigma'(s) = \\sigma(s)(1 - \\sigma(s))$:",
        "",
        display(r"\frac{\partial L}{\partial s} = -y \frac{\sigma(s)(1 - \sigma(s))}{\sigma(s)} + (1 - y) "
                r"\frac{\sigma(s)(1 - \sigma(s))}{1 - \sigma(s)} = -y (1 - \sigma(s)) + (1 - y) \sigma(s) = \sigma(s) - y",
                sep=""),
        "",
        "(the mean over a minibatch divides each example's gradient by $N$). On the example, "
        f"$s = {num(g['s'])}$, $y = {g['y']}$: $\\partial L / \\partial s = {num(g['manual'], 6)}$ "
        f"(`jax.grad`: ${num(g['autodiff'], 6)}$; finite differences: ${num(g['finite_diff'], 6)}$).",
        "",
        f"**Over every final board of a legal game** (game-tree search: {b['total']} = {b['x_wins']} X wins + "
        f"{b['o_wins']} O wins + {b['draws']} draws, the UCI Tic-Tac-Toe Endgame set): accuracy "
        f"{100 * result['accuracy']:.2f}%, smallest margin from the 0.5 threshold {result['min_margin']:.6f}.",
    ]
    return "\n".join(out)


LINE_NAMES_PLAIN = ["row 1", "row 2", "row 3", "column 1", "column 2", "column 3", "the ↘ diagonal", "the ↙ diagonal"]
