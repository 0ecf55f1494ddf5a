"""The fully connected layer (the lab's ``FC``) and the residual block built from it."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl.core import Layer, check_int, check_rank, make_layer


def he_normal(key, shape, fan_in: int, dtype=jnp.float32):
    """``N(0, 2/fan_in)``: the lab's variance-scaling initializer, suited to ReLU nets."""
    return jax.random.normal(key, shape, dtype) * jnp.sqrt(2.0 / fan_in).astype(dtype)


def dense(num_outputs: int) -> Layer:
    """Fully connected layer ``Y = X W + b`` on minibatches of vectors.

    Args:
      num_outputs: M, the number of output features.

    Shapes: ``x (N, D)`` → ``y (N, M)``; params ``W (D, M)``, ``b (M,)``.

    Backward (course notation, rows are examples)::

      ∂L/∂X = ∂L/∂Y Wᵀ        (N, D)
      ∂L/∂W = Xᵀ ∂L/∂Y        (D, M)
      ∂L/∂b = Σ_n ∂L/∂Y_n     (M,)

    The lab's ``FC`` stores its weight as ``(M, D)`` and computes ``X Wᵀ``; jaxdl keeps
    ``W (D, M)`` so that the residual block reads ``x W + b`` as in the exam.

    Example:
      >>> out_shape, params = dense(3).init(jax.random.PRNGKey(0), (-1, 5))
      >>> out_shape, params["W"].shape, params["b"].shape
      ((-1, 3), (5, 3), (3,))
    """
    m = check_int("dense", "num_outputs", num_outputs)

    def init(key, input_shape):
        check_rank("dense", input_shape, 2, "(N, D)")
        d = int(input_shape[1])
        if d < 1:
            raise ValueError(f"dense: expected at least one input feature; got D={d}")
        return (input_shape[0], m), {"W": he_normal(key, (d, m), d), "b": jnp.zeros((m,), jnp.float32)}

    def apply(params, x):
        return x @ params["W"] + params["b"][None, :]

    def backward(params, x, dy):
        return {"W": x.T @ dy, "b": dy.sum(axis=0)}, dy @ params["W"].T

    return make_layer(
        "dense", init, apply, backward,
        formula="Y = X W + b;  ∂L/∂X = ∂L/∂Y Wᵀ,  ∂L/∂W = Xᵀ ∂L/∂Y,  ∂L/∂b = Σ_n ∂L/∂Y_n",
    )
