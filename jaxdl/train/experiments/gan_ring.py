"""``gan_ring``: an MLP GAN on a ring of 8 Gaussians."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.train.experiments import plotting
from jaxdl.train.experiments.gan import gan_task
from jaxdl.train.experiments.registry import config_cached, experiment
from jaxdl.train.trainer import Task


RING_MODES, RING_RADIUS, RING_STD = 8, 2.0, 0.02


def _ring_centers():
    angles = 2 * np.pi * np.arange(RING_MODES) / RING_MODES
    return np.stack([RING_RADIUS * np.cos(angles), RING_RADIUS * np.sin(angles)], 1).astype(np.float32)


def ring_quality(samples: np.ndarray) -> dict:
    """Mode coverage (a mode counts with ≥ 1% of samples within 3σ of it) and the fraction of
    samples within 3σ of some mode."""
    d = np.linalg.norm(samples[:, None, :] - _ring_centers()[None], axis=-1)
    near = d < 3 * RING_STD
    per_mode = near.mean(axis=0)
    return {"mode_coverage": float(np.mean(per_mode >= 0.01)), "modes_covered": int(np.sum(per_mode >= 0.01)),
            "high_quality_fraction": float(near.any(axis=1).mean())}


@experiment("gan_ring", headline=["mode_coverage", "high_quality_fraction"])
def gan_ring() -> Task:
    """An MLP GAN on a ring of 8 Gaussians; mode coverage and the fraction of samples near a mode."""
    from jaxdl.models import gan as gan_lib

    def make_gan(cfg):
        return gan_lib.mlp_gan(cfg.hidden, cfg.latent_size, 2, cfg.leaky_slope)

    def data(cfg):
        return {"centers": _ring_centers()}

    def sample_real(cfg, data, key):
        k1, k2 = jax.random.split(key)
        mode = jax.random.randint(k1, (cfg.batch_size,), 0, RING_MODES)
        return data["centers"][mode] + RING_STD * jax.random.normal(k2, (cfg.batch_size, 2), jnp.float32)

    @config_cached
    def generate_of(cfg):  # compiled once per run: samples are drawn at every evaluation
        return jax.jit(make_gan(cfg).generator.apply)

    def samples(cfg, params, n=10_000):
        z = jax.random.normal(jax.random.PRNGKey(cfg.seed + 7), (n, cfg.latent_size), jnp.float32)
        return np.asarray(generate_of(cfg)(params["generator"], z))

    def evaluate(cfg, params, data):
        return ring_quality(samples(cfg, params))

    def snapshot(cfg, params):
        return samples(cfg, params, 1000)

    def plots(cfg, params, data, history, workdir):
        from jaxdl.train.trainer import load_snapshots

        plt = plotting.plt()
        s = samples(cfg, params, 4000)
        q = ring_quality(s)
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        ax.scatter(*s.T, s=2, alpha=0.3, label="generated")
        ax.scatter(*_ring_centers().T, s=40, marker="x", color="r", label="modes")
        ax.set_aspect("equal")
        ax.set_title(f"gan_ring ({cfg.generator_loss}, latent {cfg.latent_size}, {cfg.optimizer}): "
                     f"{q['modes_covered']}/8 modes, {100 * q['high_quality_fraction']:.0f}% within 3σ", fontsize=8)
        ax.legend(fontsize=7)
        paths = [plotting.loss_curve(history, workdir, "gan_ring (discriminator loss)"), plotting.save(fig, workdir, "samples.png")]
        snaps = load_snapshots(workdir)
        if snaps:
            picks = [snaps[i] for i in np.unique(np.linspace(0, len(snaps) - 1, 6).round().astype(int))]
            fig, axes = plt.subplots(1, len(picks), figsize=(2.4 * len(picks), 2.6))
            for ax, (step, pts) in zip(np.atleast_1d(axes), picks):
                ax.scatter(*pts.T, s=1, alpha=0.4)
                ax.scatter(*_ring_centers().T, s=15, marker="x", color="r")
                ax.set_xlim(-3, 3)
                ax.set_ylim(-3, 3)
                ax.set_aspect("equal")
                ax.set_title(f"step {step}: {ring_quality(pts)['modes_covered']}/8", fontsize=8)
                ax.set_xticks([])
                ax.set_yticks([])
            paths.append(plotting.save(fig, workdir, "samples_over_training.png"))
        return paths

    def eval_metrics(cfg, params, data):
        q = ring_quality(samples(cfg, params, 2000))
        return {"mode_coverage": q["mode_coverage"], "high_quality_fraction": q["high_quality_fraction"]}

    task = gan_task("gan_ring", make_gan, data, sample_real, evaluate, plots)
    return dataclasses.replace(task, snapshot=snapshot, eval_metrics=eval_metrics)
