"""The NICE experiments' shared task: a flow trained by maximum likelihood, its test NLL against
Gaussian baselines, samples and reconstructions."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.core import with_manual_grad
from jaxdl.train.experiments import plotting
from jaxdl.train.experiments.registry import config_cached
from jaxdl.train.trainer import Task, sample_rows


def _gaussian_nll(train, test, diagonal: bool) -> float:
    """Mean test NLL (nats) of a Gaussian fitted to ``train`` by maximum likelihood."""
    mu = train.mean(axis=0)
    d = train.shape[1]
    if diagonal:
        var = train.var(axis=0)
        return float(np.mean(0.5 * np.sum((test - mu) ** 2 / var + np.log(2 * np.pi * var), axis=1)))
    cov = np.cov(train, rowvar=False, bias=True) + 1e-9 * np.eye(d)
    sign, logdet = np.linalg.slogdet(cov)
    diff = test - mu
    maha = np.einsum("nd,de,ne->n", diff, np.linalg.inv(cov), diff)
    return float(np.mean(0.5 * (maha + logdet + d * np.log(2 * np.pi))))


def nice_task(name: str, data_fn, event_shape, dequant_levels: int | None, make_flow=None,
              show_as: tuple[int, ...] | None = None) -> Task:
    """A NICE flow on ``data_fn(cfg)['x_train']`` (dequantized with ``levels`` grey levels, if set),
    trained by maximum likelihood on the couplings' hand-derived backward passes.

    Long because the task's model, loss, metrics and plots are closures over one configuration, as
    every experiment's factory is."""
    from jaxdl.models.nice import nice

    @config_cached
    def flow_of(cfg):
        if make_flow is not None:
            flow = make_flow(cfg)
        else:
            flow = nice(event_shape, num_couplings=cfg.num_couplings, hidden=tuple(cfg.hidden), prior=cfg.prior)
        return dataclasses.replace(flow, bijection=with_manual_grad(flow.bijection))

    @config_cached
    def log_prob_of(cfg):  # compiled once per run, not at every evaluation
        return jax.jit(flow_of(cfg).log_prob)

    @config_cached
    def pictures_of(cfg):  # the plots' samples and reconstructions: two programs, not op by op
        flow = flow_of(cfg)
        return (jax.jit(flow.sample, static_argnums=2),
                jax.jit(lambda params, x: flow.inverse(params, flow.forward(params, x))))

    def init(cfg, data, key):
        flow = flow_of(cfg)
        params = flow.init(key)
        # The scaling starts at the data's spread (the dequantization noise included): z = x/σ
        # has unit scale under the prior.
        last = list(params)[-1]
        var = data["x_train"].reshape(len(data["x_train"]), -1).var(axis=0)
        if dequant_levels:
            var = var + 1.0 / (12 * dequant_levels**2)
        log_spread = 0.5 * np.log(var + 1e-6)
        params[last]["s"] = jnp.asarray(-log_spread.reshape(params[last]["s"].shape), jnp.float32)
        return params

    def batch(cfg, data, key):
        k1, k2 = jax.random.split(key)
        idx = sample_rows(k1, data["x_train"].shape[0], cfg.batch_size)
        x = data["x_train"][idx]
        if dequant_levels:
            x = x + jax.random.uniform(k2, x.shape, x.dtype) / dequant_levels
        return {"x": x}

    def loss(cfg, params, batch, key):
        return -jnp.mean(flow_of(cfg).log_prob(params, batch["x"]))

    def optimizer(cfg):
        # Decoupled weight decay (AdamW) on the coupling networks only, not on the scaling.
        def mask(params):
            return {k: jax.tree_util.tree_map(lambda _: not k.startswith("scaling"), v) for k, v in params.items()}

        return optax.adamw(cfg.learning_rate, weight_decay=cfg.weight_decay, mask=mask)

    def test_points(cfg, data):
        x = data["x_test"]
        if dequant_levels:  # a fixed dequantization of the test set (seeded), the same for every model
            x = x + np.random.default_rng(cfg.seed + 1).uniform(size=x.shape) / dequant_levels
        return x

    def eval_metrics(cfg, params, data):
        x_test = jnp.asarray(test_points(cfg, data), jnp.float32)
        return {"test_nll_nats": float(-np.mean(np.asarray(log_prob_of(cfg)(params, x_test))))}

    def evaluate(cfg, params, data):
        x_test = test_points(cfg, data)
        nll = eval_metrics(cfg, params, data)["test_nll_nats"]
        flat_train = data["x_train"].reshape(len(data["x_train"]), -1).astype(np.float64)
        if dequant_levels:
            flat_train = flat_train + np.random.default_rng(cfg.seed + 2).uniform(size=flat_train.shape) / dequant_levels
        flat_test = x_test.reshape(len(x_test), -1).astype(np.float64)
        d = flat_test.shape[1]
        # The continuous density of the dequantized data; the discrete data's NLL is at most this
        # plus D·ln(levels) (x ∈ [0, 1) in cells of width 1/levels): reported in bits/dim.
        correction = d * math.log(dequant_levels) if dequant_levels else 0.0
        out = {
            "test_nll_nats": nll,
            "test_log_likelihood_nats": -nll,
            "baseline_diag_gaussian_nll_nats": _gaussian_nll(flat_train, flat_test, True),
            "baseline_full_gaussian_nll_nats": _gaussian_nll(flat_train, flat_test, False),
        }
        to_bits = lambda v: (v + correction) / (d * math.log(2))  # noqa: E731
        out["test_bits_per_dim"] = to_bits(nll)
        out["baseline_diag_gaussian_bits_per_dim"] = to_bits(out["baseline_diag_gaussian_nll_nats"])
        out["baseline_full_gaussian_bits_per_dim"] = to_bits(out["baseline_full_gaussian_nll_nats"])
        out["dequantization"] = (
            f"x = (k + u)/{dequant_levels}, u ~ U[0,1): the NLL is of the continuous density on [0,1)^{d}; "
            f"bits/dim = (NLL + {d}·ln {dequant_levels}) / ({d}·ln 2), an upper bound on the discrete data's"
            if dequant_levels else "none (continuous data); bits/dim = NLL / (D·ln 2)"
        )
        return out

    def plots(cfg, params, data, history, workdir):
        plt = plotting.plt()
        sample, round_trip = pictures_of(cfg)
        paths = [plotting.loss_curve(history, workdir, name)]
        samples = np.asarray(sample(params, jax.random.PRNGKey(cfg.seed + 3), 64))
        x_test = test_points(cfg, data)[:8]
        recon = np.asarray(round_trip(params, jnp.asarray(x_test, jnp.float32)))
        if len(event_shape) == 1 and show_as is None:
            fig, axes = plt.subplots(1, 2, figsize=(9, 4))
            lo, hi = data["x_train"].min(0) - 0.5, data["x_train"].max(0) + 0.5
            gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
            grid = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], 1), jnp.float32)
            dens = np.exp(np.asarray(log_prob_of(cfg)(params, grid))).reshape(gx.shape)
            axes[0].contourf(gx, gy, dens, levels=30, cmap="viridis")
            axes[0].set_title("learned density p(x)")
            more = np.asarray(sample(params, jax.random.PRNGKey(cfg.seed + 4), 2000))
            axes[1].scatter(*data["x_train"][:2000].T, s=2, alpha=0.4, label="data")
            axes[1].scatter(*more.T, s=2, alpha=0.4, label="samples")
            axes[1].scatter(*recon.T, s=30, marker="x", color="k", label="inverse(forward(x))")
            axes[1].legend(markerscale=4, fontsize=7)
            axes[1].set_title("samples and reconstructions")
            paths.append(plotting.save(fig, workdir, "density_and_samples.png"))
        else:
            fig, axes = plt.subplots(3, 8, figsize=(8, 3.4))
            shape = show_as or tuple(event_shape)
            rows = [a.reshape((-1,) + shape) for a in (samples[:8], x_test, recon)]
            for r, (imgs, label) in enumerate(zip(rows, ["samples", "test", "inverse(forward)"])):
                for i in range(8):
                    axes[r, i].imshow(np.clip(imgs[i, 0], 0, 1), cmap="gray_r")
                    axes[r, i].axis("off")
                axes[r, 0].set_title(label, fontsize=7, loc="left")
            paths.append(plotting.save(fig, workdir, "samples_and_reconstructions.png"))
        return paths

    return Task(name=name, data=data_fn, init=init, optimizer=optimizer, batch=batch, loss=loss, evaluate=evaluate,
                plots=plots, eval_metrics=eval_metrics)
