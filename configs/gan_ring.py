"""The exam's GAN layer types, widened, on a ring of 8 Gaussians."""

from jaxdl.train.experiments import base_config


def get_config():
    config = base_config("gan_ring")
    config.batch_size = 256
    config.num_steps = 20000
    config.checkpoint_every = 5000
    config.log_every = 500
    config.learning_rate = 1e-4
    config.adam_b1 = 0.5
    config.optimizer = "adam"
    config.hidden = 128
    config.latent_size = 2
    config.leaky_slope = 0.2
    config.generator_loss = "non_saturating"
    config.smoke_overrides.num_steps = 20
    config.smoke_overrides.checkpoint_every = 10
    config.smoke_overrides.log_every = 10
    config.smoke_overrides.hidden = 8
    return config
