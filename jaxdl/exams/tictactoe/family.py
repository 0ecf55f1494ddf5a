"""E3's variants: a target of :data:`jaxdl.models.tictactoe.TARGETS`, a scale for jaxdl's hand-set
weights (the teachers' sheet's model), a final board of a legal game and the logit part (c) is
asked at; refused where the hand-set classifier is below 100 % on the final boards or two of its
units tie at the max.

The question asks students to design their own model, so a variant keys only what every correct
design shares: in (b) the class any model that classifies every final board rightly gives the
drawn board (its label, 1 or 0), and in (c) the derived gradient ∂L/∂s = σ(s) − y evaluated at a
logit s the part states, for that board's label. Neither depends on jaxdl's model or its scale.
Both are verified: the label against the rules and the hand-set model's verdict (the accuracy
screen), ∂L/∂s by the loss's backward pass against autodiff and finite differences, batched
(beside the hand-set model's own logit, ∂L/∂s and ∂L/∂u for the teachers' sheet). The boards are
drawn so that the boards where a label is misread (a win of the other player, a win on another
kind of line, a full board that was won) come up often.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check.numeric import central_differences
from jaxdl.core import serial
from jaxdl.exams.lang import both
from jaxdl.exams.problem import Family, Mistake, Rejected
from jaxdl.exams.variants import batched, blank, verified
from jaxdl.losses import binary_cross_entropy as bce
from jaxdl.models import tictactoe as ttt

SCALES = (2.0, 4.0, 10.0, 20.0)
LOGITS = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 3.0)  # never 0: σ(0) = 1/2 hides the gradient's sign


def accuracy(target: str) -> dict:
    """The hand-set classifier's accuracy on every final board, per scale."""
    return accuracies(ttt.unit_count(target))[target]


@functools.lru_cache(maxsize=None)
def accuracies(units: int) -> dict:
    """``{target: {scale: accuracy}}`` for the targets with ``units`` units, run together (their
    parameters batched: one compiled program)."""
    same = [t for t in ttt.TARGETS if ttt.unit_count(t) == units]
    boards, _ = ttt.final_boards()
    cases = [(t, sc) for t in same for sc in SCALES]
    params = jax.tree_util.tree_map(lambda *a: np.stack([np.asarray(v) for v in a]),
                                    *[ttt.hand_set_params(t, sc) for t, sc in cases])
    probs = np.asarray(jax.jit(jax.vmap(ttt.classifier(same[0]).apply, in_axes=(0, None)))(
        params, ttt.board_images(boards)))[:, :, 0]
    out: dict = {t: {} for t in same}
    for (t, sc), p in zip(cases, probs):
        out[t][sc] = float(np.mean((p > 0.5) == final_labels(t)))
    return out


@functools.lru_cache(maxsize=None)
def final_labels(target: str) -> np.ndarray:
    """Whether each final board is in ``target``'s class (0 or 1)."""
    return ttt.truth(target, ttt.final_boards()[0])


# --------------------------------------------------------------------------------------------
# The game's rules in numpy (the catalogue's own: the label a student reads off the board).

LINES = np.array([(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)])
# Which lines and which player each target asks about (None: either player).
KINDS = {"rows": [0, 1, 2], "columns": [3, 4, 5], "diagonals": [6, 7], "centre": [1, 4, 6, 7], "all": list(range(8))}
RULES = {
    "x_wins": (1, "all"), "o_wins": (-1, "all"), "x_diagonal": (1, "diagonals"), "o_diagonal": (-1, "diagonals"),
    "x_row": (1, "rows"), "o_row": (-1, "rows"), "x_column": (1, "columns"), "o_column": (-1, "columns"),
    "x_through_centre": (1, "centre"), "someone_wins": (None, "all"),
}


def lines_held(board, player: int) -> np.ndarray:
    """The indices of the lines ``player`` (1: X, −1: O) holds on ``board``."""
    b = np.asarray(board)
    return np.flatnonzero(np.all(b[LINES] == player, axis=1))


def label(target: str, board) -> int:
    """The board's label for ``target``, by the rules: 1 where the target happened, else 0."""
    player, kind = RULES[target]
    players = (1, -1) if player is None else (player,)
    return int(any(np.isin(lines_held(board, p), KINDS[kind]).any() for p in players))


def category(target: str, board) -> str:
    """What kind of board it is for the target: ``"won"`` (the label is 1), ``"won_full"`` (1, and the
    board is full: won with the last move), ``"other_player"`` (0, the other player holds a line),
    ``"other_line"`` (0, the target's player holds a line of another kind) or ``"no_line"`` (0)."""
    player, _ = RULES[target]
    if label(target, board):
        return "won_full" if np.all(np.asarray(board) != 0) else "won"
    if player is not None and len(lines_held(board, -player)):
        return "other_player"
    if player is not None and len(lines_held(board, player)):
        return "other_line"
    return "no_line"


@functools.lru_cache(maxsize=None)
def categories(target: str) -> dict:
    """``{category: indices of the final boards}`` for the target."""
    boards, _ = ttt.final_boards()
    out: dict = {}
    for i, b in enumerate(boards):
        out.setdefault(category(target, b), []).append(i)
    return {k: np.asarray(v) for k, v in sorted(out.items())}


def propose(rng):
    """A target, a scale, a kind of board (each kind as likely, so that the boards where a label is
    misread come up), a board of that kind, a logit. A draw, which the four layers cannot learn, is
    proposed too, and refused by the accuracy screen."""
    target = str(rng.choice(list(ttt.TARGETS)))
    scale = float(rng.choice(SCALES))
    boards, _ = ttt.final_boards()
    if target in RULES:
        kinds = categories(target)
        board = boards[int(rng.choice(kinds[str(rng.choice(list(kinds)))]))]
    else:
        board = boards[int(rng.integers(len(boards)))]
    return {"target": target, "scale": scale, "board": [int(v) for v in board], "logit": float(rng.choice(LOGITS))}


def screen(g):
    if accuracy(g["target"])[g["scale"]] < 1:
        raise Rejected("accuracy")
    units = np.sort(ttt.unit_outputs(g["target"], g["scale"], g["board"]))
    if len(units) > 1 and units[-1] == units[-2]:  # ∂L/∂u goes to the best unit: there must be one
        raise Rejected("tie")


def key_three_ways(image, y, logit, params, target):
    """E3's numbers on one board: the hand-set model's logit s, σ(s), ∂L/∂s and ∂L/∂u (u: the fully
    connected layer's outputs, through the max) by the layers' backward passes, and (c)'s ∂L/∂s at
    the stated logit (NaN: the model's own), each against autodiff and finite differences."""
    layers = ttt.classifier_layers(target)
    trunk, pool = serial(*layers[:3]), layers[3]  # convolution, flatten, fully connected; the max
    p_trunk = {k: v for k, v in params.items() if k[-1] in "012"}
    x, y = image[None], y.reshape(1, 1)
    u = trunk.apply(p_trunk, x)
    s = pool.apply({}, u)
    ds = bce.backward(s, y)
    _, du = pool.backward({}, u, ds)
    at = jnp.where(jnp.isnan(logit), s, logit).reshape(1, 1)
    asked = bce.backward(at, y)
    answers = {"s": s[0, 0], "probability": jax.nn.sigmoid(s[0, 0]), "dL_ds": ds[0, 0], "dL_du": du[0],
               "label": y[0, 0], "dL_ds_asked": asked[0, 0]}
    of_s = lambda s: bce.apply(s, y)  # noqa: E731
    of_u = lambda u: bce.apply(pool.apply({}, u[None]), y)  # noqa: E731
    return answers, {
        "autodiff": {"dL_ds": jax.grad(of_s)(s)[0, 0], "dL_du": jax.grad(of_u)(u[0]),
                     "dL_ds_asked": jax.grad(of_s)(at)[0, 0]},
        "finite differences": {"dL_ds": central_differences(of_s, s)[0, 0], "dL_du": central_differences(of_u, u[0]),
                               "dL_ds_asked": central_differences(of_s, at)[0, 0]},
    }


def verify(givens):
    target = givens[0]["target"]  # every target of the batch has as many units: one program
    params = jax.tree_util.tree_map(lambda *a: np.stack([np.asarray(v, np.float64) for v in a]),
                                    *[ttt.hand_set_params(g["target"], g["scale"]) for g in givens])
    boards = np.array([g["board"] for g in givens])
    images = ttt.board_images(boards).astype(np.float64)
    labels = np.array([ttt.truth(g["target"], [g["board"]])[0] for g in givens], np.float64)
    logits = np.array([np.nan if g.get("logit") is None else g["logit"] for g in givens], np.float64)
    answers, dis = batched(lambda im, y, s0, p: key_three_ways(im, y, s0, p, target), (images, labels, logits, params))
    return verified(answers, dis, len(givens))


def answers(r):
    g = r["bce_gradient"]
    return {"s": g["s"], "probability": r["forward_example"]["probability"], "dL_ds": g["manual"], "dL_du": g["by_units"],
            "label": r["label"], "dL_ds_asked": r["asked"]["manual"]}


def blanks(r):
    s0 = r["asked"]["s"]
    return [blank("E3(b)", "y", "razred slike (1 ili 0)", "the image's class (1 or 0)", r["label"]),
            blank("E3(c)", "dL_ds", f"∂L/∂s uz s = {s0:g}", f"∂L/∂s at s = {s0:g}", r["asked"]["manual"])]


# --------------------------------------------------------------------------------------------
# The catalogue: the keys by the course's formulas (the label by the rules, ∂L/∂s = σ(s) − y), and
# the common mistakes beside them.


def _sigmoid(s: float) -> float:
    return float(1 / (1 + np.exp(-s)))


def _keys(y: int, s: float) -> dict:
    return {"y": float(y), "dL_ds": _sigmoid(s) - y}


def correct(g) -> dict:
    return _keys(label(g["target"], g["board"]), g["logit"])


def _misread(wanted: str):
    """A label read wrongly on a board of kind ``wanted``: the other class, and (c) worked with it."""
    def values(g):
        if category(g["target"], g["board"]) != wanted:
            return {}
        return _keys(1 - label(g["target"], g["board"]), g["logit"])
    return values


def _sign_flipped(g):
    return {"dL_ds": -correct(g)["dL_ds"]}


def _by_probability(g):
    y, p = label(g["target"], g["board"]), _sigmoid(g["logit"])
    return {"dL_ds": -y / p + (1 - y) / (1 - p)}  # ∂L/∂σ: the gradient by the sigmoid's output


def _sigmoid_derivative_again(g):
    y, p = label(g["target"], g["board"]), _sigmoid(g["logit"])
    return {"dL_ds": (p - y) * p * (1 - p)}


MISTAKES = (
    Mistake(name="other_player", title=both("ubrojena pobjeda drugog igrača", "the other player's win counted"),
            why=both("traži se pobjeda jednog igrača: ploča na kojoj tri u nizu ima drugi igrač pripada razredu 0",
                     "the class is one player's win: a board where the other player has three in a row is in class 0"),
            values=_misread("other_player")),
    Mistake(name="other_line", title=both("ubrojena pobjeda na drugoj liniji", "a win on another kind of line counted"),
            why=both("razred traži tri u nizu na određenoj vrsti linije; pobjeda na drugoj liniji ne ulazi u razred",
                     "the class asks for three in a row on a given kind of line; a win on another line is not in it"),
            values=_misread("other_line")),
    Mistake(name="full_board_draw", title=both("puna ploča pročitana kao neriješeno", "a full board read as a draw"),
            why=both("ploča je puna i kad pobjednik postavi tri u nizu zadnjim potezom: gledaju se linije, a ne "
                     "broj praznih ćelija",
                     "a board is full also when the winner's last move makes three in a row: read the lines, not the "
                     "empty cells"),
            values=_misread("won_full")),
    Mistake(name="sign_flipped", title=both("obrnut predznak", "the sign flipped"),
            why=both("∂L/∂s = σ(s) − y: za y = 1 gradijent je negativan (spust povećava s), za y = 0 pozitivan",
                     "∂L/∂s = σ(s) − y: for y = 1 the gradient is negative (descent raises s), for y = 0 positive"),
            values=_sign_flipped),
    Mistake(name="by_probability", title=both("gradijent po izlazu sigmoide", "the gradient by the sigmoid's output"),
            why=both("traži se gradijent po ulazu sigmoide s: ∂L/∂σ = −y/σ + (1 − y)/(1 − σ) treba još pomnožiti s "
                     "σ'(s) = σ(1 − σ), što daje σ(s) − y",
                     "the gradient by the sigmoid's input s is asked for: ∂L/∂σ = −y/σ + (1 − y)/(1 − σ) still needs the "
                     "factor σ'(s) = σ(1 − σ), which gives σ(s) − y"),
            values=_by_probability),
    Mistake(name="sigmoid_derivative_again", title=both("derivacija sigmoide pomnožena još jednom",
                                                        "the sigmoid's derivative multiplied in again"),
            why=both("σ(s) − y već sadrži σ'(s): (−y/σ + (1 − y)/(1 − σ)) · σ(1 − σ) = σ − y",
                     "σ(s) − y already holds σ'(s): (−y/σ + (1 − y)/(1 − σ)) · σ(1 − σ) = σ − y"),
            values=_sigmoid_derivative_again),
)

HINTS = {
    "E3(b)": both("Razred ovisi samo o ploči: pogledajte svih 8 linija (3 retka, 3 stupca, 2 dijagonale) i tko ih drži.",
                  "The class depends on the board alone: look at all 8 lines (3 rows, 3 columns, 2 diagonals) and who "
                  "holds them."),
    "E3(c)": both("Uz L = −y ln σ(s) − (1 − y) ln(1 − σ(s)) i σ'(s) = σ(s)(1 − σ(s)) izvedite ∂L/∂s i uvrstite zadani s "
                  "i oznaku y ploče iz (b).",
                  "With L = −y ln σ(s) − (1 − y) ln(1 − σ(s)) and σ'(s) = σ(s)(1 − σ(s)), derive ∂L/∂s and put in the "
                  "given s and the board's label y from (b)."),
}

FAMILY = Family(propose=propose, screen=screen, group=lambda g: (ttt.unit_count(g["target"]),), verify=verify,
                answers=answers, blanks=blanks, correct=correct, mistakes=MISTAKES, hints=HINTS, stress_cost=7)
