"""E6's computation: one training step of the exam's GAN on the layers' manual backward passes,
and the same step worked per example by hand (float64 numpy), the two checked against each other."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.check.numeric import agrees
from jaxdl.config import default_config_path, load_config
from jaxdl.errors import InputError
from jaxdl.exams._common import matrix, tolist
from jaxdl.models import gan as gan_lib

ANSWER_A = (
    "A GAN trains two networks against each other. Each step draws a minibatch of data x_i and of "
    "noise z_i; the discriminator D takes a gradient step to tell real x_i (label 1) from generated "
    "G(z_i) (label 0), i.e. descends L_D = −mean[ln D(x_i) + ln(1 − D(G(z_i)))]; then the generator "
    "takes a step, through the updated D with D's weights held fixed, to make D take G(z_i) for "
    "real: it descends mean ln(1 − D(G(z_i))) (minimax) or −mean ln D(G(z_i)) (non-saturating, "
    "stronger gradients early on). The two alternate until D can no longer tell them apart."
)
ANSWER_B = (
    "min_G max_D V(D, G) = E_{x∼p_data}[ln D(x)] + E_{z∼p_z}[ln(1 − D(G(z)))]; for the optimal D "
    "this is 2·JS(p_data ‖ p_G) − ln 4, minimal exactly when p_G = p_data."
)


def read_config(cfg):
    """Validates E6's config and returns ``(params, z (m, 1), x (m, D), learning_rate, leaky_slope,
    generator_loss, hidden)``, the params in jaxdl's layout."""
    known = {"generator", "discriminator", "noise", "data", "learning_rate", "leaky_slope", "generator_loss"}
    unknown = sorted(set(cfg.keys()) - known)
    if unknown:
        raise InputError(f"config: unknown field {unknown[0]!r} for exam gan; known: {sorted(known)}")
    for group, fields in (("generator", {"W1", "W2"}), ("discriminator", {"W1", "w2"})):
        extra = sorted(set(cfg[group].keys()) - fields)
        if extra:
            raise InputError(f"config: unknown field {group}.{extra[0]!r}; known: {sorted(fields)}")
    # The data fix the data size, generator.W1 the hidden size; every other shape follows.
    data = matrix(cfg, "data", (None, None))
    data_size = data.shape[1]
    g1 = matrix(cfg, "generator.W1", (None, 1))
    hidden = g1.shape[0]
    g2 = matrix(cfg, "generator.W2", (data_size, hidden))
    d1 = matrix(cfg, "discriminator.W1", (None, data_size))
    d2 = matrix(cfg, "discriminator.w2", (1, d1.shape[0]))
    noise = matrix(cfg, "noise", (None,))
    if len(noise) != len(data):
        raise InputError(f"config: noise and data must have the same length m; got {len(noise)} and {len(data)}")
    if len(noise) == 0:
        raise InputError("config: noise and data must hold at least one sample; got none")
    lr = cfg.learning_rate
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise InputError(f"config: learning_rate must be a number > 0; got {lr!r}")
    slope = cfg.leaky_slope
    if isinstance(slope, bool) or not isinstance(slope, (int, float)) or not np.isfinite(slope):
        raise InputError(f"config: leaky_slope must be a finite number; got {slope!r}")
    if cfg.generator_loss not in gan_lib.GENERATOR_LOSSES:
        raise InputError(f"config: generator_loss must be one of {list(gan_lib.GENERATOR_LOSSES)}; got {cfg.generator_loss!r}")
    # Exam (column) convention → jaxdl's row convention: the dense layers hold the transposes.
    params = {
        "generator": {"dense_0": {"W": g1.T}, "relu_1": {}, "dense_2": {"W": g2.T}, "relu_3": {}},
        "discriminator": {"dense_0": {"W": d1.T}, "leaky_relu_1": {}, "dense_2": {"W": d2.T}},
    }
    return params, noise[:, None], data, float(lr), float(slope), cfg.generator_loss, hidden


def exam_setup():
    """The exam's case from ``configs/exam_gan.py``, the one place its numbers are written:
    ``(params float32, z (3, 1), x (3, 2), learning_rate, leaky_slope)`` in jaxdl's layout."""
    params, z, x, lr, slope, _, _ = read_config(load_config(default_config_path("exam_gan")))
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    return jax.tree_util.tree_map(f32, params), f32(z), f32(x), lr, slope


def exam_view(params):
    """jaxdl params → the exam's matrices ``{generator: {W1, W2}, discriminator: {W1, w2}}``."""
    g, d = params["generator"], params["discriminator"]
    return {
        "generator": {"W1": tolist(np.asarray(g["dense_0"]["W"]).T), "W2": tolist(np.asarray(g["dense_2"]["W"]).T)},
        "discriminator": {"W1": tolist(np.asarray(d["dense_0"]["W"]).T), "w2": tolist(np.asarray(d["dense_2"]["W"]).T)},
    }


def _sigmoid(s):
    return 1 / (1 + np.exp(-s))


def by_hand(view: dict, z, x, lr: float, slope: float, loss_name: str, at_zero: float = 0.0) -> dict:
    """The step worked per example in the exam's column convention, in float64 numpy: every
    activation, every chain-rule factor, the gradients as sums over the examples, the new
    weights. Independent of jaxdl's layers; :func:`solve` checks the two agree.

    ``at_zero``: the derivative taken at a pre-activation of exactly 0 (ReLU′(0), and LeakyReLU′(0)
    when 1; jaxdl's layers take 0 and the slope), so that a generator can see whether the
    convention changes an answer."""
    G1, G2 = (np.asarray(view["generator"][k], float) for k in ("W1", "W2"))
    D1, d2 = (np.asarray(view["discriminator"][k], float) for k in ("W1", "w2"))
    z, x = np.asarray(z, float).reshape(-1), np.asarray(x, float)
    m = len(z)
    leaky = lambda a: np.where(a > 0, a, slope * a)  # noqa: E731
    leaky_grad = lambda a: np.where(a > 0, 1.0, np.where(a == 0, slope if at_zero == 0 else 1.0, slope))  # noqa: E731
    relu_grad = lambda a: np.where(a > 0, 1.0, np.where(a == 0, at_zero, 0.0))  # noqa: E731

    def generate(z_i):
        g1 = G1[:, 0] * z_i
        h1 = np.maximum(g1, 0)
        g2 = G2 @ h1
        return {"z": z_i, "g1": g1, "h1": h1, "g2": g2, "x_hat": np.maximum(g2, 0)}

    def discriminate(D1, d2, v):
        a1 = D1 @ v
        h1 = leaky(a1)
        s = float(d2[0] @ h1)
        return {"a1": a1, "h1": h1, "s": s, "D": float(_sigmoid(s))}

    gen = [generate(z_i) for z_i in z]
    real = [discriminate(D1, d2, x_i) for x_i in x]
    fake = [discriminate(D1, d2, g["x_hat"]) for g in gen]
    d_loss = -np.mean([np.log(r["D"]) + np.log(1 - f["D"]) for r, f in zip(real, fake)])
    # ∂L_D/∂s: (D(x_i) − 1)/m for a real example, D(x̂_i)/m for a generated one.
    grad_D1, grad_d2 = np.zeros_like(D1), np.zeros_like(d2)
    for v, r, delta in [(x_i, r, (r["D"] - 1) / m) for x_i, r in zip(x, real)] + \
                       [(g["x_hat"], f, f["D"] / m) for g, f in zip(gen, fake)]:
        r["delta"] = delta
        grad_d2 += delta * r["h1"][None, :]
        grad_D1 += np.outer(delta * d2[0] * leaky_grad(r["a1"]), v)
    new_D1, new_d2 = D1 - lr * grad_D1, d2 - lr * grad_d2

    after = [discriminate(new_D1, new_d2, g["x_hat"]) for g in gen]
    if loss_name == "minimax":  # L_G = mean ln(1 − D(x̂)): ∂/∂s = −D(x̂)/m
        g_loss = np.mean([np.log(1 - a["D"]) for a in after])
        deltas = [-a["D"] / m for a in after]
    else:  # L_G = −mean ln D(x̂): ∂/∂s = (D(x̂) − 1)/m
        g_loss = -np.mean([np.log(a["D"]) for a in after])
        deltas = [(a["D"] - 1) / m for a in after]
    grad_G1, grad_G2 = np.zeros_like(G1), np.zeros_like(G2)
    for g, a, delta in zip(gen, after, deltas):
        a["delta"] = delta
        dx_hat = new_D1.T @ (delta * new_d2[0] * leaky_grad(a["a1"]))
        dg2 = dx_hat * relu_grad(g["g2"])
        dg1 = (G2.T @ dg2) * relu_grad(g["g1"])
        g["dx_hat"] = dx_hat
        grad_G2 += np.outer(dg2, g["h1"])
        grad_G1 += dg1[:, None] * g["z"]
    return {
        "m": m, "generator": gen, "real": real, "fake": fake, "after": after,
        "d_loss": float(d_loss), "g_loss": float(g_loss),
        "d_grads": {"W1": grad_D1, "w2": grad_d2}, "g_grads": {"W1": grad_G1, "W2": grad_G2},
        "new": {"discriminator": {"W1": new_D1, "w2": new_d2}, "generator": {"W1": G1 - lr * grad_G1, "W2": G2 - lr * grad_G2}},
    }


@functools.lru_cache(maxsize=32)
def _compiled(hidden: int, data_size: int, slope: float, loss_name: str, lr: float):
    """The GAN, its optimizer and its compiled step, kept per architecture and hyperparameters:
    solving again at other weights compiles nothing."""
    gan = gan_lib.exam_gan(hidden=hidden, latent_size=1, data_size=data_size, leaky_slope=slope)
    sgd = optax.sgd(lr)
    return gan, sgd, gan_lib.make_step(gan, sgd, sgd, loss_name)


def solve(cfg) -> dict:
    """E6's answers for the config's givens: (a) and (b) in words, and for (c) the step by jaxdl's
    compiled training step, with every example's working by hand (:func:`by_hand`) checked against it."""
    params, z, x, lr, slope, loss_name, hidden = read_config(cfg)
    initial = exam_view(params)
    gan, sgd, step = _compiled(hidden, x.shape[1], slope, loss_name, lr)
    with jax.enable_x64(True):
        params, z, x = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), (params, z, x))
        new, _, aux = step(params, gan_lib.init_opt_state(params, sgd, sgd), z, x)
        fake = gan.generator.apply(params["generator"], z)
        d_before = jax.nn.sigmoid(gan.discriminator.apply(params["discriminator"], jnp.concatenate([x, fake])))
        d_after = jax.nn.sigmoid(gan.discriminator.apply(new["discriminator"], fake))
    d_grads = exam_view({"generator": params["generator"], "discriminator": aux["d_grads"]})["discriminator"]
    g_grads = exam_view({"generator": aux["g_grads"], "discriminator": params["discriminator"]})["generator"]
    new_view = exam_view(new)
    with np.errstate(all="ignore"):  # a diverging config (say lr = 1e999) is reported as non-finite, not raised
        hand = by_hand(initial, z, x, lr, slope, loss_name)
    by_hand_err = max(
        abs(hand["d_loss"] - float(aux["d_loss"])), abs(hand["g_loss"] - float(aux["g_loss"])),
        *(float(np.max(np.abs(hand["d_grads"][k] - np.asarray(d_grads[k])))) for k in ("W1", "w2")),
        *(float(np.max(np.abs(hand["g_grads"][k] - np.asarray(g_grads[k])))) for k in ("W1", "W2")),
    )
    per_example = [
        {"z": g["z"], "g1": tolist(g["g1"]), "h1": tolist(g["h1"]), "g2": tolist(g["g2"]), "x_hat": tolist(g["x_hat"]),
         "real": {k: tolist(v) for k, v in r.items()}, "fake": {k: tolist(v) for k, v in f.items()},
         "after": {k: tolist(v) for k, v in a.items()}, "dL_G_dx_hat": tolist(g["dx_hat"])}
        for g, r, f, a in zip(hand["generator"], hand["real"], hand["fake"], hand["after"])
    ]
    return {
        "givens": {**initial, "noise": tolist(z[:, 0]), "data": tolist(x), "learning_rate": lr, "leaky_slope": slope,
                   "generator_loss": loss_name},
        "per_example": per_example,
        "by_hand_max_abs_err": by_hand_err,
        "ok": agrees("independent", by_hand_err),
        "discriminator_step": {"loss": float(aux["d_loss"]), "grads": d_grads, "new": new_view["discriminator"]},
        "generator_step": {"loss": float(aux["g_loss"]), "grads": g_grads, "new": new_view["generator"]},
        "generator_loss": loss_name,
        "intermediate": {"G(z)": tolist(fake), "D(x) real then fake, before the step": tolist(d_before[:, 0]),
                         "D(G(z)) after the D step": tolist(d_after[:, 0])},
        "answers": {"a": ANSWER_A, "b": ANSWER_B},
        "errata": [],
    }


def report(result: dict) -> str:
    d, g = result["discriminator_step"], result["generator_step"]
    fmt = lambda v: np.array2string(np.asarray(v), precision=6, separator=", ", suppress_small=True).replace("\n", "")  # noqa: E731
    inter = result["intermediate"]
    return "\n".join([
        f"E6  One GAN step (SGD, D first, then G through the updated D; generator loss: {result['generator_loss']})",
        f"  (a) {ANSWER_A}",
        f"  (b) {ANSWER_B}",
        f"  (c) G(z) = {fmt(inter['G(z)'])};  D before the step (real, then fake) = {fmt(inter['D(x) real then fake, before the step'])}",
        f"      discriminator: L_D = {d['loss']:.6f};  ∂L_D/∂W_d1 = {fmt(d['grads']['W1'])},  ∂L_D/∂w_d2 = {fmt(d['grads']['w2'])}",
        f"      new W_d1 = {fmt(d['new']['W1'])},  new w_d2 = {fmt(d['new']['w2'])}",
        f"      D(G(z)) after the D step = {fmt(inter['D(G(z)) after the D step'])}",
        f"      generator: L_G = {g['loss']:.6f};  ∂L_G/∂W_g1 = {fmt(g['grads']['W1'])},  ∂L_G/∂W_g2 = {fmt(g['grads']['W2'])}",
        f"      new W_g1 = {fmt(g['new']['W1'])},  new W_g2 = {fmt(g['new']['W2'])}",
    ])
