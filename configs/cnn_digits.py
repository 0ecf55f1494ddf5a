"""The lab's CNN on scikit-learn's 8×8 digits (fixed stratified split), softmax cross-entropy + L2."""

from jaxdl.train.experiments import base_config


def get_config():
    config = base_config("cnn_digits")
    config.batch_size = 64
    config.num_steps = 2000
    config.checkpoint_every = 500
    config.log_every = 100
    config.learning_rate = 3e-3
    config.weight_decay = 1e-4
    config.model = "lab_cnn"  # or "small_cnn": conv2d(16, 3) → relu → max pool → flatten → dense(10)
    config.manual_grad = True  # False: plain autodiff (the same trajectory, see the tests)
    config.dtype = "float32"
    config.loop = "step"  # XLA's own convolution (without jaxdl's CPU kernels) is 5–6× slower inside lax.scan
    config.smoke_overrides.num_steps = 20
    config.smoke_overrides.checkpoint_every = 10
    config.smoke_overrides.log_every = 10
    return config
