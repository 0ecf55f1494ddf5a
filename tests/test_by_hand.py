"""Cases a reader can check by eye: weights of ones, small integer inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.layers import conv2d, dense, global_max_pool, max_pool2d


def test_dense_with_ones():
    x = jnp.array([[1.0, 2.0, 3.0]])
    params = {"W": jnp.ones((3, 2)), "b": jnp.array([1.0, -1.0])}
    layer = dense(2)
    np.testing.assert_array_equal(layer.apply(params, x), [[7.0, 5.0]])
    dparams, dx = layer.backward(params, x, jnp.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(dparams["W"], [[1, 2], [2, 4], [3, 6]])
    np.testing.assert_array_equal(dparams["b"], [1, 2])
    np.testing.assert_array_equal(dx, [[3, 3, 3]])


def test_dense_bias_gradient_sums_over_the_batch():
    params = {"W": jnp.ones((2, 1)), "b": jnp.zeros(1)}
    dparams, _ = dense(1).backward(params, jnp.ones((3, 2)), jnp.array([[1.0], [2.0], [4.0]]))
    np.testing.assert_array_equal(dparams["b"], [7.0])


def test_conv2d_valid_with_a_kernel_of_ones():
    # y[i, j] = x[i,j] + x[i,j+1] + x[i+1,j] + x[i+1,j+1] with x[i, j] = 4i + j: 16i + 4j + 10.
    x = jnp.arange(16.0).reshape(1, 1, 4, 4)
    params = {"W": jnp.ones((1, 1, 2, 2)), "b": jnp.zeros(1)}
    layer = conv2d(1, 2, padding="VALID")
    np.testing.assert_array_equal(layer.apply(params, x)[0, 0], [[10, 14, 18], [26, 30, 34], [42, 46, 50]])
    dparams, dx = layer.backward(params, x, jnp.ones((1, 1, 3, 3)))
    # dx counts the windows covering each pixel; dW[a, b] sums the 3×3 block of x at (a, b).
    np.testing.assert_array_equal(dx[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])
    np.testing.assert_array_equal(dparams["W"][0, 0], [[45, 54], [81, 90]])
    np.testing.assert_array_equal(dparams["b"], [9])


def test_conv2d_same_counts_neighbours_inside_the_image():
    params = {"W": jnp.ones((1, 1, 3, 3)), "b": jnp.array([0.5])}
    y = conv2d(1, 3, padding="SAME").apply(params, jnp.ones((1, 1, 3, 3)))
    np.testing.assert_array_equal(y[0, 0], [[4.5, 6.5, 4.5], [6.5, 9.5, 6.5], [4.5, 6.5, 4.5]])


def test_conv2d_stride_two_and_two_channels():
    # Two input channels of ones and twos; the kernel reads channel 0 with +1 and channel 1 with -1.
    x = jnp.stack([jnp.ones((5, 5)), 2 * jnp.ones((5, 5))])[None]
    w = jnp.stack([jnp.ones((3, 3)), -jnp.ones((3, 3))])[None]
    layer = conv2d(1, 3, stride=2, padding="VALID")
    y = layer.apply({"W": w, "b": jnp.zeros(1)}, x)
    np.testing.assert_array_equal(y, -9 * jnp.ones((1, 1, 2, 2)))
    _, dx = layer.backward({"W": w, "b": jnp.zeros(1)}, x, jnp.ones((1, 1, 2, 2)))
    # The centre column/row is covered by both windows along that axis.
    cover = np.array([1, 1, 2, 1, 1])
    np.testing.assert_array_equal(dx[0, 0], np.outer(cover, cover))
    np.testing.assert_array_equal(dx[0, 1], -np.outer(cover, cover))


def test_max_pool2d_routes_gradient_to_each_maximum():
    x = jnp.array([[1.0, 5, 2, 0], [3, 4, 8, 6], [0, 1, 2, 3], [7, 2, 9, 4]])[None, None]
    layer = max_pool2d(2, 2)
    np.testing.assert_array_equal(layer.apply({}, x)[0, 0], [[5, 8], [7, 9]])
    _, dx = layer.backward({}, x, jnp.array([[1.0, 2], [3, 4]])[None, None])
    expected = np.zeros((4, 4))
    expected[0, 1], expected[1, 2], expected[3, 0], expected[3, 2] = 1, 2, 3, 4
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_max_pool2d_tie_goes_to_the_first_maximum_once():
    _, dx = max_pool2d(2, 2).backward({}, jnp.ones((1, 1, 2, 2)), jnp.array([[[[3.0]]]]))
    np.testing.assert_array_equal(dx[0, 0], [[3, 0], [0, 0]])


def test_max_pool2d_overlapping_windows_add_up():
    # 3×3 windows, stride 1, on a 4×3 column whose maximum (9) is in every window.
    x = jnp.array([[0.0, 1, 0], [2, 9, 3], [0, 1, 0], [4, 0, 5]])[None, None]
    layer = max_pool2d(3, 1)
    np.testing.assert_array_equal(layer.apply({}, x)[0, 0], [[9], [9]])
    _, dx = layer.backward({}, x, jnp.array([[[[1.0], [10.0]]]]))
    assert dx[0, 0, 1, 1] == 11 and float(jnp.abs(dx).sum()) == 11


def test_max_pool2d_drops_incomplete_windows():
    y = max_pool2d(2, 2).apply({}, jnp.arange(25.0).reshape(1, 1, 5, 5))
    np.testing.assert_array_equal(y[0, 0], [[6, 8], [16, 18]])


def test_global_max_pool_by_hand():
    x = jnp.array([[[[1.0, 7], [3, 2]], [[-1, -5], [-2, -3]]]])
    layer = global_max_pool()
    np.testing.assert_array_equal(layer.apply({}, x), [[7, -1]])
    _, dx = layer.backward({}, x, jnp.array([[2.0, 3.0]]))
    np.testing.assert_array_equal(dx, [[[[0, 2], [0, 0]], [[3, 0], [0, 0]]]])
    np.testing.assert_array_equal(layer.apply({}, jnp.array([[1.0, 4, 2]])), [[4.0]])


@pytest.mark.parametrize("padding,expected", [("VALID", (2, 2)), ("SAME", (3, 3)), (1, (3, 3))])
def test_conv2d_output_shapes(padding, expected):
    out_shape, _ = conv2d(2, 3, stride=2, padding=padding).init(jax.random.PRNGKey(0), (-1, 1, 5, 6))
    assert out_shape[2:] == expected


def test_relu_derivative_at_zero_is_zero_for_manual_and_autodiff():
    from jaxdl.layers import relu

    layer = relu()
    x = jnp.array([[-1.0, 0.0, 2.0]])
    _, dx = layer.backward({}, x, jnp.ones((1, 3)))
    np.testing.assert_array_equal(dx, [[0, 0, 1]])
    np.testing.assert_array_equal(jax.grad(lambda v: layer.apply({}, v).sum())(x), [[0, 0, 1]])
