"""``tictactoe_learned``: the exam's tic-tac-toe architecture, learned instead of hand-set."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl import layers as L
from jaxdl.core import serial, with_manual_grad
from jaxdl.losses import binary_cross_entropy
from jaxdl.train.experiments import plotting
from jaxdl.train.experiments.registry import config_cached, experiment
from jaxdl.train.trainer import Task, sample_rows


@experiment("tictactoe_learned", headline=["test_accuracy"])
def tictactoe_learned() -> Task:
    """The exam's conv → dense → global max pool → sigmoid model, learned on all final boards."""
    from jaxdl.models import tictactoe as ttt

    def net(cfg):
        # The exam's order; the sigmoid is folded into the loss (binary cross-entropy from logits).
        return with_manual_grad(serial(L.conv2d(cfg.conv_channels, 3, stride=3, padding="VALID"), L.flatten(),
                                       L.dense(cfg.hidden), L.global_max_pool(), name="tictactoe_learned"))

    @config_cached
    def apply_of(cfg):  # compiled once per run, not at every evaluation
        return jax.jit(net(cfg).apply)

    bce = binary_cross_entropy.with_manual_grad()

    def data(cfg):
        boards, outcome = ttt.final_boards()
        return {"x": ttt.board_images(boards), "y": (outcome == 1).astype(np.float32)[:, None]}

    def init(cfg, data, key):
        return net(cfg).init(key, (-1, 1, 9, 9))[1]

    def batch(cfg, data, key):
        idx = sample_rows(key, data["x"].shape[0], cfg.batch_size)
        return {"x": data["x"][idx], "y": data["y"][idx]}

    def loss(cfg, params, batch, key):
        return bce.apply(net(cfg).apply(params, batch["x"]), batch["y"])

    def evaluate(cfg, params, data):
        logits = np.asarray(apply_of(cfg)(params, jnp.asarray(data["x"])))
        return {"test_accuracy": float(np.mean((logits > 0) == (data["y"] > 0.5))), "boards": int(len(data["y"]))}

    def plots(cfg, params, data, history, workdir):
        plt = plotting.plt()
        w = np.asarray(params[list(params)[0]]["W"])[:, 0]
        hand = np.asarray(ttt.hand_set_params()["conv2d_0"]["W"])[0, 0]
        fig, axes = plt.subplots(1, len(w) + 1, figsize=(1.6 * (len(w) + 1), 1.9))
        axes[0].imshow(hand, cmap="RdBu_r", vmin=-abs(hand).max(), vmax=abs(hand).max())
        axes[0].set_title("hand-set", fontsize=8)
        for i, f in enumerate(w):
            axes[i + 1].imshow(f, cmap="RdBu_r", vmin=-abs(f).max(), vmax=abs(f).max())
            axes[i + 1].set_title(f"learned {i}", fontsize=8)
        for a in axes:
            a.axis("off")
        return [plotting.loss_curve(history, workdir, "tictactoe_learned"), plotting.save(fig, workdir, "filters.png")]

    return Task(name="tictactoe_learned", data=data, init=init, optimizer=lambda cfg: optax.adam(cfg.learning_rate),
                batch=batch, loss=loss, evaluate=evaluate, plots=plots,
                eval_metrics=lambda cfg, params, data: {"test_accuracy": evaluate(cfg, params, data)["test_accuracy"]})
