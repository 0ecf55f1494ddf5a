"""The course's own layers (quiz Q1–Q3, exam E2): hand cases, pooling identities, round trips."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from jax import lax

from jaxdl.layers import (
    additive_coupling,
    avg_pool2d,
    conv_avg_pool2d,
    quadratic,
    res_block,
    scaling,
    squeeze2d,
    swish,
)
from jaxdl.layers.pooling import avg_pool_weight


# --- Q1a quadratic ---------------------------------------------------------------------------


def test_quadratic_by_hand():
    # y = A (x ⊙ x) + b x + c with x = (1, 2), A = [[1, 1], [0, 1]], b = 2, c = (1, 0).
    layer = quadratic(2.0)
    params = {"A": jnp.array([[1.0, 1.0], [0.0, 1.0]]), "c": jnp.array([1.0, 0.0])}
    x = jnp.array([[1.0, 2.0]])
    np.testing.assert_array_equal(layer.apply(params, x), [[1 + 4 + 2 + 1, 4 + 4]])
    dparams, dx = layer.backward(params, x, jnp.array([[1.0, 0.0]]))
    # ∂L/∂x = 2x ⊙ (dy A) + b dy = 2·(1, 2) ⊙ (1, 1) + (2, 0)
    np.testing.assert_array_equal(dx, [[4.0, 4.0]])
    np.testing.assert_array_equal(dparams["A"], [[1.0, 4.0], [0.0, 0.0]])
    np.testing.assert_array_equal(dparams["c"], [1.0, 0.0])


def test_quadratic_jacobian_is_2_A_diag_x_plus_b_identity(key):
    # The quiz's solution writes ∂y/∂x = 2 A diag(x) + b and codes 2·A⊙diag(x) + b; both are wrong.
    layer = quadratic(0.7)
    _, params = layer.init(key, (1, 4))
    x = jax.random.normal(key, (4,))
    jac = jax.jacobian(lambda v: layer.apply(params, v[None])[0])(x)
    a = np.asarray(params["A"], np.float64)
    np.testing.assert_allclose(jac, 2 * a @ np.diag(x) + 0.7 * np.eye(4), rtol=1e-6, atol=1e-6)
    official = 2 * a * np.diag(x) + 0.7
    assert np.abs(official - jac).max() > 0.1


def test_quadratic_with_b_zero_accepts_any_output_width(key):
    out_shape, params = quadratic(0.0, num_outputs=3).init(key, (-1, 5))
    assert out_shape == (-1, 3) and params["A"].shape == (3, 5)


# --- Q1b swish -------------------------------------------------------------------------------


def test_swish_values_and_derivative_by_hand():
    layer = swish(1.0)
    x = jnp.array([[0.0, 2.0]])
    s2 = 1 / (1 + np.exp(-2.0))
    np.testing.assert_allclose(layer.apply({}, x), [[0.0, 2 * s2]], rtol=1e-12)
    _, dx = layer.backward({}, x, jnp.ones((1, 2)))
    np.testing.assert_allclose(dx, [[0.5, s2 + 2 * s2 * (1 - s2)]], rtol=1e-12)


@pytest.mark.parametrize("beta", [1.0, 10.0])
def test_swish_is_finite_at_1e4_in_float32(beta):
    layer = swish(beta)
    x = jnp.array([[1e4, -1e4, 1e3 / beta, -1e3 / beta]], jnp.float32)
    y = layer.apply({}, x)
    _, dx = layer.backward({}, x, jnp.ones_like(x))
    assert y.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(y))) and bool(jnp.all(jnp.isfinite(dx)))
    np.testing.assert_allclose(y, [[1e4, 0, 1e3 / beta, 0]], atol=1e-3)
    np.testing.assert_allclose(dx, [[1, 0, 1, 0]], atol=1e-6)


# --- Q2 average pooling by convolution -------------------------------------------------------


def _reference_avg_pool(x, k):
    return lax.reduce_window(x, 0.0, lax.add, (1, 1, k, k), (1, 1, k, k), "VALID") / (k * k)


@pytest.mark.parametrize("hw", [(8, 8), (5, 6), (7, 9), (3, 4)])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_every_pooling_form_equals_reduce_window_and_flax(key, hw, k):
    if k > min(hw):
        pytest.skip("k larger than the image")
    x = jax.random.normal(key, (2, 3) + hw)
    expected = _reference_avg_pool(x, k)
    flax_nhwc = nn.avg_pool(x.transpose(0, 2, 3, 1), (k, k), strides=(k, k), padding="VALID")
    chex.assert_trees_all_close(flax_nhwc.transpose(0, 3, 1, 2), expected, atol=1e-12, rtol=1e-12)
    for layer in (conv_avg_pool2d(3, k), conv_avg_pool2d(3, k, form="depthwise"), avg_pool2d(k)):
        chex.assert_trees_all_close(layer.apply({}, x), expected, atol=1e-12, rtol=1e-12)
        # The backward is the transpose of the (linear) pooling: ⟨P x, dy⟩ = ⟨x, Pᵀ dy⟩.
        dy = jax.random.normal(jax.random.PRNGKey(1), expected.shape)
        _, dx = layer.backward({}, x, dy)
        assert float(jnp.vdot(layer.apply({}, x), dy)) == pytest.approx(float(jnp.vdot(x, dx)), rel=1e-12)


def test_pooling_by_convolution_has_no_trainable_parameter():
    for form in ("dense", "depthwise"):
        out_shape, params = conv_avg_pool2d(4, 2, form=form).init(jax.random.PRNGKey(0), (-1, 4, 6, 6))
        assert params == {} and out_shape == (-1, 4, 3, 3)


def test_the_exams_dense_weight():
    w = np.asarray(avg_pool_weight(3, 2, "dense"))
    assert w.shape == (3, 3, 2, 2)
    for o in range(3):
        for i in range(3):
            np.testing.assert_array_equal(w[o, i], np.full((2, 2), 0.25 if o == i else 0.0))
    assert avg_pool_weight(3, 2, "depthwise").shape == (3, 1, 2, 2)


def test_pooling_drops_the_remainder_by_hand():
    x = jnp.arange(25.0).reshape(1, 1, 5, 5)
    # Windows {0,1,5,6}, {2,3,7,8}, {10,11,15,16}, {12,13,17,18}; row 4 and column 4 are dropped.
    np.testing.assert_array_equal(avg_pool2d(2).apply({}, x)[0, 0], [[3.0, 5.0], [13.0, 15.0]])
    _, dx = avg_pool2d(2).backward({}, x, jnp.ones((1, 1, 2, 2)))
    assert float(dx[0, 0, :4, :4].min()) == 0.25 and float(jnp.abs(dx[0, 0, 4]).max()) == 0.0


# --- Q3 additive coupling --------------------------------------------------------------------


def test_coupling_by_hand_is_the_quizs_formula():
    # C = 2: y1 = x1, y2 = x2 + w·ReLU(x1) + b with w = 2, b = 1.
    layer = additive_coupling(2)
    params = {"relu_0": {}, "conv2d_1": {"W": jnp.full((1, 1, 1, 1), 2.0), "b": jnp.array([1.0])}}
    x = jnp.array([[-1.0, 3.0], [2.0, 3.0]]).reshape(2, 2, 1, 1)
    y = layer.apply(params, x)
    np.testing.assert_array_equal(y.reshape(2, 2), [[-1.0, 4.0], [2.0, 8.0]])
    np.testing.assert_array_equal(layer.inverse(params, y), x)
    dparams, dx = layer.backward(params, x, jnp.ones((2, 2, 1, 1)))
    # ∂L/∂x1 = 1 + w·[x1 > 0], ∂L/∂x2 = 1; ∂L/∂w = Σ ReLU(x1) = 2, ∂L/∂b = 2.
    np.testing.assert_array_equal(dx.reshape(2, 2), [[1.0, 1.0], [3.0, 1.0]])
    assert float(dparams["conv2d_1"]["W"].squeeze()) == 2.0 and float(dparams["conv2d_1"]["b"][0]) == 2.0


def test_coupling_parity_decides_the_kept_half(key):
    x = jax.random.normal(key, (2, 4, 3, 3))
    for parity, kept in ((0, slice(0, 2)), (1, slice(2, 4))):
        layer = additive_coupling(4, parity=parity)
        _, params = layer.init(key, x.shape)
        y = layer.apply(params, x)
        np.testing.assert_array_equal(y[:, kept], x[:, kept])
        assert float(jnp.abs(y - x).max()) > 0
        np.testing.assert_array_equal(layer.log_det(params, x), np.zeros(2))


class RoundTripTest(chex.TestCase):
    """``inverse(forward(x)) == x`` with and without jit, in float64 and float32."""

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.named_parameters(
        ("coupling_f64", "coupling", jnp.float64, 1e-12),
        ("coupling_f32", "coupling", jnp.float32, 1e-5),
        ("squeeze_f64", "squeeze", jnp.float64, 0.0),
        ("scaling_f32", "scaling", jnp.float32, 1e-5),
    )
    def test_round_trip(self, which, dtype, tol):
        layer, shape = {
            "coupling": (additive_coupling(6, hidden=(8,), parity=1), (3, 6, 4, 4)),
            "squeeze": (squeeze2d(2), (2, 3, 4, 6)),
            "scaling": (scaling(), (3, 2, 3, 3)),
        }[which]
        key = jax.random.PRNGKey(7)
        _, params = layer.init(key, shape)
        rng = np.random.default_rng(7)  # numpy's draws: no program to compile per shape and dtype
        params = jax.tree_util.tree_map(
            lambda p: jnp.asarray((np.asarray(p) + 0.5 * rng.standard_normal(p.shape)).astype(dtype)), params)
        x = jnp.asarray((3 * rng.standard_normal(shape)).astype(dtype))
        y = self.variant(layer.apply)(params, x)
        back = self.variant(layer.inverse)(params, y)
        assert back.dtype == dtype
        err = float(jnp.max(jnp.abs(back - x)) / jnp.max(jnp.abs(x)))
        assert err <= tol
        if which != "squeeze":
            assert float(jnp.max(jnp.abs(y - x))) > 0.1  # the layer did something


def test_squeeze_moves_each_2x2_block_into_channels():
    x = jnp.arange(16.0).reshape(1, 1, 4, 4)
    y = squeeze2d(2).apply({}, x)
    assert y.shape == (1, 4, 2, 2)
    np.testing.assert_array_equal(y[0, :, 0, 0], [0, 1, 4, 5])  # the top-left block
    np.testing.assert_array_equal(y[0, 3], [[5, 7], [13, 15]])  # bottom-right of every block


# --- E2 residual block -----------------------------------------------------------------------


def test_res_block_by_hand():
    layer = res_block()
    params = {"W": jnp.eye(2), "b": jnp.zeros(2)}
    x = jnp.array([[1.0, -2.0]])
    np.testing.assert_array_equal(layer.apply(params, x), [[2.0, -2.0]])
    dparams, dx = layer.backward(params, x, jnp.ones((1, 2)))
    # ∂L/∂H = (1, 0); ∂L/∂W = xᵀ ∂L/∂H; ∂L/∂x = ∂L/∂out + ∂L/∂H Wᵀ = (2, 1).
    np.testing.assert_array_equal(dparams["W"], [[1.0, 0.0], [-2.0, 0.0]])
    np.testing.assert_array_equal(dparams["b"], [1.0, 0.0])
    np.testing.assert_array_equal(dx, [[2.0, 1.0]])


# --- bad input -------------------------------------------------------------------------------

KEY = jax.random.PRNGKey(0)
BAD = [
    ("coupling odd C", lambda: additive_coupling(3), "additive_coupling: channel count must be even; got C=3"),
    ("coupling parity", lambda: additive_coupling(4, parity=2), "additive_coupling: parity must be 0 or 1; got 2"),
    ("coupling channels", lambda: additive_coupling(4).init(KEY, (2, 6, 3, 3)), "additive_coupling: expected C=4 input channels; got C=6"),
    ("coupling rank", lambda: additive_coupling(4).init(KEY, (2, 4)), r"additive_coupling: expected an input of shape \(N, C, H, W\)"),
    ("pool k < 1", lambda: conv_avg_pool2d(3, 0), "conv_avg_pool2d: k must be an integer >= 1; got 0"),
    ("pool k > H", lambda: conv_avg_pool2d(3, 5).init(KEY, (1, 3, 4, 8)), r"conv_avg_pool2d: k=5 is larger than the input's height×width 4×8"),
    ("pool channels", lambda: conv_avg_pool2d(3, 2).init(KEY, (1, 2, 4, 4)), r"conv_avg_pool2d: expected C=3 input channels \(the fixed weight is \(3, 3, 2, 2\)\); got C=2"),
    ("pool form", lambda: conv_avg_pool2d(3, 2, form="sparse"), "conv_avg_pool2d: form must be 'dense' or 'depthwise'; got 'sparse'"),
    ("avg pool k > W", lambda: avg_pool2d(4).apply({}, jnp.ones((1, 1, 8, 3))), "avg_pool2d: k=4 is larger than the input's height×width 8×3"),
    ("avg pool rank", lambda: avg_pool2d(2).apply({}, jnp.ones((8, 8))), r"avg_pool2d: expected an input of shape \(N, C, H, W\)"),
    ("quadratic M != D", lambda: quadratic(1.0, num_outputs=3).init(KEY, (4, 5)), "quadratic: the b·X term needs num_outputs == D; got num_outputs=3 for D=5"),
    ("quadratic rank", lambda: quadratic(1.0).init(KEY, (4, 5, 1)), r"quadratic: expected an input of shape \(N, D\)"),
    ("quadratic b", lambda: quadratic(float("nan")), "quadratic: b must be a finite number; got nan"),
    ("swish beta", lambda: swish("1"), "swish: beta must be a finite number; got '1'"),
    ("res_block rank", lambda: res_block().init(KEY, (4,)), r"res_block: expected an input of shape \(N, D\)"),
    ("squeeze odd", lambda: squeeze2d(2).init(KEY, (1, 1, 5, 4)), "squeeze2d: height and width must be divisible by factor 2; got 5×4"),
]


@pytest.mark.parametrize("description, call, match", BAD, ids=[b[0] for b in BAD])
def test_bad_input(description, call, match):
    with pytest.raises(ValueError, match=match):
        call()
