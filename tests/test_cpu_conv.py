"""jaxdl's CPU convolution kernels (``jaxdl.layers.cpu_conv``): float32 stride-1 convolutions run
on them, equal XLA's float64 convolution to float32 rounding on awkward geometries, behave as any
JAX function under grad, jvp, vmap and sharding, are deterministic whatever the thread count, and
fall back to XLA's convolution, saying why, where they cannot be built."""

import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from jaxdl.layers import conv, cpu_conv

pytestmark = pytest.mark.skipif(shutil.which(os.environ.get("CXX", "c++")) is None, reason="no C++ compiler")

_NCHW = ("NCHW", "OIHW", "NCHW")


def _reference(x, w, pads, dy=None):
    """XLA's own convolution, and its autodiff given ``dy``, in float64."""
    f = lambda x, w: lax.conv_general_dilated(x, w, (1, 1), pads, dimension_numbers=_NCHW)  # noqa: E731
    y, vjp = jax.vjp(f, x.astype(np.float64), w.astype(np.float64))
    return y if dy is None else (y, *vjp(dy.astype(np.float64)))


def test_float32_stride_one_convolutions_run_on_the_kernels():
    assert cpu_conv.status().startswith("jaxdl's CPU kernels"), cpu_conv.status()
    x, w = jnp.zeros((2, 3, 5, 5), jnp.float32), jnp.zeros((8, 3, 3, 3), jnp.float32)
    pads = ((1, 1), (1, 1))
    calls = lambda f, *a: str(jax.make_jaxpr(f)(*a)).count("ffi_call")  # noqa: E731
    assert calls(lambda x, w: conv.conv_forward(x, w, (1, 1), pads), x, w) == 1
    assert calls(lambda x, dy: conv.conv_backward_weight(x, dy, (3, 3), (1, 1), pads), x, jnp.zeros((2, 8, 5, 5), jnp.float32)) == 1
    # ∂L/∂x is the forward kernel on dy, its filters x's channels: 8 at least.
    w8 = jnp.zeros((8, 8, 3, 3), jnp.float32)
    assert calls(lambda w, dy: conv.conv_backward_input(w, dy, (2, 8, 5, 5), (1, 1), pads), w8, jnp.zeros((2, 8, 5, 5), jnp.float32)) == 1
    assert calls(lambda w, dy: conv.conv_backward_input(w, dy, x.shape, (1, 1), pads), w, jnp.zeros((2, 8, 5, 5), jnp.float32)) == 0
    # What stays XLA's: float64, strides, groups, fewer than 8 filters, 1×1 kernels (a matmul).
    assert calls(lambda x, w: conv.conv_forward(x, w, (1, 1), pads), x.astype(jnp.float64), w.astype(jnp.float64)) == 0
    assert calls(lambda x, w: conv.conv_forward(x, w, (2, 1), pads), x, w) == 0
    assert calls(lambda x, w: conv.conv_forward(x, w, (1, 1), pads), x, w[:7]) == 0
    assert calls(lambda x, w: conv.conv_forward(x, w, (1, 1), ((0, 0), (0, 0))), x, w[:, :, :1, :1]) == 0


@pytest.mark.parametrize("n, c, hw, f, kernel, pads", [
    (64, 1, (28, 28), 16, (5, 5), ((2, 2), (2, 2))),   # mnist_cnn's first layer
    (64, 16, (14, 14), 32, (5, 5), ((2, 2), (2, 2))),  # and its second
    (9, 3, (7, 9), 17, (4, 2), ((1, 2), (0, 1))),      # a second, partial block of filters; 9 images
    (1, 2, (5, 5), 8, (3, 3), ((0, 0), (0, 0))),       # one image, no padding
    (10, 20, (30, 31), 9, (3, 3), ((3, 1), (1, 4))),   # rows of 31 + 5 outputs: blocks of 14 and a tail; dx: 16 + 4 filters
    (3, 8, (1, 40), 24, (1, 3), ((0, 0), (1, 1))),     # one row
])
def test_the_kernels_equal_xla_in_float64_to_float32_rounding(n, c, hw, f, kernel, pads):
    rng = np.random.default_rng(n + c + f)
    x = rng.standard_normal((n, c) + hw).astype(np.float32)
    w = rng.standard_normal((f, c) + kernel).astype(np.float32)
    dy = rng.standard_normal(_reference(x, w, pads).shape).astype(np.float32)
    ref = _reference(x, w, pads, dy)
    ours = (conv.conv_forward(jnp.asarray(x), jnp.asarray(w), (1, 1), pads),
            conv.conv_backward_input(jnp.asarray(w), jnp.asarray(dy), x.shape, (1, 1), pads),
            conv.conv_backward_weight(jnp.asarray(x), jnp.asarray(dy), kernel, (1, 1), pads))
    for name, a, r in zip(("y", "dx", "dw"), ours, ref):
        a, r = np.asarray(a), np.asarray(r)
        assert a.dtype == np.float32 and a.shape == r.shape, name
        # float32 sums of up to C·kh·kw (forward, dx) or N·Ho·Wo (dw) products of unit normals
        assert np.max(np.abs(a - r)) <= 2e-6 * np.max(np.abs(r)), (name, np.max(np.abs(a - r)), np.max(np.abs(r)))


def test_grad_jvp_and_vmap_see_the_same_map_as_xlas_convolution():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((4, 3, 6, 6)), jnp.float32)
    w = jnp.asarray(rng.standard_normal((8, 3, 3, 3)), jnp.float32)
    dy = jnp.asarray(rng.standard_normal((4, 8, 6, 6)), jnp.float32)
    p = ((1, 1), (1, 1))
    with jax.default_matmul_precision("highest"):
        xla = lambda x, w: lax.conv_general_dilated(x, w, (1, 1), p, dimension_numbers=_NCHW)  # noqa: E731
        ours = lambda x, w: conv.conv_forward(x, w, (1, 1), p)  # noqa: E731
        close = lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5 * np.max(np.abs(b)))  # noqa: E731
        for a, b in zip(jax.grad(lambda *a: (ours(*a) * dy).sum(), (0, 1))(x, w),
                        jax.grad(lambda *a: (xla(*a) * dy).sum(), (0, 1))(x, w)):
            close(a, b)
        close(jax.jvp(ours, (x, w), (dy[:, :3], w))[1], jax.jvp(xla, (x, w), (dy[:, :3], w))[1])
        close(jax.vmap(ours, (0, None))(x[:, None], w), jax.vmap(xla, (0, None))(x[:, None], w))
        # Differentiating the hand-derived backward (a second order) goes through XLA's formulation.
        g = lambda bwd: jax.grad(lambda w: (bwd(w) ** 2).sum())(w)  # noqa: E731
        close(g(lambda w: conv.conv_backward_input(w, dy, x.shape, (1, 1), p)),
              g(lambda w: jax.vjp(lambda x: xla(x, w), x)[1](dy)[0]))
        close(jax.grad(lambda x: (conv.conv_backward_weight(x, dy, (3, 3), (1, 1), p) ** 2).sum())(x),
              jax.grad(lambda x: (jax.vjp(lambda w: xla(x, w), w)[1](dy)[0] ** 2).sum())(x))


_DETERMINISM = """
    import os, sys, json
    import numpy as np, jax, jax.numpy as jnp
    if sys.argv[1:] == ["one-cpu"]:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from jaxdl.layers import conv, cpu_conv
    from jax.sharding import Mesh, NamedSharding, PartitionSpec
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 4, 9, 9)).astype(np.float32)
    dy = rng.standard_normal((24, 16, 9, 9)).astype(np.float32)
    w = rng.standard_normal((16, 4, 3, 3)).astype(np.float32)
    p = ((1, 1), (1, 1))
    f = jax.jit(lambda x, w, dy: (conv.conv_forward(x, w, (1, 1), p), conv.conv_backward_weight(x, dy, (3, 3), (1, 1), p)))
    if jax.device_count() > 1:  # the batch split over the devices, as the trainer's data parallelism does
        mesh = Mesh(np.array(jax.devices()), ("data",))
        x, dy = (jax.device_put(a, NamedSharding(mesh, PartitionSpec("data"))) for a in (x, dy))
    y, dw = f(x, w, dy)
    print(json.dumps({"status": cpu_conv.status(), "devices": jax.device_count(), "threads": len(os.sched_getaffinity(0)),
                      "y": np.asarray(y).tobytes().hex()[:4096], "y_sum": float(np.asarray(y, np.float64).sum()),
                      "dw": np.asarray(dw).tobytes().hex()}))
"""


def test_results_are_bit_identical_on_one_cpu_two_cpus_and_four_devices(on_one_two_and_four):
    two, one, four = on_one_two_and_four(_DETERMINISM)
    assert one["dw"] == two["dw"] == four["dw"] and one["y"] == two["y"] == four["y"]
    assert one["y_sum"] == two["y_sum"] == four["y_sum"]


_FALLBACK = """
    import numpy as np, jax, jax.numpy as jnp
    from jaxdl.layers import conv, cpu_conv
    x, w = jnp.ones((2, 3, 5, 5), jnp.float32), jnp.ones((8, 3, 3, 3), jnp.float32)
    y = conv.conv_forward(x, w, (1, 1), ((1, 1), (1, 1)))
    print(cpu_conv.status())
    print(str(jax.make_jaxpr(lambda x, w: conv.conv_forward(x, w, (1, 1), ((1, 1), (1, 1))))(x, w)).count("ffi_call"))
    print(float(y[0, 0, 2, 2]), float(y[0, 0, 0, 0]))
"""


@pytest.mark.parametrize("env, reason", [
    ({"JAXDL_CPU_CONV": "0"}, "turned off (JAXDL_CPU_CONV=0)"),
    ({"CXX": "no-such-compiler++"}, "no C++ compiler found ('no-such-compiler++' is not on PATH)"),
])
def test_without_the_kernels_xla_computes_and_status_says_why(tmp_path, env, reason, python_run):
    out = python_run(_FALLBACK, JAXDL_KERNEL_CACHE=str(tmp_path / "empty"), **env).splitlines()
    assert out[0] == f"XLA's convolution (jaxdl's CPU kernels: {reason})"
    assert out[1] == "0"
    assert out[2] == "27.0 12.0"  # 3 channels × 3×3 ones inside; 3 × 2×2 at the padded corner
    assert not (tmp_path / "empty").exists() or not list((tmp_path / "empty").iterdir())


def test_a_failed_build_is_a_reason_not_a_crash(tmp_path, python_run):
    fake = tmp_path / "bin" / "c++"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'c++: error: this compiler refuses' >&2\nexit 1\n")
    fake.chmod(0o755)
    out = python_run(_FALLBACK, JAXDL_KERNEL_CACHE=str(tmp_path / "cache"), CXX=str(fake)).splitlines()
    assert out[0] == f"XLA's convolution (jaxdl's CPU kernels: compiling cpu_conv.cc with {fake} failed: c++: error: this compiler refuses)"
    assert out[1:] == ["0", "27.0 12.0"]
    assert not list((tmp_path / "cache").glob("*.so"))  # nothing half-written is left to load
