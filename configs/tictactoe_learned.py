"""The exam's conv → FC → global max pool → sigmoid, trained from scratch on all 958 final boards."""

from jaxdl.train.experiments import base_config


def get_config():
    config = base_config("tictactoe_learned")
    config.batch_size = 958
    config.num_steps = 1000
    config.checkpoint_every = 500
    config.log_every = 100
    config.learning_rate = 1e-2
    config.conv_channels = 4
    config.hidden = 128
    config.smoke_overrides.num_steps = 20
    config.smoke_overrides.checkpoint_every = 10
    config.smoke_overrides.log_every = 10
    config.smoke_overrides.hidden = 16
    return config
