"""Recurrent layers over sequences ``(N, T, D)``, with backpropagation through time by hand.

Both return every hidden state, ``(N, T, H)``, start from ``h(0) = 0`` and use the row
convention of :func:`jaxdl.layers.dense` (``x W``); the exam writes the same recurrence for
column vectors, ``h(t) = σ(W_hh h(t−1) + W_xh x(t) + b_h)``, whose matrices are the transposes.

The forward pass is a ``lax.scan`` over time. The backward pass takes the forward's states (the
RNN's ``backward`` reruns the forward for them; the LSTM, trained through ``with_manual_grad``,
reuses the gates and states its forward kept), then walks time backwards in a second ``lax.scan``
that carries ``∂L/∂h(t)`` (and ``∂L/∂c(t)`` for the LSTM) and emits the gradient of each step's
pre-activation; the weight gradients are then single contractions over the batch and time axes,
outside the loop.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl.core import Layer, check_int, check_rank, make_layer
from jaxdl.errors import InputError
from jaxdl.layers import cpu_lstm

ACTIVATIONS = {
    # name: (g, g' written through the output y = g(a))
    "tanh": (jnp.tanh, lambda y: 1 - y * y),
    "sigmoid": (jax.nn.sigmoid, lambda y: y * (1 - y)),
}


def _uniform(key, shape, hidden, dtype=jnp.float32):
    bound = 1.0 / jnp.sqrt(hidden)
    return jax.random.uniform(key, shape, dtype, -bound, bound)


def _time_major(x):
    return jnp.swapaxes(x, 0, 1)


def rnn_states(params, x, h0, activation: str = "tanh"):
    """Hidden states ``h(1..T)`` of a vanilla RNN, ``(N, T, H)``, from ``h(0) = h0 (N, H)``.

    ``h(t) = g(x(t) W_xh + h(t−1) W_hh + b)``; params ``W_xh (D, H)``, ``W_hh (H, H)``, ``b (H,)``.
    """
    g = ACTIVATIONS[activation][0]
    xw = x @ params["W_xh"] + params["b"][None, None, :]  # the input terms of every step at once

    def step(h, xw_t):
        h = g(xw_t + h @ params["W_hh"])
        return h, h

    _, hs = jax.lax.scan(step, h0, _time_major(xw))
    return _time_major(hs)


def rnn(hidden_size: int, activation: str = "tanh") -> Layer:
    """Vanilla RNN ``h(t) = g(x(t) W_xh + h(t−1) W_hh + b)``, ``h(0) = 0`` (E5 uses g = σ).

    Args:
      hidden_size: H.
      activation: ``"tanh"`` or ``"sigmoid"``.

    Shapes: ``x (N, T, D)`` → ``h (N, T, H)``; params ``W_xh (D, H)``, ``W_hh (H, H)``, ``b (H,)``.

    Backward through time, with ``a(t)`` the pre-activation and ``∂L/∂h(T+1) ≔ 0``::

      δh(t) = ∂L/∂y(t) + ∂L/∂a(t+1) W_hhᵀ       (what flows into h(t): output and recurrence)
      ∂L/∂a(t) = δh(t) ⊙ g'(a(t))                (g' = 1 − h² for tanh, h(1 − h) for σ)
      ∂L/∂W_xh = Σ_t x(t)ᵀ ∂L/∂a(t),  ∂L/∂W_hh = Σ_t h(t−1)ᵀ ∂L/∂a(t),  ∂L/∂b = Σ_{n,t} ∂L/∂a(t)
      ∂L/∂x(t) = ∂L/∂a(t) W_xhᵀ
    """
    name = "rnn"
    h_size = check_int(name, "hidden_size", hidden_size)
    if activation not in ACTIVATIONS:
        raise InputError(f"{name}: activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}")
    dg = ACTIVATIONS[activation][1]

    def init(key, input_shape):
        check_rank(name, input_shape, 3, "(N, T, D)")
        d = int(input_shape[2])
        k1, k2 = jax.random.split(key)
        params = {
            "W_xh": _uniform(k1, (d, h_size), h_size),
            "W_hh": _uniform(k2, (h_size, h_size), h_size),
            "b": jnp.zeros((h_size,), jnp.float32),
        }
        return (input_shape[0], input_shape[1], h_size), params

    def apply(params, x):
        return rnn_states(params, x, jnp.zeros((x.shape[0], h_size), x.dtype), activation)

    def backward(params, x, dy):
        hs = apply(params, x)
        h_prev = jnp.concatenate([jnp.zeros_like(hs[:, :1]), hs[:, :-1]], axis=1)

        def step(da_next, inputs):
            dy_t, h_t = inputs
            da = (dy_t + da_next @ params["W_hh"].T) * dg(h_t)
            return da, da

        zero = jnp.zeros((x.shape[0], h_size), x.dtype)
        _, da = jax.lax.scan(step, zero, (_time_major(dy), _time_major(hs)), reverse=True)
        da = _time_major(da)
        grads = {
            "W_xh": jnp.einsum("ntd,nth->dh", x, da),
            "W_hh": jnp.einsum("ntk,nth->kh", h_prev, da),
            "b": da.sum(axis=(0, 1)),
        }
        return grads, da @ params["W_xh"].T

    return make_layer(
        name, init, apply, backward,
        formula=(
            f"h(t) = {activation}(x(t) W_xh + h(t−1) W_hh + b);  ∂L/∂a(t) = (∂L/∂h(t) + ∂L/∂a(t+1) W_hhᵀ) ⊙ g'(a(t)),  "
            "∂L/∂W_xh = Σ_t x(t)ᵀ ∂L/∂a(t),  ∂L/∂W_hh = Σ_t h(t−1)ᵀ ∂L/∂a(t),  ∂L/∂x(t) = ∂L/∂a(t) W_xhᵀ"
        ),
    )


def _xla_lstm_loop(xw, w_h):
    """The LSTM's time loop as a ``lax.scan``: the gates ``(i, f, g, o)`` and states ``c``, ``h``,
    ``(T, N, H)`` each, from the time-major input projections ``xw (T, N, 4H)``."""
    h_size = w_h.shape[0]

    def step(carry, xw_t):
        h, c = carry
        a = xw_t + h @ w_h
        i, f, o = (jax.nn.sigmoid(a[:, k * h_size:(k + 1) * h_size]) for k in (0, 1, 3))
        g = jnp.tanh(a[:, 2 * h_size:3 * h_size])
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return (h, c), (i, f, g, o, c, h)

    zero = jnp.zeros(xw.shape[1:2] + (h_size,), xw.dtype)
    return jax.lax.scan(step, (zero, zero), xw)[1]


def _xla_lstm_bptt(dy, i, f, g, o, c, w_h):
    """The backward time loop as a ``lax.scan``: ``∂L/∂a (T, N, 4H)`` from ``dy = ∂L/∂h (T, N, H)``."""
    c_prev = jnp.concatenate([jnp.zeros_like(c[:1]), c[:-1]], axis=0)
    w_h_t = w_h.T

    def step(carry, inputs):
        da_next, dc = carry
        dy_t, i, f, g, o, c, c_prev = inputs
        dh = dy_t + da_next @ w_h_t
        tc = jnp.tanh(c)
        dc = dc + dh * o * (1 - tc * tc)
        da = jnp.concatenate(
            [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), dh * tc * o * (1 - o)],
            axis=-1,
        )
        return (da, dc * f), da

    zero_a = jnp.zeros(dy.shape[1:2] + (w_h.shape[1],), dy.dtype)
    zero_c = jnp.zeros(dy.shape[1:], dy.dtype)
    return jax.lax.scan(step, (zero_a, zero_c), (dy, i, f, g, o, c, c_prev), reverse=True)[1]


# jaxdl's CPU kernels for the two loops (``cpu_lstm``, float32) have no derivative rules of their
# own: differentiating through them differentiates the ``lax.scan`` above, so every transformation
# (and the check of the hand-derived backward against autodiff) sees ordinary JAX.
@jax.custom_jvp
def _kernel_lstm_loop(xw, w_h):
    return cpu_lstm.forward(xw, w_h)


@_kernel_lstm_loop.defjvp
def _kernel_lstm_loop_jvp(primals, tangents):
    return _kernel_lstm_loop(*primals), jax.jvp(_xla_lstm_loop, primals, tangents)[1]


@jax.custom_jvp
def _kernel_lstm_bptt(dy, i, f, g, o, c, w_h):
    return cpu_lstm.backward(dy, i, f, g, o, c, w_h)


@_kernel_lstm_bptt.defjvp
def _kernel_lstm_bptt_jvp(primals, tangents):
    return _kernel_lstm_bptt(*primals), jax.jvp(_xla_lstm_bptt, primals, tangents)[1]


def _lstm_scan(params, x, h_size):
    """Forward LSTM over time; returns the gates ``(i, f, g, o)`` and states ``c``, ``h``, ``(T, N, H)`` each."""
    xw = _time_major(x) @ params["W_x"] + params["b"][None, None, :]  # (T, N, 4H), from the (small) input
    dtype = jnp.result_type(xw, params["W_h"])
    xw, w_h = xw.astype(dtype), params["W_h"].astype(dtype)
    return (_kernel_lstm_loop if cpu_lstm.applies(dtype, h_size) else _xla_lstm_loop)(xw, w_h)


def lstm(hidden_size: int, forget_bias: float = 1.0) -> Layer:
    """LSTM with one bias per gate (as flax's ``LSTMCell``), ``h(0) = c(0) = 0``.

    Gates, with ``a(t) = x(t) W_x + h(t−1) W_h + b`` split in four blocks of H::

      i = σ(a_i),  f = σ(a_f),  g = tanh(a_g),  o = σ(a_o)
      c(t) = f ⊙ c(t−1) + i ⊙ g,   h(t) = o ⊙ tanh(c(t))

    Args:
      hidden_size: H.
      forget_bias: initial value of the forget gate's bias (1 keeps memory early in training).

    Shapes: ``x (N, T, D)`` → ``h (N, T, H)``; params ``W_x (D, 4H)``, ``W_h (H, 4H)``,
    ``b (4H,)``: ``4H(D + H) + 4H`` scalars (PyTorch adds a second bias: ``+4H``).

    Backward through time, carrying ``δh = ∂L/∂y(t) + ∂L/∂a(t+1) W_hᵀ`` and ``δc`` from ``t+1``::

      ∂L/∂o = δh ⊙ tanh(c(t)),   δc ← δc + δh ⊙ o ⊙ (1 − tanh²(c(t)))
      ∂L/∂i = δc ⊙ g,  ∂L/∂g = δc ⊙ i,  ∂L/∂f = δc ⊙ c(t−1),  δc(t−1) = δc ⊙ f
      ∂L/∂a = [∂L/∂i ⊙ i(1−i), ∂L/∂f ⊙ f(1−f), ∂L/∂g ⊙ (1−g²), ∂L/∂o ⊙ o(1−o)]
      ∂L/∂W_x = Σ_t x(t)ᵀ ∂L/∂a(t),  ∂L/∂W_h = Σ_t h(t−1)ᵀ ∂L/∂a(t),  ∂L/∂b = Σ_{n,t} ∂L/∂a(t),
      ∂L/∂x(t) = ∂L/∂a(t) W_xᵀ
    """
    name = "lstm"
    h_size = check_int(name, "hidden_size", hidden_size)

    def init(key, input_shape):
        check_rank(name, input_shape, 3, "(N, T, D)")
        d = int(input_shape[2])
        k1, k2 = jax.random.split(key)
        b = jnp.zeros((4 * h_size,), jnp.float32).at[h_size:2 * h_size].set(forget_bias)
        params = {
            "W_x": _uniform(k1, (d, 4 * h_size), h_size),
            "W_h": _uniform(k2, (h_size, 4 * h_size), h_size),
            "b": b,
        }
        return (input_shape[0], input_shape[1], h_size), params

    def apply(params, x):
        return _time_major(_lstm_scan(params, x, h_size)[5])

    def forward_with_residuals(params, x):
        # Trained through with_manual_grad, the backward reuses the forward's gates and states.
        # (Keeping them also lets XLA compile each gate as its own fusion: on the CPU that loop
        # runs about 1.7× faster than the h-only one, which fuses all gates into one.)
        res = _lstm_scan(params, x, h_size)
        return _time_major(res[5]), res

    def backward(params, x, dy):
        return backward_from_residuals(params, x, _lstm_scan(params, x, h_size), dy)

    def backward_from_residuals(params, x, residuals, dy):
        i, f, g, o, c, h = residuals
        dtype = jnp.result_type(dy, i, f, g, o, c, params["W_h"])
        loop = _kernel_lstm_bptt if cpu_lstm.applies(dtype, h_size) else _xla_lstm_bptt
        da = loop(*(a.astype(dtype) for a in (_time_major(dy), i, f, g, o, c, params["W_h"])))  # (T, N, 4H)
        h_prev = jnp.concatenate([jnp.zeros_like(h[:1]), h[:-1]], axis=0)
        grads = {
            "W_x": jnp.einsum("tnd,tnh->dh", _time_major(x), da),
            "W_h": jnp.einsum("tnk,tnh->kh", h_prev, da),
            "b": da.sum(axis=(0, 1)),
        }
        return grads, _time_major(da @ params["W_x"].T)

    return make_layer(
        name, init, apply, backward,
        forward_with_residuals=forward_with_residuals, backward_from_residuals=backward_from_residuals,
        formula=(
            "c(t) = f⊙c(t−1) + i⊙g,  h(t) = o⊙tanh(c(t)),  [i f g o] = [σ σ tanh σ](x(t) W_x + h(t−1) W_h + b);  "
            "BPTT: δc = δc(t+1)⊙f(t+1) + δh⊙o⊙(1−tanh²c),  ∂L/∂a = [δc⊙g⊙i(1−i), δc⊙c(t−1)⊙f(1−f), δc⊙i⊙(1−g²), δh⊙tanh c⊙o(1−o)]"
        ),
    )
