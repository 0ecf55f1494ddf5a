"""Elementwise activations: ``y = g(x)``, ``∂L/∂x = ∂L/∂y ⊙ g'(x)``, for any input shape."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl.core import Layer, check_number, elementwise


def relu() -> Layer:
    """``ReLU(x) = max(x, 0)``; ``ReLU'(x) = [x > 0]`` (so ``ReLU'(0) = 0``). Shape ``(N, ...)``."""
    return elementwise(
        "relu",
        # where, not maximum: autodiff of jnp.maximum splits the gradient (1/2) at x = 0, while
        # where's autodiff agrees with the convention ReLU'(0) = 0 used by backward. Written as
        # "0 where x <= 0, else x" so that NaN propagates (NaN <= 0 is false), as through
        # jax.nn.relu: a NaN weight must not hide behind a finite loss.
        lambda x: jnp.where(x <= 0, jnp.zeros((), x.dtype), x),
        lambda x: jnp.where(x <= 0, 0, 1).astype(x.dtype),
        formula="y = max(x, 0);  ∂L/∂x = ∂L/∂y ⊙ [x > 0]  (NaN propagates)",
    )


def leaky_relu(negative_slope: float = 0.01) -> Layer:
    """``y = x`` for ``x > 0``, ``a·x`` otherwise; derivative 1 or ``a`` (``a`` at 0). Shape ``(N, ...)``.

    Args:
      negative_slope: a, a finite number (the exam's GAN uses 0.2).
    """
    a = check_number("leaky_relu", "negative_slope", negative_slope)
    return elementwise(
        "leaky_relu",
        lambda x: jnp.where(x > 0, x, a * x),
        lambda x: jnp.where(x > 0, 1.0, a).astype(x.dtype),
        formula=f"y = x if x > 0 else a·x (a = {a:g});  ∂L/∂x = ∂L/∂y ⊙ (1 if x > 0 else a)",
    )


def sigmoid() -> Layer:
    """``σ(x) = 1 / (1 + e^{-x})``; ``σ'(x) = σ(x)(1 - σ(x))``. Shape ``(N, ...)``."""
    return elementwise(
        "sigmoid",
        jax.nn.sigmoid,
        # σ(x)(1 − σ(x)) with the forward pass's own σ(x): under jit, XLA computes it once.
        lambda x: jax.nn.sigmoid(x) * (1 - jax.nn.sigmoid(x)),
        formula="y = σ(x);  ∂L/∂x = ∂L/∂y ⊙ σ(x)(1 - σ(x))",
    )


def swish(beta: float = 1.0) -> Layer:
    """The quiz's Swish ``g(x) = x · σ(βx)`` (Q1b), β a hyperparameter. Shape ``(N, ...)``.

    Derivative: ``g'(x) = σ(βx) + βx · σ(βx)(1 − σ(βx))``. With ``σ`` in [0, 1] every term stays
    finite for ``|βx|`` up to 1e4 and beyond in float32 (for large ``|βx|`` the product
    ``σ(1 − σ)`` rounds to 0 where its true value is below float32's resolution anyway), and
    the ``σ(βx)`` is the forward pass's own, so under jit XLA evaluates it once.

    The quiz's official solution has the right derivative but returns
    ``grad_layer.T @ grads`` (a matrix product) where the chain rule for an elementwise
    function wants the elementwise product ``grads ⊙ g'(x)``.
    """
    beta = check_number("swish", "beta", beta)

    def fn(x):
        return x * jax.nn.sigmoid(beta * x)

    def dfn(x):
        t = beta * x
        s = jax.nn.sigmoid(t)
        # t·σ(t)(1 − σ(t)) → 0 as |t| → ∞, but inf·0 is NaN (t overflows in float16 near 4e4
        # and in float32 near 3e38): beyond |t| = 64 the term is below e^-60 and counts as 0.
        return s + jnp.where(jnp.abs(t) < 64, t * s * (1 - s), 0).astype(x.dtype)

    return elementwise(
        "swish", fn, dfn,
        formula=f"y = x·σ(βx) (β = {beta:g});  ∂L/∂x = ∂L/∂y ⊙ [σ(βx) + βx·σ(βx)(1 − σ(βx))]",
    )
