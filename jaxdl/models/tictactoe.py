"""E3: tic-tac-toe final boards as 9×9 binary images, and a hand-set classifier for "X won".

Each of the 9 cells is a 3×3 block holding a glyph (1 = black)::

  X = 1 0 1    O = 1 1 1    empty = 0 0 0
      0 1 0        1 0 1            0 0 0
      1 0 1        1 1 1            0 0 0

The model is exactly the exam's sequence — convolution → fully connected → global max pooling
→ sigmoid — (the fully connected layer reads the convolution's 3×3 map as a vector of 9, the
reshape :func:`jaxdl.layers.flatten` does, which computes nothing):

- convolution: 1 filter, 3×3, stride 3, no padding, bias 0, weight ``(2·X − 1) / 5`` (+1/5 on
  the X glyph's five pixels, −1/5 on the other four). Per cell: X gives 5/5 = 1, O gives
  (4 − 4)/5 = 0 (four corners +, four edges −), empty gives 0. So the map is ``[cell is X]``.
- fully connected: 9 → 8, one unit per line of three (3 rows, 3 columns, 2 diagonals), weight
  ``α`` on the line's three cells and 0 elsewhere, bias ``−2.5 α``: the unit is ``+α/2`` when the
  line holds three X and at most ``−α/2`` otherwise. ``α = 20``.
- global max pooling over the 8 units: ``+α/2 = 10`` iff some line is all X (X won), else ≤ −10.
- sigmoid: ``P(X won) ≥ σ(10) ≈ 0.99995`` for a win and ``≤ 4.5e-5`` otherwise.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from jaxdl.core import serial
from jaxdl.errors import InputError
from jaxdl.layers import conv2d, dense, flatten, global_max_pool, sigmoid

X_GLYPH = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], np.float32)
O_GLYPH = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], np.float32)
EMPTY_GLYPH = np.zeros((3, 3), np.float32)
GLYPHS = {1: X_GLYPH, -1: O_GLYPH, 0: EMPTY_GLYPH}

# The 8 lines of three, as cell indices 0..8 (row-major).
LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]
LINE_NAMES = ["row 1", "row 2", "row 3", "column 1", "column 2", "column 3", "diagonal ↘", "diagonal ↙"]
ALPHA = 20.0


def winner(board) -> int:
    """+1 if X has a line of three, −1 if O has, 0 otherwise; ``board``: 9 cells in {1, −1, 0}."""
    for a, b, c in LINES:
        if board[a] != 0 and board[a] == board[b] == board[c]:
            return int(board[a])
    return 0


@functools.lru_cache(maxsize=1)
def final_boards() -> tuple[np.ndarray, np.ndarray]:
    """Every final board of a legal game, by game-tree search.

    X moves first, players alternate, and a game ends at the first line of three or on a full
    board. Positions are explored once each (a position's continuations do not depend on how
    it was reached).

    Returns:
      ``(boards (958, 9) int8 in {1: X, −1: O, 0: empty}, outcome (958,) int8 in {1, −1, 0})``
      (outcome: X won, O won, draw), sorted for reproducibility.
    """
    seen, finals = set(), set()
    stack = [(0,) * 9]
    while stack:
        board = stack.pop()
        if board in seen:
            continue
        seen.add(board)
        if winner(board) != 0 or 0 not in board:
            finals.add(board)
            continue
        player = 1 if board.count(1) == board.count(-1) else -1
        for i in range(9):
            if board[i] == 0:
                stack.append(board[:i] + (player,) + board[i + 1:])
    boards = np.array(sorted(finals), np.int8)
    outcome = np.array([winner(b) for b in boards], np.int8)
    return boards, outcome


def board_images(boards) -> np.ndarray:
    """Boards ``(N, 9)`` in {1, −1, 0} → images ``(N, 1, 9, 9)`` float32 of 0/1 pixels."""
    boards = np.asarray(boards)
    glyphs = np.stack([GLYPHS[v] for v in (0, 1, -1)])  # index 0: empty, 1: X, 2: O
    cells = glyphs[np.where(boards == -1, 2, boards)]  # (N, 9, 3, 3)
    images = cells.reshape(-1, 3, 3, 3, 3).transpose(0, 1, 3, 2, 4).reshape(-1, 9, 9)
    return images[:, None].astype(np.float32)


def read_boards(images) -> np.ndarray:
    """Images ``(N, 9, 9)`` or ``(N, 1, 9, 9)`` → boards ``(N, 9)`` in {1, −1, 0}.

    Raises:
      ValueError: not a stack of binary 9×9 images, or a cell that is neither a clean X, O nor
        empty, before anything is classified. The message names the image by its index in the
        stack and the pixel or cell by its numpy index (from 0), e.g. ``image 1, cell [1, 2]
        (pixels [3:6, 6:9])``.
    """
    a = np.asarray(images)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 3 or a.shape[1:] != (9, 9):
        raise InputError(f"tictactoe: expected images of shape (N, 9, 9) or (N, 1, 9, 9); got shape {np.shape(images)}")
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise InputError(f"tictactoe: expected numeric 0/1 pixels; got dtype {a.dtype}")
    bad = ~np.isin(a, (0, 1))
    if bad.any():
        n, r, c = (int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"tictactoe: image {n} is not binary: pixel [{r}, {c}] is {a[n, r, c].item()!r}")
    cells = a.reshape(-1, 3, 3, 3, 3).transpose(0, 1, 3, 2, 4).reshape(len(a), 9, 3, 3)
    boards = np.full((len(a), 9), 2, np.int8)
    for value, glyph in GLYPHS.items():
        boards[np.all(cells == glyph, axis=(2, 3))] = value
    unknown = np.argwhere(boards == 2)
    if len(unknown):
        n, cell = (int(i) for i in unknown[0])
        r, c = divmod(cell, 3)
        raise InputError(
            f"tictactoe: image {n}, cell [{r}, {c}] (pixels [{3 * r}:{3 * r + 3}, {3 * c}:{3 * c + 3}]) is neither "
            f"X, O nor empty: {cells[n, cell].astype(int).tolist()}"
        )
    return boards


# The question variants (``jaxdl exam generate tictactoe``): what the classifier is to recognise,
# as (the convolution's cell detector, the lines a unit watches, and the sign of the detector the
# unit counts with). A detector scores a cell's glyph: "x" gives X 1, O 0, empty 0 (the exam's);
# "o" gives O 1, X 0 (O's four edge pixels, which X lacks); "mark" gives X and O 1 (the corners
# both share); "signed" gives X 1, O −1 (the centre X alone has, less O's edges). A unit watching
# a line of three fires iff the line holds three of what it counts; "full" watches all nine cells
# and fires iff the board is full — the nearest this architecture comes to recognising a draw (it
# cannot: a draw needs every line mixed, an "and" of negations the max over units cannot take),
# so that target is refused for accuracy below 100 %.
DIAGONALS = [6, 7]
ROWS, COLUMNS = [0, 1, 2], [3, 4, 5]
THROUGH_CENTRE = [1, 4, 6, 7]
DETECTORS = {
    "x": (2 * X_GLYPH - 1) / 5,
    "o": np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.float32) / 4,
    "mark": np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1]], np.float32) / 4,
    "signed": np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], np.float32) / 4,
}
# target: (detector, [(line indices, sign)], who must hold the line: 1 X, −1 O, 0 either)
TARGETS = {
    "x_wins": ("x", [(range(8), 1)]),
    "o_wins": ("o", [(range(8), 1)]),
    "x_diagonal": ("x", [(DIAGONALS, 1)]),
    "o_diagonal": ("o", [(DIAGONALS, 1)]),
    "x_row": ("x", [(ROWS, 1)]),
    "o_row": ("o", [(ROWS, 1)]),
    "x_column": ("x", [(COLUMNS, 1)]),
    "o_column": ("o", [(COLUMNS, 1)]),
    "x_through_centre": ("x", [(THROUGH_CENTRE, 1)]),
    "someone_wins": ("signed", [(range(8), 1), (range(8), -1)]),
    "draw": ("mark", "full"),
}


def _lines_won(boards, player: int) -> np.ndarray:
    """``(N, 8)``: whether ``player`` holds each line of each board."""
    b = np.asarray(boards)
    return np.stack([np.all(b[:, list(line)] == player, axis=1) for line in LINES], axis=1)


def truth(target: str, boards) -> np.ndarray:
    """The label of every board ``(N, 9)`` for ``target``, from the rules (0 or 1, int8)."""
    boards = np.asarray(boards)
    x, o = _lines_won(boards, 1), _lines_won(boards, -1)
    rule = {
        "x_wins": x.any(1), "o_wins": o.any(1), "x_diagonal": x[:, DIAGONALS].any(1), "o_diagonal": o[:, DIAGONALS].any(1),
        "x_row": x[:, ROWS].any(1), "o_row": o[:, ROWS].any(1), "x_column": x[:, COLUMNS].any(1),
        "o_column": o[:, COLUMNS].any(1), "x_through_centre": x[:, THROUGH_CENTRE].any(1),
        "someone_wins": x.any(1) | o.any(1), "draw": ~(x.any(1) | o.any(1)) & np.all(boards != 0, axis=1),
    }
    return rule[target].astype(np.int8)


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise InputError(f"tictactoe: target must be one of {list(TARGETS)}; got {target!r}")


def _incidence(target: str) -> tuple[np.ndarray, np.ndarray]:
    """The fully connected layer's ``(9, units)`` weights per unit of scale and its biases."""
    _, units = TARGETS[target]
    if units == "full":
        return np.ones((9, 1), np.float32), np.array([-8.5], np.float32)
    columns, biases = [], []
    for lines, sign in units:
        for j in lines:
            col = np.zeros(9, np.float32)
            col[list(LINES[j])] = sign
            columns.append(col)
            biases.append(-2.5)
    return np.stack(columns, axis=1), np.array(biases, np.float32)


def unit_count(target: str = "x_wins") -> int:
    return _incidence(target)[0].shape[1]


def classifier_layers(target: str = "x_wins") -> list:
    """The exam's layer sequence: conv2d(1, 3, stride 3) → [flatten] → dense(units) → global max pool → sigmoid."""
    _check_target(target)
    return [conv2d(1, 3, stride=3, padding="VALID"), flatten(), dense(unit_count(target)), global_max_pool(), sigmoid()]


def classifier(target: str = "x_wins"):
    """:func:`classifier_layers` composed with :func:`jaxdl.serial`; params as :func:`hand_set_params`."""
    return serial(*classifier_layers(target), name="tictactoe")


def hand_set_params(target: str = "x_wins", scale: float = ALPHA, dtype=jnp.float32) -> dict:
    """The parameter values derived in the module docstring (for ``target``: the detector and the
    units of :data:`TARGETS`, every unit ``scale · (count on its cells − 2.5)``), in
    :func:`classifier`'s structure."""
    _check_target(target)
    incidence, bias = _incidence(target)
    return {
        "conv2d_0": {"W": jnp.asarray(DETECTORS[TARGETS[target][0]][None, None], dtype), "b": jnp.zeros((1,), dtype)},
        "flatten_1": {},
        "dense_2": {"W": jnp.asarray(scale * incidence, dtype), "b": jnp.asarray(scale * bias, dtype)},
        "global_max_pool_3": {},
        "sigmoid_4": {},
    }


def cell_scores(target: str, boards) -> np.ndarray:
    """The convolution's map ``(N, 9)``: the target's detector on each cell's glyph (exact, float64)."""
    boards = np.asarray(boards).reshape(-1, 9)
    detector = DETECTORS[TARGETS[target][0]].astype(np.float64)
    scores = {v: float(np.sum(detector * g)) for v, g in GLYPHS.items()}
    return np.vectorize(scores.get)(boards).astype(np.float64)


def unit_outputs(target: str, scale: float, board) -> np.ndarray:
    """The fully connected layer's outputs for one board (exact, float64)."""
    incidence, bias = _incidence(target)
    return cell_scores(target, board)[0] @ (scale * incidence.astype(np.float64)) + scale * bias.astype(np.float64)


def count_wins_in(path: str) -> dict:
    """:func:`count_wins` on the images of a ``.npy`` file (``jaxdl tictactoe count-wins``)."""
    try:
        images = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise InputError(f"tictactoe count-wins: cannot read {path!r} as a .npy array: {e}") from None
    return count_wins(images)


def count_wins(images) -> dict:
    """How many of the images are X wins, by the hand-set model.

    Args:
      images: ``(N, 9, 9)`` or ``(N, 1, 9, 9)`` binary final-board images.

    Returns:
      ``{"n": N, "count": int, "probabilities": [float], "predictions": [0|1]}``.
    """
    boards = read_boards(images)  # validates before any work
    model = classifier()
    probs = np.asarray(model.apply(hand_set_params(), jnp.asarray(board_images(boards))))[:, 0]
    preds = (probs > 0.5).astype(int)
    return {"n": int(len(boards)), "count": int(preds.sum()), "probabilities": probs.astype(float).tolist(),
            "predictions": preds.tolist()}
