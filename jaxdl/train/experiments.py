"""The experiments of ``jaxdl train``: each a :class:`jaxdl.train.trainer.Task`, built only from
jaxdl's layers and trained on their hand-derived backward passes (``with_manual_grad``).

``EXPERIMENTS`` maps ``config.experiment`` to a factory of its task; :func:`base_config` holds
the fields every config has.
"""

from __future__ import annotations

import dataclasses
import math
import os

import jax
import jax.flatten_util
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from jaxdl import layers as L
from jaxdl.core import serial, with_manual_grad
from jaxdl.losses import binary_cross_entropy, l2_regularizer, softmax_cross_entropy
from jaxdl.train.trainer import Task


def base_config(experiment: str) -> ml_collections.ConfigDict:
    """The fields every experiment has; a config file adds its own and sets ``smoke_overrides``."""
    c = ml_collections.ConfigDict()
    c.experiment = experiment
    c.seed = 0
    c.batch_size = 64
    c.num_steps = 1000
    c.checkpoint_every = 500
    c.log_every = 100
    c.learning_rate = 1e-3
    c.smoke = False  # True: apply smoke_overrides (a run small enough for a test)
    c.smoke_overrides = ml_collections.ConfigDict()
    c.distributed = ml_collections.ConfigDict({"coordinator_address": "", "num_processes": 1, "process_id": 0})
    return c


def resolve(cfg: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """Applies ``smoke_overrides`` when ``smoke`` is set and validates the common fields."""
    cfg = ml_collections.ConfigDict(cfg.to_dict())
    if cfg.smoke:
        for k, v in cfg.smoke_overrides.items():
            if k not in cfg:
                raise ValueError(f"config: smoke_overrides names an unknown field {k!r}")
            cfg[k] = v
    for field in ("batch_size", "num_steps", "checkpoint_every", "log_every"):
        v = cfg[field]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"config: {field} must be an integer >= 1; got {v!r}")
    if not (isinstance(cfg.learning_rate, (int, float)) and cfg.learning_rate > 0):
        raise ValueError(f"config: learning_rate must be a number > 0; got {cfg.learning_rate!r}")
    if cfg.experiment not in EXPERIMENTS:
        raise ValueError(f"config: unknown experiment {cfg.experiment!r}; known: {', '.join(sorted(EXPERIMENTS))}")
    cfg.lock()
    return cfg


def _save(fig, workdir, name):
    path = os.path.join(workdir, name)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _loss_curve(history, workdir, title):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([h["step"] for h in history], [h["loss"] for h in history])
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (chunk mean)")
    ax.set_title(title)
    return _save(fig, workdir, "loss.png")


def _sample_rows(key, n, size):
    return jax.random.randint(key, (size,), 0, n)


# --------------------------------------------------------------------------------------------
# cnn_digits


def lab_cnn():
    """The lab's CNN: conv → relu → max pool → conv → relu → max pool → flatten → dense → relu → dense."""
    return serial(L.conv2d(16, 3), L.relu(), L.max_pool2d(2, 2), L.conv2d(32, 3), L.relu(), L.max_pool2d(2, 2),
                  L.flatten(), L.dense(64), L.relu(), L.dense(10), name="lab_cnn")


def cnn_digits() -> Task:
    from jaxdl.train.data import load_digits

    net = with_manual_grad(lab_cnn())
    ce = softmax_cross_entropy.with_manual_grad()

    def data(cfg):
        d = load_digits()
        return {"x_train": d.x_train, "y_train": d.y_train, "x_test": d.x_test, "y_test": d.y_test}

    def init(cfg, data, key):
        return net.init(key, (-1, 1, 8, 8))[1]

    def batch(cfg, data, key):
        idx = _sample_rows(key, data["x_train"].shape[0], cfg.batch_size)
        return {"x": data["x_train"][idx], "y": data["y_train"][idx]}

    def loss(cfg, params, batch, key):
        reg = l2_regularizer(cfg.weight_decay).with_manual_grad()
        return ce.apply(net.apply(params, batch["x"]), batch["y"]) + reg.apply(params)

    def evaluate(cfg, params, data):
        pred = np.asarray(jnp.argmax(jax.jit(net.apply)(params, jnp.asarray(data["x_test"])), axis=-1))
        y = data["y_test"]
        confusion = np.zeros((10, 10), int)
        np.add.at(confusion, (y, pred), 1)
        return {"test_accuracy": float(np.mean(pred == y)), "confusion_matrix": confusion.tolist()}

    def plots(cfg, params, data, history, workdir):
        plt = _plt()
        confusion = np.asarray(evaluate(cfg, params, data)["confusion_matrix"])
        fig, ax = plt.subplots(figsize=(4.5, 4))
        ax.imshow(confusion, cmap="Blues")
        for (i, j), v in np.ndenumerate(confusion):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="white" if v > 20 else "black")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.set_title("digits: confusion matrix (test)")
        return [_loss_curve(history, workdir, "cnn_digits"), _save(fig, workdir, "confusion_matrix.png")]

    return Task("cnn_digits", data, init, lambda cfg: optax.adam(cfg.learning_rate), batch, loss, evaluate, plots)


# --------------------------------------------------------------------------------------------
# NICE: nice_moons and nice_digits


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


def _nice_task(name: str, data_fn, event_shape, dequant_levels: int | None):
    from jaxdl.models.nice import nice

    def flow_of(cfg):
        flow = nice(event_shape, num_couplings=cfg.num_couplings, hidden=tuple(cfg.hidden), prior=cfg.prior)
        return dataclasses.replace(flow, bijection=with_manual_grad(flow.bijection))

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
        idx = _sample_rows(k1, data["x_train"].shape[0], cfg.batch_size)
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

    def evaluate(cfg, params, data):
        flow = flow_of(cfg)
        x_test = test_points(cfg, data)
        nll = float(-np.mean(np.asarray(jax.jit(flow.log_prob)(params, jnp.asarray(x_test, jnp.float32)))))
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
        plt = _plt()
        flow = flow_of(cfg)
        paths = [_loss_curve(history, workdir, name)]
        samples = np.asarray(flow.sample(params, jax.random.PRNGKey(cfg.seed + 3), 64))
        x_test = test_points(cfg, data)[:8]
        recon = np.asarray(flow.inverse(params, flow.forward(params, jnp.asarray(x_test, jnp.float32))))
        if len(event_shape) == 1:
            fig, axes = plt.subplots(1, 2, figsize=(9, 4))
            lo, hi = data["x_train"].min(0) - 0.5, data["x_train"].max(0) + 0.5
            gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
            grid = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], 1), jnp.float32)
            dens = np.exp(np.asarray(jax.jit(flow.log_prob)(params, grid))).reshape(gx.shape)
            axes[0].contourf(gx, gy, dens, levels=30, cmap="viridis")
            axes[0].set_title("learned density p(x)")
            more = np.asarray(flow.sample(params, jax.random.PRNGKey(cfg.seed + 4), 2000))
            axes[1].scatter(*data["x_train"][:2000].T, s=2, alpha=0.4, label="data")
            axes[1].scatter(*more.T, s=2, alpha=0.4, label="samples")
            axes[1].scatter(*recon.T, s=30, marker="x", color="k", label="inverse(forward(x))")
            axes[1].legend(markerscale=4, fontsize=7)
            axes[1].set_title("samples and reconstructions")
            paths.append(_save(fig, workdir, "density_and_samples.png"))
        else:
            fig, axes = plt.subplots(3, 8, figsize=(8, 3.4))
            rows = [samples[:8], x_test, recon]
            for r, (imgs, label) in enumerate(zip(rows, ["samples", "test", "inverse(forward)"])):
                for i in range(8):
                    axes[r, i].imshow(np.clip(imgs[i, 0], 0, 1), cmap="gray_r")
                    axes[r, i].axis("off")
                axes[r, 0].set_title(label, fontsize=7, loc="left")
            paths.append(_save(fig, workdir, "samples_and_reconstructions.png"))
        return paths

    return Task(name, data_fn, init, optimizer, batch, loss, evaluate, plots)


def _moons(cfg):
    from sklearn.datasets import make_moons

    x, _ = make_moons(n_samples=3000, noise=0.05, random_state=0)
    x = x.astype(np.float32)
    return {"x_train": x[:2000], "x_test": x[2000:]}


def _digits_unit(cfg):
    from jaxdl.train.data import load_digits

    d = load_digits()
    # The 17 grey levels k = 0..16 as k/17: dequantization adds u/17, u ~ U[0, 1).
    return {"x_train": d.x_train * 16.0 / 17.0, "x_test": d.x_test * 16.0 / 17.0}


def nice_moons() -> Task:
    return _nice_task("nice_moons", _moons, (2,), None)


def nice_digits() -> Task:
    return _nice_task("nice_digits", _digits_unit, (1, 8, 8), 17)


# --------------------------------------------------------------------------------------------
# GANs: gan_ring and exam_gan


def _gan_task(name: str, make_gan, data_fn, sample_real, evaluate, plots):
    from jaxdl.models import gan as gan_lib

    def optimizer(cfg):
        if cfg.optimizer == "adam":
            return optax.adam(cfg.learning_rate, b1=cfg.adam_b1)
        if cfg.optimizer == "sgd":
            return optax.sgd(cfg.learning_rate)
        raise ValueError(f"config: optimizer must be 'adam' or 'sgd'; got {cfg.optimizer!r}")

    class Both:  # init of both networks' optimizer states, as make_step keeps them
        def __init__(self, opt):
            self.opt = opt

        def init(self, params):
            return gan_lib.init_opt_state(params, self.opt, self.opt)

    def init(cfg, data, key):
        return make_gan(cfg).init(key)

    def batch(cfg, data, key):
        k1, k2 = jax.random.split(key)
        return {"x": sample_real(cfg, data, k1),
                "z": jax.random.normal(k2, (cfg.batch_size, cfg.latent_size), jnp.float32)}

    def update(cfg, both):
        step = gan_lib.make_step(make_gan(cfg), both.opt, both.opt, cfg.generator_loss)

        def run(params, opt_state, batch, key):
            params, opt_state, aux = step(params, opt_state, batch["z"], batch["x"])
            return params, opt_state, aux["d_loss"]

        return run

    return Task(name, data_fn, init, lambda cfg: Both(optimizer(cfg)), batch, None, evaluate, plots, update=update)


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


def gan_ring() -> Task:
    from jaxdl.models import gan as gan_lib

    def make_gan(cfg):
        return gan_lib.mlp_gan(cfg.hidden, cfg.latent_size, 2, cfg.leaky_slope)

    def data(cfg):
        return {"centers": _ring_centers()}

    def sample_real(cfg, data, key):
        k1, k2 = jax.random.split(key)
        mode = jax.random.randint(k1, (cfg.batch_size,), 0, RING_MODES)
        return data["centers"][mode] + RING_STD * jax.random.normal(k2, (cfg.batch_size, 2), jnp.float32)

    def samples(cfg, params, n=10_000):
        z = jax.random.normal(jax.random.PRNGKey(cfg.seed + 7), (n, cfg.latent_size), jnp.float32)
        return np.asarray(jax.jit(make_gan(cfg).generator.apply)(params["generator"], z))

    def evaluate(cfg, params, data):
        return ring_quality(samples(cfg, params))

    def snapshot(cfg, params):
        return samples(cfg, params, 1000)

    def plots(cfg, params, data, history, workdir):
        from jaxdl.train.trainer import load_snapshots

        plt = _plt()
        s = samples(cfg, params, 4000)
        q = ring_quality(s)
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        ax.scatter(*s.T, s=2, alpha=0.3, label="generated")
        ax.scatter(*_ring_centers().T, s=40, marker="x", color="r", label="modes")
        ax.set_aspect("equal")
        ax.set_title(f"gan_ring ({cfg.generator_loss}, latent {cfg.latent_size}, {cfg.optimizer}): "
                     f"{q['modes_covered']}/8 modes, {100 * q['high_quality_fraction']:.0f}% within 3σ", fontsize=8)
        ax.legend(fontsize=7)
        paths = [_loss_curve(history, workdir, "gan_ring (discriminator loss)"), _save(fig, workdir, "samples.png")]
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
            paths.append(_save(fig, workdir, "samples_over_training.png"))
        return paths

    task = _gan_task("gan_ring", make_gan, data, sample_real, evaluate, plots)
    return dataclasses.replace(task, snapshot=snapshot)


def exam_gan() -> Task:
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

        plt = _plt()
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
        return [_loss_curve(history, workdir, "exam_gan (discriminator loss)"), _save(fig, workdir, "decision_surface.png")]

    task = _gan_task("exam_gan", make_gan, data, sample_real, evaluate, plots)
    fixed_batch = lambda cfg, data, key: {"x": data["x"], "z": data["z"]}  # noqa: E731 - the exam's noise
    return dataclasses.replace(task, init=init, batch=fixed_batch, snapshot=snapshot)


# --------------------------------------------------------------------------------------------
# The adding problem: rnn_adding and lstm_adding


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


def _adding_task(name: str, cell: str) -> Task:
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
        pred = np.asarray(jax.jit(lambda p, x: predict(cfg, p, x))(params, jnp.asarray(data["x_test"])))
        return {"test_mse": float(np.mean((pred - data["y_test"]) ** 2)),
                "baseline_mse": float(np.mean((1.0 - data["y_test"]) ** 2)), "sequence_length": cfg.length}

    def plots(cfg, params, data, history, workdir):
        plt = _plt()
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.semilogy([h["step"] for h in history], [h["loss"] for h in history], label=f"{cell} (train MSE)")
        ax.axhline(1 / 6, color="k", ls="--", label="predict 1.0 (MSE 1/6)")
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
        ax.set_title(f"adding problem, T = {cfg.length}", fontsize=9)
        return [_save(fig, workdir, "loss.png")]

    return Task(name, data, init, optimizer, batch, loss, evaluate, plots)


def rnn_adding() -> Task:
    return _adding_task("rnn_adding", "rnn")


def lstm_adding() -> Task:
    return _adding_task("lstm_adding", "lstm")


# --------------------------------------------------------------------------------------------
# tictactoe_learned


def tictactoe_learned() -> Task:
    from jaxdl.models import tictactoe as ttt

    def net(cfg):
        # The exam's order; the sigmoid is folded into the loss (binary cross-entropy from logits).
        return with_manual_grad(serial(L.conv2d(cfg.conv_channels, 3, stride=3, padding="VALID"), L.flatten(),
                                       L.dense(cfg.hidden), L.global_max_pool(), name="tictactoe_learned"))

    bce = binary_cross_entropy.with_manual_grad()

    def data(cfg):
        boards, outcome = ttt.final_boards()
        return {"x": ttt.board_images(boards), "y": (outcome == 1).astype(np.float32)[:, None]}

    def init(cfg, data, key):
        return net(cfg).init(key, (-1, 1, 9, 9))[1]

    def batch(cfg, data, key):
        idx = _sample_rows(key, data["x"].shape[0], cfg.batch_size)
        return {"x": data["x"][idx], "y": data["y"][idx]}

    def loss(cfg, params, batch, key):
        return bce.apply(net(cfg).apply(params, batch["x"]), batch["y"])

    def evaluate(cfg, params, data):
        logits = np.asarray(jax.jit(net(cfg).apply)(params, jnp.asarray(data["x"])))
        return {"test_accuracy": float(np.mean((logits > 0) == (data["y"] > 0.5))), "boards": int(len(data["y"]))}

    def plots(cfg, params, data, history, workdir):
        plt = _plt()
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
        return [_loss_curve(history, workdir, "tictactoe_learned"), _save(fig, workdir, "filters.png")]

    return Task("tictactoe_learned", data, init, lambda cfg: optax.adam(cfg.learning_rate), batch, loss, evaluate,
                plots)


EXPERIMENTS = {
    "cnn_digits": cnn_digits,
    "nice_moons": nice_moons,
    "nice_digits": nice_digits,
    "gan_ring": gan_ring,
    "exam_gan": exam_gan,
    "rnn_adding": rnn_adding,
    "lstm_adding": lstm_adding,
    "tictactoe_learned": tictactoe_learned,
}


# The config file of each experiment in configs/ (configs/exam_gan.py is the exam's E6 question).
CONFIG_FILES = {name: name for name in EXPERIMENTS} | {"exam_gan": "exam_gan_training"}


def default_config(name: str) -> ml_collections.ConfigDict:
    """The experiment's default config, from ``configs/``."""
    from jaxdl.config import default_config_path, load_config

    return load_config(default_config_path(CONFIG_FILES[name]))


def run(cfg, workdir: str, progress: bool = True, stop_after: int | None = None) -> dict:
    """Resolves ``cfg`` (smoke overrides, validation), joins a multi-host run if the config names
    a coordinator, and trains. The library entry point of ``jaxdl train``."""
    from jaxdl.train.trainer import train_and_evaluate

    cfg = resolve(cfg)
    if cfg.distributed.coordinator_address:
        jax.distributed.initialize(coordinator_address=cfg.distributed.coordinator_address,
                                   num_processes=cfg.distributed.num_processes, process_id=cfg.distributed.process_id)
    return train_and_evaluate(EXPERIMENTS[cfg.experiment](), cfg, workdir, progress=progress, stop_after=stop_after)
