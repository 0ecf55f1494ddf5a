"""E3: the exam's question (recognise the games X won) and the board of its forward pass."""

import ml_collections


def get_config():
    config = ml_collections.ConfigDict()
    # What the hand-set classifier recognises: x_wins, o_wins, x_diagonal, o_diagonal, x_row, o_row,
    # x_column, o_column, x_through_centre, someone_wins (or draw, which these four layers cannot).
    config.target = "x_wins"
    config.scale = 20.0  # α: every unit is α·(count on its cells − 2.5)
    # The forward pass's board, row by row: 1 = X, -1 = O, 0 = empty (X won on the ↘ diagonal). The
    # exam's image is lost: this board is jaxdl's, with the X top-left and the O bottom-left the seed
    # says its figure showed.
    config.board = [1, 0, 0, -1, 1, 0, -1, 0, 1]
    # The sigmoid's input s at which (c)'s ∂L/∂s is evaluated for the board's label: None (the exam
    # states none) takes the hand-set model's own s; a drawn variant states one.
    config.logit = None
    return config
