"""jaxdl ⇄ flax: jaxdl layers inside linen and nnx models (their manual backward passes), flax
modules inside jaxdl.serial (autodiff backward, marked as such), and training either way."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxdl import layers as L
from jaxdl import serial, with_manual_grad
from jaxdl.check import check_layer
from jaxdl.flax import from_linen, from_nnx, to_linen, to_nnx


class ConvDense(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = to_linen(L.conv2d(4, 3))(x)  # NCHW, jaxdl's hand-derived backward
        return nn.Dense(3)(x.reshape(x.shape[0], -1))


def _f64(tree):
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), tree)


def test_a_linen_model_with_a_jaxdl_conv_has_the_gradients_of_the_jaxdl_network():
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 1, 5, 5), jnp.float64)
    model = ConvDense()
    params = _f64(model.init(jax.random.PRNGKey(0), x)["params"])
    assert jax.tree_util.tree_map(jnp.shape, params["JaxdlLinen_0"]) == {"conv2d": {"W": (4, 1, 3, 3), "b": (4,)}}
    grads = jax.grad(lambda p: jnp.sum(jnp.sin(model.apply({"params": p}, x))))(params)
    net = serial(L.conv2d(4, 3), L.flatten(), L.dense(3))
    same = {"conv2d_0": params["JaxdlLinen_0"]["conv2d"], "flatten_1": {},
            "dense_2": {"W": params["Dense_0"]["kernel"], "b": params["Dense_0"]["bias"]}}
    ref = jax.grad(lambda p: jnp.sum(jnp.sin(net.apply(p, x))))(same)
    chex.assert_trees_all_close(grads["JaxdlLinen_0"]["conv2d"], ref["conv2d_0"], atol=1e-12, rtol=1e-12)
    chex.assert_trees_all_close(grads["Dense_0"], {"kernel": ref["dense_2"]["W"], "bias": ref["dense_2"]["b"]},
                                atol=1e-12, rtol=1e-12)


def test_the_linen_model_trains_with_optax():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((32, 1, 5, 5)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 3, 32))
    model = ConvDense()
    params = model.init(jax.random.PRNGKey(0), x)["params"]
    opt = optax.adam(1e-2)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        def loss(p):
            return optax.softmax_cross_entropy_with_integer_labels(model.apply({"params": p}, x), y).mean()

        value, grads = jax.value_and_grad(loss)(params)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    losses = []
    for _ in range(30):
        params, state, value = step(params, state)
        losses.append(float(value))
    assert losses[-1] < 0.5 * losses[0]


def test_an_nnx_model_with_a_jaxdl_layer_trains_with_nnx_optimizer():
    class Mlp(nnx.Module):
        def __init__(self, rngs):
            self.hidden = to_nnx(L.dense(16), (-1, 4), rngs=rngs)  # jaxdl's dense, manual backward
            self.out = nnx.Linear(16, 1, rngs=rngs)

        def __call__(self, x):
            return self.out(jax.nn.relu(self.hidden(x)))

    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.standard_normal((64, 4)), jnp.float32)
    y = jnp.sum(x, axis=1, keepdims=True)
    model = Mlp(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)

    @nnx.jit
    def step(model, optimizer):
        value, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)
        optimizer.update(model, grads)
        return value

    losses = [float(step(model, optimizer)) for _ in range(60)]
    assert losses[-1] < 0.05 * losses[0]


def test_flax_modules_in_jaxdl_serial_are_marked_autodiff_and_match_jax_grad():
    net = serial(from_linen(nn.Dense(5)), L.relu(), from_nnx(nnx.Linear(5, 2, rngs=nnx.Rngs(0))))
    assert net.autodiff_backward
    report = check_layer(net, (3, 4))
    assert report.ok and report.backward == "autodiff"
    assert check_layer(L.dense(2), (3, 4)).backward == "hand-derived"
    with pytest.raises(ValueError, match="has state besides params"):
        from_linen(nn.BatchNorm(use_running_average=False)).init(jax.random.PRNGKey(0), (4, 3))


def test_a_flax_module_inside_serial_trains_in_jaxdl_train(tmp_path):
    import ml_collections

    from jaxdl.losses import softmax_cross_entropy
    from jaxdl.train import Task, load_digits, sample_rows, train_and_evaluate

    d = load_digits()
    net = with_manual_grad(serial(L.flatten(), from_linen(nn.Dense(32)), L.relu(), L.dense(10)))
    task = Task(
        name="flax_in_serial", data=lambda cfg: {"x": d.x_train, "y": d.y_train},
        init=lambda cfg, data, key: net.init(key, (-1, 1, 8, 8))[1],
        optimizer=lambda cfg: optax.adam(cfg.learning_rate),
        batch=lambda cfg, data, key: {k: v[sample_rows(key, len(d.y_train), cfg.batch_size)] for k, v in data.items()},
        loss=lambda cfg, p, b, key: softmax_cross_entropy.apply(net.apply(p, b["x"]), b["y"]),
        evaluate=lambda cfg, p, data: {"train_accuracy": float(np.mean(
            np.argmax(np.asarray(net.apply(p, jnp.asarray(d.x_train))), axis=1) == d.y_train))},
        plots=lambda *a: [],
    )
    cfg = ml_collections.ConfigDict({"experiment": "flax_in_serial", "seed": 0, "batch_size": 64, "num_steps": 200,
                                     "checkpoint_every": 100, "log_every": 100, "learning_rate": 3e-3})
    summary = train_and_evaluate(task, cfg, str(tmp_path), progress=False)
    assert summary["steps"] == 200 and summary["train_accuracy"] > 0.9
