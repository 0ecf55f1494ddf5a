"""Layers that only move elements: ``flatten``."""

from __future__ import annotations

import math

from jaxdl.core import Layer, check_min_rank, make_layer


def flatten() -> Layer:
    """``(N, d1, d2, ...)`` → ``(N, d1·d2·…)`` in row-major order; backward reshapes back. No params."""
    name = "flatten"

    def init(key, input_shape):
        del key
        check_min_rank(name, input_shape, 1, "(N, ...)")
        return (input_shape[0], math.prod(input_shape[1:])), {}

    def apply(params, x):
        del params
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))  # explicit: -1 is ambiguous when N = 0

    def backward(params, x, dy):
        del params
        return {}, dy.reshape(x.shape)

    return make_layer(
        name, init, apply, backward,
        formula="y = reshape(x, (N, -1));  ∂L/∂x = reshape(∂L/∂y, shape of x)",
    )
