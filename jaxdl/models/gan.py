"""A GAN from jaxdl's layers, and its training step on the hand-derived backward passes.

The discriminator outputs a logit ``a``, ``D(x) = σ(a)``; the losses are written with the
numerically stable binary cross-entropy from logits:

- discriminator: ``L_D = −mean_i [ln D(x_i) + ln(1 − D(G(z_i)))]``
  ``= BCE(a_real, 1) + BCE(a_fake, 0)``;
- generator, ``"minimax"`` (Goodfellow et al. 2014, Algorithm 1): ``L_G = mean_i ln(1 − D(G(z_i)))
  = −BCE(a_fake, 0)``; ``"non_saturating"``: ``L_G = −mean_i ln D(G(z_i)) = BCE(a_fake, 1)``.

One step (:func:`make_step`) first updates the discriminator, then the generator through the
*updated* discriminator with the same noise. Gradients come from the layers' ``backward``:
``∂L/∂a`` from the loss's backward, then the discriminator's backward (for its params, and for
its input when training the generator), then the generator's backward.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from jaxdl.core import Layer, serial
from jaxdl.errors import InputError
from jaxdl.layers import dense, leaky_relu, relu
from jaxdl.losses import binary_cross_entropy as bce

GENERATOR_LOSSES = ("minimax", "non_saturating")


@dataclasses.dataclass(frozen=True)
class GAN:
    """A generator ``(m, latent) → (m, data)`` and a discriminator ``(m, data) → (m, 1)`` logits."""

    generator: Layer
    discriminator: Layer
    latent_size: int
    data_size: int

    def init(self, key) -> dict:
        kg, kd = jax.random.split(key)
        return {
            "generator": self.generator.init(kg, (-1, self.latent_size))[1],
            "discriminator": self.discriminator.init(kd, (-1, self.data_size))[1],
        }


def exam_gan(hidden: int = 2, latent_size: int = 1, data_size: int = 2, leaky_slope: float = 0.2) -> GAN:
    """The exam's architecture (E6), bias-free; ``hidden`` widens it with the same layer types.

    generator: ``z → ReLU(W_g1 z) → ReLU(W_g2 h1)``; discriminator: ``x → LeakyReLU(W_d1 x) → w_d2 · h1``
    (logit). jaxdl's dense layers compute ``x W`` on rows, so ``W`` here is the exam's matrix
    transposed.
    """
    generator = serial(dense(hidden, use_bias=False), relu(), dense(data_size, use_bias=False), relu(),
                       name="generator")
    discriminator = serial(dense(hidden, use_bias=False), leaky_relu(leaky_slope), dense(1, use_bias=False),
                           name="discriminator")
    return GAN(generator, discriminator, latent_size, data_size)


def mlp_gan(hidden: int, latent_size: int, data_size: int, leaky_slope: float = 0.2) -> GAN:
    """The exam's layer types, widened for real data: two hidden layers of ``hidden`` units with
    biases, ReLU in the generator (its output layer linear, so it can reach negative
    coordinates), LeakyReLU in the discriminator, which outputs a logit."""
    generator = serial(dense(hidden), relu(), dense(hidden), relu(), dense(data_size), name="generator")
    discriminator = serial(dense(hidden), leaky_relu(leaky_slope), dense(hidden), leaky_relu(leaky_slope), dense(1),
                           name="discriminator")
    return GAN(generator, discriminator, latent_size, data_size)


def _check_loss(generator_loss: str) -> None:
    if generator_loss not in GENERATOR_LOSSES:
        raise InputError(f"gan: generator_loss must be one of {list(GENERATOR_LOSSES)}; got {generator_loss!r}")


# The objectives, for jax.grad (the reference the manual step is tested against).
def discriminator_objective(gan: GAN, params_d, x_real, x_fake):
    a_real = gan.discriminator.apply(params_d, x_real)
    a_fake = gan.discriminator.apply(params_d, x_fake)
    return bce.apply(a_real, jnp.ones_like(a_real)) + bce.apply(a_fake, jnp.zeros_like(a_fake))


def generator_objective(gan: GAN, params_g, params_d, z, generator_loss: str = "minimax"):
    _check_loss(generator_loss)
    a = gan.discriminator.apply(params_d, gan.generator.apply(params_g, z))
    if generator_loss == "minimax":
        return -bce.apply(a, jnp.zeros_like(a))
    return bce.apply(a, jnp.ones_like(a))


# The manual gradients.
def discriminator_grads(gan: GAN, params_d, x_real, x_fake):
    """``(L_D, ∂L_D/∂params_d)`` by the loss's and the discriminator's backward passes."""
    m = x_real.shape[0]
    x = jnp.concatenate([x_real, x_fake])
    labels = jnp.concatenate([jnp.ones((m, 1), x.dtype), jnp.zeros((x_fake.shape[0], 1), x.dtype)])
    a = gan.discriminator.apply(params_d, x)
    # Each half's BCE is a mean over its m examples: over the 2m together, twice the mean.
    loss = 2 * bce.apply(a, labels)
    grads, _ = gan.discriminator.backward(params_d, x, 2 * bce.backward(a, labels))
    return loss, grads


def generator_grads(gan: GAN, params_g, params_d, z, generator_loss: str = "minimax"):
    """``(L_G, ∂L_G/∂params_g)`` through the discriminator's input gradient and the generator's backward."""
    _check_loss(generator_loss)
    x_fake = gan.generator.apply(params_g, z)
    a = gan.discriminator.apply(params_d, x_fake)
    if generator_loss == "minimax":
        zeros = jnp.zeros_like(a)
        loss, da = -bce.apply(a, zeros), -bce.backward(a, zeros)
    else:
        ones = jnp.ones_like(a)
        loss, da = bce.apply(a, ones), bce.backward(a, ones)
    _, dx = gan.discriminator.backward(params_d, x_fake, da)
    grads, _ = gan.generator.backward(params_g, z, dx)
    return loss, grads


def make_step(gan: GAN, optimizer_d: optax.GradientTransformation, optimizer_g: optax.GradientTransformation,
              generator_loss: str = "minimax") -> Callable:
    """The jit-compiled D-then-G step.

    Returns ``step(params, opt_state, z, x) -> (params, opt_state, aux)`` with ``params`` and
    ``opt_state`` dicts keyed ``"generator"``/``"discriminator"`` (``opt_state`` from
    :func:`init_opt_state`), ``z (m, latent)``, ``x (m, data)``, and ``aux`` holding both losses
    and both gradients (``lax.scan`` users who drop the gradients pay nothing for them).
    """
    _check_loss(generator_loss)

    @jax.jit
    def step(params, opt_state, z, x):
        pg, pd = params["generator"], params["discriminator"]
        x_fake = gan.generator.apply(pg, z)
        d_loss, d_grads = discriminator_grads(gan, pd, x, x_fake)
        updates, od = optimizer_d.update(d_grads, opt_state["discriminator"], pd)
        pd = optax.apply_updates(pd, updates)
        g_loss, g_grads = generator_grads(gan, pg, pd, z, generator_loss)
        updates, og = optimizer_g.update(g_grads, opt_state["generator"], pg)
        pg = optax.apply_updates(pg, updates)
        aux = {"d_loss": d_loss, "g_loss": g_loss, "d_grads": d_grads, "g_grads": g_grads}
        return {"generator": pg, "discriminator": pd}, {"generator": og, "discriminator": od}, aux

    return step


def make_flat_step(step: Callable, params, opt_state):
    """The same step behind a flat calling convention, for many small Python-driven calls.

    Passing dicts of parameters and optimizer states in and out of a jitted function costs
    about a microsecond per leaf at every call — more than the exam GAN's arithmetic. Here
    everything travels as one vector: the params, the optimizer state and, in the last two
    entries, the losses of the step that produced it (``[d_loss, g_loss]``), so that calls chain
    as ``state = flat_step(state, z, x)``.

    Returns ``(flat_step, pack, unpack)``: ``pack(params, opt_state) -> state`` (losses 0),
    ``unpack(state) -> (params, opt_state, losses)``.
    """
    from jax.flatten_util import ravel_pytree

    flat0, unravel = ravel_pytree((params, opt_state))
    dtype = flat0.dtype

    def pack(params, opt_state, losses=None):
        flat = ravel_pytree((params, opt_state))[0].astype(dtype)
        losses = jnp.zeros(2, dtype) if losses is None else jnp.asarray(losses, dtype)
        return jnp.concatenate([flat, losses])

    def unpack(state):
        params, opt_state = unravel(state[:-2])
        return params, opt_state, state[-2:]

    @jax.jit
    def flat_step(state, z, x):
        params, opt_state, _ = unpack(state)
        params, opt_state, aux = step(params, opt_state, z, x)
        return pack(params, opt_state, jnp.stack([aux["d_loss"], aux["g_loss"]]))

    return flat_step, pack, unpack


def init_opt_state(params, optimizer_d, optimizer_g) -> dict:
    return {"generator": optimizer_g.init(params["generator"]),
            "discriminator": optimizer_d.init(params["discriminator"])}
