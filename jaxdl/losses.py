"""Losses and the L2 regularizer, each with its hand-derived gradient.

A :class:`Loss` maps ``(logits, labels)`` to a scalar (the mean over the minibatch) and its
``backward(logits, labels)`` returns ``∂L/∂logits``, written from the formula. Both losses are
computed from logits in a form that stays finite for logits of any magnitude (tested at 1e4
in float32): log-sum-exp with the maximum subtracted, and ``softplus`` as ``logaddexp(s, 0)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.core import check_floating, shape_str
from jaxdl.errors import InputError
from jaxdl.labspec import LabClass, Part


@dataclasses.dataclass(frozen=True)
class Loss:
    """A loss: ``apply(logits, labels) -> scalar`` and ``backward(logits, labels) -> ∂L/∂logits``."""

    name: str
    apply: Callable[[jax.Array, jax.Array], jax.Array]
    backward: Callable[[jax.Array, jax.Array], jax.Array]
    formula: str = ""

    def with_manual_grad(self) -> Loss:
        """The same loss, whose ``apply`` differentiates through ``backward`` (labels: no gradient)."""
        loss = self

        @jax.custom_vjp
        def apply(logits, labels):
            return loss.apply(logits, labels)

        def fwd(logits, labels):
            return loss.apply(logits, labels), (logits, labels)

        def bwd(res, g):
            logits, labels = res
            dlogits = (g * loss.backward(logits, labels)).astype(jnp.result_type(logits))
            return dlogits, None

        apply.defvjp(fwd, bwd)
        return dataclasses.replace(self, apply=apply)


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _softmax_targets(name: str, logits, labels):
    """Validates ``(logits, labels)`` and returns the target distribution ``(N, K)``."""
    check_floating(name, "logits", logits)
    if jnp.ndim(logits) != 2:
        raise InputError(
            f"{name}: expected logits of shape (N, K); got shape {shape_str(jnp.shape(logits))}"
        )
    n, k = jnp.shape(logits)
    if n == 0:
        raise InputError(f"{name}: expected at least one example; got an empty batch (N = 0), whose mean loss is undefined")
    if not hasattr(labels, "dtype"):
        labels = np.asarray(labels)
    if jnp.issubdtype(labels.dtype, jnp.integer):
        if labels.shape != (n,):
            raise InputError(
                f"{name}: expected integer labels of shape ({n},); got shape {shape_str(labels.shape)}"
            )
        if _is_concrete(labels) and labels.size:
            # Checked on the host where the values are known (not under a trace): an
            # out-of-range label would otherwise one-hot to zeros and silently give a wrong loss.
            host = np.asarray(labels)
            lo, hi = int(host.min()), int(host.max())
            if lo < 0 or hi >= k:
                raise InputError(f"{name}: integer labels must lie in [0, {k - 1}]; got values in [{lo}, {hi}]")
        return jax.nn.one_hot(labels, k, dtype=jnp.result_type(logits))
    if labels.shape != (n, k):
        raise InputError(
            f"{name}: expected integer labels of shape ({n},) or one-hot labels of shape "
            f"({n}, {k}); got shape {shape_str(labels.shape)}"
        )
    if _is_concrete(labels):
        # Each row must be a distribution (one-hot, or soft labels): a row that does not sum to
        # 1 or has a negative entry would silently scale or flip the loss.
        host = np.asarray(labels, np.float64)
        sums = host.sum(axis=1)
        bad = np.flatnonzero((np.abs(sums - 1) > 1e-5) | (host < 0).any(axis=1))
        if bad.size:
            i = int(bad[0])
            raise InputError(f"{name}: label rows must be distributions (entries >= 0 summing to 1); "
                             f"row {i} sums to {sums[i]:.6g}" + (" with a negative entry" if (host[i] < 0).any() else ""))
    return labels.astype(jnp.result_type(logits))


def _log_softmax(s):
    shifted = s - jax.lax.stop_gradient(s.max(axis=-1, keepdims=True))
    return shifted - jnp.log(jnp.exp(shifted).sum(axis=-1, keepdims=True))


def _softmax_ce_apply(logits, labels):
    y = _softmax_targets("softmax_cross_entropy", logits, labels)
    return -(y * _log_softmax(logits)).sum() / logits.shape[0]


def _softmax_ce_backward(logits, labels):
    y = _softmax_targets("softmax_cross_entropy", logits, labels)
    p = jnp.exp(_log_softmax(logits))
    return (p * y.sum(axis=-1, keepdims=True) - y) / logits.shape[0]


softmax_cross_entropy = Loss(
    name="softmax_cross_entropy",
    apply=_softmax_ce_apply,
    backward=_softmax_ce_backward,
    formula=(
        "L = -1/N Σ_n Σ_k y_nk log softmax(s_n)_k,  softmax(s)_k = exp(s_k - max s) / Σ_j exp(s_j - max s)\n"
        "∂L/∂s_n = (softmax(s_n) - y_n) / N   (one-hot or integer labels y)"
    ),
)
"""Softmax cross-entropy with logits, mean over the batch.

Args (of ``apply`` and ``backward``):
  logits: ``(N, K)`` float.
  labels: ``(N,)`` integers in ``[0, K)`` or ``(N, K)`` one-hot (or any distribution).
Returns: a scalar (``apply``), ``(N, K)`` (``backward``).
"""


def _bce_check(logits, labels):
    name = "binary_cross_entropy"
    check_floating(name, "logits", logits)
    labels = jnp.asarray(labels)
    if labels.shape != jnp.shape(logits):
        raise InputError(
            f"{name}: expected labels of the logits' shape {shape_str(jnp.shape(logits))}; "
            f"got {shape_str(labels.shape)}"
        )
    if jnp.size(logits) == 0:
        raise InputError(f"{name}: expected at least one logit; got an empty array")
    if _is_concrete(labels):
        host = np.asarray(labels, np.float64)
        outside = np.flatnonzero(~((host >= 0) & (host <= 1)))
        if outside.size:
            i = np.unravel_index(int(outside[0]), host.shape)
            raise InputError(f"{name}: labels must lie in [0, 1]; got {host[i]:.6g} at index {tuple(int(j) for j in i)}")
    return labels.astype(jnp.result_type(logits))


def _bce_apply(logits, labels):
    y = _bce_check(logits, labels)
    s = logits
    # -y ln σ(s) - (1-y) ln(1-σ(s)) = softplus(s) - y s. jax.nn.softplus is logaddexp(s, 0): stable
    # for any s, and differentiated as σ(s) everywhere (max(s, 0) + ln(1 + e^-|s|), equal in value,
    # has autodiff gradient 0 instead of 1/2 at s = 0: max and |·| are not differentiable there).
    return jnp.mean(jax.nn.softplus(s) - y * s)


def _bce_backward(logits, labels):
    y = _bce_check(logits, labels)
    return (jax.nn.sigmoid(logits) - y) / jnp.size(logits)


binary_cross_entropy = Loss(
    name="binary_cross_entropy",
    apply=_bce_apply,
    backward=_bce_backward,
    formula=(
        "L = mean[-y ln σ(s) - (1-y) ln(1-σ(s))] = mean[softplus(s) - y s]\n"
        "∂L/∂s = (σ(s) - y) / n   (n: the number of logits)"
    ),
)
"""Binary cross-entropy with logits, mean over all elements.

Args (of ``apply`` and ``backward``): ``logits`` and ``labels`` of one shape, labels in [0, 1].
Returns: a scalar (``apply``), an array of the logits' shape (``backward``).
"""


@dataclasses.dataclass(frozen=True)
class Regularizer:
    """A penalty on parameters: ``apply(params) -> scalar``, ``backward(params) -> grads``."""

    name: str
    apply: Callable
    backward: Callable
    formula: str = ""

    def with_manual_grad(self) -> Regularizer:
        """The same penalty, whose ``apply(params)`` differentiates through ``backward``."""
        reg = self

        @jax.custom_vjp
        def apply(params):
            return reg.apply(params)

        def fwd(params):
            return reg.apply(params), params

        def bwd(params, g):
            return (jax.tree_util.tree_map(lambda d, p: (g * d).astype(jnp.result_type(p)), reg.backward(params), params),)

        apply.defvjp(fwd, bwd)
        return dataclasses.replace(self, apply=apply)


def l2_regularizer(weight_decay: float, names: Sequence[str] = ("W",)) -> Regularizer:
    """``λ/2 · Σ ||W||²`` over the leaves whose key is in ``names`` (weights, not biases).

    Gradient: ``λ W`` for those leaves, 0 for the others, in the structure of ``params``.

    Example:
      >>> reg = l2_regularizer(0.1)
      >>> float(reg.apply({"W": jnp.ones((2, 2)), "b": jnp.ones(2)}))
      0.2
    """
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or weight_decay < 0:
        raise InputError(f"l2_regularizer: weight_decay must be a number >= 0; got {weight_decay!r}")
    names = tuple(names)
    lam = float(weight_decay)

    def selected(path) -> bool:
        last = path[-1] if path else None
        return isinstance(last, jax.tree_util.DictKey) and last.key in names

    def apply(params):
        leaves = jax.tree_util.tree_leaves_with_path(params)
        return 0.5 * lam * sum((jnp.sum(w * w) for p, w in leaves if selected(p)), 0.0)

    def backward(params):
        return jax.tree_util.tree_map_with_path(
            lambda p, w: lam * w if selected(p) else jnp.zeros_like(w), params
        )

    return Regularizer(
        "l2_regularizer", apply, backward,
        formula=f"L = λ/2 Σ ||W||²  (λ = {lam:g}, leaves {list(names)});  ∂L/∂W = λ W",
    )


# The numpy lab's loss and regularizer, as `jaxdl check-numpy` builds and compares them.
LAB = {
    "softmax_cross_entropy": LabClass(
        names=("SoftmaxCrossEntropyWithLogits", "SoftmaxCrossEntropy", "CrossEntropy", "CrossEntropyLoss",
               "SoftmaxCrossEntropyLoss", "SoftmaxLoss", "SoftmaxWithLogits"), kind="loss",
        reference=lambda: softmax_cross_entropy),
    "l2_regularizer": LabClass(
        names=("L2Regularizer", "L2Regularization", "L2Loss", "L2Regulariser", "WeightDecay", "L2Penalty"),
        kind="regularizer",
        args={"weight_decay": 0.1},
        aliases={"weight_decay": ("lam", "lambda_", "lmbda", "lambd", "decay", "l2", "reg", "strength", "wd",
                                  "alpha", "coef", "factor")},
        reference=lambda weight_decay: l2_regularizer(weight_decay)),
    # The skeleton's composite, as the lab's training script builds it:
    # RegularizedLoss(SoftmaxCrossEntropyWithLogits(), [L2Regularizer(W, weight_decay, name), ...]).
    "regularized_loss": LabClass(
        names=("RegularizedLoss", "RegularisedLoss"), kind="composite",
        args={"data_loss": Part("softmax_cross_entropy", "loss"),
              "regularizer_losses": (Part("l2_regularizer", "regularizer"), Part("l2_regularizer", "regularizer"))},
        aliases={"data_loss": ("loss", "base_loss", "dataloss", "criterion", "data"),
                 "regularizer_losses": ("regularizers", "reg_losses", "regularizer_loss", "regularisers",
                                        "regularization_losses", "regularizer", "regs")}),
}
