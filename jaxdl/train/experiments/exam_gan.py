"""``exam_gan``: the exam's GAN (E6) trained from the exam's weights, data and noise."""

from __future__ import annotations

import dataclasses

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np

from jaxdl.train.experiments import plotting
from jaxdl.train.experiments.gan import gan_task
from jaxdl.train.experiments.registry import experiment
from jaxdl.train.trainer import Task


@experiment("exam_gan", headline=["final_loss"], config="exam_gan_training")
def exam_gan() -> Task:
    """The exam's E6 GAN trained on its three data points and noise, from the exam's weights."""
    from jaxdl.exams.gan import exam_setup
    from jaxdl.models import gan as gan_lib

    def make_gan(cfg):
        return gan_lib.exam_gan(leaky_slope=cfg.leaky_slope)

    def data(cfg):
        _, z, x, _, _ = exam_setup()
        return {"x": np.asarray(x), "z": np.asarray(z)}

    def init(cfg, data, key):
        del key
        return exam_setup()[0]

    def sample_real(cfg, data, key):
        return data["x"]

    def evaluate(cfg, params, data):
        gan = make_gan(cfg)
        fake = np.asarray(gan.generator.apply(params["generator"], jnp.asarray(data["z"])))
        d_real = np.asarray(jax.nn.sigmoid(gan.discriminator.apply(params["discriminator"], jnp.asarray(data["x"]))))
        return {"generated": fake.tolist(), "D(data)": d_real[:, 0].tolist()}

    def snapshot(cfg, params):
        return np.asarray(jax.flatten_util.ravel_pytree(params)[0])

    def plots(cfg, params, data, history, workdir):
        from jaxdl.train.trainer import load_snapshots

        plt = plotting.plt()
        gan = make_gan(cfg)
        unravel = jax.flatten_util.ravel_pytree(params)[1]
        snaps = [(0, np.asarray(jax.flatten_util.ravel_pytree(init(cfg, data, None))[0]))] + load_snapshots(workdir)
        picks = [snaps[i] for i in np.unique(np.linspace(0, len(snaps) - 1, 4).round().astype(int))]
        g = np.linspace(-1, 3, 120)
        gx, gy = np.meshgrid(g, g)
        grid = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], 1), jnp.float32)
        fig, axes = plt.subplots(1, len(picks), figsize=(3.2 * len(picks), 3.2))
        for ax, (step, flat) in zip(np.atleast_1d(axes), picks):
            p = unravel(jnp.asarray(flat))
            dec = np.asarray(jax.nn.sigmoid(gan.discriminator.apply(p["discriminator"], grid))).reshape(gx.shape)
            ax.contourf(gx, gy, dec, levels=np.linspace(0, 1, 11), cmap="RdBu", vmin=0, vmax=1)
            fake = np.asarray(gan.generator.apply(p["generator"], jnp.asarray(data["z"])))
            ax.scatter(*data["x"].T, color="k", marker="o", label="data")
            ax.scatter(*fake.T, color="orange", marker="x", s=60, label="G(z)")
            ax.set_title(f"step {step}", fontsize=9)
        np.atleast_1d(axes)[0].legend(fontsize=7, loc="upper left")
        fig.suptitle("exam GAN: D(x) (red 0 … blue 1), data and G(z) over training", fontsize=9)
        return [plotting.loss_curve(history, workdir, "exam_gan (discriminator loss)"), plotting.save(fig, workdir, "decision_surface.png")]

    task = gan_task("exam_gan", make_gan, data, sample_real, evaluate, plots)
    fixed_batch = lambda cfg, data, key: {"x": data["x"], "z": data["z"]}  # noqa: E731 - the exam's noise
    return dataclasses.replace(task, init=init, batch=fixed_batch, snapshot=snapshot)
