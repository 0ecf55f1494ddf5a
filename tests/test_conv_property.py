"""Property test: the convolution backward kernels equal autodiff for any geometry.

The reference is forward-mode autodiff: the Jacobian of the forward pass contracted with ``dy``.
(Reverse mode, ``jax.vjp`` of ``lax.conv``, is itself a transposed convolution, and XLA 0.10's
CPU compiler aborts the process on some strided geometries, two of which are pinned below.)
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import example, given, settings
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
@example(dict(n=2, c=2, f=1, hw=(4, 4), kernel=(3, 2), stride=(3, 2), padding=(2, 1), groups=1))
@example(dict(n=1, c=4, f=2, hw=(6, 3), kernel=(3, 3), stride=(3, 3), padding=(2, 1), groups=2))
def test_conv_backward_kernels_equal_autodiff(g):
    pads = explicit_pads(g["padding"], g["hw"], g["kernel"], g["stride"])
    out_hw = output_hw("conv", g["hw"], g["kernel"], g["stride"], pads)
    rng = np.random.default_rng(0)  # numpy's draws: a jax.random draw compiles for every new shape
    x = rng.standard_normal((g["n"], g["c"]) + g["hw"])
    w = rng.standard_normal((g["f"], g["c"] // g["groups"]) + g["kernel"])
    dy = rng.standard_normal((g["n"], g["f"]) + out_hw)

    @jax.jit
    def both(x, w, dy):
        jx, jw = jax.jacfwd(lambda x, w: conv_forward(x, w, g["stride"], pads, g["groups"]), argnums=(0, 1))(x, w)
        manual = (
            conv_backward_input(w, dy, x.shape, g["stride"], pads, g["groups"]),
            conv_backward_weight(x, dy, g["kernel"], g["stride"], pads, g["groups"]),
        )
        return manual, (jnp.einsum("nfhw,nfhw...->...", dy, jx), jnp.einsum("nfhw,nfhw...->...", dy, jw))

    manual, autodiff = both(x, w, dy)
    chex.assert_trees_all_close(manual, autodiff, atol=1e-10, rtol=1e-10)
    assert manual[0].shape == x.shape and manual[1].shape == w.shape
    assert np.isfinite(np.asarray(manual[1])).all()
