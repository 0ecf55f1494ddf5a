"""Pooling layers on NCHW images: max, global max and K×K average pooling.

Max pooling routes the upstream gradient to the position of each window's maximum; on a tie it
goes to the first maximum in row-major window order (the convention of ``argmax``), so the
gradient is one valid subgradient. Windows that do not fit (H or W not covered by whole
windows) are dropped, as in every common framework (floor).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax import lax

from jaxdl.core import Layer, check_int, check_min_rank, check_pair, check_rank, make_layer
from jaxdl.errors import InputError
from jaxdl.layers.conv import conv_backward_input, conv_forward, output_hw

_NO_PADDING = ((0, 0), (0, 0))


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
            raise InputError(f"{name}: expected at least one spatial position; got shape {tuple(input_shape)}")
        return tuple(input_shape[:2]), {}

    def positions(x):
        # Explicit sizes: a -1 is ambiguous for an empty batch (N = 0).
        if x.ndim == 2:
            return x.reshape(x.shape[0], 1, x.shape[1])
        return x.reshape(x.shape[:2] + (math.prod(x.shape[2:]),))

    def apply(params, x):
        del params
        return positions(x).max(axis=-1)

    def backward(params, x, dy):
        del params
        flat = positions(x)
        # The first position holding the maximum: the smallest index where x equals it (a
        # min-reduction of indices is cheaper than argmax's paired reduction on CPU).
        index = jnp.arange(flat.shape[-1])[None, None, :]
        hit = flat == flat.max(axis=-1, keepdims=True)
        first = index == jnp.min(jnp.where(hit, index, flat.shape[-1]), axis=-1, keepdims=True)
        return {}, jnp.where(first, dy[..., None], 0).astype(dy.dtype).reshape(x.shape)

    return make_layer(
        name, init, apply, backward,
        formula="y[n,c] = max_p x[n,c,p];  ∂L/∂x[n,c,p] = ∂L/∂y[n,c] · [p = argmax_p x[n,c,p]]",
    )


def _avg_pool_out_hw(name: str, input_shape, k: int) -> tuple[int, int]:
    check_rank(name, input_shape, 4, "(N, C, H, W)")
    h, w = int(input_shape[2]), int(input_shape[3])
    if k > h or k > w:
        raise InputError(f"{name}: k={k} is larger than the input's height×width {h}×{w}")
    return h // k, w // k


def avg_pool2d(k: int) -> Layer:
    """K×K average pooling with stride K, in jaxdl's fastest formulation.

    Shapes: ``x (N, C, H, W)`` → ``y (N, C, ⌊H/K⌋, ⌊W/K⌋)``; no params. When K does not divide
    H or W the last rows/columns are dropped (floor), as in every common framework.

    Forward: the sum of the K² strided slices ``x[:, :, i::K, j::K]`` divided by K² (elementwise
    adds of contiguous-stride reads; no convolution, no window reduction). Backward::

      ∂L/∂x[n,c,K·o+i,K·p+j] = ∂L/∂y[n,c,o,p] / K²   for i, j < K; 0 in the dropped remainder

    written as one broadcast of ``∂L/∂y / K²`` to ``(…, Ho, Wo, K, K)`` and one transpose into
    the image. On XLA's CPU backend this is far faster than the convolution forms
    (``jaxdl bench --suite avg_pool``).
    """
    name = "avg_pool2d"
    k = check_int(name, "k", k)

    def init(key, input_shape):
        del key
        return tuple(input_shape[:2]) + _avg_pool_out_hw(name, input_shape, k), {}

    def apply(params, x):
        del params
        ho, wo = _avg_pool_out_hw(name, x.shape, k)
        total = 0
        for offset in _window_offsets((k, k)):
            total = total + _strided_window(x, offset, (ho, wo), (k, k))
        return total / (k * k)

    def backward(params, x, dy):
        del params
        n, c, h, w = x.shape
        ho, wo = dy.shape[2:]
        # ∂L/∂y / K² copied to every position of its window: one broadcast to (…, Ho, Wo, K, K)
        # and one transpose into the (Ho·K, Wo·K) image, whatever K (a sum of K² strided
        # placements, the adjoint of the forward's slices, costs K² passes over ∂L/∂x).
        spread = lax.broadcast_in_dim(dy / (k * k), (n, c, ho, wo, k, k), (0, 1, 2, 3))
        dx = spread.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho * k, wo * k)
        return {}, jnp.pad(dx, ((0, 0), (0, 0), (0, h - ho * k), (0, w - wo * k)))

    return make_layer(
        name, init, apply, backward,
        formula=(
            f"y[n,c,o,p] = 1/K² Σ_(i,j<K) x[n,c,K·o+i,K·p+j] (K = {k});  "
            "∂L/∂x[n,c,K·o+i,K·p+j] = ∂L/∂y[n,c,o,p] / K²"
        ),
    )


def avg_pool_weight(channels: int, k: int, form: str = "dense", dtype=jnp.float32):
    """The fixed convolution weight that makes a stride-K convolution average K×K windows.

    ``form="dense"``: shape ``(C, C, K, K)``, ``W[o, i] = 1/K²·[o = i]`` (the exam's weight: each
    output channel reads only its own input channel). ``form="depthwise"``: shape
    ``(C, 1, K, K)`` of ``1/K²``, for a grouped convolution with C groups.
    """
    if form == "dense":
        return jnp.eye(channels, dtype=dtype)[:, :, None, None] * jnp.full((1, 1, k, k), 1.0 / (k * k), dtype)
    return jnp.full((channels, 1, k, k), 1.0 / (k * k), dtype)


_FORMS = ("dense", "depthwise")


def conv_avg_pool2d(channels: int, k: int, form: str = "dense") -> Layer:
    """The quiz's ConvAvgPool2d (Q2): K×K average pooling as a stride-K convolution with a fixed weight.

    Args:
      channels: C, the number of input (and output) channels.
      k: K, the window size and stride.
      form: ``"dense"`` — the exam's convolution, weight ``(C, C, K, K)`` with ``1/K²`` on the
        channel diagonal and 0 elsewhere (C² K² multiply-adds per output pixel, C K² of them
        useful); ``"depthwise"`` — the same result from a grouped convolution with C groups and
        weight ``(C, 1, K, K)``, C times less work.

    Shapes: ``x (N, C, H, W)`` → ``y (N, C, ⌊H/K⌋, ⌊W/K⌋)`` (floor, no padding, no bias). The
    weight is fixed, not a parameter: ``init`` returns ``{}``, so an optimizer never sees it.

    Backward: the convolution's input gradient with the fixed weight (the stride-dilated
    ``∂L/∂y`` correlated with the rotated weight, see :mod:`jaxdl.layers.conv`), which here is
    ``∂L/∂y / K²`` spread over each window.
    """
    name = "conv_avg_pool2d"
    channels = check_int(name, "channels", channels)
    k = check_int(name, "k", k)
    if form not in _FORMS:
        raise InputError(f"{name}: form must be 'dense' or 'depthwise'; got {form!r}")
    weight_shape = (channels, channels if form == "dense" else 1, k, k)
    groups = channels if form == "depthwise" else 1

    def init(key, input_shape):
        del key
        out_hw = _avg_pool_out_hw(name, input_shape, k)
        if int(input_shape[1]) != channels:
            raise InputError(
                f"{name}: expected C={channels} input channels (the fixed weight is "
                f"{weight_shape}); got C={int(input_shape[1])}"
            )
        return (input_shape[0], channels) + out_hw, {}

    def apply(params, x):
        del params
        # Built in the input's dtype, so that 1/K² is exact to that precision.
        return conv_forward(x, avg_pool_weight(channels, k, form, x.dtype), (k, k), _NO_PADDING, groups)

    def backward(params, x, dy):
        del params
        weight = avg_pool_weight(channels, k, form, dy.dtype)
        return {}, conv_backward_input(weight, dy, x.shape, (k, k), _NO_PADDING, groups)

    return make_layer(
        name, init, apply, backward,
        formula=(
            f"y = conv(x, W, stride K), W {weight_shape} = 1/K² on the channel diagonal "
            f"(K = {k}, {form});  ∂L/∂x = conv_transpose(∂L/∂y, W) = ∂L/∂y / K² over each window"
        ),
    )
