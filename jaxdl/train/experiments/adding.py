"""The adding problem (Hochreiter & Schmidhuber 1997) and its task, shared by ``rnn_adding`` and
``lstm_adding``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl import layers as L
from jaxdl.core import with_manual_grad
from jaxdl.train.experiments import plotting
from jaxdl.train.experiments.registry import config_cached
from jaxdl.train.trainer import Task


def adding_problem(key, n: int, length: int):
    """``x (n, T, 2)``: values U[0, 1) and a marker channel with two 1s; ``y (n, 1)``: the sum of
    the two marked values (one in each half). Predicting 1.0 has MSE ≈ 1/6."""
    k1, k2, k3 = jax.random.split(key, 3)
    values = jax.random.uniform(k1, (n, length), jnp.float32)
    half = length // 2
    i = jax.random.randint(k2, (n,), 0, half)
    j = jax.random.randint(k3, (n,), half, length)
    markers = jax.nn.one_hot(i, length, dtype=jnp.float32) + jax.nn.one_hot(j, length, dtype=jnp.float32)
    y = jnp.sum(values * markers, axis=1, keepdims=True)
    return jnp.stack([values, markers], axis=-1), y


def adding_task(name: str, cell: str) -> Task:
    """A recurrent layer (``cell``: ``rnn`` or ``lstm``) and a dense head on the adding problem."""
    def layers(cfg):
        rec = L.lstm(cfg.hidden) if cell == "lstm" else L.rnn(cfg.hidden, activation="tanh")
        return with_manual_grad(rec), with_manual_grad(L.dense(1))

    def init(cfg, data, key):
        rec, head = layers(cfg)
        k1, k2 = jax.random.split(key)
        return {"rnn": rec.init(k1, (-1, cfg.length, 2))[1], "head": head.init(k2, (-1, cfg.hidden))[1]}

    def predict(cfg, params, x):
        rec, head = layers(cfg)
        return head.apply(params["head"], rec.apply(params["rnn"], x)[:, -1])

    @config_cached
    def predict_of(cfg):  # compiled once per run, not at every evaluation
        return jax.jit(lambda p, x: predict(cfg, p, x))

    def data(cfg):
        x, y = adding_problem(jax.random.PRNGKey(cfg.seed + 100), cfg.test_size, cfg.length)
        return {"x_test": np.asarray(x), "y_test": np.asarray(y)}

    def batch(cfg, data, key):
        x, y = adding_problem(key, cfg.batch_size, cfg.length)
        return {"x": x, "y": y}

    def loss(cfg, params, batch, key):
        return jnp.mean((predict(cfg, params, batch["x"]) - batch["y"]) ** 2)

    def optimizer(cfg):
        return optax.chain(optax.clip_by_global_norm(cfg.clip_norm), optax.adam(cfg.learning_rate))

    def evaluate(cfg, params, data):
        pred = np.asarray(predict_of(cfg)(params, jnp.asarray(data["x_test"])))
        return {"test_mse": float(np.mean((pred - data["y_test"]) ** 2)),
                "baseline_mse": float(np.mean((1.0 - data["y_test"]) ** 2)), "sequence_length": cfg.length}

    def plots(cfg, params, data, history, workdir):
        plt = plotting.plt()
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.semilogy([h["step"] for h in history], [h["loss"] for h in history], label=f"{cell} (train MSE)")
        ax.axhline(1 / 6, color="k", ls="--", label="predict 1.0 (MSE 1/6)")
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
        ax.set_title(f"adding problem, T = {cfg.length}", fontsize=9)
        return [plotting.save(fig, workdir, "loss.png")]

    def eval_metrics(cfg, params, data):
        return {"test_mse": evaluate(cfg, params, data)["test_mse"]}

    return Task(name=name, data=data, init=init, optimizer=optimizer, batch=batch, loss=loss, evaluate=evaluate,
                plots=plots, eval_metrics=eval_metrics)
