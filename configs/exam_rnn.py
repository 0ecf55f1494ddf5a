"""E5: a vanilla RNN with the logistic sigmoid, h(t) = σ(W_hh h(t−1) + W_xh x(t) + b_h), column vectors."""

import math

import ml_collections

LN_SQRT2 = math.log(math.sqrt(2.0))


def get_config():
    config = ml_collections.ConfigDict()
    config.W_hh = [[2 * LN_SQRT2, 0.0], [0.0, 2 * LN_SQRT2]]
    config.W_xh = [[1.0, 1.0], [-1.0, 0.0]]
    config.b_h = [0.0, 0.0]
    config.h0 = [0.0, 0.0]
    config.xs = [[2 * LN_SQRT2, 2 * LN_SQRT2], [0.0, 1.5 * LN_SQRT2]]  # x(1), x(2)
    config.activation = "sigmoid"  # or "tanh"
    return config
