"""jaxdl's own CPU kernels for the LSTM's time loop (forward and BPTT), called through XLA's FFI.

XLA's CPU while loop costs more per time step than the step's arithmetic at the course's sizes
(``make bench``, the ``lstm_loop`` suite: its floor, a loop of one product and one ``tanh``).
``cpu_lstm.cc`` runs the whole loop in one call: the recurrence only (the input projection
``x W_x + b`` before it, and the weight gradients after it, stay single large XLA products).

Compiled on first use (:mod:`.cpu_kernels`); where that cannot happen (no compiler, another
platform, ``JAXDL_CPU_LSTM=0``) the loop runs as XLA's ``lax.scan``, with the same results up
to float32 rounding; :func:`status` says which. Float64 (the cross-checks) always runs as XLA's.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp

from jaxdl.layers import cpu_kernels

SOURCE = pathlib.Path(__file__).with_name("cpu_lstm.cc")
SWITCH = "JAXDL_CPU_LSTM"  # "0": always XLA's loop
_TARGETS = {"forward": ("jaxdl_lstm_forward", "JaxdlLstmForward"), "backward": ("jaxdl_lstm_backward", "JaxdlLstmBackward")}
UNITS = 16  # hidden units per vector: H must be a multiple


_LIBRARY = cpu_kernels.Library(SOURCE.name, _TARGETS, SWITCH, "XLA's lax.scan")
status = _LIBRARY.status  # one line: whether float32 LSTM loops run on jaxdl's kernels, and if not, why


def applies(dtype, hidden: int) -> bool:
    """Whether an LSTM loop of this kind runs on the kernels (checked at trace time)."""
    return jnp.dtype(dtype) == jnp.float32 and hidden % UNITS == 0 and _LIBRARY.available()


def forward(xw, w_h):
    """``(i, f, g, o, c, h)``, ``(T, N, H)`` each, from ``xw = x W_x + b`` ``(T, N, 4H)`` and ``W_h (H, 4H)``."""
    t, n, _ = xw.shape
    out = [jax.ShapeDtypeStruct((t, n, w_h.shape[0]), jnp.float32)] * 6
    return tuple(jax.ffi.ffi_call(_LIBRARY.target("forward"), out, vmap_method="sequential")(xw, w_h))


def backward(dy, i, f, g, o, c, w_h):
    """``∂L/∂a (T, N, 4H)`` of every step's gate pre-activations, from ``dy = ∂L/∂h (T, N, H)``."""
    t, n, h = dy.shape
    out = jax.ShapeDtypeStruct((t, n, 4 * h), jnp.float32)
    return jax.ffi.ffi_call(_LIBRARY.target("backward"), out, vmap_method="sequential")(dy, i, f, g, o, c, w_h)
