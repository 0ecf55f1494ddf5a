"""Property test: the convolution backward kernels equal autodiff for any geometry."""

import chex
import jax
import jax.numpy as jnp
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.layers.conv import conv_backward_input, conv_backward_weight, conv_forward, explicit_pads, output_hw


@st.composite
def geometries(draw):
    groups = draw(st.sampled_from([1, 2]))
    c = groups * draw(st.integers(1, 2))
    f = groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["SAME", "VALID", (1, 0), (2, 1)]))
    h, w = draw(st.integers(kh, 7)), draw(st.integers(kw, 7))
    return dict(n=draw(st.integers(1, 2)), c=c, f=f, hw=(h, w), kernel=(kh, kw), stride=(sh, sw),
                padding=padding, groups=groups)


@settings(max_examples=20, deadline=None)
@given(geometries())
def test_conv_backward_kernels_equal_autodiff(g):
    pads = explicit_pads(g["padding"], g["hw"], g["kernel"], g["stride"])
    out_hw = output_hw("conv", g["hw"], g["kernel"], g["stride"], pads)
    kx, kw_, kdy = jax.random.split(jax.random.PRNGKey(0), 3)
    x = jax.random.normal(kx, (g["n"], g["c"]) + g["hw"])
    w = jax.random.normal(kw_, (g["f"], g["c"] // g["groups"]) + g["kernel"])
    dy = jax.random.normal(kdy, (g["n"], g["f"]) + out_hw)

    @jax.jit
    def both(x, w, dy):
        _, vjp = jax.vjp(lambda x, w: conv_forward(x, w, g["stride"], pads, g["groups"]), x, w)
        manual = (
            conv_backward_input(w, dy, x.shape, g["stride"], pads, g["groups"]),
            conv_backward_weight(x, dy, g["kernel"], g["stride"], pads, g["groups"]),
        )
        return manual, vjp(dy)

    manual, autodiff = both(x, w, dy)
    chex.assert_trees_all_close(manual, autodiff, atol=1e-10, rtol=1e-10)
    assert manual[0].shape == x.shape and manual[1].shape == w.shape
    assert jnp.all(jnp.isfinite(manual[1]))
