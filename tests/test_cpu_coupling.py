"""jaxdl's CPU kernels for the quiz's coupling (``jaxdl.layers.cpu_coupling``): float32 couplings
with ``h = Conv1×1 ∘ ReLU`` on halves of C = 16k channels run on them, equal the XLA formulation in
float64 to float32 rounding (forward, inverse, hand-derived backward), behave as any JAX function
under grad and jvp, are deterministic whatever the threads or devices, and fall back to XLA's."""

import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import layers as L
from jaxdl.core import with_manual_grad
from jaxdl.layers import cpu_coupling, flow

pytestmark = pytest.mark.skipif(shutil.which(os.environ.get("CXX", "c++")) is None, reason="no C++ compiler")


def _reference(x, w, b, kept, sign):
    """The coupling written out in float64 numpy: y_kept = x_kept, y_shift = x_shift ± (w relu(x_kept) + b)."""
    half = w.shape[0]
    x = x.astype(np.float64)
    x_kept, x_shift = (x[:, :half], x[:, half:]) if kept == 0 else (x[:, half:], x[:, :half])
    h = np.einsum("fc,nchw->nfhw", w.astype(np.float64), np.maximum(x_kept, 0)) + b.astype(np.float64)[:, None, None]
    y_shift = x_shift + sign * h
    return np.concatenate((x_kept, y_shift) if kept == 0 else (y_shift, x_kept), axis=1)


def _calls(f, *a):
    return str(jax.make_jaxpr(f)(*a)).count("ffi_call")


def test_the_quiz_coupling_in_float32_runs_on_the_kernels():
    assert cpu_coupling.status().startswith("jaxdl's CPU kernels"), cpu_coupling.status()
    x = jnp.zeros((2, 16, 3, 3), jnp.float32)
    for layer, calls in [(L.additive_coupling(16), 1), (L.additive_coupling(16, parity=1), 1),
                         (L.additive_coupling(16, partition="odd_even"), 0), (L.additive_coupling(16, hidden=(8,)), 0)]:
        _, params = layer.init(jax.random.PRNGKey(0), x.shape)
        assert _calls(layer.apply, params, x) == calls
        assert _calls(layer.inverse, params, x) == calls
        assert _calls(lambda p, x: layer.backward(p, x, x), params, x) == calls
    layer = L.additive_coupling(8)  # C = 8: blocks of 8 output channels would be half empty
    _, params = layer.init(jax.random.PRNGKey(0), (2, 8, 3, 3))
    assert _calls(layer.apply, params, jnp.zeros((2, 8, 3, 3), jnp.float32)) == 0
    layer = L.additive_coupling(16)
    _, params = layer.init(jax.random.PRNGKey(0), x.shape)
    p64 = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), params)
    assert _calls(layer.apply, p64, x.astype(jnp.float64)) == 0


@pytest.mark.parametrize("shape", [
    (128, 64, 16, 16),  # the bench's
    (3, 16, 5, 7),      # 35 pixels: one block of 32 and 3 one at a time
    (9, 32, 1, 40),     # 9 images: a second, partial chunk of the weight gradient's sums
    (2, 48, 6, 6),      # three blocks of 8 output channels
    (1, 16, 1, 1),      # one pixel
])
@pytest.mark.parametrize("kept", [0, 1])
def test_the_kernels_equal_the_coupling_in_float64_to_float32_rounding(shape, kept):
    rng = np.random.default_rng(sum(shape) + kept)
    half = shape[1] // 2
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((half, half)) / np.sqrt(half)).astype(np.float32)
    b = rng.standard_normal(half).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    for sign in (1, -1):
        y = np.asarray(cpu_coupling.apply(jnp.asarray(x), jnp.asarray(w), jnp.asarray(b), kept, sign))
        ref = _reference(x, w, b, kept, sign)
        assert np.max(np.abs(y - ref)) <= 2e-6 * np.max(np.abs(ref))
    dx, dw, db = (np.asarray(a) for a in cpu_coupling.backward(jnp.asarray(x), jnp.asarray(dy), jnp.asarray(w), kept))
    # The backward written out: dx_shift = dy_shift, dx_kept = dy_kept + relu'(x_kept) w^T dy_shift, ...
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    ks, ss = (slice(0, half), slice(half, None)) if kept == 0 else (slice(half, None), slice(0, half))
    ref_dx = dy64.copy()
    ref_dx[:, ks] += (x64[:, ks] > 0) * np.einsum("fc,nfhw->nchw", w.astype(np.float64), dy64[:, ss])
    ref_dw = np.einsum("nfhw,nchw->fc", dy64[:, ss], np.maximum(x64[:, ks], 0))
    ref_db = dy64[:, ss].sum(axis=(0, 2, 3))
    for got, ref in ((dx, ref_dx), (dw, ref_dw), (db, ref_db)):
        assert got.dtype == np.float32 and got.shape == ref.shape
        assert np.max(np.abs(got - ref)) <= 2e-6 * np.max(np.abs(ref)), np.max(np.abs(got - ref))


def test_the_layer_on_the_kernels_has_autodiffs_gradients_and_inverts():
    layer = L.additive_coupling(32, parity=1)
    manual = with_manual_grad(layer)
    _, params = layer.init(jax.random.PRNGKey(2), (5, 32, 4, 4))
    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.standard_normal((5, 32, 4, 4)), jnp.float32)
    dy = jnp.asarray(rng.standard_normal((5, 32, 4, 4)), jnp.float32)
    with jax.default_matmul_precision("highest"):
        ours = jax.grad(lambda p, x: (manual.apply(p, x) * dy).sum(), (0, 1))(params, x)
        auto = jax.grad(lambda p, x: (layer.apply(p, x) * dy).sum(), (0, 1))(params, x)
        p64 = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), params)
        f64 = jax.grad(lambda p, x: (layer.apply(p, x) * dy.astype(jnp.float64)).sum(), (0, 1))(p64, x.astype(jnp.float64))
        for a, b, c in zip(*(jax.tree_util.tree_leaves(t) for t in (ours, auto, f64))):
            scale = np.max(np.abs(np.asarray(c)))
            assert np.max(np.abs(np.asarray(a) - np.asarray(c))) <= 1e-5 * scale
            assert np.max(np.abs(np.asarray(b) - np.asarray(c))) <= 1e-5 * scale
        # jvp and the second order through the hand-derived backward see the XLA formulation.
        w, b = params["conv2d_1"]["W"].reshape(16, 16), params["conv2d_1"]["b"]
        t = (dy, w * 0.1, b * 0.1)
        for a, r in zip(jax.jvp(lambda *a: flow._kernel_coupling(*a, 1, 1), (x, w, b), t),
                        jax.jvp(lambda *a: flow._xla_coupling(*a, 1, 1), (x, w, b), t)):
            np.testing.assert_allclose(a, r, rtol=1e-5, atol=1e-5)
        g = lambda f: jax.grad(lambda w: (f(w) ** 2).sum())(w)  # noqa: E731
        np.testing.assert_allclose(g(lambda w: flow._kernel_coupling_backward(x, dy, w, 1)[0]),
                                   g(lambda w: flow._xla_coupling_backward(x, dy, w, 1)[0]), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.inverse(params, layer.apply(params, x)), x, atol=1e-6)


_DETERMINISM = """
    import os, sys, json
    import numpy as np, jax, jax.numpy as jnp
    if sys.argv[1:] == ["one-cpu"]:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from jaxdl import layers as L
    from jaxdl.layers import cpu_coupling
    from jax.sharding import Mesh, NamedSharding, PartitionSpec
    layer = L.additive_coupling(32)
    _, params = layer.init(jax.random.PRNGKey(0), (40, 32, 5, 5))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 32, 5, 5)).astype(np.float32)
    dy = rng.standard_normal((40, 32, 5, 5)).astype(np.float32)
    f = jax.jit(lambda p, x, dy: (layer.apply(p, x), layer.backward(p, x, dy)))
    if jax.device_count() > 1:  # the batch split over the devices, as the trainer's data parallelism does
        mesh = Mesh(np.array(jax.devices()), ("data",))
        x, dy = (jax.device_put(a, NamedSharding(mesh, PartitionSpec("data"))) for a in (x, dy))
    y, (dp, dx) = f(params, x, dy)
    print(json.dumps({"status": cpu_coupling.status(), "devices": jax.device_count(),
                      "threads": len(os.sched_getaffinity(0)), "y": np.asarray(y).tobytes().hex(),
                      "dx": np.asarray(dx).tobytes().hex(), "dw": np.asarray(dp["conv2d_1"]["W"]).tobytes().hex()}))
"""


def test_results_are_bit_identical_on_one_cpu_two_cpus_and_four_devices(on_one_two_and_four):
    two, one, four = on_one_two_and_four(_DETERMINISM)
    assert one["y"] == two["y"] == four["y"] and one["dx"] == two["dx"] == four["dx"]
    assert one["dw"] == two["dw"] == four["dw"]


def test_turned_off_xla_computes_and_status_says_why(tmp_path, python_run):
    code = """
        import jax, jax.numpy as jnp
        from jaxdl import layers as L
        from jaxdl.layers import cpu_coupling
        layer = L.additive_coupling(16)
        params = {"relu_0": {}, "conv2d_1": {"W": jnp.full((8, 8, 1, 1), 0.5), "b": jnp.ones(8)}}
        x = jnp.ones((1, 16, 2, 2), jnp.float32)
        print(cpu_coupling.status())
        print(str(jax.make_jaxpr(layer.apply)(params, x)).count("ffi_call"))
        print(float(layer.apply(params, x)[0, 8, 0, 0]))
    """
    out = python_run(code, JAXDL_CPU_COUPLING="0", JAXDL_KERNEL_CACHE=str(tmp_path / "empty")).splitlines()
    assert out[0] == "XLA's (jaxdl's CPU kernels: turned off (JAXDL_CPU_COUPLING=0))"
    assert out[1] == "0"
    assert out[2] == "6.0"  # x_shift 1 + (8 kept channels × 0.5 × relu(1) + bias 1)


@pytest.mark.parametrize("tied", [True, False])
def test_a_reversible_stack_on_the_kernels_keeps_its_memory_flat_with_depth(monkeypatch, tied):
    # The chain of inverses must not run ahead of the gradients: around the kernels (foreign calls)
    # XLA's scheduler would otherwise rebuild every input first and keep them all.
    from jaxdl import core

    if not tied:
        monkeypatch.setattr(core, "_after", lambda y, dy: y)
    x = jnp.zeros((32, 32, 8, 8), jnp.float32)

    def temp(depth):
        net = with_manual_grad(core.reversible(*(L.additive_coupling(32, parity=i % 2) for i in range(depth))))
        _, params = net.init(jax.random.PRNGKey(0), x.shape)
        step = jax.jit(jax.grad(lambda p, x: jnp.sum(net.apply(p, x) ** 2)))
        assert _calls(step, params, x) == 2 * depth + depth  # forward, inverse, backward of each coupling
        return step.lower(params, x).compile().memory_analysis().temp_size_in_bytes

    growth = temp(16) / temp(2)
    if tied:
        assert growth <= 1.5, growth  # the bench's target at (128, 64, 16, 16): 1.0
    else:  # what the tie prevents (if XLA's scheduler stops doing this, the tie may go)
        assert growth > 2, growth


def test_nan_spreads_as_in_xla_and_bad_operands_are_errors_not_crashes(monkeypatch):
    layer = L.additive_coupling(16)
    x = jax.random.normal(jax.random.PRNGKey(0), (1, 16, 8, 4), jnp.float32).at[0, 0, 0, 0].set(jnp.nan)
    _, params = layer.init(jax.random.PRNGKey(0), x.shape)
    w, b = params["conv2d_1"]["W"].reshape(8, 8), params["conv2d_1"]["b"]
    # One NaN in a kept channel: that pixel of all 8 shifted channels, and itself (max(NaN, 0) is NaN).
    assert int(jnp.isnan(layer.apply(params, x)).sum()) == int(jnp.isnan(flow._xla_coupling(x, w, b, 0, 1)).sum()) == 9
    assert int(jnp.isnan(cpu_coupling.backward(x, jnp.ones_like(x), w, 0)[1]).sum()) == 8  # dw[:, 0]
    # Operands that do not fit: the kernels refuse them (they would read past the buffers).
    with pytest.raises(Exception, match="dy shaped like x"):
        f32 = lambda *shape: jnp.ones(shape, jnp.float32)  # noqa: E731
        jax.block_until_ready(cpu_coupling.backward(f32(1, 16, 4, 4), f32(1, 16, 1, 1), w, 0))
    with pytest.raises(Exception, match="b \\(C/2\\)"):
        jax.block_until_ready(cpu_coupling.apply(jnp.ones((1, 16, 4, 4), jnp.float32), w, jnp.ones((1,), jnp.float32), 0, 1))
    # Through the layer: a one-line InputError; mixed dtypes computed in their common one, as XLA's.
    from jaxdl.errors import InputError

    with pytest.raises(InputError, match="expected dy of the output's shape"):
        layer.backward(params, x, jnp.ones((1, 16, 1, 1), jnp.float32))
    x = jnp.nan_to_num(x)
    dparams, dx = layer.backward(params, x, jnp.ones(x.shape, jnp.bfloat16))
    monkeypatch.setattr(cpu_coupling, "applies", lambda *a: False)
    ref_params, ref_dx = layer.backward(params, x, jnp.ones(x.shape, jnp.bfloat16))
    assert dx.dtype == ref_dx.dtype
    for a, b in zip(jax.tree_util.tree_leaves((dparams, dx)), jax.tree_util.tree_leaves((ref_params, ref_dx))):
        np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32), rtol=1e-5, atol=1e-5)
