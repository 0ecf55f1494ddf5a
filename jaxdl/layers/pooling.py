"""Pooling layers on NCHW images: max pooling and global max pooling.

Max pooling routes the upstream gradient to the position of each window's maximum; on a tie it
goes to the first maximum in row-major window order (the convention of ``argmax``), so the
gradient is one valid subgradient. Windows that do not fit (H or W not covered by whole
windows) are dropped, as in every common framework (floor).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from jaxdl.core import Layer, check_min_rank, check_pair, check_rank, make_layer
from jaxdl.layers.conv import output_hw


def _window_offsets(pool):
    return [(i, j) for i in range(pool[0]) for j in range(pool[1])]


def _strided_window(x, offset, out_hw, stride):
    """``x[:, :, i + s·o, j + s·p]`` for all outputs (o, p): the window elements at one offset."""
    (i, j), (ho, wo), (sh, sw) = offset, out_hw, stride
    return x[:, :, i : i + (ho - 1) * sh + 1 : sh, j : j + (wo - 1) * sw + 1 : sw]


def _scatter_strided(values, offset, in_hw, stride):
    """The transpose of :func:`_strided_window`: ``values`` placed back at their positions, 0 elsewhere."""
    (i, j), (h, w), (sh, sw) = offset, in_hw, stride
    ho, wo = values.shape[2:]
    config = [
        (0, 0, 0),
        (0, 0, 0),
        (i, h - i - (ho - 1) * sh - 1, sh - 1),
        (j, w - j - (wo - 1) * sw - 1, sw - 1),
    ]
    return lax.pad(values, jnp.zeros((), values.dtype), config)


def max_pool2d(pool_size=2, stride=2) -> Layer:
    """Max pooling over ``pool_size`` windows moved by ``stride``, no padding.

    Shapes: ``x (N, C, H, W)`` → ``y (N, C, ⌊(H−k)/s⌋+1, ⌊(W−k)/s⌋+1)``; no params.

    Backward: ``∂L/∂x[p] = Σ_{windows w whose (first) argmax is p} ∂L/∂y[w]`` — overlapping
    windows (``stride < pool_size``) add up.
    """
    name = "max_pool2d"
    pool = check_pair(name, "pool_size", pool_size)
    strides = check_pair(name, "stride", stride)

    def out_hw(input_shape):
        check_rank(name, input_shape, 4, "(N, C, H, W)")
        return output_hw(name, input_shape[2:], pool, strides, ((0, 0), (0, 0)))

    def init(key, input_shape):
        del key
        return tuple(input_shape[:2]) + out_hw(input_shape), {}

    def apply(params, x):
        del params
        return lax.reduce_window(
            x, -jnp.inf, lax.max, (1, 1) + pool, (1, 1) + strides, "VALID"
        )

    def backward(params, x, dy):
        y = apply(params, x)
        ohw = out_hw(x.shape)
        dx = jnp.zeros_like(x)
        taken = jnp.zeros(y.shape, bool)
        for offset in _window_offsets(pool):
            is_max = (_strided_window(x, offset, ohw, strides) == y) & ~taken
            taken = taken | is_max
            dx = dx + _scatter_strided(jnp.where(is_max, dy, 0), offset, x.shape[2:], strides)
        return {}, dx

    return make_layer(
        name, init, apply, backward,
        formula=(
            f"y[n,c,o,p] = max over the {pool[0]}×{pool[1]} window at (s·o, s·p) (stride {strides[0]}×{strides[1]});  "
            "∂L/∂x = ∂L/∂y routed to each window's first argmax (summed where windows overlap)"
        ),
    )


def global_max_pool() -> Layer:
    """The maximum over all spatial positions of each channel.

    Shapes: ``x (N, C, H, W)`` (or any ``(N, C, ...)``) → ``y (N, C)``; a minibatch of vectors
    ``(N, D)`` counts as D positions of one channel → ``(N, 1)``. No params.

    Backward: ``∂L/∂x[n,c,p] = ∂L/∂y[n,c] · [p = first argmax of x[n,c]]``.
    """
    name = "global_max_pool"

    def init(key, input_shape):
        del key
        check_min_rank(name, input_shape, 2, "(N, C, ...) or (N, D)")
        if len(input_shape) == 2:
            return (input_shape[0], 1), {}
        if math.prod(input_shape[2:]) == 0:
            raise ValueError(f"{name}: expected at least one spatial position; got shape {tuple(input_shape)}")
        return tuple(input_shape[:2]), {}

    def positions(x):
        return x.reshape(x.shape[0], 1, -1) if x.ndim == 2 else x.reshape(x.shape[:2] + (-1,))

    def apply(params, x):
        del params
        return positions(x).max(axis=-1)

    def backward(params, x, dy):
        del params
        flat = positions(x)
        first = jax.nn.one_hot(flat.argmax(axis=-1), flat.shape[-1], dtype=x.dtype)
        return {}, (first * dy[..., None]).reshape(x.shape)

    return make_layer(
        name, init, apply, backward,
        formula="y[n,c] = max_p x[n,c,p];  ∂L/∂x[n,c,p] = ∂L/∂y[n,c] · [p = argmax_p x[n,c,p]]",
    )
