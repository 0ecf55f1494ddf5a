"""The NICE flow: change of variables against jax.jacobian, normalisation, round trips."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized

from jaxdl.models import nice


def _noisy_params(flow, key, scale=0.3):
    # numpy's draws: a jax.random draw (and the sum) would compile for every parameter's shape
    rng = np.random.default_rng(np.asarray(key).tolist())
    return jax.tree_util.tree_map(lambda p: jnp.asarray(np.asarray(p) + scale * rng.standard_normal(p.shape)),
                                  flow.init(key))


@pytest.mark.parametrize("prior", ["logistic", "gaussian"])
def test_log_prob_is_the_change_of_variables_formula(key, prior):
    flow = nice((1, 4, 4), num_couplings=4, hidden=(8,), prior=prior)
    params = _noisy_params(flow, key)
    x = jax.random.normal(key, (3, 1, 4, 4))

    def f(v):
        return flow.forward(params, v.reshape(1, 1, 4, 4)).reshape(-1)

    for i in range(3):
        jac = jax.jacobian(f)(x[i].reshape(-1))
        _, log_abs_det = np.linalg.slogdet(np.asarray(jac))
        z = np.asarray(f(x[i].reshape(-1)))
        if prior == "logistic":
            log_pz = np.sum(-z - 2 * np.log1p(np.exp(-z)))
        else:
            log_pz = np.sum(-0.5 * z**2 - 0.5 * np.log(2 * np.pi))
        assert float(flow.log_prob(params, x[i : i + 1])[0]) == pytest.approx(log_pz + log_abs_det, rel=1e-10)
        assert float(flow.log_det(params, x[i : i + 1])[0]) == pytest.approx(log_abs_det, abs=1e-10)
    # Only the scaling layer changes volume: log-det = Σ s.
    (s,) = [p["s"] for name, p in params.items() if name.startswith("scaling")]
    assert float(flow.log_det(params, x)[0]) == pytest.approx(float(s.sum()), rel=1e-12)


@pytest.mark.parametrize("prior", ["logistic", "gaussian"])
def test_two_dimensional_density_integrates_to_one(prior):
    flow = nice((2,), num_couplings=4, hidden=(16, 16), prior=prior)
    # Fixed, modest params: large random coupling weights shear the density into tails that
    # reach far beyond any grid, which would test the grid rather than the flow.
    params = _noisy_params(flow, jax.random.PRNGKey(0), scale=0.05)
    grid = jnp.linspace(-40.0, 40.0, 801)
    step = float(grid[1] - grid[0])
    xx, yy = jnp.meshgrid(grid, grid)
    density = jnp.exp(jax.jit(flow.log_prob)(params, jnp.stack([xx.ravel(), yy.ravel()], axis=1)))
    assert float(density.sum()) * step * step == pytest.approx(1.0, abs=1e-3)


class FlowRoundTripTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.named_parameters(("init_params", 0.0), ("noisy_params", 0.1))
    def test_round_trip_float64_and_float32(self, noise):
        flow = nice((1, 8, 8), num_couplings=4, hidden=(32,))
        key = jax.random.PRNGKey(2)
        for dtype, tol in ((jnp.float64, 1e-12), (jnp.float32, 1e-5)):
            params = jax.tree_util.tree_map(lambda p: p.astype(dtype), _noisy_params(flow, key, noise))
            x = jax.random.uniform(key, (5, 1, 8, 8), dtype)
            z = self.variant(flow.forward)(params, x)
            back = self.variant(flow.inverse)(params, z)
            assert back.dtype == dtype
            # Relative to the largest value the computation carries: each coupling's inverse
            # subtracts h(y1) from a y2 as large as z, so rounding scales with max|z|.
            scale = max(float(jnp.max(jnp.abs(x))), float(jnp.max(jnp.abs(z))))
            assert float(jnp.max(jnp.abs(back - x))) <= tol * scale


def test_samples_come_from_the_inverse_of_prior_draws(key):
    flow = nice((2,), num_couplings=2, hidden=(8,))
    params = _noisy_params(flow, key)
    x = flow.sample(params, key, 500)
    assert x.shape == (500, 2) and bool(jnp.all(jnp.isfinite(x)))
    z = flow.forward(params, x)
    chex.assert_trees_all_close(z, jax.random.logistic(key, (500, 2)), atol=1e-10, rtol=1e-10)


def test_full_squeeze_reaches_one_pixel():
    flow = nice((1, 8, 8), num_couplings=2, hidden=())
    names = list(flow.init(jax.random.PRNGKey(0)))
    assert sum(n.startswith("squeeze2d") for n in names) == 3
    assert flow.init(jax.random.PRNGKey(0))["additive_coupling_3"]["conv2d_1"]["W"].shape == (32, 32, 1, 1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(event_shape=(3,)), "nice: the couplings need an even channel count after squeezing; got C=3"),
        (dict(event_shape=(1, 8)), r"nice: event_shape must be \(C, H, W\) or \(D,\)"),
        (dict(event_shape=(1, 6, 6), squeezes=2), "nice: cannot squeeze 2 times"),
        (dict(event_shape=(2,), prior="uniform"), "nice: prior must be 'logistic' or 'gaussian'; got 'uniform'"),
    ],
)
def test_bad_flow_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nice(**kwargs)


def test_flow_rejects_wrong_event_shape(key):
    flow = nice((2,), num_couplings=2, hidden=(4,))
    with pytest.raises(ValueError, match=r"nice: expected x of shape \(N,\) \+ \(2,\); got shape \(5, 3\)"):
        flow.log_prob(flow.init(key), jnp.zeros((5, 3)))


def test_odd_even_coupling_by_hand():
    # h = dense with W = I, b = 0: the odd entries receive the even ones, y = [a, b+a, c, d+c].
    from jaxdl.layers import additive_coupling, dense

    layer = additive_coupling(4, partition="odd_even", net=dense(2))
    params = {"W": jnp.eye(2), "b": jnp.zeros(2)}
    x = jnp.array([[1.0, 10.0, 2.0, 20.0]])
    np.testing.assert_array_equal(layer.apply(params, x), [[1.0, 11.0, 2.0, 22.0]])
    np.testing.assert_array_equal(layer.inverse(params, layer.apply(params, x)), x)
    swapped = additive_coupling(4, parity=1, partition="odd_even", net=dense(2))  # the even ones receive
    np.testing.assert_array_equal(swapped.apply(params, x), [[11.0, 10.0, 22.0, 20.0]])


def test_nice_mlp_is_nice_mnist_shaped():
    from jaxdl.models.nice import nice_mlp

    flow = nice_mlp(784)
    params = flow.init(jax.random.PRNGKey(0))
    sizes = [int(np.prod(p.shape)) for p in jax.tree_util.tree_leaves(params)]
    # 4 couplings of 392 → 1000 ×5 → 392 dense layers, and the 784 scales.
    per_coupling = 392 * 1000 + 1000 + 4 * (1000 * 1000 + 1000) + 1000 * 392 + 392
    assert sum(sizes) == 4 * per_coupling + 784
    with pytest.raises(ValueError, match="the dimension must be even"):
        nice_mlp(7)


def test_reversible_nice_has_the_storing_gradients_in_float64():
    # The same flow composed with jaxdl.reversible: its backward rebuilds every input from the
    # output with the inverses, and the gradients equal the storing version's.
    import dataclasses

    from jaxdl.core import with_manual_grad

    storing, rev = (nice((1, 4, 4), num_couplings=6, hidden=(5,), reversible_stack=r) for r in (False, True))
    params = _noisy_params(storing, jax.random.PRNGKey(3))
    x = jax.random.uniform(jax.random.PRNGKey(4), (5, 1, 4, 4), jnp.float64)

    def grads(flow):
        manual = dataclasses.replace(flow, bijection=with_manual_grad(flow.bijection))
        return jax.grad(lambda p, x: jnp.sum(manual.log_prob(p, x) * jnp.arange(1.0, 6.0)), argnums=(0, 1))(params, x)

    np.testing.assert_allclose(rev.log_prob(params, x), storing.log_prob(params, x), rtol=1e-12)
    chex.assert_trees_all_close(grads(rev), grads(storing), atol=1e-10, rtol=1e-10)
    with pytest.raises(ValueError, match=r"reversible: every layer must be invertible; argument 1 \(relu\) has no inverse"):
        from jaxdl import layers, reversible

        reversible(layers.scaling(), layers.relu())


def test_the_reversible_ordering_tie_changes_no_bit():
    # core._after ties a rebuilt input to the incoming gradient; adding its −0.0 leaves every float
    # as it was — −0.0, inf and NaN included — and an inf or NaN gradient does not leak into y.
    from jaxdl import core, layers, reversible, serial
    from jaxdl.core import with_manual_grad

    y = jnp.array([-0.0, 0.0, jnp.inf, -jnp.inf, jnp.nan, 1.5])
    for d in (jnp.inf, -jnp.inf, jnp.nan, 1e300, -0.0):
        tied = core._after(y, jnp.array([d, 1.0]))
        assert np.asarray(tied).tobytes() == np.asarray(y).tobytes(), d
    assert core._after(y.astype(jnp.float16), jnp.array([1e300, 1.0])).tobytes() == y.astype(jnp.float16).tobytes()
    # A stack's gradients with an infinite entry in dy: the reversible one is the storing one's.
    stack = [layers.additive_coupling(16, parity=i % 2) for i in range(2)]
    _, params = serial(*stack).init(jax.random.PRNGKey(0), (2, 16, 2, 2))
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 16, 2, 2), jnp.float32)
    dy = jnp.ones_like(x).at[0, 0, 0, 0].set(jnp.inf)
    got, want = (with_manual_grad(c(*stack)).backward(params, x, dy) for c in (reversible, serial))
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(np.nan_to_num(a), np.nan_to_num(b), rtol=1e-5)
