"""NICE on two-moons by maximum likelihood (Gaussian prior), against Gaussian baselines."""

from jaxdl.train.experiments import base_config


def get_config():
    config = base_config("nice_moons")
    config.batch_size = 256
    config.num_steps = 15000
    config.checkpoint_every = 5000
    config.log_every = 500
    config.learning_rate = 1e-3
    config.weight_decay = 0.0
    config.num_couplings = 4
    config.hidden = [64, 64]
    config.prior = "gaussian"
    config.smoke_overrides.num_steps = 20
    config.smoke_overrides.checkpoint_every = 10
    config.smoke_overrides.log_every = 10
    config.smoke_overrides.hidden = [8]
    return config
