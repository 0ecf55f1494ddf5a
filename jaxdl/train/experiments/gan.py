"""The GAN experiments' shared task: the D-then-G step of :mod:`jaxdl.models.gan` on the layers'
hand-derived backward passes, with Adam or SGD."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxdl.errors import InputError
from jaxdl.train.trainer import Task


def gan_task(name: str, make_gan, data_fn, sample_real, evaluate, plots):
    from jaxdl.models import gan as gan_lib

    def optimizer(cfg):
        if cfg.optimizer == "adam":
            return optax.adam(cfg.learning_rate, b1=cfg.adam_b1)
        if cfg.optimizer == "sgd":
            return optax.sgd(cfg.learning_rate)
        raise InputError(f"config: optimizer must be 'adam' or 'sgd'; got {cfg.optimizer!r}")

    class Both:  # init of both networks' optimizer states, as make_step keeps them
        def __init__(self, opt):
            self.opt = opt

        def init(self, params):
            return gan_lib.init_opt_state(params, self.opt, self.opt)

    def init(cfg, data, key):
        return make_gan(cfg).init(key)

    def batch(cfg, data, key):
        k1, k2 = jax.random.split(key)
        return {"x": sample_real(cfg, data, k1),
                "z": jax.random.normal(k2, (cfg.batch_size, cfg.latent_size), jnp.float32)}

    def update(cfg, both):
        step = gan_lib.make_step(make_gan(cfg), both.opt, both.opt, cfg.generator_loss)

        def run(params, opt_state, batch, key):
            params, opt_state, aux = step(params, opt_state, batch["z"], batch["x"])
            # "loss" is the discriminator's (the curve the trainer watches); both are logged.
            return params, opt_state, {"loss": aux["d_loss"], "d_loss": aux["d_loss"], "g_loss": aux["g_loss"]}

        return run

    return Task(name=name, data=data_fn, init=init, optimizer=lambda cfg: Both(optimizer(cfg)), batch=batch, loss=None,
                evaluate=evaluate, plots=plots, update=update)
