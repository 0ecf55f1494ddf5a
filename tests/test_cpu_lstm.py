"""jaxdl's CPU kernels for the LSTM's time loop (``jaxdl.layers.cpu_lstm``): float32 LSTMs whose
width is a multiple of 16 run on them, equal the ``lax.scan`` formulation in float64 to float32
rounding on awkward shapes, behave as any JAX function under grad, jvp and vmap, are
deterministic whatever the threads or devices, and fall back to XLA's loop, saying why."""

import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import layers as L
from jaxdl.core import with_manual_grad
from jaxdl.layers import cpu_lstm, recurrent

pytestmark = pytest.mark.skipif(shutil.which(os.environ.get("CXX", "c++")) is None, reason="no C++ compiler")


def _inputs(t, n, h, seed=0):
    rng = np.random.default_rng(seed)
    xw = (2 * rng.standard_normal((t, n, 4 * h))).astype(np.float32)  # saturates some gates
    w_h = (1.5 * rng.standard_normal((h, 4 * h)) / np.sqrt(h)).astype(np.float32)
    dy = rng.standard_normal((t, n, h)).astype(np.float32)
    return xw, w_h, dy


def test_float32_lstms_of_a_width_of_16s_run_on_the_kernels():
    assert cpu_lstm.status().startswith("jaxdl's CPU kernels"), cpu_lstm.status()
    calls = lambda f, *a: str(jax.make_jaxpr(f)(*a)).count("ffi_call")  # noqa: E731
    for h, dtype, kernels in [(16, jnp.float32, 2), (64, jnp.float32, 2), (8, jnp.float32, 0), (24, jnp.float32, 0),
                              (16, jnp.float64, 0)]:
        layer = with_manual_grad(L.lstm(h))
        _, params = layer.init(jax.random.PRNGKey(0), (3, 5, 2))
        params = jax.tree_util.tree_map(lambda a: a.astype(dtype), params)
        x = jnp.zeros((3, 5, 2), dtype)
        # The forward loop and the backward loop: one call each, or none where XLA's loop runs.
        assert calls(jax.grad(lambda p: layer.apply(p, x).sum()), params) == kernels, (h, dtype)


@pytest.mark.parametrize("t, n, h", [
    (50, 64, 64),  # lstm_adding's batch, length and width
    (7, 5, 16),    # one block of units; a partial block of rows
    (3, 9, 48),    # three blocks of units (the backward's 64 at a time: a partial group)
    (4, 6, 80),    # five blocks of units: a group of four and one more
    (1, 1, 16),    # one step, one row
    (6, 70, 32),   # three shares of rows, the last partial
])
def test_the_kernels_equal_the_scan_in_float64_to_float32_rounding(t, n, h):
    xw, w_h, dy = _inputs(t, n, h, seed=t + n + h)
    ref = recurrent._xla_lstm_loop(jnp.asarray(xw, jnp.float64), jnp.asarray(w_h, jnp.float64))
    ours = cpu_lstm.forward(jnp.asarray(xw), jnp.asarray(w_h))
    for name, a, r in zip("ifgoch", ours, ref):
        a, r = np.asarray(a), np.asarray(r)
        assert a.dtype == np.float32 and a.shape == r.shape == (t, n, h), name
        # gates and h in [-1, 1], c summed over t steps of such products: float32 rounding, compounded
        assert np.max(np.abs(a - r)) <= 2e-6 * max(1.0, np.max(np.abs(r))), (name, np.max(np.abs(a - r)))
    # The backward from the float64 states, against the backward scan in float64.
    ref_da = recurrent._xla_lstm_bptt(jnp.asarray(dy, jnp.float64), *ref[:5], jnp.asarray(w_h, jnp.float64))
    da = cpu_lstm.backward(jnp.asarray(dy), *(jnp.asarray(r, jnp.float32) for r in ref[:5]), jnp.asarray(w_h))
    da, ref_da = np.asarray(da), np.asarray(ref_da)
    assert da.shape == (t, n, 4 * h)
    assert np.max(np.abs(da - ref_da)) <= 4e-6 * np.max(np.abs(ref_da)), np.max(np.abs(da - ref_da))


def test_sigmoid_and_tanh_are_within_a_few_ulp_of_the_exact_values():
    # With W_h = 0 the first step's gates are the activations of xw itself: i = σ(xw), g = tanh(xw).
    big = np.linspace(-40, 40, 40_000)
    tiny = np.geomspace(1e-30, 1, 8_000)
    x = np.concatenate([big, tiny, -tiny, [0.0]]).astype(np.float32)
    x = np.concatenate([x, np.zeros(-x.size % 16, np.float32)]).reshape(1, -1, 16)
    out = cpu_lstm.forward(jnp.asarray(np.concatenate([x] * 4, axis=2)), jnp.zeros((16, 64), jnp.float32))
    v = x.astype(np.float64)

    def ulps(got, exact):
        return np.max(np.abs(np.asarray(got, np.float64) - exact) / np.spacing(np.abs(exact).astype(np.float32)))

    assert ulps(out[0], 1 / (1 + np.exp(-v))) <= 3
    assert ulps(out[2], np.tanh(v)) <= 6


def test_the_layer_on_the_kernels_has_autodiffs_gradients_and_the_float64_ones():
    # Manual BPTT on the kernels, against jax.grad of the forward (whose derivative is the scan's)
    # in float32, and against the manual BPTT of the XLA scan in float64.
    layer, manual = L.lstm(32), with_manual_grad(L.lstm(32))
    _, params = layer.init(jax.random.PRNGKey(1), (6, 9, 3))
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.standard_normal((6, 9, 3)), jnp.float32)
    dy = jnp.asarray(rng.standard_normal((6, 9, 32)), jnp.float32)
    loss = lambda apply: lambda p, x: (apply(p, x) * dy).sum()  # noqa: E731
    with jax.default_matmul_precision("highest"):
        ours = jax.grad(loss(manual.apply), (0, 1))(params, x)
        auto = jax.grad(loss(layer.apply), (0, 1))(params, x)
    p64 = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), params)
    f64 = jax.grad(lambda p, x: (manual.apply(p, x) * dy.astype(jnp.float64)).sum(), (0, 1))(p64, x.astype(jnp.float64))
    for a, b, c in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(auto), jax.tree_util.tree_leaves(f64)):
        scale = np.max(np.abs(np.asarray(c)))
        assert np.max(np.abs(np.asarray(a) - np.asarray(c))) <= 1e-5 * scale
        assert np.max(np.abs(np.asarray(b) - np.asarray(c))) <= 1e-5 * scale


def test_jvp_and_vmap_see_the_scans_map():
    xw, w_h, _ = _inputs(5, 4, 16, seed=3)
    xw, w_h = jnp.asarray(xw), jnp.asarray(w_h)
    txw, tw = jnp.ones_like(xw) * 0.1, jnp.ones_like(w_h) * 0.01
    with jax.default_matmul_precision("highest"):
        (p1, t1), (p2, t2) = (jax.jvp(f, (xw, w_h), (txw, tw)) for f in (recurrent._kernel_lstm_loop,
                                                                         recurrent._xla_lstm_loop))
        for a, b in zip(p1 + t1, p2 + t2):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
        batched = jax.vmap(cpu_lstm.forward, (0, None))(jnp.stack([xw, -xw]), w_h)
        for k, a in enumerate(batched):
            np.testing.assert_array_equal(a[0], cpu_lstm.forward(xw, w_h)[k])
            np.testing.assert_array_equal(a[1], cpu_lstm.forward(-xw, w_h)[k])


_DETERMINISM = """
    import os, sys, json
    import numpy as np, jax, jax.numpy as jnp
    if sys.argv[1:] == ["one-cpu"]:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from jaxdl import layers as L
    from jaxdl.core import with_manual_grad
    from jaxdl.layers import cpu_lstm
    from jax.sharding import Mesh, NamedSharding, PartitionSpec
    layer = with_manual_grad(L.lstm(32))
    _, params = layer.init(jax.random.PRNGKey(0), (72, 11, 3))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((72, 11, 3)).astype(np.float32)
    dy = rng.standard_normal((72, 11, 32)).astype(np.float32)
    f = jax.jit(lambda p, x, dy: jax.vjp(layer.apply, p, x)[1](dy))
    if jax.device_count() > 1:  # the batch split over the devices, as the trainer's data parallelism does
        mesh = Mesh(np.array(jax.devices()), ("data",))
        x, dy = (jax.device_put(a, NamedSharding(mesh, PartitionSpec("data"))) for a in (x, dy))
    dp, dx = f(params, x, dy)
    y = jax.jit(layer.apply)(params, x)
    print(json.dumps({"status": cpu_lstm.status(), "devices": jax.device_count(),
                      "threads": len(os.sched_getaffinity(0)), "y": np.asarray(y).tobytes().hex(),
                      "dx": np.asarray(dx).tobytes().hex(), "dW_h_sum": float(np.asarray(dp["W_h"], np.float64).sum())}))
"""


def test_results_are_bit_identical_on_one_cpu_two_cpus_and_four_devices(on_one_two_and_four):
    two, one, four = on_one_two_and_four(_DETERMINISM)
    # Each row of the batch is computed the same way wherever it runs (the weight gradients are
    # XLA's sums over the batch: the same on one device whatever the threads).
    assert one["y"] == two["y"] == four["y"] and one["dx"] == two["dx"] == four["dx"]
    assert one["dW_h_sum"] == two["dW_h_sum"]


_FALLBACK = """
    import numpy as np, jax, jax.numpy as jnp
    from jaxdl import layers as L
    from jaxdl.layers import cpu_lstm
    layer = L.lstm(16)
    _, params = layer.init(jax.random.PRNGKey(0), (2, 3, 1))
    params = {"W_x": jnp.full((1, 64), 0.5), "W_h": jnp.zeros((16, 64)), "b": jnp.zeros(64)}
    y = layer.apply(params, jnp.ones((2, 3, 1), jnp.float32))
    print(cpu_lstm.status())
    print(str(jax.make_jaxpr(layer.apply)(params, jnp.ones((2, 3, 1)))).count("ffi_call"))
    print(f"{float(y[0, 0, 0]):.6f}")
"""


@pytest.mark.parametrize("env, reason", [
    ({"JAXDL_CPU_LSTM": "0"}, "turned off (JAXDL_CPU_LSTM=0)"),
    ({"CXX": "no-such-compiler++"}, "no C++ compiler found ('no-such-compiler++' is not on PATH)"),
])
def test_without_the_kernels_xla_computes_and_status_says_why(tmp_path, env, reason, python_run):
    out = python_run(_FALLBACK, JAXDL_KERNEL_CACHE=str(tmp_path / "empty"), **env).splitlines()
    assert out[0] == f"XLA's lax.scan (jaxdl's CPU kernels: {reason})"
    assert out[1] == "0"
    # With W_h = 0 and b = 0 every gate's input is 0.5 at t = 0: h = σ(.5) tanh(σ(.5) tanh(.5)).
    s = 1 / (1 + np.exp(-0.5))
    assert out[2] == f"{s * np.tanh(s * np.tanh(0.5)):.6f}"


def test_bad_operands_are_errors_not_crashes_and_mixed_dtypes_are_promoted(monkeypatch):
    from jaxdl.errors import InputError

    layer = L.lstm(16)
    _, params = layer.init(jax.random.PRNGKey(0), (4, 3, 4))
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 3, 4), jnp.float32)
    _, res = layer.forward_with_residuals(params, x)
    with pytest.raises(InputError, match=r"expected dy of the output's shape \(4, 3, 16\)"):
        layer.backward_from_residuals(params, x, res, jnp.ones((4000, 300, 16)))
    with pytest.raises(Exception, match="shaped like dy"):  # the kernel itself refuses, it does not read past
        jax.block_until_ready(cpu_lstm.backward(jnp.ones((100, 50, 16), jnp.float32), *res[:5], params["W_h"]))
    # bfloat16 input, float32 gradient: the kernels take the operands in their common dtype, and
    # the result is XLA's loop's.
    dy = jnp.ones((4, 3, 16), jnp.float32)
    grads, dx = layer.backward(params, x.astype(jnp.bfloat16), dy)
    monkeypatch.setattr(cpu_lstm, "applies", lambda *a: False)
    ref, ref_dx = layer.backward(params, x.astype(jnp.bfloat16), dy)
    assert dx.dtype == ref_dx.dtype and grads["W_h"].dtype == ref["W_h"].dtype == jnp.float32
    for a, b in zip(jax.tree_util.tree_leaves((grads, dx)), jax.tree_util.tree_leaves((ref, ref_dx))):
        np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32), rtol=1e-5, atol=1e-5)
