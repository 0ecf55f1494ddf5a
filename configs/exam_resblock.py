"""E2: the residual block out = x + ReLU(x W + b) on numbers small enough to follow by hand."""

import ml_collections


def get_config():
    config = ml_collections.ConfigDict()
    config.W = [[1.0, 0.0, -1.0], [2.0, 1.0, 0.0], [0.0, -1.0, 1.0]]  # D × D
    config.b = [0.5, -1.0, 0.0]
    config.x = [[1.0, 2.0, -1.0], [0.0, 1.0, 1.0]]  # N × D
    config.dy = [[1.0, -1.0, 2.0], [0.5, 1.0, -2.0]]  # ∂L/∂out, N × D
    return config
