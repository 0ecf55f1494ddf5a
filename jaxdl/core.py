"""The layer protocol, stated once.

A layer is a :class:`Layer`, an immutable record of pure functions::

    init(key, input_shape) -> (output_shape, params)
    apply(params, x) -> y
    backward(params, x, dy) -> (dparams, dx)
    inverse(params, y) -> x          # invertible layers only
    log_det(params, x) -> (N,)       # invertible layers only: log|det ∂y/∂x| per example

``params`` is a dict pytree with named leaves (``{"W": ..., "b": ...}``), ``{}`` for a layer
without trainable parameters. ``input_shape`` may have ``-1`` as its batch dimension.
``backward`` is the hand-derived backward pass (the lab's ``backward_params`` and
``backward_inputs`` together): it is written from the formulas and never calls autodiff, so
that ``jax.vjp(apply)`` is an independent reference for it. ``dparams`` has exactly the
structure of ``params``.

:func:`make_layer` is the only place that validates: it wraps a layer's raw functions so that a
wrong rank, a non-floating dtype, params that do not fit the input or a ``dy`` of the wrong
shape raise a ``ValueError`` naming the layer, at trace time, before any compute. A layer's
``init`` states what input it accepts (by raising for anything else); the wrapper infers the
expected params and output shapes from it with ``jax.eval_shape``.

:func:`serial` composes layers, :func:`with_manual_grad` makes ``jax.grad`` of a layer (or a
loss) run on its hand-derived backward pass via ``jax.custom_vjp``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import InputError

Params = Any  # a dict pytree of arrays
Shape = tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Layer:
    """A layer: pure ``init``/``apply``/``backward`` (+ ``inverse``/``log_det``) functions.

    Attributes:
      name: the constructor's name, e.g. ``"dense"``.
      init: ``(key, input_shape) -> (output_shape, params)``.
      apply: ``(params, x) -> y``.
      backward: ``(params, x, dy) -> (dparams, dx)``, hand-derived.
      inverse: ``(params, y) -> x`` or ``None``.
      log_det: ``(params, x) -> (N,)`` or ``None``.
      formula: the forward and backward formulas in the course's notation.
      inverse_shape: maps an output shape back to the input shape, for invertible layers
        that change the shape (``None``: the same shape).
      backward_from_output: ``(params, y, dy) -> (dparams, dx)`` for layers whose backward
        needs only the output (a :func:`reversible` stack rebuilds its inputs with
        ``inverse``): :func:`with_manual_grad` then keeps ``y``, not ``x``, for the backward pass.
      forward_with_residuals, backward_from_residuals: ``(params, x) -> (y, residuals)`` and
        ``(params, x, residuals, dy) -> (dparams, dx)``, for layers whose backward reuses what
        the forward computed (the LSTM's gates and states): :func:`with_manual_grad` then keeps
        the residuals instead of recomputing them; ``backward`` is the two chained.
      autodiff_backward: the backward is ``jax.vjp`` of ``apply``, not a hand-derived formula
        (a flax module wrapped by :mod:`jaxdl.flax`): ``gradcheck`` says so instead of counting
        it as a proven formula.
    """

    name: str
    init: Callable[[jax.Array, Shape], tuple[Shape, Params]]
    apply: Callable[[Params, jax.Array], jax.Array]
    backward: Callable[[Params, jax.Array, jax.Array], tuple[Params, jax.Array]]
    inverse: Callable[[Params, jax.Array], jax.Array] | None = None
    log_det: Callable[[Params, jax.Array], jax.Array] | None = None
    formula: str = ""
    inverse_shape: Callable[[Shape], Shape] | None = None
    backward_from_output: Callable[[Params, jax.Array, jax.Array], tuple[Params, jax.Array]] | None = None
    autodiff_backward: bool = False
    forward_with_residuals: Callable[[Params, jax.Array], tuple[jax.Array, Any]] | None = None
    backward_from_residuals: Callable[[Params, jax.Array, Any, jax.Array], tuple[Params, jax.Array]] | None = None

    @property
    def invertible(self) -> bool:
        return self.inverse is not None


# --------------------------------------------------------------------------------------------
# Validation helpers, shared by every layer.


def shape_str(shape) -> str:
    return "(" + ", ".join(str(int(d)) for d in shape) + (",)" if len(shape) == 1 else ")")


def check_rank(layer: str, shape: Shape, rank: int, layout: str) -> None:
    """Raises unless ``shape`` has ``rank`` dimensions; ``layout`` names them, e.g. ``"(N, D)"``."""
    if len(shape) != rank:
        raise InputError(
            f"{layer}: expected an input of shape {layout} (rank {rank}); "
            f"got shape {shape_str(shape)} (rank {len(shape)})"
        )


def check_min_rank(layer: str, shape: Shape, rank: int, layout: str) -> None:
    if len(shape) < rank:
        raise InputError(
            f"{layer}: expected an input of shape {layout} (rank >= {rank}); "
            f"got shape {shape_str(shape)} (rank {len(shape)})"
        )


def check_floating(layer: str, what: str, x) -> None:
    dtype = jnp.result_type(x)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise InputError(f"{layer}: expected a floating-point {what}; got dtype {dtype}")


def _describe(tree) -> str:
    """``{W: (5, 3), b: (3,)}``: a params tree's structure with the shapes of its leaves."""
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in tree.items()) + "}"
    if isinstance(tree, (list, tuple)):
        return "[" + ", ".join(_describe(v) for v in tree) + "]"
    return shape_str(jnp.shape(tree)) if tree is not None else "None"


def _check_params(layer: str, params, expected, input_shape: Shape) -> None:
    got_def = jax.tree_util.tree_structure(params)
    exp_def = jax.tree_util.tree_structure(expected)
    same = got_def == exp_def and all(
        tuple(jnp.shape(g)) == tuple(e.shape)
        for g, e in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(expected))
    )
    if not same:
        raise InputError(
            f"{layer}: params do not match the layer for input shape {shape_str(input_shape)}: "
            f"expected {_describe(expected)}; got {_describe(params)}"
        )
    for leaf in jax.tree_util.tree_leaves(params):
        check_floating(layer, "parameter", leaf)


def _as_dtype(params, dtype):
    """A layer computes in its input's floating dtype: float params are cast to it (a no-op
    when they already have it)."""
    return jax.tree_util.tree_map(
        lambda p: p.astype(dtype) if jnp.issubdtype(jnp.result_type(p), jnp.floating) and jnp.result_type(p) != dtype
        else p, params)


def init_shapes(init: Callable, input_shape: Shape) -> tuple[Shape, Params]:
    """``(output_shape, params)`` of ``init`` without computing anything: params come back as
    ``jax.ShapeDtypeStruct`` leaves. Raises what ``init`` raises for an input it rejects."""
    box = []

    def params_only():
        out_shape, params = init(jax.random.PRNGKey(0), tuple(input_shape))
        box.append(tuple(int(d) for d in out_shape))
        return params

    params = jax.eval_shape(params_only)
    return box[0], params


def make_layer(
    name: str,
    init: Callable,
    apply: Callable,
    backward: Callable,
    *,
    inverse: Callable | None = None,
    log_det: Callable | None = None,
    inverse_shape: Callable[[Shape], Shape] | None = None,
    formula: str = "",
    forward_with_residuals: Callable | None = None,
    backward_from_residuals: Callable | None = None,
) -> Layer:
    """Builds a :class:`Layer` whose functions validate their arguments first.

    ``init`` must raise ``ValueError`` for an input shape the layer does not accept; the wrapped
    ``apply``/``backward``/``inverse``/``log_det`` infer the expected params and output shape
    from it (once per input shape) and reject anything else before computing.
    ``inverse_shape`` maps an output shape back to the input shape (default: the same shape).
    ``forward_with_residuals``/``backward_from_residuals``: see :class:`Layer` (both or neither).

    Long because it wraps each of the layer's functions (init, apply, backward, and the inverse,
    log-det and residual forms where they exist) in one closure over the same validation.
    """
    if (forward_with_residuals is None) != (backward_from_residuals is None):
        raise ValueError(f"{name}: give both forward_with_residuals and backward_from_residuals, or neither")

    @functools.lru_cache(maxsize=64)
    def infer(shape: Shape):
        return init_shapes(init, shape)

    def validate(params, x, what="input"):
        check_floating(name, what, x)
        out_shape, expected = infer(tuple(int(d) for d in jnp.shape(x)))
        _check_params(name, params, expected, jnp.shape(x))
        return out_shape

    @functools.wraps(init)
    def checked_init(key, input_shape, dtype=None):
        out_shape, params = init(key, input_shape)
        if dtype is not None:
            if not jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
                raise InputError(f"{name}: init's dtype must be a floating dtype; got {dtype!r}")
            params = _as_dtype(params, jnp.dtype(dtype))
        return out_shape, params

    @functools.wraps(apply)
    def checked_apply(params, x):
        validate(params, x)
        return apply(_as_dtype(params, jnp.result_type(x)), x)

    def check_dy(params, x, dy):
        out_shape = validate(params, x)
        check_floating(name, "upstream gradient dy", dy)
        if tuple(jnp.shape(dy)) != out_shape:
            raise InputError(
                f"{name}: expected dy of the output's shape {shape_str(out_shape)}; "
                f"got {shape_str(jnp.shape(dy))}"
            )

    @functools.wraps(backward)
    def checked_backward(params, x, dy):
        check_dy(params, x, dy)
        dparams, dx = backward(_as_dtype(params, jnp.result_type(x)), x, dy)
        return _cast_like(dparams, params), dx

    checked_forward_res = checked_backward_res = None
    if forward_with_residuals is not None:

        @functools.wraps(forward_with_residuals)
        def checked_forward_res(params, x):
            validate(params, x)
            return forward_with_residuals(_as_dtype(params, jnp.result_type(x)), x)

        @functools.wraps(backward_from_residuals)
        def checked_backward_res(params, x, residuals, dy):
            check_dy(params, x, dy)
            dparams, dx = backward_from_residuals(_as_dtype(params, jnp.result_type(x)), x, residuals, dy)
            return _cast_like(dparams, params), dx

    checked_inverse = checked_log_det = None
    if inverse is not None:
        to_input = inverse_shape or (lambda s: s)

        @functools.wraps(inverse)
        def checked_inverse(params, y):
            params = _as_dtype(params, jnp.result_type(y))
            check_floating(name, "input y", y)
            in_shape = tuple(to_input(tuple(jnp.shape(y))))
            out_shape, expected = infer(in_shape)
            if out_shape != tuple(jnp.shape(y)):
                raise InputError(
                    f"{name}: inverse got y of shape {shape_str(jnp.shape(y))}, which no "
                    f"input of this layer produces"
                )
            _check_params(name, params, expected, in_shape)
            return inverse(params, y)

    if log_det is not None:

        @functools.wraps(log_det)
        def checked_log_det(params, x):
            validate(params, x)
            return log_det(_as_dtype(params, jnp.result_type(x)), x)

    return Layer(
        name=name,
        init=checked_init,
        apply=checked_apply,
        backward=checked_backward,
        inverse=checked_inverse,
        log_det=checked_log_det,
        formula=formula.strip(),
        inverse_shape=inverse_shape,
        forward_with_residuals=checked_forward_res,
        backward_from_residuals=checked_backward_res,
    )


def elementwise(name: str, fn: Callable, dfn: Callable, formula: str = "") -> Layer:
    """A parameter-free layer applying ``fn`` elementwise; ``dfn`` is its derivative ``fn'``.

    Backward: ``∂L/∂x = ∂L/∂y ⊙ fn'(x)``. Any input shape ``(N, ...)``.
    """

    def init(key, input_shape):
        del key
        check_min_rank(name, input_shape, 1, "(N, ...)")
        return tuple(input_shape), {}

    def apply(params, x):
        del params
        return fn(x)

    def backward(params, x, dy):
        del params
        return {}, dy * dfn(x)

    return make_layer(name, init, apply, backward, formula=formula)


# --------------------------------------------------------------------------------------------
# Composition.


def _param_key(i: int, layer: Layer) -> str:
    return f"{layer.name}_{i}"


def serial(*layers: Layer, name: str = "serial") -> Layer:
    """Composes layers left to right: ``serial(f, g).apply(p, x) == g(f(x))``.

    Params are ``{"<name>_<i>": params_i}`` (e.g. ``{"dense_0": {...}, "relu_1": {}}``); the
    PRNG key is split once per layer and the shape is threaded through the ``init``s. The
    ``backward`` reruns the forward pass to get each layer's input, then chains the layers'
    hand-derived ``backward`` from the last to the first. If every layer is invertible, so is
    the composition: its ``inverse`` runs the inverses backwards and its ``log_det`` is the sum
    of the layers' log-determinants at their inputs.

    Example:
      >>> net = serial(dense(4), relu(), dense(1))
      >>> out_shape, params = net.init(jax.random.PRNGKey(0), (-1, 3))
      >>> out_shape, {k: {n: a.shape for n, a in p.items()} for k, p in params.items()}
      ((-1, 1), {'dense_0': {'W': (3, 4), 'b': (4,)}, 'dense_2': {'W': (4, 1), 'b': (1,)}, 'relu_1': {}})
    """
    if not layers:
        raise InputError("serial: expected at least one layer; got none")
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise InputError(f"serial: argument {i} is not a Layer; got {type(layer).__name__}")
    keys = [_param_key(i, layer) for i, layer in enumerate(layers)]

    def init(key, input_shape):
        params = {}
        shape = tuple(input_shape)
        for k, layer, sub in zip(keys, layers, jax.random.split(key, len(layers))):
            shape, params[k] = layer.init(sub, shape)
        return shape, params

    def inputs_of_each(params, x):
        xs = []
        for k, layer in zip(keys, layers):
            xs.append(x)
            x = layer.apply(params[k], x)
        return xs, x

    def apply(params, x):
        return inputs_of_each(params, x)[1]

    def backward(params, x, dy):
        xs, _ = inputs_of_each(params, x)
        dparams = {}
        for k, layer, xi in reversed(list(zip(keys, layers, xs))):
            dparams[k], dy = layer.backward(params[k], xi, dy)
        return dparams, dy

    inverse = log_det = inverse_shape = None
    if all(layer.invertible for layer in layers):

        def inverse(params, y):
            for k, layer in reversed(list(zip(keys, layers))):
                y = layer.inverse(params[k], y)
            return y

        def log_det(params, x):
            total = 0.0
            for k, layer in zip(keys, layers):
                total = total + layer.log_det(params[k], x)
                x = layer.apply(params[k], x)
            return total

        def inverse_shape(out_shape):
            for layer in reversed(layers):
                out_shape = layer.inverse_shape(out_shape) if layer.inverse_shape else out_shape
            return out_shape

    formula = " → ".join(layer.name for layer in layers)
    composed = make_layer(
        name,
        init,
        apply,
        backward,
        inverse=inverse,
        log_det=log_det,
        inverse_shape=inverse_shape,
        formula=f"y = ({formula})(x); backward chains each layer's backward in reverse",
    )
    # A flax module inside (autodiff backward) makes the whole chain not purely hand-derived.
    return dataclasses.replace(composed, autodiff_backward=any(layer.autodiff_backward for layer in layers))


def _after(y, dy):
    """``y``, made to depend on ``dy``: a layer's input is rebuilt only once the gradient reaching
    the layer is. Without it nothing orders the chain of inverses after the gradients, and XLA's
    scheduler may run every inverse first (it does around jaxdl's CPU kernels, foreign calls it
    cannot look into), keeping every rebuilt input alive at once — the memory a reversible stack
    exists to save. (``lax.optimization_barrier`` does not survive XLA's CPU pipeline to the
    schedule.) The tie adds to ``y[0]`` a −0.0 computed from ``dy[0]`` (one element, updated in
    place): ``v + (−0.0)`` is ``v`` bit for bit for every float, and the −0.0 stays −0.0 whatever
    ``dy[0]`` is (inf, NaN), so no result changes."""
    if not (hasattr(y, "shape") and hasattr(dy, "shape") and y.size and dy.size
            and jnp.issubdtype(y.dtype, jnp.inexact) and jnp.issubdtype(dy.dtype, jnp.inexact)):
        return y
    d = dy.reshape(-1)[0]
    minus_zero = jnp.where(jnp.isfinite(d), -(jnp.abs(d) * 0), -0.0).astype(y.dtype)  # −0.0 whatever d is
    return y.at[(0,) * y.ndim].add(minus_zero)  # v + (−0.0) == v for every v: ±0, inf and NaN too


def reversible(*layers: Layer, name: str = "reversible") -> Layer:
    """A composition of invertible layers whose backward pass rebuilds each layer's input from
    its output with ``inverse`` instead of storing it (the reversible-network trick; Gomez et
    al. 2017): training memory does not grow with depth.

    ``init``, ``apply``, ``inverse``, ``log_det`` and the params are those of
    ``serial(*layers)``. The backward walks the layers from the last::

      x_i = f_i⁻¹(y_i),   (∂L/∂θ_i, ∂L/∂x_i) = f_i.backward(θ_i, x_i, ∂L/∂y_i),   y_{i−1} = x_i

    so :func:`with_manual_grad` keeps only the stack's output ``y`` for it. The inputs are
    recomputed, not stored: in float32 they drift from the true ones by rounding, growing with
    depth (``jaxdl bench`` reports it); in float64 the gradients equal the storing version's to
    1e-10.

    Raises:
      ValueError: a layer that is not invertible.
    """
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer) or not layer.invertible:
            what = layer.name if isinstance(layer, Layer) else type(layer).__name__
            raise InputError(f"reversible: every layer must be invertible; argument {i} ({what}) has no inverse")
    base = serial(*layers, name=name)
    keys = [_param_key(i, layer) for i, layer in enumerate(layers)]

    def backward_from_output(params, y, dy):
        dparams = {}
        for k, layer in reversed(list(zip(keys, layers))):
            y = _after(y, dy)
            x = layer.inverse(params[k], y)
            dparams[k], dy = layer.backward(params[k], x, dy)
            y = x
        return dparams, dy

    def backward(params, x, dy):
        return backward_from_output(params, base.apply(params, x), dy)

    checked = make_layer(name, base.init, base.apply, backward, inverse=base.inverse, log_det=base.log_det,
                         inverse_shape=base.inverse_shape,
                         formula=f"y = ({' → '.join(layer.name for layer in layers)})(x); backward rebuilds each "
                                 "layer's input with its inverse (x_i = f_i⁻¹(y_i)) instead of storing it")
    return dataclasses.replace(checked, backward_from_output=backward_from_output,
                               autodiff_backward=base.autodiff_backward)


# --------------------------------------------------------------------------------------------
# Manual gradients through custom_vjp.


def _cast_like(tree, like):
    return jax.tree_util.tree_map(lambda g, p: jnp.asarray(g, jnp.result_type(p)), tree, like)


def with_manual_grad(fn):
    """Makes autodiff of a layer or a loss run on its hand-derived backward pass.

    For a :class:`Layer`, returns the same layer whose ``apply`` is a ``jax.custom_vjp``
    function: ``jax.grad`` through it calls ``layer.backward``. For a
    :class:`jaxdl.losses.Loss`, the returned loss's ``apply(logits, labels)`` differentiates
    through ``loss.backward``. A network trained this way learns on the course's formulas.

    Example:
      >>> net = with_manual_grad(serial(dense(8), relu(), dense(1)))
      >>> _, params = net.init(jax.random.PRNGKey(0), (-1, 3))
      >>> grads = jax.grad(lambda p: net.apply(p, jnp.ones((2, 3))).sum())(params)
    """
    if isinstance(fn, Layer):
        layer = fn

        @jax.custom_vjp
        def apply(params, x):
            return layer.apply(params, x)

        if layer.forward_with_residuals is not None:  # keep what the forward computed, not recompute it
            def fwd(params, x):
                y, residuals = layer.forward_with_residuals(params, x)
                return y, (params, x, residuals)

            def bwd(res, dy):
                params, x, residuals = res
                dparams, dx = layer.backward_from_residuals(params, x, residuals, dy)
                return _cast_like(dparams, params), _cast_like(dx, x)
        elif layer.backward_from_output is not None:  # keep only the output for the backward pass
            def fwd(params, x):
                y = layer.apply(params, x)
                return y, (params, y, jnp.zeros((), x.dtype))

            def bwd(res, dy):
                params, y, like = res
                dparams, dx = layer.backward_from_output(params, y, dy)
                return _cast_like(dparams, params), jnp.asarray(dx, like.dtype)
        else:
            def fwd(params, x):
                return layer.apply(params, x), (params, x)

            def bwd(res, dy):
                params, x = res
                dparams, dx = layer.backward(params, x, dy)
                return _cast_like(dparams, params), _cast_like(dx, x)

        apply.defvjp(fwd, bwd)
        return dataclasses.replace(layer, apply=apply)

    manual = getattr(fn, "with_manual_grad", None)
    if manual is None:
        raise InputError(
            f"with_manual_grad: expected a Layer or a Loss; got {type(fn).__name__}"
        )
    return manual()


def tree_size(tree) -> int:
    """The number of scalars in a pytree of arrays."""
    return int(sum(np.prod(jnp.shape(a), dtype=np.int64) for a in jax.tree_util.tree_leaves(tree)))


def check_int(layer: str, arg: str, value, minimum: int = 1) -> int:
    """Validates an integer hyperparameter: ``dense: num_outputs must be an integer >= 1; got 0``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{layer}: {arg} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_number(layer: str, arg: str, value) -> float:
    """Validates a finite real hyperparameter: ``swish: beta must be a finite number; got 'a'``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
        raise InputError(f"{layer}: {arg} must be a finite number; got {value!r}")
    return float(value)


def check_pair(layer: str, arg: str, value, minimum: int = 1) -> tuple[int, int]:
    """Validates an int or a pair of ints (height, width)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise InputError(f"{layer}: {arg} must be an int or a pair of ints; got {value!r}")
        return check_int(layer, arg, value[0], minimum), check_int(layer, arg, value[1], minimum)
    v = check_int(layer, arg, value, minimum)
    return v, v
