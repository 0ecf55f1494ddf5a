"""E3's computation: the hand-set tic-tac-toe classifier, one forward pass, the BCE gradient, and
its accuracy over every final board of a legal game — for the exam's question (did X win?) or
another target of :data:`jaxdl.models.tictactoe.TARGETS` (O won, X won on a diagonal, someone
won, …)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import InputError
from jaxdl.exams._common import tolist
from jaxdl.exams.lang import both
from jaxdl.losses import binary_cross_entropy
from jaxdl.models import tictactoe as ttt

# The board of (b)'s forward pass. The exam's own image is lost (the seed says only that its figure
# showed an X in the top-left cell and an O in the bottom-left one); jaxdl chooses a final board
# with those two cells: X won on the ↘ diagonal, O holds the left column's two lower cells.
EXAMPLE_BOARD = (1, 0, 0, -1, 1, 0, -1, 0, 1)
# logit: the sigmoid's input at which (c)'s gradient is asked for; the exam states none (None: the
# hand-set model's own logit on the board), a drawn variant states one.
EXAM = {"target": "x_wins", "scale": ttt.ALPHA, "board": list(EXAMPLE_BOARD), "logit": None}

# What each target recognises: the clause "games in which …" (hr) and the class's name (en).
TARGET_TEXT = {
    "x_wins": both("je pobijedio X", "X won"),
    "o_wins": both("je pobijedio O", "O won"),
    "x_diagonal": both("je X pobijedio na jednoj od dijagonala", "X won on a diagonal"),
    "o_diagonal": both("je O pobijedio na jednoj od dijagonala", "O won on a diagonal"),
    "x_row": both("je X pobijedio u nekom retku", "X won on a row"),
    "o_row": both("je O pobijedio u nekom retku", "O won on a row"),
    "x_column": both("je X pobijedio u nekom stupcu", "X won on a column"),
    "o_column": both("je O pobijedio u nekom stupcu", "O won on a column"),
    "x_through_centre": both("je X pobijedio linijom kroz središnju ćeliju", "X won on a line through the centre"),
    "someone_wins": both("je netko pobijedio (X ili O)", "someone won (X or O)"),
    "draw": both("je igra završila neriješeno", "the game ended in a draw"),
}
# The convolution's detector: its scale (the weights are whole multiples of 1/k), what it sees
# and what each glyph scores.
DETECTOR_TEXT = {
    "x": (5, both("$W_c = (2X - 1)/5$: $+1/5$ na pet piksela X-a, $-1/5$ na ostala četiri",
                  "$W_c = (2X - 1)/5$: $+1/5$ on X's five pixels, $-1/5$ on the other four"),
          both("X daje $5/5 = 1$, O daje $(4 - 4)/5 = 0$, prazna ćelija 0",
               "X gives $5/5 = 1$, O gives $(4 - 4)/5 = 0$, an empty cell 0")),
    "o": (4, both("$1/4$ na četiri piksela ruba (ima ih O, X ih nema)", "$1/4$ on the four edge pixels (O has them, X not)"),
          both("O daje $4/4 = 1$, X daje 0, prazna ćelija 0", "O gives $4/4 = 1$, X gives 0, an empty cell 0")),
    "mark": (4, both("$1/4$ na četiri kuta (imaju ih i X i O)", "$1/4$ on the four corners (both X and O have them)"),
             both("X daje $4/4 = 1$, O daje $4/4 = 1$, prazna ćelija 0", "X gives $4/4 = 1$, O gives $4/4 = 1$, an empty cell 0")),
    "signed": (4, both("$1$ u središtu (ima ga samo X), $-1/4$ na četiri piksela ruba (ima ih samo O)",
                       "$1$ at the centre (only X has it), $-1/4$ on the four edge pixels (only O has them)"),
               both("X daje $1$, O daje $-4/4 = -1$, prazna ćelija 0", "X gives $1$, O gives $-4/4 = -1$, an empty cell 0")),
}
LINE_NAMES = [both(f"redak {i}", f"row {i}") for i in (1, 2, 3)] + [both(f"stupac {i}", f"column {i}") for i in (1, 2, 3)] \
    + [both("dijagonala ↘", "diagonal ↘"), both("dijagonala ↙", "diagonal ↙")]


def board_text(board) -> list[str]:
    """The board's three rows as text: ``X . O``."""
    sym = {1: "X", -1: "O", 0: "."}
    return [" ".join(sym[int(v)] for v in board[r * 3:(r + 1) * 3]) for r in range(3)]


def unit_names(target: str, lang: str) -> list[str]:
    """The fully connected layer's units, named by what each watches."""
    _, units = ttt.TARGETS[target]
    if units == "full":
        return [both("sve ćelije", "all cells")[lang]]
    names = []
    for lines, sign in units:
        prefix = "" if ttt.TARGETS[target][0] != "signed" else ("X: " if sign > 0 else "O: ")
        names += [prefix + LINE_NAMES[j][lang] for j in lines]
    return names


def read_config(cfg):
    """Validates E3's config: a target of :data:`jaxdl.models.tictactoe.TARGETS`, the weights' scale, a
    final board of a legal game and the logit (c) is asked at (None: the model's own); returns
    ``(target, scale, board, logit)``."""
    known = set(EXAM)
    unknown = sorted(set(cfg.keys()) - known)
    if unknown:
        raise InputError(f"config: unknown field {unknown[0]!r} for exam tictactoe; known: {sorted(known)}")
    if cfg.target not in ttt.TARGETS:
        raise InputError(f"config: target must be one of {list(ttt.TARGETS)}; got {cfg.target!r}")
    scale = cfg.scale
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < 1e3:
        raise InputError(f"config: scale must be a number in (0, 1000); got {scale!r}")
    board = tuple(cfg.board)
    boards, _ = ttt.final_boards()
    if len(board) != 9 or not np.any(np.all(boards == np.asarray(board, dtype=np.int64), axis=1)):
        raise InputError(f"config: board must be 9 cells in {{1: X, -1: O, 0: empty}} of a final board of a legal game; "
                         f"got {list(board)!r}")
    logit = cfg.get("logit")
    if logit is not None and (isinstance(logit, bool) or not isinstance(logit, (int, float))
                              or not np.isfinite(logit) or abs(logit) > 30):
        raise InputError(f"config: logit must be None or a number in [-30, 30]; got {logit!r}")
    return cfg.target, float(scale), board, (None if logit is None else float(logit))


def _forward_pass(target: str, scale: float, board, params) -> tuple:
    """One forward pass on ``board``, layer by layer, in float64 (the sheet's numbers):
    ``(image, [{layer, output}, ...], the sigmoid's output)``."""
    with jax.enable_x64(True):
        p64 = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), ttt.hand_set_params(target, scale))
        image = jnp.asarray(ttt.board_images([board]), jnp.float64)
        steps, x = [], image
        names = ("convolution", "flatten (a reshape)", "fully connected", "global max pooling", "sigmoid")
        for key, layer, name in zip(params, ttt.classifier_layers(target), names):  # the layers' order
            x = layer.apply(p64[key], x)
            steps.append({"layer": name, "output": tolist(np.asarray(x)[0])})
        x = np.asarray(x)
    return image, steps, x


def _bce_gradient(target: str, steps: list, label: int) -> dict:
    """∂L/∂s of the BCE loss at the sigmoid's input s (the logit), by the loss's backward pass,
    ``jax.grad`` and central differences, and through the max to the units."""
    with jax.enable_x64(True):
        units = jnp.asarray([steps[2]["output"]], jnp.float64)
        pool = ttt.classifier_layers(target)[3]
        s = pool.apply({}, units)
        y = jnp.full((1, 1), label, jnp.float64)
        manual = binary_cross_entropy.backward(s, y)
        by_units = pool.backward({}, units, manual)[1]
        autodiff = float(jax.grad(binary_cross_entropy.apply)(s, y)[0, 0])
        eps = 1e-6
        numeric = float((binary_cross_entropy.apply(s + eps, y) - binary_cross_entropy.apply(s - eps, y)) / (2 * eps))
        logit, manual = float(s[0, 0]), float(manual[0, 0])
    return {
        "formula": "L = −y ln σ(s) − (1 − y) ln(1 − σ(s)),  ∂L/∂s = σ(s) − y  (a minibatch mean divides by N)",
        "s": logit, "y": label, "manual": manual, "autodiff": autodiff, "finite_diff": numeric,
        "by_units": tolist(np.asarray(by_units)[0]),
    }


def _asked_gradient(s: float, label: int) -> dict:
    """(c)'s number: ∂L/∂s of the BCE loss at the logit ``s`` for the board's label, by the loss's
    backward pass, ``jax.grad`` and central differences."""
    with jax.enable_x64(True):
        s_, y = jnp.full((1, 1), s, jnp.float64), jnp.full((1, 1), label, jnp.float64)
        manual = float(binary_cross_entropy.backward(s_, y)[0, 0])
        autodiff = float(jax.grad(binary_cross_entropy.apply)(s_, y)[0, 0])
        eps = 1e-6
        numeric = float((binary_cross_entropy.apply(s_ + eps, y) - binary_cross_entropy.apply(s_ - eps, y)) / (2 * eps))
    return {"manual": manual, "autodiff": autodiff, "finite_diff": numeric}


def _model(target: str, scale: float, params) -> dict:
    """The model's layers: each one's hyperparameters, weights and what it does."""
    detector, unit_spec = ttt.TARGETS[target]
    conv_w = np.asarray(params["conv2d_0"]["W"])[0, 0]
    fc_w, fc_b = np.asarray(params["dense_2"]["W"]), np.asarray(params["dense_2"]["b"])
    counted = "occupied cells of the board" if unit_spec == "full" else \
        {"x": "X on its line", "o": "O on its line", "signed": "its player's marks less the other's, on its line"}[detector]
    return {
        "layers": [
            {"layer": "convolution", "filters": 1, "kernel_size": 3, "stride": 3, "padding": 0,
             "W": tolist(conv_w), "b": 0.0, "detector": detector},
            {"layer": "fully connected", "inputs": 9, "outputs": int(fc_w.shape[1]), "W": tolist(fc_w),
             "b": tolist(fc_b), "lines": unit_names(target, "en"),
             "why": f"one unit per {'board' if unit_spec == 'full' else 'line'}: {scale:g}·(the number of "
                    f"{counted} − {'8.5' if unit_spec == 'full' else '2.5'})"},
            {"layer": "global max pooling", "over": int(fc_w.shape[1]),
             "why": f"the best unit: +{scale / 2:g} iff {TARGET_TEXT[target]['en']}, else ≤ −{scale / 2:g}"},
            {"layer": "sigmoid", "why": f"P({TARGET_TEXT[target]['en']})"},
        ],
    }


def solve(cfg) -> dict:
    """E3's answers for the config's target, scale and board: the hand-set model, one forward pass,
    the BCE gradient three ways, and the model's accuracy on every final board of a legal game."""
    target, scale, board, logit = read_config(cfg)
    boards, outcome = ttt.final_boards()
    model, params = ttt.classifier(target), ttt.hand_set_params(target, scale)
    probs = np.asarray(model.apply(params, jnp.asarray(ttt.board_images(boards))))[:, 0]
    labels = ttt.truth(target, boards)
    accuracy = float(np.mean((probs > 0.5) == labels))
    label = int(ttt.truth(target, [board])[0])
    image, steps, x = _forward_pass(target, scale, board, params)
    gradient = _bce_gradient(target, steps, label)
    at = gradient["s"] if logit is None else logit
    return {
        "givens": {"target": target, "scale": scale, "board": list(board), "logit": logit},
        "target": target,
        "glyphs": {"X": tolist(ttt.GLYPHS[1]), "O": tolist(ttt.GLYPHS[-1]), "empty": tolist(ttt.GLYPHS[0])},
        "model": _model(target, scale, params),
        "label": label,
        "forward_example": {"board": list(board), "image": tolist(np.asarray(image)[0, 0]), "steps": steps,
                            "probability": float(np.asarray(x)[0, 0])},
        "bce_gradient": gradient,
        # (c) at the logit the question states (a variant's), or at the model's own: what every right
        # derivation gives, whatever the model.
        "asked": {"s": at, "stated": logit is not None, "y": label, **_asked_gradient(at, label)},
        "boards": {
            "total": int(len(boards)),
            "x_wins": int(np.sum(outcome == 1)),
            "o_wins": int(np.sum(outcome == -1)),
            "draws": int(np.sum(outcome == 0)),
            "positive": int(labels.sum()),
        },
        "accuracy": accuracy,
        # The smallest distance of any board's probability from the 0.5 threshold, and the lowest
        # probability the model gives any board's correct class.
        "min_margin": float(np.min(np.abs(probs - 0.5))),
        "min_correct_probability": float(min(probs[labels == 1].min(initial=1.0), 1 - probs[labels == 0].max(initial=0.0))),
        "errata": [],
    }


def ok(result: dict) -> bool:
    return result["accuracy"] == 1.0


def report(result: dict) -> str:
    m, ex, g, b = result["model"]["layers"], result["forward_example"], result["bce_gradient"], result["boards"]
    target = result["target"]
    k = DETECTOR_TEXT[m[0]["detector"]][0]
    conv = np.asarray(m[0]["W"])
    lines = [
        f"E3  Tic-tac-toe, {TARGET_TEXT[target]['en']}: convolution → fully connected → global max pooling → sigmoid",
        f"  convolution: {m[0]['filters']} filter {m[0]['kernel_size']}×{m[0]['kernel_size']}, stride {m[0]['stride']}, "
        f"no padding, bias 0, W = {np.rint(conv * k).astype(int).tolist()}/{k}",
        f"      per 3×3 cell: {ttt_plain(DETECTOR_TEXT[m[0]['detector']][2]['en'])}",
        f"  fully connected 9 → {m[1]['outputs']}, b = {m[1]['b'][0]:g}:  {m[1]['why']}",
        f"  global max pooling over the {m[2]['over']} units: {m[2]['why']};  sigmoid: {m[3]['why']}",
        "  forward pass on the board " + " / ".join(board_text(ex["board"])) + ":",
    ]
    for step in ex["steps"]:
        out = np.asarray(step["output"])
        lines.append(f"      {step['layer']:<22} {np.array2string(out.reshape(-1) if out.ndim > 1 else out, precision=5, separator=', ', max_line_width=200)}")
    lines += [
        f"  → P({TARGET_TEXT[target]['en']}) = {ex['probability']:.6f} (the board's label: y = {result['label']})",
        f"  BCE gradient at the sigmoid's input: {g['formula']}",
        f"      s = {g['s']:g}, y = {g['y']}: manual {g['manual']:.6e}, jax.grad {g['autodiff']:.6e}, finite diff "
        f"{g['finite_diff']:.6e}; through the max only the best unit ({m[1]['lines'][int(np.argmax(np.abs(g['by_units'])))]}) "
        "receives it",
        f"  all final boards of legal games (game-tree search): {b['total']} = {b['x_wins']} X wins + "
        f"{b['o_wins']} O wins + {b['draws']} draws; {b['positive']} of them are {TARGET_TEXT[target]['en']}",
        f"  accuracy over them: {100 * result['accuracy']:.2f}% (smallest distance from the 0.5 threshold: "
        f"{result['min_margin']:.6f}; lowest probability of the correct class: {result['min_correct_probability']:.6f})",
    ]
    return "\n".join(lines)


def ttt_plain(text: str) -> str:
    return text.replace("$", "")
