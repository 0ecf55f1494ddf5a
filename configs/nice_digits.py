"""NICE on dequantized 8×8 digits (logistic prior, weight decay on the couplings), in bits/dim."""

from jaxdl.train.experiments import base_config


def get_config():
    config = base_config("nice_digits")
    config.batch_size = 128
    config.num_steps = 8000
    config.checkpoint_every = 2000
    config.log_every = 200
    config.learning_rate = 1e-3
    config.weight_decay = 0.1  # AdamW, on the coupling networks only
    config.num_couplings = 4
    config.hidden = [64, 64]  # wider couplings overfit the 1,437 images sooner
    config.prior = "logistic"
    config.smoke_overrides.num_steps = 20
    config.smoke_overrides.checkpoint_every = 10
    config.smoke_overrides.log_every = 10
    config.smoke_overrides.hidden = [16]
    return config
