"""The adding problem with an LSTM on its hand-derived BPTT, gradient clipping."""

from jaxdl.train.experiments import base_config


def get_config():
    config = base_config("lstm_adding")
    config.batch_size = 64
    config.num_steps = 6000
    config.checkpoint_every = 2000
    config.log_every = 200
    config.learning_rate = 3e-3
    config.length = 50
    config.hidden = 64
    config.clip_norm = 1.0
    config.test_size = 1000
    config.smoke_overrides.num_steps = 20
    config.smoke_overrides.checkpoint_every = 10
    config.smoke_overrides.log_every = 10
    config.smoke_overrides.length = 8
    config.smoke_overrides.hidden = 8
    config.smoke_overrides.test_size = 64
    return config
