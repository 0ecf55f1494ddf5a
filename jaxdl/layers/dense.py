"""The fully connected layer (the lab's ``FC``) and the residual block built from it."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl.core import Layer, check_int, check_min_rank, check_number, check_rank, make_layer
from jaxdl.errors import InputError
from jaxdl.layers.activations import relu


def he_normal(key, shape, fan_in: int, dtype=jnp.float32):
    """``N(0, 2/fan_in)``: the lab's variance-scaling initializer, suited to ReLU nets."""
    return jax.random.normal(key, shape, dtype) * jnp.sqrt(2.0 / fan_in).astype(dtype)


def _affine(params, x):
    y = x @ params["W"]
    return y + params["b"].reshape((1,) * (y.ndim - 1) + (-1,)) if "b" in params else y


def _affine_backward(params, x, dy):
    # Leading dimensions (N, ...) are rows of one big minibatch: flatten them for the sums.
    d, m = params["W"].shape
    rows_x, rows_dy = x.reshape(-1, d), dy.reshape(-1, m)
    grads = {"W": rows_x.T @ rows_dy}
    if "b" in params:
        grads["b"] = rows_dy.sum(axis=0)
    return grads, dy @ params["W"].T


def dense(num_outputs: int, use_bias: bool = True) -> Layer:
    """Fully connected layer ``Y = X W + b`` on minibatches of vectors.

    Args:
      num_outputs: M, the number of output features.
      use_bias: ``False`` drops ``b`` (the exam's GAN, whose biases are fixed at 0).

    Shapes: ``x (N, D)`` → ``y (N, M)``, or over any leading dimensions ``(N, ..., D)`` →
    ``(N, ..., M)`` (e.g. every time step of a sequence); params ``W (D, M)``, ``b (M,)``.

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
    if not isinstance(use_bias, bool):
        raise InputError(f"dense: use_bias must be True or False; got {use_bias!r}")

    def init(key, input_shape):
        check_min_rank("dense", input_shape, 2, "(N, ..., D)")
        d = int(input_shape[-1])
        if d < 1:
            raise InputError(f"dense: expected at least one input feature; got D={d}")
        params = {"W": he_normal(key, (d, m), d)}
        if use_bias:
            params["b"] = jnp.zeros((m,), jnp.float32)
        return tuple(input_shape[:-1]) + (m,), params

    return make_layer(
        "dense", init, _affine, _affine_backward,
        formula=(
            "Y = X W + b;  ∂L/∂X = ∂L/∂Y Wᵀ,  ∂L/∂W = Xᵀ ∂L/∂Y,  ∂L/∂b = Σ_n ∂L/∂Y_n" if use_bias
            else "Y = X W;  ∂L/∂X = ∂L/∂Y Wᵀ,  ∂L/∂W = Xᵀ ∂L/∂Y"
        ),
    )


def quadratic(b: float, num_outputs: int | None = None) -> Layer:
    """The quiz's quadratic layer ``F(X) = (X ⊙ X) Aᵀ + b X + c`` (Q1a), rows are examples.

    Args:
      b: the scalar hyperparameter multiplying ``X`` (not trained).
      num_outputs: M; ``None`` means ``M = D``. The ``b X`` term needs ``M = D``; with
        ``b = 0`` the term vanishes and any M is accepted (the documented generalisation).

    Shapes: ``x (N, D)`` → ``y (N, M)``; params ``A (M, D)``, ``c (M,)``.

    Backward (per example ``y = A (x ⊙ x) + b x + c``, so ``∂y/∂x = 2 A diag(x) + b I``)::

      ∂L/∂X = 2 X ⊙ (∂L/∂Y A) + b ∂L/∂Y      (N, D)
      ∂L/∂A = (∂L/∂Y)ᵀ (X ⊙ X)                (M, D)
      ∂L/∂c = Σ_n ∂L/∂Y_n                     (M,)

    The quiz's official solution writes ``∂y/∂x = 2 A diag(x) + b`` (the scalar ``b`` where
    ``b I`` belongs), computes ``2 * A * np.diag(x)`` (an elementwise product, not ``A diag(x)``)
    and returns ``grad_c = grads`` without the sum over the batch.
    """
    name = "quadratic"
    b = check_number(name, "b", b)
    m_fixed = None if num_outputs is None else check_int(name, "num_outputs", num_outputs)

    def init(key, input_shape):
        check_rank(name, input_shape, 2, "(N, D)")
        d = int(input_shape[1])
        if d < 1:
            raise InputError(f"{name}: expected at least one input feature; got D={d}")
        m = d if m_fixed is None else m_fixed
        if m != d and b != 0:
            raise InputError(
                f"{name}: the b·X term needs num_outputs == D; got num_outputs={m} for D={d} "
                f"with b={b:g} (use b=0 for M != D)"
            )
        return (input_shape[0], m), {"A": he_normal(key, (m, d), d), "c": jnp.zeros((m,), jnp.float32)}

    def apply(params, x):
        y = (x * x) @ params["A"].T + params["c"][None, :]
        return y + b * x if b != 0 else y

    def backward(params, x, dy):
        dx = 2 * x * (dy @ params["A"])
        if b != 0:
            dx = dx + b * dy
        return {"A": dy.T @ (x * x), "c": dy.sum(axis=0)}, dx

    return make_layer(
        name, init, apply, backward,
        formula=(
            f"Y = (X ⊙ X) Aᵀ + b X + c (b = {b:g});  ∂L/∂X = 2 X ⊙ (∂L/∂Y A) + b ∂L/∂Y,  "
            "∂L/∂A = (∂L/∂Y)ᵀ (X ⊙ X),  ∂L/∂c = Σ_n ∂L/∂Y_n"
        ),
    )


def res_block() -> Layer:
    """The exam's residual block ``out = x + ReLU(x W + b)`` (E2), ``W (D, D)``.

    Shapes: ``x (N, D)`` → ``out (N, D)``; params ``W (D, D)``, ``b (D,)``.

    Backward, from the dense and ReLU backward passes with ``H = X W + b``::

      ∂L/∂H = ∂L/∂out ⊙ [H > 0]                (relu.backward)
      ∂L/∂W = Xᵀ ∂L/∂H,  ∂L/∂b = Σ_n ∂L/∂H_n    (dense.backward)
      ∂L/∂X = ∂L/∂out + ∂L/∂H Wᵀ                (the skip path adds the upstream gradient)

    The exam's first official numpy solution masks ``grads`` in place (``dL_dh = grads;
    dL_dh[h <= 0] = 0``), so the skip path then adds the *masked* gradient; its forward
    pass returns nothing. The second solution (built from the lab's FC and ReLU) is right: its
    ``[dL_dW, dL_db, _]`` unpacks the FC's ``[W, dW]`` and ``[b, db]`` pairs, misleadingly named,
    so it does return ``[[W, dW], [b, db], name]``; but it builds ``FC(num_inputs, ...)`` where
    the lab's constructor takes the previous layer.
    """
    name = "res_block"
    act = relu()

    def init(key, input_shape):
        check_rank(name, input_shape, 2, "(N, D)")
        d = int(input_shape[1])
        _, params = dense(d).init(key, input_shape)
        return tuple(input_shape), params

    def apply(params, x):
        return x + act.apply({}, _affine(params, x))

    def backward(params, x, dy):
        _, dh = act.backward({}, _affine(params, x), dy)
        dparams, dx = _affine_backward(params, x, dh)
        return dparams, dy + dx
    return make_layer(
        name, init, apply, backward,
        formula=(
            "out = X + ReLU(X W + b);  ∂L/∂H = ∂L/∂out ⊙ [H > 0],  ∂L/∂W = Xᵀ ∂L/∂H,  "
            "∂L/∂b = Σ_n ∂L/∂H_n,  ∂L/∂X = ∂L/∂out + ∂L/∂H Wᵀ"
        ),
    )
