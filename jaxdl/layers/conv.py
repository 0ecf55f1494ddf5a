"""2-D convolution on NCHW images, with its backward passes written as convolutions.

The three kernels below are shared by every convolution-based layer (``conv2d``, the
convolution forms of average pooling, the 1×1 convolutions of the coupling layer). For one
spatial axis with input length H, padding (lo, hi), padded length P = lo + H + hi, kernel k,
stride s and Ho = ⌊(P − k)/s⌋ + 1 outputs, the forward pass is the correlation

    y[o] = Σ_i x_pad[o·s + i] · w[i]

so ``∂y[o]/∂x_pad[j] = w[j − o·s]``. Hence

    ∂L/∂x_pad[j] = Σ_o dy[o] · w[j − o·s]  — the stride-dilated dy, zero-padded by k−1 on the
                   low side, correlated with the kernel rotated by 180° (a "full" convolution),
                   then cropped back to the unpadded input (for a stride > 1 computed one
                   stride phase at a time, with no dilation: see ``_backward_input_by_phase``);
    ∂L/∂w[i]     = Σ_o dy[o] · x_pad[o·s + i]  — x_pad correlated with the stride-dilated dy,
                   summed over the batch.

Channels: ``∂L/∂X[c]`` sums over the output channels f that read c (the kernel is transposed in
its two channel axes), ``∂L/∂W[f, c]`` sums over the batch.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jax.custom_derivatives import SymbolicZero

from jaxdl.core import Layer, shape_str, check_pair, check_rank, check_int, make_layer
from jaxdl.errors import InputError
from jaxdl.layers import cpu_conv
from jaxdl.layers.dense import he_normal

_NCHW = ("NCHW", "OIHW", "NCHW")


def resolve_padding(layer: str, padding) -> str | tuple[int, int]:
    """Validates a padding spec: ``"SAME"``, ``"VALID"`` (any case), an int or a pair of ints >= 0."""
    if isinstance(padding, str):
        if padding.upper() in ("SAME", "VALID"):
            return padding.upper()
        raise InputError(f"{layer}: padding must be 'SAME', 'VALID' or an int >= 0; got {padding!r}")
    try:
        return check_pair(layer, "padding", padding, minimum=0)
    except ValueError:
        raise InputError(
            f"{layer}: padding must be 'SAME', 'VALID' or an int >= 0; got {padding!r}"
        ) from None


def explicit_pads(padding, hw, kernel, stride) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((lo, hi), (lo, hi))`` for height and width; "SAME" keeps ⌈H/s⌉ outputs as XLA does."""
    if padding == "VALID":
        return (0, 0), (0, 0)
    if padding == "SAME":
        pads = []
        for n, k, s in zip(hw, kernel, stride):
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    return (padding[0], padding[0]), (padding[1], padding[1])


def output_hw(layer: str, hw, kernel, stride, pads) -> tuple[int, int]:
    """Output height and width; raises when the kernel does not fit in the padded input."""
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(hw, pads))
    if any(k > p for k, p in zip(kernel, padded)):
        raise InputError(
            f"{layer}: kernel_size {shape_str(kernel)} is larger than the padded input "
            f"{shape_str(padded)}"
        )
    return tuple((p - k) // s + 1 for p, k, s in zip(padded, kernel, stride))


def _is_pointwise(kernel, stride, pads, groups) -> bool:
    return tuple(kernel) == (1, 1) and tuple(stride) == (1, 1) and pads == ((0, 0), (0, 0)) and groups == 1


def _is_single_channel(w_shape, groups) -> bool:
    # One input channel (a first layer on grey images): K² broadcast multiply-adds of shifted
    # views beat XLA's CPU convolution, which is built for many channels (5× on digits).
    return w_shape[1] == 1 and groups == 1


def _shifted_views(x_pad, kernel, stride, out_hw):
    """``{(i, j): x_pad[:, :, i + s·o, j + s·p]}`` for every kernel offset."""
    (sh, sw), (ho, wo) = stride, out_hw
    return {
        (i, j): x_pad[:, :, i : i + (ho - 1) * sh + 1 : sh, j : j + (wo - 1) * sw + 1 : sw]
        for i in range(kernel[0]) for j in range(kernel[1])
    }


def _promote(a, b):
    dtype = jnp.result_type(a, b)
    return a.astype(dtype), b.astype(dtype)


def conv_forward(x, w, stride, pads, groups: int = 1):
    """Correlation of ``x (N, C, H, W)`` with ``w (F, C/groups, kh, kw)`` → ``(N, F, Ho, Wo)``."""
    x, w = _promote(x, w)
    if _is_pointwise(w.shape[2:], stride, pads, groups):
        # A 1×1 convolution is a matrix product over channels; on (N, C, H·W) it needs no
        # layout transposes, which XLA's convolution on NCHW does. As one contraction (not a
        # batch of N small products) XLA's CPU backend runs it as a single large matmul.
        n, c, h, wd = x.shape
        y = jnp.einsum("fc,ncp->nfp", w[:, :, 0, 0], x.reshape(n, c, h * wd))
        return y.reshape(n, w.shape[0], h, wd)
    if cpu_conv.applies(x.dtype, w.shape[0], stride, groups, pads):
        return _kernel_forward(x, w, _static(pads))
    return _xla_forward(x, w, stride, pads, groups)


def _xla_forward(x, w, stride, pads, groups):
    if _is_single_channel(w.shape, groups):
        kernel = w.shape[2:]
        out_hw = output_hw("conv", x.shape[2:], kernel, stride, pads)
        views = _shifted_views(jnp.pad(x, ((0, 0), (0, 0)) + tuple(pads)), kernel, stride, out_hw)
        return sum(w[:, 0, i, j][None, :, None, None] * v for (i, j), v in views.items())
    return lax.conv_general_dilated(
        x, w, window_strides=stride, padding=pads, dimension_numbers=_NCHW,
        feature_group_count=groups,
    )


def _place_strided(values, offset, hw, stride):
    """``values (N, C, Ho, Wo)`` placed at ``[i + s·o, j + s·p]`` of a zero ``(N, C) + hw`` array."""
    (i, j), (h, w), (sh, sw) = offset, hw, stride
    ho, wo = values.shape[2:]
    config = [(0, 0, 0), (0, 0, 0), (i, h - i - (ho - 1) * sh - 1, sh - 1), (j, w - j - (wo - 1) * sw - 1, sw - 1)]
    return lax.pad(values, jnp.zeros((), values.dtype), config)


def _transposed_kernel(w, groups):
    """The kernel of the transposed convolution: channels swapped within each group, rotated 180°."""
    f, cg, kh, kw = w.shape
    wt = w.reshape(groups, f // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4)
    return wt.reshape(groups * cg, f // groups, kh, kw)[:, :, ::-1, ::-1]


def _backward_input_by_phase(w, dy, padded_hw, stride, groups):
    """``∂L/∂x_pad`` of a strided convolution, one stride phase at a time, with no dilation.

    Along one axis, the padded positions ``j = r + s·m`` of phase ``r < s`` are reached only by
    the kernel taps ``i = r + s·a``: ``∂L/∂x_pad[r + s·m] = Σ_a dy[m − a] · w[r + s·a]``, a full
    stride-1 convolution of ``dy`` with the phase's taps. The phases are then interleaved. (The
    dilated form, ``lax.conv_general_dilated(..., lhs_dilation=stride)``, multiplies the s − 1
    zeros between the entries of dy as well, and XLA 0.10's CPU compiler aborts on some of its
    geometries, e.g. a 4×4 input, a 3×2 kernel, stride (3, 2), padding (2, 1) — as it does on
    ``jax.grad`` of the same ``lax.conv``.)
    """
    n = dy.shape[0]
    _, cg, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padded_hw
    mh, mw = -(-ph // sh), -(-pw // sw)  # the longest phase along each axis
    c = groups * cg
    rows = []
    for r in range(sh):
        row = []
        for q in range(sw):
            taps = w[:, :, r::sh, q::sw]
            if r >= kh or q >= kw:  # positions that no tap reads: no gradient
                row.append(jnp.zeros((n, c, mh, mw), dy.dtype))
                continue
            a, b = taps.shape[2:]
            full = lax.conv_general_dilated(dy, _transposed_kernel(taps, groups), window_strides=(1, 1),
                                            padding=[(a - 1, a - 1), (b - 1, b - 1)], dimension_numbers=_NCHW,
                                            feature_group_count=groups)[:, :, :mh, :mw]
            row.append(jnp.pad(full, ((0, 0), (0, 0), (0, mh - full.shape[2]), (0, mw - full.shape[3]))))
        rows.append(jnp.stack(row, axis=-1))  # (N, C, mh, mw, sw)
    phases = jnp.stack(rows, axis=3)  # (N, C, mh, sh, mw, sw): position (m·sh + r, m'·sw + q)
    return phases.reshape(n, c, mh * sh, mw * sw)[:, :, :ph, :pw]


def conv_backward_input(w, dy, x_shape, stride, pads, groups: int = 1):
    """``∂L/∂x`` of :func:`conv_forward` given ``dy (N, F, Ho, Wo)``; see the module docstring."""
    w, dy = _promote(w, dy)
    f, cg, kh, kw = w.shape
    if _is_pointwise((kh, kw), stride, pads, groups):
        n, _, h, wd = dy.shape
        dx = jnp.einsum("fc,nfp->ncp", w[:, :, 0, 0], dy.reshape(n, f, h * wd))
        return dx.reshape(x_shape)
    # At stride 1, ∂L/∂x is the forward correlation of dy with the transposed, rotated kernel,
    # padded by k − 1 − lo below and k − 1 − hi above (so the output has the input's size).
    flipped = ((kh - 1 - pads[0][0], kh - 1 - pads[0][1]), (kw - 1 - pads[1][0], kw - 1 - pads[1][1]))
    if cpu_conv.applies(dy.dtype, cg * groups, stride, groups, flipped):
        return _kernel_forward(dy, _transposed_kernel(w, groups), _static(flipped))
    return _xla_backward_input(w, dy, x_shape, stride, pads, groups)


def _xla_backward_input(w, dy, x_shape, stride, pads, groups):
    f, cg, kh, kw = w.shape
    h, wd = x_shape[2:]
    (plo, phi), (qlo, qhi) = pads
    if _is_single_channel(w.shape, groups):
        # Each shifted view sends Σ_f ∂L/∂y[f]·w[f, i, j] back to its own positions.
        padded_hw = (h + plo + phi, wd + qlo + qhi)
        dx_pad = 0
        for i in range(kh):
            for j in range(kw):
                g = jnp.einsum("nfop,f->nop", dy, w[:, 0, i, j])[:, None]
                dx_pad = dx_pad + _place_strided(g, (i, j), padded_hw, stride)
        return dx_pad[:, :, plo:plo + h, qlo:qlo + wd]
    padded = (h + plo + phi, wd + qlo + qhi)
    if tuple(stride) != (1, 1):
        return _backward_input_by_phase(w, dy, padded, stride, groups)[:, :, plo:plo + h, qlo:qlo + wd]
    dilated = tuple((o - 1) * s + 1 for o, s in zip(dy.shape[2:], stride))
    wt = _transposed_kernel(w, groups)
    # The full correlation, already cropped to the unpadded input: the low side starts k−1−lo
    # early, the high side stops the forward's high padding short. (Computing the padded
    # gradient and slicing it would cost (H+lo+hi)²/H² as much.)
    crop_pads = [(kh - 1 - plo, padded[0] - dilated[0] - phi), (kw - 1 - qlo, padded[1] - dilated[1] - qhi)]
    if min(min(p) for p in crop_pads) >= 0:
        return lax.conv_general_dilated(
            dy, wt, window_strides=(1, 1), padding=crop_pads,
            lhs_dilation=stride, dimension_numbers=_NCHW, feature_group_count=groups,
        )
    # Forward padding wider than the kernel: compute the padded gradient, then crop.
    dx_pad = lax.conv_general_dilated(
        dy, wt, window_strides=(1, 1),
        padding=[(kh - 1, padded[0] - dilated[0]), (kw - 1, padded[1] - dilated[1])],
        lhs_dilation=stride, dimension_numbers=_NCHW, feature_group_count=groups,
    )
    return dx_pad[:, :, plo:plo + h, qlo:qlo + wd]


def conv_backward_weight(x, dy, kernel, stride, pads, groups: int = 1):
    """``∂L/∂w (F, C/groups, kh, kw)`` of :func:`conv_forward`; see the module docstring."""
    x, dy = _promote(x, dy)
    if not _is_pointwise(kernel, stride, pads, groups) and cpu_conv.applies(x.dtype, dy.shape[1], stride, groups, pads):
        return _kernel_weight(x, dy, tuple(kernel), _static(pads))
    return _xla_backward_weight(x, dy, kernel, stride, pads, groups)


def _xla_backward_weight(x, dy, kernel, stride, pads, groups):
    if _is_single_channel((dy.shape[1], x.shape[1] // groups), groups):
        views = _shifted_views(jnp.pad(x, ((0, 0), (0, 0)) + tuple(pads)), kernel, stride, dy.shape[2:])
        dw = jnp.stack([jnp.einsum("nfop,nop->f", dy, views[(i, j)][:, 0])
                        for i in range(kernel[0]) for j in range(kernel[1])], axis=1)
        return dw.reshape(dy.shape[1], 1, kernel[0], kernel[1])
    if _is_pointwise(kernel, stride, pads, groups):
        n, c, h, wd = x.shape
        dw = jnp.einsum("nfp,ncp->fc", dy.reshape(n, dy.shape[1], h * wd), x.reshape(n, c, h * wd))
        return dw[:, :, None, None]
    # Batch and channels swap roles: the batch is summed over (it is the contracted "feature"
    # axis), the input channels are the "batch" of this correlation. The padding is the
    # convolution's own (an explicit jnp.pad would be one more pass over x).
    dw = lax.conv_general_dilated(
        x, dy, window_strides=(1, 1), padding=tuple(pads), rhs_dilation=stride,
        dimension_numbers=("CNHW", "IOHW", "CNHW"), batch_group_count=groups,
    )
    return dw[:, :, : kernel[0], : kernel[1]]


def _static(pads) -> tuple[tuple[int, int], tuple[int, int]]:
    return tuple((int(lo), int(hi)) for lo, hi in pads)


def _tangent(like, *terms):
    """The sum of the ``(tangent, term)`` terms whose tangent is not a symbolic zero (each term
    computed only then); zeros shaped like ``like`` when every tangent is zero."""
    live = [term() for t, term in terms if not isinstance(t, SymbolicZero)]
    return sum(live[1:], live[0]) if live else jnp.zeros_like(like)


# jaxdl's CPU kernels (``cpu_conv``) have no derivative rules of their own: differentiating through
# them (autodiff of the forward, or of a hand-derived backward) differentiates XLA's formulation of
# the same bilinear map, so every transformation sees an ordinary JAX function.
@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _kernel_forward(x, w, pads):
    return cpu_conv.forward(x, w, pads)


@functools.partial(_kernel_forward.defjvp, symbolic_zeros=True)
def _kernel_forward_jvp(pads, primals, tangents):
    (x, w), (tx, tw) = primals, tangents
    y = _kernel_forward(x, w, pads)
    return y, _tangent(y, (tx, lambda: _xla_forward(tx, w, (1, 1), pads, 1)),
                       (tw, lambda: _xla_forward(x, tw, (1, 1), pads, 1)))


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _kernel_weight(x, dy, kernel, pads):
    return cpu_conv.weight(x, dy, kernel, pads)


@functools.partial(_kernel_weight.defjvp, symbolic_zeros=True)
def _kernel_weight_jvp(kernel, pads, primals, tangents):
    (x, dy), (tx, tdy) = primals, tangents
    dw = _kernel_weight(x, dy, kernel, pads)
    return dw, _tangent(dw, (tx, lambda: _xla_backward_weight(tx, dy, kernel, (1, 1), pads, 1)),
                        (tdy, lambda: _xla_backward_weight(x, tdy, kernel, (1, 1), pads, 1)))


def conv2d(num_filters: int, kernel_size, stride=1, padding="SAME") -> Layer:
    """2-D convolution (cross-correlation, as in every framework) with bias, on NCHW.

    Args:
      num_filters: F, the number of output channels.
      kernel_size: k or ``(kh, kw)``.
      stride: s or ``(sh, sw)``.
      padding: ``"SAME"`` (⌈H/s⌉ outputs, zero padding split as XLA does), ``"VALID"`` (none),
        or an int / pair of ints of zeros on each side.

    Shapes: ``x (N, C, H, W)`` → ``y (N, F, Ho, Wo)``; params ``W (F, C, kh, kw)``, ``b (F,)``.

    Backward::

      ∂L/∂X[n,c] = Σ_f  dil_s(∂L/∂Y[n,f]) ∗full rot180(W[f,c])   (cropped to the input)
      ∂L/∂W[f,c] = Σ_n  X_pad[n,c] ⋆ dil_s(∂L/∂Y[n,f])
      ∂L/∂b[f]   = Σ_{n,i,j} ∂L/∂Y[n,f,i,j]

    Example:
      >>> out_shape, params = conv2d(8, 3).init(jax.random.PRNGKey(0), (-1, 1, 9, 9))
      >>> out_shape, params["W"].shape
      ((-1, 8, 9, 9), (8, 1, 3, 3))
    """
    name = "conv2d"
    num_filters = check_int(name, "num_filters", num_filters)
    kernel = check_pair(name, "kernel_size", kernel_size)
    strides = check_pair(name, "stride", stride)
    pad = resolve_padding(name, padding)

    def geometry(input_shape):
        check_rank(name, input_shape, 4, "(N, C, H, W)")
        pads = explicit_pads(pad, input_shape[2:], kernel, strides)
        out_hw = output_hw(name, input_shape[2:], kernel, strides, pads)
        # Sizes XLA cannot index (it aborts the process): the padded image and the output
        # must each stay below 2^31 elements per example and channel.
        for size, what in (((int(input_shape[2]) + sum(pads[0])) * (int(input_shape[3]) + sum(pads[1])), "padded input"),
                           (out_hw[0] * out_hw[1], "output")):
            if size >= 2**31:
                raise InputError(f"{name}: the {what} would have {size} pixels per channel (padding {padding!r} on "
                                 f"{tuple(int(d) for d in input_shape[2:])}); at most 2^31 − 1 can be computed")
        return pads, out_hw

    def init(key, input_shape):
        _, out_hw = geometry(input_shape)
        c = int(input_shape[1])
        fan_in = c * kernel[0] * kernel[1]
        params = {
            "W": he_normal(key, (num_filters, c) + kernel, fan_in),
            "b": jnp.zeros((num_filters,), jnp.float32),
        }
        return (input_shape[0], num_filters) + out_hw, params

    def apply(params, x):
        pads, _ = geometry(x.shape)
        return conv_forward(x, params["W"], strides, pads) + params["b"][None, :, None, None]

    def backward(params, x, dy):
        pads, _ = geometry(x.shape)
        dparams = {
            "W": conv_backward_weight(x, dy, kernel, strides, pads),
            "b": dy.sum(axis=(0, 2, 3)),
        }
        return dparams, conv_backward_input(params["W"], dy, x.shape, strides, pads)

    return make_layer(
        name, init, apply, backward,
        formula=(
            "Y[n,f] = Σ_c X[n,c] ⋆ W[f,c] + b[f];  "
            "∂L/∂X[n,c] = Σ_f dil_s(∂L/∂Y[n,f]) ∗full rot180(W[f,c]),  "
            "∂L/∂W[f,c] = Σ_n X_pad[n,c] ⋆ dil_s(∂L/∂Y[n,f]),  ∂L/∂b[f] = Σ ∂L/∂Y[·,f,·,·]"
        ),
    )
