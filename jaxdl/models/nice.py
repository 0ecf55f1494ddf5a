"""The NICE flow (Dinh, Krueger & Bengio 2014), built only from jaxdl's invertible layers.

``z = f(x)`` with ``f = scaling ∘ coupling_L ∘ … ∘ coupling_1 ∘ squeeze^k``: squeezes turn an image
into enough channels to split, the couplings alternate which half they keep, and the final
diagonal scaling carries the whole log-determinant. With a factorised prior ``p_Z``::

    log p_X(x) = Σ_d log p_Z(f(x)_d) + log|det ∂f/∂x| = Σ_d log p_Z(z_d) + Σ_d s_d

Sampling runs the inverse on prior draws: ``x = f⁻¹(z)``, ``z ~ p_Z``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from jaxdl.core import Layer, check_int, reversible, serial
from jaxdl.errors import InputError
from jaxdl.layers.activations import relu
from jaxdl.layers.dense import dense
from jaxdl.layers.flow import additive_coupling, scaling, squeeze2d

_LOG_2PI = math.log(2 * math.pi)


def _logistic_log_pdf(z):
    # log σ(z) + log σ(−z) = −softplus(−z) − softplus(z), finite for any z.
    return -jax.nn.softplus(z) - jax.nn.softplus(-z)


def _gaussian_log_pdf(z):
    return -0.5 * (z * z + _LOG_2PI)


_PRIORS = {
    "logistic": (_logistic_log_pdf, jax.random.logistic),
    "gaussian": (_gaussian_log_pdf, jax.random.normal),
}


@dataclasses.dataclass(frozen=True)
class Flow:
    """A normalizing flow: an invertible :class:`Layer` and a factorised prior.

    Attributes:
      bijection: the invertible layer ``f`` acting on ``(N,) + image_shape``.
      prior: ``"logistic"`` or ``"gaussian"``, standard, one per dimension.
      event_shape: the shape of one example as the user gives it, e.g. ``(1, 8, 8)`` or ``(2,)``.
      image_shape: the bijection's input shape without N: ``event_shape`` as NCHW for the
        convolutional flow (vectors ``(D,)`` become ``(D, 1, 1)``), ``(D,)`` for the MLP flow.
      latent_shape: the bijection's output shape without N (after the squeezes).

    ``forward`` returns ``z`` reshaped to ``event_shape`` (the prior factorises, so only the
    count of dimensions matters to it); ``inverse`` takes ``z`` in that shape.
    """

    bijection: Layer
    prior: str
    event_shape: tuple[int, ...]
    image_shape: tuple[int, ...]
    latent_shape: tuple[int, ...]

    def init(self, key) -> dict:
        """Returns the flow's params."""
        return self.bijection.init(key, (-1,) + self.image_shape)[1]

    def _check(self, x, what="x"):
        if tuple(jnp.shape(x)[1:]) != self.event_shape or jnp.ndim(x) != len(self.event_shape) + 1:
            raise InputError(
                f"nice: expected {what} of shape (N,) + {self.event_shape}; got shape {tuple(jnp.shape(x))}"
            )

    def forward(self, params, x):
        """``z = f(x)``: ``x (N,) + event_shape`` → ``z`` of the same shape."""
        self._check(x)
        n = x.shape[0]
        z = self.bijection.apply(params, x.reshape((n,) + self.image_shape))
        return z.reshape(x.shape)

    def inverse(self, params, z):
        """``x = f⁻¹(z)``: ``z (N,) + event_shape`` → ``x`` of the same shape."""
        self._check(z, "z")
        n = z.shape[0]
        x = self.bijection.inverse(params, z.reshape((n,) + self.latent_shape))
        return x.reshape(z.shape)

    def log_det(self, params, x):
        """``log|det ∂f/∂x|`` per example, ``(N,)``."""
        self._check(x)
        return self.bijection.log_det(params, x.reshape((x.shape[0],) + self.image_shape))

    def log_prob(self, params, x):
        """``log p(x)`` in nats per example, ``(N,)``, by the change of variables."""
        z = self.forward(params, x)
        log_pdf = _PRIORS[self.prior][0]
        return log_pdf(z).reshape(z.shape[0], -1).sum(axis=1) + self.log_det(params, x)

    def sample(self, params, key, n: int):
        """``n`` samples ``x = f⁻¹(z)``, ``z`` from the prior: ``(n,) + event_shape``."""
        n = check_int("nice", "n", n)
        draw = _PRIORS[self.prior][1]
        z = draw(key, (n,) + self.event_shape)
        return self.inverse(params, z)


def nice(event_shape: Sequence[int], num_couplings: int = 4, hidden: Sequence[int] = (64, 64),
         prior: str = "logistic", squeezes: int | None = None, reversible_stack: bool = False) -> Flow:
    """Builds a NICE flow for examples of ``event_shape`` (``(C, H, W)`` images or ``(D,)`` vectors).

    Args:
      event_shape: one example's shape.
      num_couplings: the number of additive couplings (NICE used 4); parities alternate.
      hidden: the widths of each coupling's ``h`` (``()`` is the quiz's ``Conv1×1 ∘ ReLU``).
      prior: ``"logistic"`` (NICE's choice) or ``"gaussian"``.
      squeezes: the number of 2×2 squeezes; ``None`` squeezes while H and W are even, down to
        ``(C·H·W, 1, 1)`` for power-of-two images, so that the 1×1 convolutions of the couplings
        are fully connected across all dimensions, as in NICE.
      reversible_stack: compose the layers with :func:`jaxdl.reversible` (the backward pass
        rebuilds each layer's input with its inverse: training memory flat in depth) instead
        of :func:`jaxdl.serial`; the same params and the same function.

    Example:
      >>> flow = nice((1, 8, 8), hidden=(32,))
      >>> params = flow.init(jax.random.PRNGKey(0))
      >>> flow.log_prob(params, jnp.zeros((5, 1, 8, 8))).shape
      (5,)
    """
    event_shape = tuple(int(d) for d in event_shape)
    if prior not in _PRIORS:
        raise InputError(f"nice: prior must be 'logistic' or 'gaussian'; got {prior!r}")
    num_couplings = check_int("nice", "num_couplings", num_couplings)
    if len(event_shape) == 1:
        image_shape = (event_shape[0], 1, 1)
    elif len(event_shape) == 3:
        image_shape = event_shape
    else:
        raise InputError(f"nice: event_shape must be (C, H, W) or (D,); got {event_shape}")
    if min(image_shape) < 1:
        raise InputError(f"nice: event_shape must have positive sizes; got {event_shape}")

    c, h, w = image_shape
    if squeezes is None:
        squeezes = 0
        while h % 2 == 0 and w % 2 == 0:
            h, w, c, squeezes = h // 2, w // 2, c * 4, squeezes + 1
    else:
        squeezes = check_int("nice", "squeezes", squeezes, minimum=0)
        for _ in range(squeezes):
            if h % 2 or w % 2:
                raise InputError(f"nice: cannot squeeze {squeezes} times; the image {image_shape} runs out of even sizes")
            h, w, c = h // 2, w // 2, c * 4
    if c % 2:
        raise InputError(
            f"nice: the couplings need an even channel count after squeezing; got C={c} for event_shape {event_shape}"
        )
    layers = [squeeze2d(2) for _ in range(squeezes)]
    layers += [additive_coupling(c, hidden, parity=i % 2) for i in range(num_couplings)]
    layers.append(scaling())
    compose = reversible if reversible_stack else serial
    return Flow(compose(*layers, name="nice"), prior, event_shape, image_shape, (c, h, w))


def nice_mlp(dim: int, num_couplings: int = 4, hidden: Sequence[int] = (1000,) * 5, prior: str = "logistic",
             partition: str = "odd_even", reversible_stack: bool = False) -> Flow:
    """NICE's MNIST model (Dinh, Krueger & Bengio 2014, §5.1) for ``(D,)`` vectors.

    ``num_couplings`` additive couplings whose parts alternate (the even and the odd indices with
    ``partition="odd_even"``), each coupling function an MLP ``D/2 → hidden… → D/2`` of ``dense``
    layers with ReLU between them (NICE: 5 hidden layers of 1000 units), then a diagonal scaling;
    a logistic prior. ``reversible_stack`` as in :func:`nice`.

    Example:
      >>> flow = nice_mlp(6, hidden=(8, 8))
      >>> params = flow.init(jax.random.PRNGKey(0))
      >>> flow.log_prob(params, jnp.zeros((5, 6))).shape
      (5,)
    """
    dim = check_int("nice_mlp", "dim", dim, minimum=2)
    if dim % 2:
        raise InputError(f"nice_mlp: the dimension must be even (two equal parts); got D={dim}")
    if prior not in _PRIORS:
        raise InputError(f"nice_mlp: prior must be 'logistic' or 'gaussian'; got {prior!r}")
    num_couplings = check_int("nice_mlp", "num_couplings", num_couplings)
    widths = tuple(check_int("nice_mlp", "hidden width", w) for w in hidden)

    def mlp():
        stages = []
        for width in widths:
            stages += [dense(width), relu()]
        return serial(*stages, dense(dim // 2), name="h")

    layers = [additive_coupling(dim, parity=i % 2, net=mlp(), partition=partition) for i in range(num_couplings)]
    layers.append(scaling())
    compose = reversible if reversible_stack else serial
    return Flow(compose(*layers, name="nice_mlp"), prior, (dim,), (dim,), (dim,))
