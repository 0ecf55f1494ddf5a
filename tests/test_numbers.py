"""Numbers that never lie: NaN propagates, no NaN where autodiff is finite, empty batches, every
floating dtype, sizes that cannot be computed, labels that are not what a loss assumes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

from jaxdl import cli, serial, with_manual_grad
from jaxdl import layers as L
from jaxdl.errors import InputError
from jaxdl.registry import REGISTRY
from jaxdl.losses import binary_cross_entropy, softmax_cross_entropy


def test_nan_propagates_through_relu_as_through_jax_nn_relu():
    x = jnp.array([np.nan, -1.0, 0.0, 2.0])
    np.testing.assert_array_equal(L.relu().apply({}, x), jax.nn.relu(x))  # [nan, 0, 0, 2]
    assert np.isnan(L.leaky_relu(0.2).apply({}, x)[0])
    # A NaN weight shows in the loss: a dense layer into a ReLU.
    net = serial(L.dense(2), L.relu())
    _, params = net.init(jax.random.PRNGKey(0), (-1, 3))
    params["dense_0"]["W"] = params["dense_0"]["W"].at[0, 0].set(jnp.nan)
    assert np.isnan(float(jnp.sum(net.apply(params, jnp.ones((1, 3))))))


@pytest.mark.parametrize("dtype, value", [(jnp.float16, 4e4), (jnp.float32, 3e38)])
def test_swish_manual_backward_is_finite_where_autodiff_is(dtype, value):
    layer = L.swish(2.0)
    x = jnp.array([value, -value, 1.0], dtype)
    dy = jnp.ones_like(x)
    manual = layer.backward({}, x, dy)[1]
    auto = jax.vjp(lambda v: layer.apply({}, v), x)[1](dy)[0]
    assert np.all(np.isfinite(auto))
    np.testing.assert_allclose(np.asarray(manual, np.float64), np.asarray(auto, np.float64), rtol=1e-2)
    np.testing.assert_array_equal(np.asarray(manual[:2], np.float64), [1.0, 0.0])  # g'(+∞) = 1, g'(−∞) = 0


@pytest.mark.parametrize("name", ["global_max_pool", "flatten", "serial/lab_cnn", "dense", "relu", "conv2d"])
def test_an_empty_batch_gives_an_empty_output(name):
    layer, shape = REGISTRY[name]()
    empty = (0,) + tuple(shape[1:])
    _, params = layer.init(jax.random.PRNGKey(0), shape)
    out_shape, _ = layer.init(jax.random.PRNGKey(0), empty)
    y = layer.apply(params, jnp.zeros(empty))
    assert y.shape == tuple(out_shape) and y.shape[0] == 0
    assert layer.backward(params, jnp.zeros(empty), y)[1].shape == empty


def test_an_empty_batch_has_no_mean_loss():
    with pytest.raises(InputError, match=r"empty batch \(N = 0\)"):
        softmax_cross_entropy.apply(jnp.zeros((0, 3)), jnp.zeros((0,), jnp.int32))


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64])
def test_every_layer_computes_in_its_inputs_dtype(dtype):
    # Traced, not run (jax.eval_shape): the dtypes of the output, dx and dparams.
    for name, make in REGISTRY.items():
        layer, shape = make()
        _, params = layer.init(jax.random.PRNGKey(0), shape)
        x = jax.ShapeDtypeStruct(shape, dtype)
        y = jax.eval_shape(layer.apply, params, x)
        dparams, dx = jax.eval_shape(layer.backward, params, x, y)
        assert (y.dtype, dx.dtype) == (dtype, dtype), name
        assert jax.tree_util.tree_map(lambda g: g.dtype, dparams) == jax.tree_util.tree_map(lambda p: p.dtype, params)
    # Run once, in half precision, for the recurrent layers (their lax.scan carries the dtype).
    for name in ("rnn", "lstm"):
        layer, shape = REGISTRY[name]()
        _, params = layer.init(jax.random.PRNGKey(0), shape)
        assert layer.apply(params, jnp.ones(shape, dtype)).dtype == dtype
    _, params = L.conv2d(2, 3).init(jax.random.PRNGKey(0), (1, 1, 4, 4), dtype=jnp.bfloat16)
    assert {p.dtype for p in jax.tree_util.tree_leaves(params)} == {jnp.dtype(jnp.bfloat16)}


def test_sizes_that_cannot_be_computed_are_refused():
    with pytest.raises(InputError, match=r"conv2d: the padded input would have 4000016000016 pixels per channel"):
        L.conv2d(2, 3, padding=10**6).init(jax.random.PRNGKey(0), (1, 1, 4, 4))


def test_labels_a_loss_cannot_use_are_refused():
    logits = jnp.zeros((2, 3))
    with pytest.raises(InputError, match="row 1 sums to 2"):
        softmax_cross_entropy.apply(logits, jnp.array([[1.0, 0, 0], [1.0, 1.0, 0]]))
    with pytest.raises(InputError, match=r"labels must lie in \[0, 1\]; got 2 at index \(1,\)"):
        binary_cross_entropy.apply(jnp.zeros(2), jnp.array([1.0, 2.0]))
    assert float(softmax_cross_entropy.apply(logits, jnp.array([[0.5, 0.5, 0], [0, 0, 1.0]]))) == pytest.approx(np.log(3))


def test_a_non_finite_exam_answer_is_a_failed_check(capsys):
    assert cli.main(["exam", "gan", "--config.learning_rate=1e999"]) == 1
    assert "FAILED: gan: the answer holds a non-finite number" in capsys.readouterr().out


def test_forward_mode_through_the_manual_backward_is_refused_clearly():
    net = with_manual_grad(L.dense(2))
    _, params = net.init(jax.random.PRNGKey(0), (-1, 3))
    with pytest.raises(TypeError, match="can't apply forward-mode autodiff \\(jvp\\) to a custom_vjp function"):
        jax.jvp(lambda x: net.apply(params, x), (jnp.ones((2, 3)),), (jnp.ones((2, 3)),))


def test_manual_grad_under_shard_map_with_replicated_params():
    # The documented workaround: mark the replicated params as per-device values inside.
    net = with_manual_grad(serial(L.dense(8), L.relu(), L.dense(1)))
    _, params = net.init(jax.random.PRNGKey(0), (-1, 3))
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 3))
    mesh = Mesh(np.array(jax.devices()[:1]), ("data",))

    def per_shard(p, x):
        p = jax.lax.pcast(p, "data", to="varying")
        return jax.lax.pmean(jax.grad(lambda p: jnp.mean(net.apply(p, x) ** 2))(p), "data")

    grads = jax.jit(jax.shard_map(per_shard, mesh=mesh, in_specs=(P(), P("data")), out_specs=P()))(params, x)
    ref = jax.grad(lambda p: jnp.mean(net.apply(p, x) ** 2))(params)
    for a, b in zip(jax.tree_util.tree_leaves(grads), jax.tree_util.tree_leaves(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
