"""``with_manual_grad`` networks give autodiff's gradients, by running the hand-derived passes."""

import dataclasses

import chex
import jax
import jax.numpy as jnp
import optax
import pytest

from jaxdl import losses, serial, with_manual_grad
from jaxdl.layers import conv2d, dense, flatten, leaky_relu, max_pool2d, relu, sigmoid

TOL = dict(atol=1e-10, rtol=1e-10)


def _lab_cnn():
    return serial(conv2d(3, 3), relu(), max_pool2d(2, 2), flatten(), dense(8), sigmoid(), dense(4))


def _data(key, shape=(5, 1, 6, 6), classes=4):
    kx, ky = jax.random.split(key)
    return jax.random.normal(kx, shape), jax.random.randint(ky, (shape[0],), 0, classes)


@pytest.mark.parametrize("jit", [False, True])
def test_manual_network_gradient_equals_autodiff(key, jit):
    # Op-by-op (jit=False) compiles every small operation on first use: a smaller net there.
    if jit:
        net, x_shape = _lab_cnn(), (5, 1, 6, 6)
    else:
        net, x_shape = serial(dense(6), relu(), dense(4)), (5, 3)
    _, params = net.init(key, (-1,) + x_shape[1:])
    x, y = _data(key, x_shape)
    reg = losses.l2_regularizer(1e-2)

    def objective(model, loss):
        return lambda p: loss.apply(model.apply(p, x), y) + reg.apply(p)

    manual = jax.grad(objective(with_manual_grad(net), with_manual_grad(losses.softmax_cross_entropy)))
    auto = jax.grad(objective(net, losses.softmax_cross_entropy))
    if jit:
        manual, auto = jax.jit(manual), jax.jit(auto)
    chex.assert_trees_all_close(manual(params), auto(params), **TOL)


def test_manual_grad_really_runs_the_hand_derived_backward(key):
    layer = dense(2)
    doubled = dataclasses.replace(
        layer, backward=lambda p, x, dy: jax.tree_util.tree_map(lambda g: 2 * g, layer.backward(p, x, dy))
    )
    _, params = layer.init(key, (3, 4))
    x = jnp.ones((3, 4))
    g_manual = jax.grad(lambda p: with_manual_grad(doubled).apply(p, x).sum())(params)
    g_auto = jax.grad(lambda p: layer.apply(p, x).sum())(params)
    chex.assert_trees_all_close(g_manual, jax.tree_util.tree_map(lambda g: 2 * g, g_auto), **TOL)


def test_manual_input_gradient_and_float32_params(key):
    net = serial(dense(4), leaky_relu(0.2), dense(1))
    _, params = net.init(key, (-1, 3))
    params32 = jax.tree_util.tree_map(lambda a: a.astype(jnp.float32), params)
    x = jax.random.normal(key, (6, 3), jnp.float32)
    g_manual = jax.grad(lambda v: with_manual_grad(net).apply(params32, v).sum())(x)
    g_auto = jax.grad(lambda v: net.apply(params32, v).sum())(x)
    assert g_manual.dtype == jnp.float32
    chex.assert_trees_all_close(g_manual, g_auto, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("loss", [losses.softmax_cross_entropy, losses.binary_cross_entropy])
def test_manual_loss_gradient_equals_autodiff(key, loss):
    logits = 3 * jax.random.normal(key, (6, 4))
    if loss is losses.softmax_cross_entropy:
        labels = jax.random.randint(key, (6,), 0, 4)
    else:
        labels = jax.random.bernoulli(key, 0.5, (6, 4)).astype(jnp.float64)
    manual = jax.grad(lambda s: with_manual_grad(loss).apply(s, labels))(logits)
    chex.assert_trees_all_close(manual, jax.grad(loss.apply)(logits, labels), **TOL)
    chex.assert_trees_all_close(manual, loss.backward(logits, labels), **TOL)


def test_serial_backward_chains_the_layers(key):
    a, b = dense(3), dense(2)
    net = serial(a, relu(), b)
    _, params = net.init(key, (4, 5))
    x = jax.random.normal(key, (4, 5))
    dy = jnp.ones((4, 2))
    dparams, dx = net.backward(params, x, dy)
    h = a.apply(params["dense_0"], x)
    db, dh_relu = b.backward(params["dense_2"], jnp.maximum(h, 0), dy)
    da, dx_ref = a.backward(params["dense_0"], x, dh_relu * (h > 0))
    chex.assert_trees_all_close((dparams["dense_2"], dparams["dense_0"], dx), (db, da, dx_ref), **TOL)


def test_one_optax_step_on_manual_grads_matches_autodiff(key):
    net = _lab_cnn()
    _, params = net.init(key, (-1, 1, 6, 6))
    x, y = _data(key)
    opt = optax.sgd(0.1)

    def step(model, loss):
        g = jax.jit(jax.grad(lambda p: loss.apply(model.apply(p, x), y)))(params)
        updates, _ = opt.update(g, opt.init(params), params)
        return optax.apply_updates(params, updates)

    chex.assert_trees_all_close(
        step(with_manual_grad(net), with_manual_grad(losses.softmax_cross_entropy)),
        step(net, losses.softmax_cross_entropy),
        **TOL,
    )


def test_with_manual_grad_rejects_other_objects():
    with pytest.raises(ValueError, match="with_manual_grad: expected a Layer or a Loss; got int"):
        with_manual_grad(3)


def test_the_lstm_trains_on_its_forward_residuals():
    """with_manual_grad keeps the LSTM's gates and states from the forward pass (no second forward
    scan): the gradients equal autodiff's in float64, and the residual path is the one taken."""
    import jax
    import jax.numpy as jnp

    from jaxdl.core import with_manual_grad
    from jaxdl.layers import lstm

    layer = lstm(5)
    assert layer.forward_with_residuals is not None and layer.backward_from_residuals is not None
    with jax.enable_x64(True):
        key = jax.random.PRNGKey(3)
        _, params = layer.init(key, (4, 7, 3), dtype=jnp.float64)
        x = jax.random.normal(jax.random.fold_in(key, 1), (4, 7, 3), jnp.float64)
        w = jax.random.normal(jax.random.fold_in(key, 2), (4, 7, 5), jnp.float64)
        manual = with_manual_grad(layer)

        def loss(apply):
            return lambda p, x: jnp.sum(jnp.sin(apply(p, x)) * w)

        got = jax.jit(jax.grad(loss(manual.apply), argnums=(0, 1)))(params, x)
        want = jax.jit(jax.grad(loss(layer.apply), argnums=(0, 1)))(params, x)
        for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
            assert float(jnp.max(jnp.abs(a - b))) < 1e-12
        # One forward scan, not two: the backward reads the residuals the forward kept.
        jaxpr = str(jax.make_jaxpr(jax.grad(loss(manual.apply)))(params, x))
        assert jaxpr.count("scan[") == 2  # the forward's and the backward's
