"""E6: the exam's GAN, one D-then-G step (weights in the exam's column convention, h = W x)."""

import ml_collections


def get_config():
    config = ml_collections.ConfigDict()
    config.generator = ml_collections.ConfigDict()
    config.generator.W1 = [[0.5], [-1.0]]  # 2 × 1: z → h1
    config.generator.W2 = [[0.8, 0.5], [0.4, 1.2]]  # 2 × 2: h1 → x̂
    config.discriminator = ml_collections.ConfigDict()
    config.discriminator.W1 = [[1.0, -0.5], [-0.5, 1.5]]  # 2 × 2: x → h1
    config.discriminator.w2 = [[0.5, -1.0]]  # 1 × 2: h1 → logit
    config.noise = [-0.5, 0.5, 0.0]  # z_i, paired with data[i]
    config.data = [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
    config.learning_rate = 1.0
    config.leaky_slope = 0.2
    config.generator_loss = "minimax"  # or "non_saturating"
    return config
