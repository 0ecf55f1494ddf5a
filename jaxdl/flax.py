"""jaxdl and flax, both ways.

- :func:`to_linen` and :func:`to_nnx` turn a jaxdl layer into a ``flax.linen`` or ``flax.nnx``
  module: its params are registered as flax params (one pytree, named after the layer), and
  gradients through the module run the layer's **hand-derived** backward pass (the layer is
  applied through :func:`jaxdl.with_manual_grad`). The layer keeps its own layout: images are
  NCHW (flax's own convolutions are NHWC), vectors ``(N, D)``.
- :func:`from_linen` and :func:`from_nnx` turn a flax module into a jaxdl :class:`~jaxdl.Layer`
  that composes with :func:`jaxdl.serial` and trains with ``jaxdl train``. Its backward is
  ``jax.vjp`` of the module — autodiff, not a hand-derived formula — and the layer is marked
  (``autodiff_backward``), so ``jaxdl gradcheck`` reports it as such instead of counting it as a
  proven formula. Only the module's ``params`` are the layer's params: a module with other
  state (batch statistics) is refused.

Example:
  >>> import flax.linen as nn
  >>> from jaxdl import layers
  >>> class Net(nn.Module):
  ...     @nn.compact
  ...     def __call__(self, x):                   # x: (N, 1, 8, 8), NCHW
  ...         x = to_linen(layers.conv2d(4, 3))(x)  # jaxdl's convolution, its manual backward
  ...         return nn.Dense(10)(x.reshape(x.shape[0], -1))
  >>> variables = Net().init(jax.random.PRNGKey(0), jnp.zeros((2, 1, 8, 8)))
  >>> jax.tree_util.tree_map(jnp.shape, variables["params"]["JaxdlLinen_0"])
  {'conv2d': {'W': (4, 1, 3, 3), 'b': (4,)}}
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import nnx

from jaxdl.core import Layer, make_layer, with_manual_grad
from jaxdl.errors import InputError


@functools.lru_cache(maxsize=256)
def _manual(layer: Layer) -> Layer:
    return with_manual_grad(layer)


class JaxdlLinen(nn.Module):
    """A jaxdl layer as a ``flax.linen`` module (build it with :func:`to_linen`)."""

    layer: Layer

    @nn.compact
    def __call__(self, x):
        params = self.param(self.layer.name, lambda key: self.layer.init(key, tuple(x.shape))[1])
        return _manual(self.layer).apply(params, x)


def to_linen(layer: Layer, *, name: str | None = None) -> nn.Module:
    """``layer`` as a linen module; its params are initialised from the first input's shape."""
    if not isinstance(layer, Layer):
        raise InputError(f"to_linen: expected a jaxdl Layer; got {type(layer).__name__}")
    return JaxdlLinen(layer=layer, name=name)


def _get(variable):
    value = variable.get_value() if hasattr(variable, "get_value") else variable.value
    return _plain(value)


def _plain(tree):
    """A params pytree as plain dicts (inside nnx transforms a Variable's dict can come back as
    an nnx ``State``)."""
    if isinstance(tree, Mapping):
        return {k: _plain(v) for k, v in tree.items()}
    return tree


class JaxdlNnx(nnx.Module):
    """A jaxdl layer as a ``flax.nnx`` module (build it with :func:`to_nnx`)."""

    def __init__(self, layer: Layer, input_shape, *, rngs: nnx.Rngs):
        self.layer = layer
        self.params = nnx.Param(layer.init(rngs.params(), tuple(input_shape))[1])

    def __call__(self, x):
        return _manual(self.layer).apply(_get(self.params), x)


def to_nnx(layer: Layer, input_shape, *, rngs: nnx.Rngs) -> nnx.Module:
    """``layer`` as an nnx module, its params initialised now for ``input_shape`` (a batch
    dimension of -1 is allowed) from ``rngs.params()``."""
    if not isinstance(layer, Layer):
        raise InputError(f"to_nnx: expected a jaxdl Layer; got {type(layer).__name__}")
    return JaxdlNnx(layer, input_shape, rngs=rngs)


def _autodiff_layer(name: str, init, apply) -> Layer:
    def backward(params, x, dy):
        _, vjp = jax.vjp(apply, params, x)
        return vjp(dy)

    layer = make_layer(name, init, apply, backward,
                       formula="a flax module: y = module(x); backward = jax.vjp (autodiff, not hand-derived)")
    return dataclasses.replace(layer, autodiff_backward=True)


def _concrete(input_shape):
    return tuple(1 if int(d) == -1 else int(d) for d in input_shape)


def from_linen(module: nn.Module, *, name: str | None = None) -> Layer:
    """A linen module as a jaxdl layer: ``init`` runs ``module.init`` (params only), ``apply``
    runs ``module.apply``, ``backward`` is ``jax.vjp`` (marked ``autodiff_backward``)."""
    if not isinstance(module, nn.Module):
        raise InputError(f"from_linen: expected a flax.linen Module; got {type(module).__name__}")
    label = name or f"linen_{type(module).__name__.lower()}"

    def init(key, input_shape):
        shape = _concrete(input_shape)
        variables = module.init(key, jnp.zeros(shape, jnp.float32))
        other = sorted(k for k in variables if k != "params")
        if other:
            raise InputError(f"from_linen: {type(module).__name__} has state besides params ({', '.join(other)}); "
                             "only stateless modules can be jaxdl layers")
        params = jax.tree_util.tree_map(lambda a: a, dict(variables.get("params", {})))
        out = jax.eval_shape(lambda p: module.apply({"params": p}, jnp.zeros(shape, jnp.float32)), params)
        return (int(input_shape[0]),) + tuple(out.shape[1:]), params

    def apply(params, x):
        return module.apply({"params": params}, x)

    return _autodiff_layer(label, init, apply)


def from_nnx(module: nnx.Module, *, name: str | None = None) -> Layer:
    """An nnx module as a jaxdl layer. The module is already initialised: ``init`` returns its
    current params as a plain dict (the key is not used); ``apply`` runs the module with the
    given params; ``backward`` is ``jax.vjp`` (marked ``autodiff_backward``)."""
    if not isinstance(module, nnx.Module):
        raise InputError(f"from_nnx: expected a flax.nnx Module; got {type(module).__name__}")
    graphdef, param_state, rest = nnx.split(module, nnx.Param, ...)
    if jax.tree_util.tree_leaves(rest):
        raise InputError(f"from_nnx: {type(module).__name__} has state besides params; only stateless modules "
                         "can be jaxdl layers")
    pure = nnx.to_pure_dict(param_state)
    label = name or f"nnx_{type(module).__name__.lower()}"

    def run(params, x):
        state = jax.tree_util.tree_map(lambda a: a, param_state)  # a fresh copy, filled with params
        nnx.replace_by_pure_dict(state, params)
        return nnx.merge(graphdef, state, rest)(x)

    def init(key, input_shape):
        del key
        params = jax.tree_util.tree_map(jnp.asarray, pure)
        out = jax.eval_shape(run, params, jnp.zeros(_concrete(input_shape), jnp.float32))
        return (int(input_shape[0]),) + tuple(out.shape[1:]), params

    return _autodiff_layer(label, init, run)


__all__ = ["JaxdlLinen", "JaxdlNnx", "from_linen", "from_nnx", "to_linen", "to_nnx"]
