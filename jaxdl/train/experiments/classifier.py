"""The classifier experiments' shared task: a softmax classifier made of jaxdl layers, trained on
their hand-derived backward passes with an L2 penalty; accuracy and a confusion matrix."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl import layers as L
from jaxdl.core import serial, with_manual_grad
from jaxdl.errors import InputError
from jaxdl.losses import l2_regularizer, softmax_cross_entropy
from jaxdl.train.experiments import plotting
from jaxdl.train.experiments.registry import config_cached
from jaxdl.train.trainer import Task, sample_rows


def lab_cnn():
    """The lab's CNN: conv → relu → max pool → conv → relu → max pool → flatten → dense → relu → dense."""
    return serial(L.conv2d(16, 3), L.relu(), L.max_pool2d(2, 2), L.conv2d(32, 3), L.relu(), L.max_pool2d(2, 2),
                  L.flatten(), L.dense(64), L.relu(), L.dense(10), name="lab_cnn")


def small_cnn():
    """The small digits CNN: conv2d(16, 3) → relu → max pool → flatten → dense(10)."""
    return serial(L.conv2d(16, 3), L.relu(), L.max_pool2d(2, 2), L.flatten(), L.dense(10), name="small_cnn")


MODELS = {"lab_cnn": lab_cnn, "small_cnn": small_cnn}


def classifier_task(name: str, data, title: str, models=None) -> Task:
    """A softmax classifier with an L2 penalty and Adam; accuracy and a confusion matrix on the test
    split of ``data(cfg)`` (a dict of ``x_train (N, C, H, W)``, ``y_train``, ``x_test``,
    ``y_test``). Config fields: ``model`` (a key of ``models``), ``weight_decay``, ``manual_grad``
    (train on the layers' hand-derived backward passes, or on plain autodiff) and ``dtype``
    (``float32``, or ``float64`` for cross-checks)."""
    models = models or MODELS

    @config_cached
    def net_of(cfg):
        if cfg.model not in models:
            raise InputError(f"config: model must be one of {sorted(models)}; got {cfg.model!r}")
        net = models[cfg.model]()
        return with_manual_grad(net) if cfg.manual_grad else net

    def ce_of(cfg):
        return softmax_cross_entropy.with_manual_grad() if cfg.manual_grad else softmax_cross_entropy

    def dtype_of(cfg):
        if cfg.dtype not in ("float32", "float64"):
            raise InputError(f"config: dtype must be 'float32' or 'float64'; got {cfg.dtype!r}")
        return np.dtype(cfg.dtype)

    def typed_data(cfg):
        d = data(cfg)
        return {k: v.astype(dtype_of(cfg)) if k.startswith("x_") else v for k, v in d.items()}

    def init(cfg, data, key):
        params = net_of(cfg).init(key, (-1, *data["x_train"].shape[1:]))[1]
        return jax.tree_util.tree_map(lambda p: p.astype(dtype_of(cfg)), params)

    def batch(cfg, data, key):
        idx = sample_rows(key, data["x_train"].shape[0], cfg.batch_size)
        return {"x": data["x_train"][idx], "y": data["y_train"][idx]}

    def loss(cfg, params, batch, key):
        reg = l2_regularizer(cfg.weight_decay)
        reg = reg.with_manual_grad() if cfg.manual_grad else reg
        return ce_of(cfg).apply(net_of(cfg).apply(params, batch["x"]), batch["y"]) + reg.apply(params)

    @config_cached
    def apply_of(cfg):  # compiled once per run, not at every evaluation
        return jax.jit(net_of(cfg).apply)

    def test_logits(cfg, params, data):
        x = data["x_test"]
        return np.concatenate([np.asarray(apply_of(cfg)(params, jnp.asarray(x[i:i + 1000])))
                               for i in range(0, len(x), 1000)])

    def evaluate(cfg, params, data):
        pred, y = np.argmax(test_logits(cfg, params, data), axis=-1), data["y_test"]
        k = max(10, int(max(y.max(), pred.max())) + 1)
        confusion = np.zeros((k, k), int)
        np.add.at(confusion, (y, pred), 1)
        return {"test_accuracy": float(np.mean(pred == y)), "confusion_matrix": confusion.tolist()}

    def eval_metrics(cfg, params, data):
        logits, y = test_logits(cfg, params, data), data["y_test"]
        ce = float(softmax_cross_entropy.apply(jnp.asarray(logits), jnp.asarray(y)))
        return {"test_loss": ce, "test_accuracy": float(np.mean(np.argmax(logits, axis=-1) == y))}

    def plots(cfg, params, data, history, workdir):
        plt = plotting.plt()
        confusion = np.asarray(evaluate(cfg, params, data)["confusion_matrix"])
        fig, ax = plt.subplots(figsize=(4.5, 4))
        ax.imshow(confusion, cmap="Blues")
        big = confusion.max() / 2
        for (i, j), v in np.ndenumerate(confusion):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="white" if v > big else "black")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_xticks(range(len(confusion)))
        ax.set_yticks(range(len(confusion)))
        ax.set_title(f"{title}: confusion matrix (test)")
        return [plotting.loss_curve(history, workdir, name), plotting.save(fig, workdir, "confusion_matrix.png")]

    return Task(name=name, data=typed_data, init=init, optimizer=lambda cfg: optax.adam(cfg.learning_rate),
                batch=batch, loss=loss, evaluate=evaluate, plots=plots, eval_metrics=eval_metrics)
