"""Bad input: a ValueError naming the layer, what was expected and what came, before compute."""

import jax
import jax.numpy as jnp
import pytest

from jaxdl import serial
from jaxdl.layers import conv2d, dense, flatten, global_max_pool, leaky_relu, max_pool2d, relu

DENSE = {"W": jnp.ones((5, 3)), "b": jnp.zeros(3)}

CASES = [
    # (description, call, match)
    ("dense rank", lambda: dense(3).apply(DENSE, jnp.ones((5,))), r"dense: expected an input of shape \(N, \.\.\., D\) \(rank >= 2\); got shape \(5,\) \(rank 1\)"),
    ("dense last axis", lambda: dense(3).apply(DENSE, jnp.ones((2, 5, 1))), r"dense: params do not match the layer for input shape \(2, 5, 1\): expected \{W: \(1, 3\), b: \(3,\)\}; got \{W: \(5, 3\), b: \(3,\)\}"),
    ("dense dtype", lambda: dense(3).apply(DENSE, jnp.ones((2, 5), jnp.int32)), "dense: expected a floating-point input; got dtype int32"),
    ("dense params", lambda: dense(3).apply({"W": jnp.ones((3, 5)), "b": jnp.zeros(3)}, jnp.ones((2, 5))), r"dense: params do not match the layer for input shape \(2, 5\): expected \{W: \(5, 3\), b: \(3,\)\}; got \{W: \(3, 5\), b: \(3,\)\}"),
    ("dense missing leaf", lambda: dense(3).apply({"W": jnp.ones((5, 3))}, jnp.ones((2, 5))), "dense: params do not match"),
    ("dense dy", lambda: dense(3).backward(DENSE, jnp.ones((2, 5)), jnp.ones((2, 4))), r"dense: expected dy of the output's shape \(2, 3\); got \(2, 4\)"),
    ("dense num_outputs", lambda: dense(0), "dense: num_outputs must be an integer >= 1; got 0"),
    ("conv rank", lambda: conv2d(2, 3).init(jax.random.PRNGKey(0), (4, 8, 8)), r"conv2d: expected an input of shape \(N, C, H, W\)"),
    ("conv kernel too large", lambda: conv2d(2, 5, padding="VALID").init(jax.random.PRNGKey(0), (1, 1, 4, 4)), r"conv2d: kernel_size \(5, 5\) is larger than the padded input \(4, 4\)"),
    ("conv padding", lambda: conv2d(2, 3, padding="FULL"), "conv2d: padding must be 'SAME', 'VALID' or an int >= 0; got 'FULL'"),
    ("conv negative padding", lambda: conv2d(2, 3, padding=-1), "conv2d: padding must be"),
    ("conv kernel size", lambda: conv2d(2, (3, 3, 3)), "conv2d: kernel_size must be an int or a pair"),
    ("conv stride", lambda: conv2d(2, 3, stride=0), "conv2d: stride must be an integer >= 1; got 0"),
    ("pool too large", lambda: max_pool2d(3).apply({}, jnp.ones((1, 1, 2, 2))), r"max_pool2d: kernel_size \(3, 3\) is larger than the padded input \(2, 2\)"),
    ("pool params", lambda: max_pool2d().apply({"W": jnp.ones(1)}, jnp.ones((1, 1, 2, 2))), "max_pool2d: params do not match"),
    ("relu dtype", lambda: relu().apply({}, jnp.array([1, 2])), "relu: expected a floating-point input; got dtype int"),
    ("leaky slope", lambda: leaky_relu("0.2"), "leaky_relu: negative_slope must be a finite number; got '0.2'"),
    ("global pool rank", lambda: global_max_pool().apply({}, jnp.ones(3)), r"global_max_pool: expected an input of shape \(N, C, \.\.\.\) or \(N, D\)"),
    ("flatten scalar", lambda: flatten().apply({}, jnp.ones(())), "flatten: expected an input of shape"),
    ("serial argument", lambda: serial(dense(2), "relu"), "serial: argument 1 is not a Layer; got str"),
    ("serial empty", lambda: serial(), "serial: expected at least one layer"),
]


@pytest.mark.parametrize("description, call, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_value_error(description, call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_errors_are_raised_at_trace_time_under_jit():
    # The mismatch is found while tracing: no XLA computation runs, the error is ours.
    with pytest.raises(ValueError, match="dense: params do not match"):
        jax.jit(dense(3).apply)({"W": jnp.ones((4, 3)), "b": jnp.zeros(3)}, jnp.ones((2, 5)))
    with pytest.raises(ValueError, match="conv2d: kernel_size"):
        jax.eval_shape(conv2d(1, 7, padding="VALID").apply,
                       {"W": jnp.ones((1, 1, 7, 7)), "b": jnp.zeros(1)}, jnp.ones((1, 1, 5, 5)))


def test_serial_reports_the_failing_inner_layer():
    net = serial(conv2d(2, 3), flatten(), dense(4))
    _, params = net.init(jax.random.PRNGKey(0), (1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"params do not match the layer for input shape \(1, 1, 5, 5\)"):
        net.apply(params, jnp.ones((1, 1, 5, 5)))
