"""The lab-2 quiz: numbers a reader can follow for Q1's layers, Q2's pooling and Q3's coupling
(the quiz itself gives none)."""

import ml_collections


def get_config():
    config = ml_collections.ConfigDict()
    config.q1 = ml_collections.ConfigDict()  # Q1a's quadratic layer and Q1b's Swish, on the same minibatch
    config.q1.A = [[1.0, 0.0, -1.0], [0.5, 2.0, 0.0], [0.0, -1.0, 1.0]]  # M × D (M = D)
    config.q1.c = [0.1, -0.2, 0.3]
    config.q1.b = 0.5
    config.q1.beta = 1.5
    config.q1.x = [[1.0, -2.0, 0.5], [0.0, 1.0, -1.0]]  # N × D
    config.q1.dy = [[1.0, 0.5, -1.0], [2.0, -1.0, 0.5]]  # ∂L/∂Y, N × M
    config.q2 = ml_collections.ConfigDict()  # K × K average pooling, stride K, on an (N, C, H, W) batch
    config.q2.K = 2
    config.q2.x = [[[[1.0, 3.0, 0.0, 2.0], [2.0, 2.0, 4.0, 1.0], [0.0, 1.0, 3.0, 3.0], [4.0, 1.0, 1.0, 2.0],
                     [2.0, 0.0, 1.0, 4.0]],
                    [[0.0, 2.0, 1.0, 1.0], [3.0, 1.0, 2.0, 0.0], [1.0, 1.0, 0.0, 4.0], [2.0, 4.0, 3.0, 1.0],
                     [1.0, 3.0, 2.0, 0.0]]]]  # H = 5: the floor drops the last row
    config.q3 = ml_collections.ConfigDict()  # the additive coupling, h = Conv1×1 ∘ ReLU on the first C/2 channels
    config.q3.W = [[1.0, -1.0], [0.5, 1.0]]  # C/2 × C/2, one output channel per row
    config.q3.b = [0.5, -0.5]
    config.q3.x = [[[[1.0, -2.0]], [[0.5, 1.0]], [[2.0, 0.0]], [[-1.0, 1.5]]]]  # (N, C, H, W) = (1, 4, 1, 2)
    return config
