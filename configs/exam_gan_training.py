"""The exam's exact GAN, weights and data (E6), trained for many D-then-G steps."""

from jaxdl.train.experiments import base_config


def get_config():
    config = base_config("exam_gan")
    config.batch_size = 3
    config.num_steps = 2000
    config.checkpoint_every = 1000
    config.log_every = 100
    config.learning_rate = 0.05
    config.adam_b1 = 0.9
    config.optimizer = "sgd"
    config.latent_size = 1
    config.leaky_slope = 0.2
    config.generator_loss = "minimax"
    config.smoke_overrides.num_steps = 20
    config.smoke_overrides.checkpoint_every = 10
    config.smoke_overrides.log_every = 10
    return config
