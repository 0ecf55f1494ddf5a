"""jaxdl's own CPU kernels for the additive coupling with the quiz's ``h = Conv1×1 ∘ ReLU`` on
halves of the channels (forward, inverse and the hand-derived backward), called through XLA's FFI.

XLA runs the 1×1 convolution as a matrix product on pixel-major copies of the halves and
transposes the result back: at ``(128, 64, 16, 16)`` the copies take longer than the product
(``make bench``, the ``coupling`` suite). ``cpu_coupling.cc`` reads each image once and writes it
once, in channel-major order.

Compiled on first use (:mod:`.cpu_kernels`); where that cannot happen (no compiler, another
platform, ``JAXDL_CPU_COUPLING=0``) the coupling runs as XLA's, with the same results up to
float32 rounding; :func:`status` says which. Float64 (the cross-checks) always runs as XLA's.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.layers import cpu_kernels

SOURCE = pathlib.Path(__file__).with_name("cpu_coupling.cc")
SWITCH = "JAXDL_CPU_COUPLING"  # "0": always XLA's
_TARGETS = {"apply": ("jaxdl_coupling_apply", "JaxdlCouplingApply"),
            "backward": ("jaxdl_coupling_backward", "JaxdlCouplingBackward")}
CHANNELS = 16  # C must be a multiple: blocks of 8 output channels in each half


_LIBRARY = cpu_kernels.Library(SOURCE.name, _TARGETS, SWITCH, "XLA's")
status = _LIBRARY.status  # one line: whether float32 quiz couplings run on jaxdl's kernels, and if not, why


def applies(dtype, shape) -> bool:
    """Whether a coupling on ``x`` of this dtype and shape runs on the kernels (checked at trace time)."""
    return jnp.dtype(dtype) == jnp.float32 and len(shape) == 4 and shape[1] % CHANNELS == 0 and _LIBRARY.available()


def apply(x, w, b, kept: int, sign: int):
    """``y`` with ``y_kept = x_kept``, ``y_shift = x_shift + sign·(w·relu(x_kept) + b)``; ``w (C/2, C/2)``."""
    out = jax.ShapeDtypeStruct(x.shape, jnp.float32)
    return jax.ffi.ffi_call(_LIBRARY.target("apply"), out, vmap_method="sequential")(
        x, w, b, kept=np.int64(kept), sign=np.int64(sign))


def backward(x, dy, w, kept: int):
    """``(dx, dw, db)`` of :func:`apply` (``sign=1``) at ``x`` for ``dy``."""
    half = w.shape[0]
    out = (jax.ShapeDtypeStruct(x.shape, jnp.float32), jax.ShapeDtypeStruct((half, half), jnp.float32),
           jax.ShapeDtypeStruct((half,), jnp.float32))
    return tuple(jax.ffi.ffi_call(_LIBRARY.target("backward"), out, vmap_method="sequential")(x, dy, w, kept=np.int64(kept)))
