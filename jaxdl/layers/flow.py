"""Invertible layers for normalizing flows: the additive coupling (NICE), squeeze, scaling.

Each has ``inverse(params, y)`` and ``log_det(params, x) = log|det ∂y/∂x|`` per example, beside
the hand-derived ``backward``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from jaxdl.core import Layer, check_int, check_rank, make_layer, serial
from jaxdl.errors import InputError
from jaxdl.layers import cpu_coupling
from jaxdl.layers.activations import relu
from jaxdl.layers.conv import conv2d


def _coupling_net(half: int, hidden: Sequence[int]) -> Layer:
    """``h``: ReLU then a 1×1 convolution (the exam's), or an MLP of 1×1 convolutions."""
    if not hidden:
        return serial(relu(), conv2d(half, 1, padding="VALID"), name="h")
    stages = []
    for width in hidden:
        stages += [conv2d(width, 1, padding="VALID"), relu()]
    return serial(*stages, conv2d(half, 1, padding="VALID"), name="h")


def _xla_coupling(x, w, b, kept: int, sign: int):
    """The quiz's coupling on halves of the channels, ``h = Conv1×1 ∘ ReLU`` with ``w (C/2, C/2)``:
    ``y_shift = x_shift + sign·h(x_kept)`` (``sign = -1``: the inverse), in XLA."""
    half = w.shape[0]
    x_kept, x_shift = (x[:, :half], x[:, half:]) if kept == 0 else (x[:, half:], x[:, :half])
    y_shift = x_shift + sign * (jnp.einsum("fc,nchw->nfhw", w, jax.nn.relu(x_kept)) + b[None, :, None, None])
    return jnp.concatenate((x_kept, y_shift) if kept == 0 else (y_shift, x_kept), axis=1)


# jaxdl's CPU kernels for it (``cpu_coupling``, float32) have no derivative rules of their own:
# differentiating through them differentiates the XLA formulation above.
@functools.partial(jax.custom_jvp, nondiff_argnums=(3, 4))
def _kernel_coupling(x, w, b, kept, sign):
    return cpu_coupling.apply(x, w, b, kept, sign)


@_kernel_coupling.defjvp
def _kernel_coupling_jvp(kept, sign, primals, tangents):
    return (_kernel_coupling(*primals, kept, sign),
            jax.jvp(lambda *a: _xla_coupling(*a, kept, sign), primals, tangents)[1])


def _xla_coupling_backward(x, dy, w, kept):
    b = jnp.zeros(w.shape[:1], w.dtype)
    _, vjp = jax.vjp(lambda x, w, b: _xla_coupling(x, w, b, kept, 1), x, w, b)
    return vjp(dy)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _kernel_coupling_backward(x, dy, w, kept):
    return cpu_coupling.backward(x, dy, w, kept)


@_kernel_coupling_backward.defjvp
def _kernel_coupling_backward_jvp(kept, primals, tangents):
    return (_kernel_coupling_backward(*primals, kept),
            jax.jvp(lambda *a: _xla_coupling_backward(*a, kept), primals, tangents)[1])


def additive_coupling(channels: int, hidden: Sequence[int] = (), parity: int = 0, *, net: Layer | None = None,
                      partition: str = "halves") -> Layer:
    """The NICE additive coupling layer (quiz Q3; Dinh, Krueger & Bengio 2014).

    The features (axis 1: the channels of ``(N, C, H, W)`` images or the entries of ``(N, D)``
    vectors) are split in two parts ``x1, x2`` by ``partition``: ``"halves"`` (the first and the
    second half, the quiz's split) or ``"odd_even"`` (even and odd indices, NICE's split for
    MNIST). ``parity=1`` swaps the parts' roles, so that stacked couplings alternate which part
    passes through unchanged::

      forward  y1 = x1,  y2 = x2 + h(x1)
      inverse  x1 = y1,  x2 = y2 − h(y1)    (y1 = x1, so h(x1) can be recomputed from y)
      log|det ∂y/∂x| = 0                    (∂y/∂x is unit-triangular: volume preserving)

    ``h`` maps the kept part to the shape of the shifted one. By default (images only) it is
    ``h = Conv1×1 ∘ ReLU`` (with bias) when ``hidden=()``, exactly as the quiz asks, and with
    ``hidden=(H1, ..., Hk)`` the MLP of 1×1 convolutions ``C/2 → H1 → … → Hk → C/2`` with ReLU
    between them. ``net`` replaces it by any jaxdl layer (e.g. a ``serial`` of ``dense`` and
    ``relu`` layers on vectors, NICE's MNIST coupling function). Any ``h`` keeps the layer
    invertible.

    Backward::

      ∂L/∂x2 = ∂L/∂y2
      ∂L/∂x1 = ∂L/∂y1 + h.backward(∂L/∂y2)    (h's own hand-derived backward)
      ∂L/∂θ_h = h.backward(∂L/∂y2)

    Args:
      channels: the size of axis 1 (C or D), even.
      hidden: the widths of the default h's hidden 1×1 convolutions (ignored with ``net``).
      parity: 0 keeps the first part, 1 keeps the second.
      net: the coupling function h, mapping the kept part ``(N, C/2, ...)`` to the shifted part's
        shape; ``None`` for the default 1×1-convolution h (NCHW input).
      partition: ``"halves"`` or ``"odd_even"``.

    Shapes: ``x (N, C, H, W)`` or ``(N, D)`` → ``y`` of the same shape; params: h's, e.g.
    ``{"relu_0": {}, "conv2d_1": {"W": (C/2, C/2, 1, 1), "b": (C/2,)}}``.

    Long because the layer's forward, inverse, log-det, hand-derived backward and kernel paths are
    closures over the same configuration, written beside each other as the protocol asks.
    """
    name = "additive_coupling"
    channels = check_int(name, "channels", channels, minimum=2)
    if channels % 2:
        raise InputError(f"{name}: channel count must be even; got C={channels}")
    if parity not in (0, 1):
        raise InputError(f"{name}: parity must be 0 or 1; got {parity!r}")
    if partition not in ("halves", "odd_even"):
        raise InputError(f"{name}: partition must be 'halves' or 'odd_even'; got {partition!r}")
    hidden = tuple(check_int(name, "hidden width", w) for w in hidden)
    half = channels // 2
    h = _coupling_net(half, hidden) if net is None else net

    def parts(x):
        if partition == "halves":
            a, b = x[:, :half], x[:, half:]
        else:  # even indices, odd indices: a strided view of axis 1
            pairs = x.reshape((x.shape[0], half, 2) + x.shape[2:])
            a, b = pairs[:, :, 0], pairs[:, :, 1]
        return (a, b) if parity == 0 else (b, a)  # (kept, shifted)

    def join(kept, shifted):
        a, b = (kept, shifted) if parity == 0 else (shifted, kept)
        if partition == "halves":
            return jnp.concatenate((a, b), axis=1)
        return jnp.stack((a, b), axis=2).reshape((a.shape[0], channels) + a.shape[2:])

    def init(key, input_shape):
        if net is None:
            check_rank(name, input_shape, 4, "(N, C, H, W)")
        elif len(input_shape) < 2:
            raise InputError(f"{name}: expected an input of shape (N, D) or (N, C, H, W); got {tuple(input_shape)}")
        if int(input_shape[1]) != channels:
            raise InputError(f"{name}: expected C={channels} input channels; got C={int(input_shape[1])}")
        part = (input_shape[0], half) + tuple(input_shape[2:])
        out_shape, params = h.init(key, part)
        if tuple(out_shape[1:]) != tuple(part[1:]):
            raise InputError(f"{name}: the coupling function must map the kept part {tuple(part[1:])} to the same "
                             f"shape; it gives {tuple(out_shape[1:])}")
        return tuple(input_shape), params

    # The quiz's coupling (h = Conv1×1 ∘ ReLU on halves) runs on jaxdl's CPU kernels where they apply.
    quiz_h = net is None and not hidden and partition == "halves"

    def on_kernels(params, *arrays):
        """The kernels' operands, cast to their common dtype, where the kernels apply; else None."""
        if not quiz_h:
            return None
        conv = params["conv2d_1"]
        operands = (*arrays, conv["W"].reshape(half, half), conv["b"])
        dtype = jnp.result_type(*operands)
        if not cpu_coupling.applies(dtype, arrays[0].shape):
            return None
        return tuple(a.astype(dtype) for a in operands)

    def apply(params, x):
        if (ops := on_kernels(params, x)) is not None:
            return _kernel_coupling(*ops, parity, 1)
        kept, shifted = parts(x)
        return join(kept, shifted + h.apply(params, kept))

    def backward(params, x, dy):
        if (ops := on_kernels(params, x, dy)) is not None:
            dx, dw, db = _kernel_coupling_backward(*ops[:3], parity)
            return {"relu_0": {}, "conv2d_1": {"W": dw.reshape(half, half, 1, 1), "b": db}}, dx
        kept, _ = parts(x)
        dkept, dshifted = parts(dy)
        dparams, dkept_via_h = h.backward(params, kept, dshifted)
        return dparams, join(dkept + dkept_via_h, dshifted)

    def inverse(params, y):
        if (ops := on_kernels(params, y)) is not None:
            return _kernel_coupling(*ops, parity, -1)
        kept, shifted = parts(y)
        return join(kept, shifted - h.apply(params, kept))

    def log_det(params, x):
        del params
        return jnp.zeros(x.shape[:1], x.dtype)

    if partition == "halves":
        which, other = ("x1", "x2") if parity == 0 else ("x2", "x1")
    else:
        which, other = ("x_even", "x_odd") if parity == 0 else ("x_odd", "x_even")
    h_text = " → ".join(_h_names(hidden)) if net is None else h.name
    return make_layer(
        name, init, apply, backward, inverse=inverse, log_det=log_det,
        formula=(
            f"y_keep = {which}, y_shift = {other} + h({which}), h = {h_text};  "
            f"inverse {other} = y_shift − h(y_keep);  log-det 0;  "
            f"∂L/∂{other} = ∂L/∂y_shift,  ∂L/∂{which} = ∂L/∂y_keep + h.backward(∂L/∂y_shift)"
        ),
    )


def _h_names(hidden) -> list[str]:
    if not hidden:
        return ["ReLU", "Conv1×1"]
    names = []
    for width in hidden:
        names += [f"Conv1×1({width})", "ReLU"]
    return names + ["Conv1×1"]


def squeeze2d(factor: int = 2) -> Layer:
    """Space-to-depth: ``(N, C, H, W)`` → ``(N, C·f², H/f, W/f)``, a permutation (log-det 0).

    ``y[n, (c·f + i)·f + j, h, w] = x[n, c, f·h + i, f·w + j]``: each f×f block becomes f² channels,
    so that a 1-channel image can be split into halves by a coupling layer. Backward and inverse
    apply the inverse permutation. H and W must be divisible by f.
    """
    name = "squeeze2d"
    f = check_int(name, "factor", factor, minimum=2)

    def init(key, input_shape):
        del key
        check_rank(name, input_shape, 4, "(N, C, H, W)")
        n, c, hh, ww = (int(d) for d in input_shape)
        if hh % f or ww % f:
            raise InputError(f"{name}: height and width must be divisible by factor {f}; got {hh}×{ww}")
        return (input_shape[0], c * f * f, hh // f, ww // f), {}

    def apply(params, x):
        del params
        n, c, hh, ww = x.shape
        x = x.reshape(n, c, hh // f, f, ww // f, f).transpose(0, 1, 3, 5, 2, 4)
        return x.reshape(n, c * f * f, hh // f, ww // f)

    def unsqueeze(y):
        n, c, hh, ww = y.shape
        y = y.reshape(n, c // (f * f), f, f, hh, ww).transpose(0, 1, 4, 2, 5, 3)
        return y.reshape(n, c // (f * f), hh * f, ww * f)

    def backward(params, x, dy):
        del params, x
        return {}, unsqueeze(dy)

    def inverse(params, y):
        del params
        return unsqueeze(y)

    def log_det(params, x):
        del params
        return jnp.zeros(x.shape[:1], x.dtype)

    def inverse_shape(shape):
        n, c, hh, ww = shape
        if c % (f * f):
            raise InputError(f"{name}: inverse needs a channel count divisible by {f * f}; got C={c}")
        return (n, c // (f * f), hh * f, ww * f)

    return make_layer(
        name, init, apply, backward, inverse=inverse, log_det=log_det, inverse_shape=inverse_shape,
        formula=(
            f"y[n,(c·f+i)·f+j,h,w] = x[n,c,f·h+i,f·w+j] (f = {f});  "
            "∂L/∂x = the inverse permutation of ∂L/∂y;  log-det 0"
        ),
    )


def scaling() -> Layer:
    """NICE's diagonal scaling layer ``y = x ⊙ exp(s)``, one ``s`` per dimension of an example.

    The only layer of a NICE flow with a non-zero log-determinant::

      log|det ∂y/∂x| = Σ_d s_d,   inverse x = y ⊙ exp(−s)
      ∂L/∂x = ∂L/∂y ⊙ exp(s),     ∂L/∂s = Σ_n ∂L/∂y_n ⊙ x_n ⊙ exp(s)

    Shapes: ``x (N, ...)`` → ``y`` of the same shape; params ``s`` of shape ``x.shape[1:]``,
    initialised to 0 (the identity).
    """
    name = "scaling"

    def init(key, input_shape):
        del key
        if len(input_shape) < 2:
            raise InputError(
                f"{name}: expected an input of shape (N, ...) with at least one feature axis; "
                f"got shape {tuple(input_shape)}"
            )
        return tuple(input_shape), {"s": jnp.zeros(tuple(input_shape[1:]), jnp.float32)}

    def apply(params, x):
        return x * jnp.exp(params["s"])[None]

    def backward(params, x, dy):
        scale = jnp.exp(params["s"])[None]
        return {"s": (dy * x * scale).sum(axis=0)}, dy * scale

    def inverse(params, y):
        return y * jnp.exp(-params["s"])[None]

    def log_det(params, x):
        return jnp.full(x.shape[:1], params["s"].sum(), jnp.result_type(x, params["s"]))

    return make_layer(
        name, init, apply, backward, inverse=inverse, log_det=log_det,
        formula=(
            "y = x ⊙ exp(s);  inverse x = y ⊙ exp(−s);  log-det Σ s;  "
            "∂L/∂x = ∂L/∂y ⊙ exp(s),  ∂L/∂s = Σ_n ∂L/∂y_n ⊙ x_n ⊙ exp(s)"
        ),
    )
