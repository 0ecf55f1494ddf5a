"""A minimal, fully jitted classifier training loop on the layers' manual backward passes."""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.core import Layer, check_int, with_manual_grad
from jaxdl.losses import Loss, Regularizer
from jaxdl.train.data import Dataset


@dataclasses.dataclass
class TrainResult:
    """Trained params, per-epoch mean training loss, final test accuracy and wall time."""

    params: dict
    losses: list[float]
    test_accuracy: float
    wall_seconds: float
    manual: bool


def accuracy(net: Layer, params, x, y) -> float:
    """The fraction of examples whose arg-max logit equals the label."""
    logits = jax.jit(net.apply)(params, jnp.asarray(x))
    return float(jnp.mean(jnp.argmax(logits, axis=-1) == jnp.asarray(y)))


def train_classifier(
    net: Layer,
    loss: Loss,
    data: Dataset,
    *,
    epochs: int,
    batch_size: int,
    optimizer: optax.GradientTransformation,
    seed: int = 0,
    regularizer: Regularizer | None = None,
    manual: bool = True,
    progress: bool = True,
) -> TrainResult:
    """Trains ``net`` with ``loss`` (+ ``regularizer``) by minibatch optimisation.

    With ``manual=True`` (the default) the gradient is computed by ``jax.grad`` through
    :func:`jaxdl.with_manual_grad`, i.e. by the layers' and the loss's hand-derived backward
    passes; ``manual=False`` uses plain autodiff. One epoch (a shuffle and a ``lax.scan`` over
    its minibatches; the last partial batch is dropped) is one jitted call.

    Args:
      net: the network, mapping ``x_train (N, ...)`` to logits.
      loss: e.g. :data:`jaxdl.losses.softmax_cross_entropy`.
      data: the train/test split; params are cast to the dtype of ``data.x_train``.
      epochs, batch_size: the schedule; ``batch_size`` at most the training set's size.
      optimizer: an optax optimizer.
      seed: seeds the initialisation and the shuffling.
      regularizer: added to the loss; its hand-derived gradient is added to the gradient.
      manual: train on the hand-derived backward passes (True) or on autodiff (False).
      progress: show a progress bar (on a terminal).
    """
    epochs = check_int("train_classifier", "epochs", epochs)
    batch_size = check_int("train_classifier", "batch_size", batch_size)
    n = len(data.x_train)
    if batch_size > n:
        raise ValueError(f"train_classifier: batch_size must be <= the {n} training examples; got {batch_size}")
    model, objective = (with_manual_grad(net), with_manual_grad(loss)) if manual else (net, loss)

    def total_loss(params, x, y):
        value = objective.apply(model.apply(params, x), y)
        return value + (regularizer.apply(params) if regularizer else 0.0)

    def batch_grad(params, x, y):
        if not regularizer:
            return jax.value_and_grad(total_loss)(params, x, y)
        data_loss = lambda p: objective.apply(model.apply(p, x), y)  # noqa: E731
        value, grads = jax.value_and_grad(data_loss)(params)
        grads = jax.tree_util.tree_map(jnp.add, grads, regularizer.backward(params))
        return value + regularizer.apply(params), grads

    steps = n // batch_size

    @jax.jit
    def epoch(params, opt_state, key, x_all, y_all):
        order = jax.random.permutation(key, n)[: steps * batch_size].reshape(steps, batch_size)

        def step(carry, idx):
            params, opt_state = carry
            value, grads = batch_grad(params, x_all[idx], y_all[idx])
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), value

        (params, opt_state), values = jax.lax.scan(step, (params, opt_state), order)
        return params, opt_state, values.mean()

    key = jax.random.PRNGKey(seed)
    key, init_key = jax.random.split(key)
    x_all, y_all = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    _, params = net.init(init_key, (-1,) + tuple(data.x_train.shape[1:]))
    # Params take the data's precision, so float64 data trains in float64 throughout.
    params = jax.tree_util.tree_map(lambda p: p.astype(x_all.dtype), params)
    opt_state = optimizer.init(params)

    from tqdm.auto import tqdm

    losses = []
    start = time.perf_counter()
    bar = tqdm(range(epochs), desc="train", unit="epoch", disable=None if progress else True, leave=False)  # None: off when not a terminal
    for _ in bar:
        key, sub = jax.random.split(key)
        params, opt_state, value = epoch(params, opt_state, sub, x_all, y_all)
        losses.append(float(value))
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
    wall = time.perf_counter() - start
    test_acc = accuracy(net, params, data.x_test, data.y_test)
    return TrainResult(params, losses, test_acc, wall, manual)


def digits_cnn(num_filters: int = 16) -> Layer:
    """The foundation's small CNN for 8×8 digits: conv → relu → max pool → flatten → dense(10)."""
    from jaxdl.core import serial
    from jaxdl.layers import conv2d, dense, flatten, max_pool2d, relu

    return serial(conv2d(num_filters, 3), relu(), max_pool2d(2, 2), flatten(), dense(10), name="digits_cnn")


def train_digits(epochs: int = 20, batch_size: int = 32, learning_rate: float = 3e-3, seed: int = 0,
                 num_filters: int = 16, manual: bool = True, progress: bool = True) -> TrainResult:
    """Trains :func:`digits_cnn` on the digits split with Adam and softmax cross-entropy."""
    from jaxdl.losses import softmax_cross_entropy
    from jaxdl.train.data import load_digits

    if not learning_rate > 0:
        raise ValueError(f"train_digits: learning_rate must be > 0; got {learning_rate!r}")
    return train_classifier(
        digits_cnn(num_filters), softmax_cross_entropy, load_digits(),
        epochs=epochs, batch_size=batch_size, optimizer=optax.adam(learning_rate), seed=seed,
        manual=manual, progress=progress,
    )
