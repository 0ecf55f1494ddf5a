"""NICE on dequantized 8×8 digits (logistic prior, weight decay on the couplings), in bits/dim."""

from jaxdl.train.experiments import base_config


def get_config():
    config = base_config("nice_digits")
    config.batch_size = 128
    config.num_steps = 6000
    config.checkpoint_every = 1000
    config.log_every = 200
    config.learning_rate = 1e-3
    config.weight_decay = 1e-3
    config.num_couplings = 4
    config.hidden = [256, 256]
    config.prior = "logistic"
    config.smoke_overrides.num_steps = 20
    config.smoke_overrides.checkpoint_every = 10
    config.smoke_overrides.log_every = 10
    config.smoke_overrides.hidden = [16]
    return config
