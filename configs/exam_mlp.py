"""E1's worked example: m = 3 hidden units, n = 2 inputs, one unit inactive (h_1 < 0)."""

import ml_collections


def get_config():
    config = ml_collections.ConfigDict()
    config.W = [[1.0, -2.0], [0.5, 1.0], [-1.0, 0.5]]  # m × n
    config.b = [0.5, -1.0, 0.25]  # m
    config.x = [1.0, 2.0]  # n
    config.w = [1.0, -1.0, 2.0]  # m
    config.y = 1  # 0 or 1
    return config
