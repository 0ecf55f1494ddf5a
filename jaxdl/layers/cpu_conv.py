"""jaxdl's own CPU kernels for the float32 stride-1 convolution, called through XLA's FFI.

XLA's CPU convolution reaches a third of this machine's matmul peak or less on the course's
networks (``make bench``, the ``cnn_layers`` suite). ``cpu_conv.cc`` holds two small kernels
(the forward correlation and the weight gradient; the input gradient is the forward applied to
``dy`` with the transposed, rotated kernel), register-blocked over 16 filters.

They are compiled on first use (:mod:`.cpu_kernels`). Where that cannot happen (no compiler,
another platform, ``JAXDL_CPU_CONV=0``) the
convolutions run as XLA's, with the same results up to float32 rounding; :func:`status` says
which. Float64 (the cross-checks) always runs as XLA's.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.layers import cpu_kernels

SOURCE = pathlib.Path(__file__).with_name("cpu_conv.cc")
SWITCH = "JAXDL_CPU_CONV"  # "0": always XLA's convolution
_TARGETS = {"forward": ("jaxdl_conv_forward", "JaxdlConvForward"), "weight": ("jaxdl_conv_weight", "JaxdlConvWeight")}
MIN_FILTERS = 8  # the kernels hold 16 filters per vector: fewer would waste most of it


_LIBRARY = cpu_kernels.Library(SOURCE.name, _TARGETS, SWITCH, "XLA's convolution")
status = _LIBRARY.status  # one line: whether float32 convolutions run on jaxdl's kernels, and if not, why
available = _LIBRARY.available


def applies(dtype, filters: int, stride, groups: int, pads) -> bool:
    """Whether a convolution of this kind runs on the kernels (checked at trace time)."""
    return (jnp.dtype(dtype) == jnp.float32 and tuple(stride) == (1, 1) and groups == 1 and filters >= MIN_FILTERS
            and min(min(p) for p in pads) >= 0 and available())


def _attrs(pads):
    (plo, phi), (qlo, qhi) = pads
    return {"plo": np.int64(plo), "phi": np.int64(phi), "qlo": np.int64(qlo), "qhi": np.int64(qhi)}


def forward(x, w, pads):
    """``(N, C, H, W) ⋆ (F, C, kh, kw)`` with zero padding ``pads = ((lo, hi), (lo, hi))``, stride 1."""
    (plo, phi), (qlo, qhi) = pads
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    out = jax.ShapeDtypeStruct((n, f, h + plo + phi - kh + 1, wd + qlo + qhi - kw + 1), jnp.float32)
    return jax.ffi.ffi_call(_LIBRARY.target("forward"), out, vmap_method="sequential")(x, w, **_attrs(pads))


def weight(x, dy, kernel, pads):
    """``∂L/∂w (F, C, kh, kw) = Σ_n x_pad[n] ⋆ dy[n]`` of :func:`forward`."""
    out = jax.ShapeDtypeStruct((dy.shape[1], x.shape[1]) + tuple(kernel), jnp.float32)
    return jax.ffi.ffi_call(_LIBRARY.target("weight"), out, vmap_method="sequential")(x, dy, **_attrs(pads))
