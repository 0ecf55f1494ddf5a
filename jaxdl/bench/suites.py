"""The benchmark suites. Each returns a :class:`SuiteResult`: medians, ratios against the suite's
reference, achieved GFLOP/s or GB/s, and the targets it checks.

All inputs are float32 on the default device; every candidate is jit-compiled (PyTorch runs
eagerly, as its users run it) and timed by :func:`jaxdl.bench.harness.measure`.
"""

from __future__ import annotations

import math
import statistics
import time
import warnings
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl import layers as L
from jaxdl.bench import harness
from jaxdl.bench.harness import Row, SuiteResult, measure, measure_interleaved, torch_module
from jaxdl.core import serial, with_manual_grad

KEY = jax.random.PRNGKey(0)


def _normal(shape, seed=0):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _grad_fn(layer):
    """``jit(value_and_grad)`` of ``Σ apply(params, x) ⊙ dy`` w.r.t. params and x, called as
    ``fn(params, x, dy)``: a forward and a backward pass. (``grad`` alone would let XLA drop the
    forward pass of a linear layer, and a ``dy`` closed over as a constant would let it fold a
    linear layer's whole backward pass into a compile-time constant.)"""
    return jax.jit(jax.value_and_grad(lambda p, x, dy: jnp.sum(layer.apply(p, x) * dy), argnums=(0, 1)))


# --------------------------------------------------------------------------------------------
# manual_vs_autodiff


def bench_layers(quick: bool) -> dict[str, tuple[Callable, tuple[int, ...]]]:
    """A realistic size for every layer family of the registry (its entries' ``bench``)."""
    from jaxdl.registry import REGISTRY

    s = 8 if quick else 1
    return {name.split("/")[0]: (e.bench[0], e.bench[1](s)) for name, e in REGISTRY.items() if e.bench}


def manual_vs_autodiff(quick: bool, names=None) -> SuiteResult:
    rows, slow = [], []
    for name, (make, shape) in bench_layers(quick).items():
        if names and name not in names:
            continue
        layer = make()
        out_shape, params = layer.init(KEY, shape)
        x, dy = _normal(shape, 1), _normal(out_shape, 2)
        case = f"{name} {shape}"
        auto, manual = _grad_fn(layer), _grad_fn(with_manual_grad(layer))
        # Interleaved (A, M, A, M), the faster of each pair kept: drifting load on a shared
        # machine then hits both alike.
        t_auto, t_manual = float("inf"), float("inf")
        for _ in range(2):
            t_auto = min(t_auto, measure(auto, params, x, dy, repeats=5))
            t_manual = min(t_manual, measure(manual, params, x, dy, repeats=5))
        rows += [Row(case, "autodiff", t_auto), Row(case, "manual (custom_vjp)", t_manual)]
        if t_manual > 1.1 * t_auto:
            slow.append(f"{name} ({t_manual / t_auto:.2f}×)")
    result = SuiteResult("manual_vs_autodiff", rows)
    result.add_ratios("autodiff")
    result.targets.append({
        "target": "manual backward no slower than 1.1× autodiff, every layer",
        "met": not slow,
        "detail": "slower: " + ", ".join(slow) if slow else "all within 1.1×",
    })
    return result


# --------------------------------------------------------------------------------------------
# avg_pool


def _reduce_window_pool(k):
    return lambda x: jax.lax.reduce_window(x, 0.0, jax.lax.add, (1, 1, k, k), (1, 1, k, k), "VALID") / (k * k)


def avg_pool(quick: bool) -> SuiteResult:
    n = 16 if quick else 64
    shape = (n, 32, 32, 32)
    x = _normal(shape)
    torch = torch_module()
    rows = []
    for k in (2, 4):
        dy = _normal((n, 32, 32 // k, 32 // k), 3)
        forms = {
            "exam: dense conv (C,C,K,K)": L.conv_avg_pool2d(32, k, form="dense").apply,
            "grouped conv (C,1,K,K)": L.conv_avg_pool2d(32, k, form="depthwise").apply,
            "lax.reduce_window": lambda p, x, k=k: _reduce_window_pool(k)(x),
            "jaxdl avg_pool2d": L.avg_pool2d(k).apply,
        }
        moved = (x.size + dy.size) * 4
        for label, apply in forms.items():
            fwd = jax.jit(lambda x, apply=apply: apply({}, x))
            t = measure(fwd, x)
            rows.append(Row(f"K={k} forward", label, t, gbps=moved / t / 1e9))
            # value_and_grad: the forward pass is part of the work (grad alone would let XLA drop
            # the forward pass of a linear map).
            if label == "jaxdl avg_pool2d":
                manual = with_manual_grad(L.avg_pool2d(k))
                grad = jax.jit(jax.value_and_grad(lambda x, dy: jnp.sum(manual.apply({}, x) * dy)))
            else:
                grad = jax.jit(jax.value_and_grad(lambda x, dy, apply=apply: jnp.sum(apply({}, x) * dy)))
            t = measure(grad, x, dy)
            rows.append(Row(f"K={k} forward+backward", label, t, gbps=2 * moved / t / 1e9))
        if torch is not None:
            xt = torch.tensor(np.asarray(x))
            dyt = torch.tensor(np.asarray(dy))
            f = torch.nn.functional.avg_pool2d
            t = measure(lambda: f(xt, k), repeats=7)
            rows.append(Row(f"K={k} forward", "PyTorch avg_pool2d (eager)", t, gbps=moved / t / 1e9))
            xg = xt.clone().requires_grad_(True)

            def torch_fb(xg=xg, dyt=dyt, k=k):
                xg.grad = None
                f(xg, k).backward(dyt)
                return xg.grad

            t = measure(torch_fb, repeats=7)
            rows.append(Row(f"K={k} forward+backward", "PyTorch avg_pool2d (eager)", t, gbps=2 * moved / t / 1e9))
    result = SuiteResult("avg_pool", rows, notes=[f"input {shape} float32; GB/s counts the input and output once each"])
    result.add_ratios("exam: dense conv (C,C,K,K)")
    fastest = {}
    for r in rows:
        if "PyTorch" in r.candidate:
            continue
        best = fastest.get(r.case)
        if best is None or r.median_s < best.median_s:
            fastest[r.case] = r
    wins = [case for case, r in fastest.items() if r.candidate == "jaxdl avg_pool2d"]
    result.targets.append({
        "target": "jaxdl's avg_pool2d is the fastest JAX formulation",
        "met": len(wins) == len(fastest),
        "detail": "; ".join(f"{case}: fastest is {r.candidate}" for case, r in fastest.items()),
    })
    return result


# --------------------------------------------------------------------------------------------
# coupling


def _conv_coupling(x, w, b):
    """The same coupling with ``lax.conv`` on NCHW (XLA's convolution; the alternative)."""
    half = x.shape[1] // 2
    x1, x2 = x[:, :half], x[:, half:]
    h = jax.lax.conv_general_dilated(jnp.maximum(x1, 0), w, (1, 1), "VALID",
                                     dimension_numbers=("NCHW", "OIHW", "NCHW")) + b[None, :, None, None]
    return jnp.concatenate([x1, x2 + h], axis=1)


def _coupling_bytes(what: str, x) -> int:
    """The least memory traffic: read x and write y (forward, inverse); read x and ∂L/∂y and
    write ∂L/∂x (forward+backward)."""
    return (3 if what == "forward+backward" else 2) * x.size * 4


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def coupling(quick: bool, limits: dict) -> SuiteResult:
    shapes = [(32 if quick else 128, 64, 16, 16), (256, 8, 8, 8), (3, 2, 1, 1)]
    torch = torch_module()
    rows = []
    for shape in shapes:
        n, c, h, w = shape
        layer = L.additive_coupling(c)
        _, params = layer.init(KEY, shape)
        x, dy = _normal(shape, 1), _normal(shape, 2)
        flops = 2 * n * h * w * (c // 2) ** 2  # the 1×1 convolution
        manual = with_manual_grad(layer)
        wconv, bconv = params["conv2d_1"]["W"], params["conv2d_1"]["b"]
        cands = {
            ("forward", "jaxdl"): (jax.jit(layer.apply), (params, x), flops),
            ("inverse", "jaxdl"): (jax.jit(layer.inverse), (params, x), flops),
            ("forward+backward", "jaxdl"): (_output_and_grad_fn(manual.apply), (params, x, dy), 3 * flops),
            ("forward", "lax.conv"): (jax.jit(_conv_coupling), (x, wconv, bconv), flops),
            ("forward+backward", "lax.conv"): (
                _output_and_grad_fn(lambda wb, x: _conv_coupling(x, *wb)), ((wconv, bconv), x, dy), 3 * flops),
        }
        if torch is not None:
            for what, fn, args in _torch_coupling(torch, shape, np.asarray(x), np.asarray(dy), np.asarray(wconv),
                                                  np.asarray(bconv)):
                cands[(what, "PyTorch (eager)")] = (fn, args, flops * (3 if what == "forward+backward" else 1))
        timed = measure_interleaved({key: (fn, args) for key, (fn, args, _) in cands.items()})
        for (what, cand), (fn, args, fl) in cands.items():
            t, runs = timed[(what, cand)]
            rows.append(Row(f"{what} {shape}", cand, t, gflops=fl / t / 1e9, gbps=_coupling_bytes(what, x) / t / 1e9,
                            note=f"runs {_us(min(runs))}–{_us(max(runs))}"))
    reference = "PyTorch (eager)" if torch is not None else "lax.conv"
    result = SuiteResult("coupling", rows, notes=[
        "GFLOP/s counts the 1×1 convolution (2·N·H·W·(C/2)² per application, ×3 for forward+backward); "
        "GB/s counts the least traffic (x in, y out; x and ∂L/∂y in, ∂L/∂x out); forward+backward computes "
        "what PyTorch's forward(x).backward(dy) does: the output and the gradients, no loss value",
        f"roofline of this run: min(float32 matmul peak {limits['matmul_gflops']:.0f} GFLOP/s, arithmetic intensity "
        f"× copy bandwidth {limits['copy_gbps']:.0f} GB/s from DRAM, {limits['copy_cache_gbps']:.0f} GB/s in cache); "
        "the coupling does C/16 flops per byte (4 at C = 64): each row says which fraction of that bound it reaches",
    ])
    result.add_ratios(reference)
    big = f"{shapes[0]}"
    by = {(r.case, r.candidate): r for r in rows}
    for r in rows:
        if r.gflops is not None and r.gbps:
            intensity = r.gflops / r.gbps  # flops per byte of the least traffic
            bound = min(limits["matmul_gflops"], intensity * limits["copy_gbps"])
            r.note = f"{100 * r.gflops / bound:.0f}% of the roofline ({intensity:.1f} flop/B); {r.note}"
    if torch is not None:
        # At least 1.25× PyTorch's speed forward and inverse, 2× forward+backward.
        for what, need in (("forward", 1 / 1.25), ("inverse", 1 / 1.25), ("forward+backward", 1 / 2)):
            r = by.get((f"{what} {big}", "jaxdl"))
            ratio = r.ratio if r is not None else None
            result.targets.append({
                "target": f"{what} at {big}: time ≤ {need:.2f}× PyTorch eager",
                "met": ratio is not None and ratio <= need,
                "detail": f"{ratio:.2f}× PyTorch's time" if ratio is not None else "not measured",
            })
    else:
        result.targets.append({"target": "coupling against PyTorch eager", "met": None,
                               "detail": "PyTorch is not installed: no comparison"})
    return result


def _output_and_grad_fn(apply):
    """``jit`` of ``(y, (∂L/∂params, ∂L/∂x))`` for ``y = apply(params, x)`` and ``∂L/∂y = dy``,
    called as ``fn(params, x, dy)``: the work of PyTorch's ``forward(x).backward(dy)``, which
    keeps ``y`` and computes no loss value (:func:`_grad_fn`'s ``Σ y ⊙ dy`` reads ``y`` and ``dy``
    once more)."""

    def fn(params, x, dy):
        y, vjp = jax.vjp(apply, params, x)
        return y, vjp(dy)

    return jax.jit(fn)


def _torch_coupling(torch, shape, x, dy, w, b):
    """PyTorch's coupling: ``[(what, fn, args)]`` for forward, inverse (both without autograd)
    and forward+backward."""
    xt, dyt = torch.tensor(x), torch.tensor(dy)
    conv = torch.nn.Conv2d(shape[1] // 2, shape[1] // 2, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(w))
        conv.bias.copy_(torch.tensor(b))

    def forward(x):
        x1, x2 = x.chunk(2, dim=1)
        return torch.cat((x1, x2 + conv(torch.relu(x1))), dim=1)

    def inverse(y):
        y1, y2 = y.chunk(2, dim=1)
        return torch.cat((y1, y2 - conv(torch.relu(y1))), dim=1)

    def no_grad(fn):
        def run(*args):
            with torch.no_grad():
                return fn(*args)
        return run

    xg = xt.clone().requires_grad_(True)

    def fb():
        xg.grad = None
        conv.zero_grad()
        forward(xg).backward(dyt)
        return xg.grad

    return [("forward", no_grad(forward), (xt,)), ("inverse", no_grad(inverse), (xt,)), ("forward+backward", fb, ())]


# --------------------------------------------------------------------------------------------
# gan_step


def gan_step(quick: bool) -> SuiteResult:
    from jaxdl.exams.gan import exam_setup
    from jaxdl.models import gan as gan_lib

    rows = []
    floor_fn = jax.jit(lambda a, b: a + b)
    a3 = jnp.ones(3, jnp.float32)
    floor = measure(floor_fn, a3, a3, repeats=9)
    rows.append(Row("one jitted call", "floor: a + b on 3 elements", floor))
    scan_steps = 10_000
    exam_params, exam_z, exam_x, exam_lr, _ = exam_setup()
    wide = gan_lib.exam_gan(hidden=256)
    variants = {  # (gan, params, z, x, learning rate)
        "exam GAN (hidden 2, batch 3)": (gan_lib.exam_gan(), exam_params, exam_z, exam_x, exam_lr),
        "wide GAN (hidden 256, batch 256)": (
            wide, wide.init(KEY), jnp.linspace(-1.0, 1.0, 256, dtype=jnp.float32)[:, None], _normal((256, 2), 4), 1e-3),
    }
    per = {}
    t_dict = None
    for label, (gan, params, z, x, lr) in variants.items():
        m = x.shape[0]
        sgd = optax.sgd(lr)
        step = gan_lib.make_step(gan, sgd, sgd)
        opt_state = gan_lib.init_opt_state(params, sgd, sgd)
        t_dict = measure(step, params, opt_state, z, x, repeats=9)
        flat_step, pack, _ = gan_lib.make_flat_step(step, params, opt_state)
        t_call = measure(flat_step, pack(params, opt_state), z, x, repeats=9)
        steps = scan_steps if m == 3 else (200 if quick else 1000)

        @jax.jit
        def many(params, opt_state, step=step, steps=steps, z=z, x=x):
            def body(carry, _):
                p, o, _ = step(*carry, z, x)
                return (p, o), None
            return jax.lax.scan(body, (params, opt_state), None, length=steps)[0]

        t_scan = measure(many, params, opt_state, repeats=3, min_run_s=0.0) / steps
        rows.append(Row(label, "one step per Python call (params and state as dicts)", t_dict,
                        note=f"{t_dict / floor:.2f}× the floor"))
        rows.append(Row(label, "one step per Python call (make_flat_step: one state vector)", t_call,
                        note=f"{t_call / floor:.2f}× the floor"))
        rows.append(Row(label, f"per step inside one lax.scan of {steps:,}", t_scan))
        per[label] = (t_call, t_scan, t_dict)
    torch = torch_module()
    if torch is not None:
        t = _torch_gan_step(torch)
        rows.append(Row("exam GAN (hidden 2, batch 3)", "PyTorch eager, one step", t))
    result = SuiteResult("gan_step", rows, notes=["the step is make_step's D-then-G update, the one `jaxdl exam gan` uses"])
    t_call, t_scan, t_dict = per["exam GAN (hidden 2, batch 3)"]
    result.targets += [
        {"target": "exam GAN step per Python call ≤ 2× the floor of one jitted call",
         "met": t_call <= 2 * floor,
         "detail": f"{t_call * 1e6:.1f} µs = {t_call / floor:.2f}× the floor ({floor * 1e6:.1f} µs) with the flat "
                   f"state; {t_dict * 1e6:.1f} µs = {t_dict / floor:.2f}× with dicts in and out"},
        {"target": "exam GAN step inside lax.scan < 0.5 µs", "met": t_scan < 0.5e-6,
         "detail": f"{t_scan * 1e6:.3f} µs per step"},
    ]
    return result


def _torch_gan_step(torch):
    from jaxdl.exams.gan import exam_setup

    p, z, x, lr, slope = exam_setup()
    t = lambda a: torch.tensor(np.asarray(a).T.copy(), requires_grad=True)  # noqa: E731 - back to W x
    g1, g2 = t(p["generator"]["dense_0"]["W"]), t(p["generator"]["dense_2"]["W"])
    d1, d2 = t(p["discriminator"]["dense_0"]["W"]), t(p["discriminator"]["dense_2"]["W"])
    z, x = torch.tensor(np.asarray(z)), torch.tensor(np.asarray(x))
    opt_d = torch.optim.SGD([d1, d2], lr=lr)
    opt_g = torch.optim.SGD([g1, g2], lr=lr)
    F = torch.nn.functional

    def disc(v):
        return F.leaky_relu(v @ d1.T, slope) @ d2.T

    def step():
        fake = torch.relu(torch.relu(z @ g1.T) @ g2.T)
        opt_d.zero_grad()
        loss_d = F.binary_cross_entropy_with_logits(disc(x), torch.ones(3, 1)) + \
            F.binary_cross_entropy_with_logits(disc(fake.detach()), torch.zeros(3, 1))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = -F.binary_cross_entropy_with_logits(disc(fake), torch.zeros(3, 1))
        loss_g.backward()
        opt_g.step()
        return loss_g

    return measure(step, repeats=7)


# --------------------------------------------------------------------------------------------
# numpy_lab


def numpy_lab(quick: bool) -> SuiteResult:
    from jaxdl.check import lab_reference as lab
    from jaxdl.losses import softmax_cross_entropy
    from jaxdl.train.data import load_digits

    data = load_digits()
    n = 64 if quick else 256
    x = np.asarray(data.x_train[:n], np.float64)
    y = np.asarray(data.y_train[:n])
    onehot = np.eye(10)[y]

    from jaxdl.check.numpy_check import InputStub

    np.random.seed(0)
    conv = lab.Convolution(InputStub(x.shape), 16, 3, "conv")
    relu = lab.ReLU(conv, "relu")
    pool = lab.MaxPooling(relu, "pool", 2, 2)
    flat = lab.Flatten(pool, "flatten")
    fc = lab.FC(flat, 10, "fc")
    loss = lab.SoftmaxCrossEntropyWithLogits()
    net = [conv, relu, pool, flat, fc]

    def numpy_step():
        h = x
        for layer in net:
            h = layer.forward(h)
        value = loss.forward(h, onehot)
        g = loss.backward_inputs(h, onehot)
        grads = []
        for layer in reversed(net):
            if getattr(layer, "has_params", False):
                grads.append(layer.backward_params(g))
            g = layer.backward_inputs(g)
        return value

    model = with_manual_grad(serial(L.conv2d(16, 3), L.relu(), L.max_pool2d(2, 2), L.flatten(), L.dense(10)))
    _, params = model.init(KEY, x.shape)
    ce = softmax_cross_entropy.with_manual_grad()
    step = jax.jit(jax.value_and_grad(lambda p, x, y: ce.apply(model.apply(p, x), y)))
    xj, yj = jnp.asarray(x, jnp.float32), jnp.asarray(y)
    t_np = measure(numpy_step, repeats=5)
    t_jax = measure(step, params, xj, yj, repeats=7)
    case = f"lab CNN forward+backward, digits batch {x.shape}"
    rows = [Row(case, "numpy (the lab's layers, float64)", t_np), Row(case, "jaxdl (jit, manual backward, float32)", t_jax)]
    result = SuiteResult("numpy_lab", rows, notes=[
        f"conv2d(16, 3) → relu → max_pool2d → flatten → dense(10), softmax cross-entropy: "
        f"jaxdl is {t_np / t_jax:.0f}× faster than the course's numpy style"])
    result.add_ratios("numpy (the lab's layers, float64)")
    return result


# --------------------------------------------------------------------------------------------
# reversible


def reversible(quick: bool) -> SuiteResult:
    """A stack of additive couplings trained through its manual backward: the compiled temporary
    memory of one ``jit(grad)`` step (XLA's ``memory_analysis``) and its time, storing
    (``serial``) against rebuilding the inputs (``reversible``), by depth; and the float32
    drift of the rebuilt input, ``max |x − f⁻¹(f(x))|``."""
    from jaxdl.core import reversible as rev_stack

    shape = (16, 64, 16, 16) if quick else (128, 64, 16, 16)
    x = jax.random.normal(KEY, shape, jnp.float32)
    rows, mem, times = [], {}, {}
    for depth in (4, 8, 16, 32):
        steps, nets = {}, {}
        for kind, compose in (("storing (serial)", serial), ("reversible", rev_stack)):
            layers = [L.additive_coupling(shape[1], parity=i % 2) for i in range(depth)]
            net = with_manual_grad(compose(*layers))
            _, params = net.init(KEY, shape)  # random 1×1 convolutions: no coupling is the identity
            step = jax.jit(jax.grad(lambda p, x, net=net: jnp.sum(net.apply(p, x) ** 2)))
            compiled = step.lower(params, x).compile()
            mem[(depth, kind)] = compiled.memory_analysis().temp_size_in_bytes
            steps[kind], nets[kind] = (step, (params, x)), (net, params)
        timed = measure_interleaved(steps, repeats=3 if quick else 5)  # the two kinds side by side
        for kind, (net, params) in nets.items():
            times[(depth, kind)] = timed[kind][0]
            note = f"temp {mem[(depth, kind)] / 2**20:.0f} MiB"
            if kind == "reversible":
                y = net.apply(params, x)
                drift = float(jnp.max(jnp.abs(net.inverse(params, y) - x)))
                note += f"; float32 drift max|x − f⁻¹(f(x))| = {drift:.1e} (max|y| = {float(jnp.max(jnp.abs(y))):.1e})"
            rows.append(Row(f"{depth} couplings, {shape}", kind, times[(depth, kind)], note=note))
    result = SuiteResult("reversible", rows, notes=[
        "one jit(grad) step of a coupling stack on its manual backward, the two stacks timed interleaved; temp = XLA's "
        "compiled temporary memory"])
    result.add_ratios("storing (serial)")
    growth = mem[(32, "reversible")] / mem[(4, "reversible")]
    slowdown = max(times[(d, "reversible")] / times[(d, "storing (serial)")] for d in (4, 8, 16, 32))
    result.targets.append({"target": "reversible: temp memory at 32 couplings <= 1.5x that at 4", "met": growth <= 1.5,
                           "detail": f"{growth:.2f}x ({mem[(4, 'reversible')] / 2**20:.0f} → "
                                     f"{mem[(32, 'reversible')] / 2**20:.0f} MiB; storing "
                                     f"{mem[(4, 'storing (serial)')] / 2**20:.0f} → "
                                     f"{mem[(32, 'storing (serial)')] / 2**20:.0f} MiB)"})
    result.targets.append({"target": "reversible step time <= 1.6x the storing one", "met": slowdown <= 1.6,
                           "detail": f"at most {slowdown:.2f}x over depths 4–32"})
    return result


# --------------------------------------------------------------------------------------------
# check_numpy


def check_numpy(quick: bool) -> SuiteResult:
    """What grading a class costs per submission: ``jaxdl check-numpy FOLDER`` on copies of the
    correct lab against one ``jaxdl check-numpy FILE`` run, and the folder with every wall of the
    sandbox up (namespaces, Landlock, seccomp, limits) against the same folder behind resource
    limits only (``--sandbox plain``, the isolation before the walls); each a whole command
    (interpreter, JAX start-up, compilation, workers), timed in turn so that all see one machine."""
    import os
    import shutil
    import statistics
    import subprocess
    import sys
    import tempfile
    import time

    from jaxdl.check import lab_reference
    from jaxdl.check.numpy_check import sandbox

    copies, rounds = (8, 2) if quick else (24, 3)
    base = [sys.executable, "-m", "jaxdl.cli", "check-numpy", "--no-progress"]
    walled = sandbox.best_mode()
    with tempfile.TemporaryDirectory(prefix="jaxdl-bench-") as tmp:
        folder = os.path.join(tmp, "class")
        os.mkdir(folder)
        for i in range(copies):
            shutil.copy(lab_reference.__file__, os.path.join(folder, f"student{i:02d}.py"))
        one = os.path.join(folder, "student00.py")
        book = ["--gradebook", os.path.join(tmp, "grades.csv")]
        commands = {"single": [*base, one], "batch": [*base, folder, *book, "--allow-weaker-sandbox"],
                    "plain": [*base, folder, *book, "--sandbox", "plain", "--allow-weaker-sandbox"]}
        times = {name: [] for name in commands}
        for _ in range(rounds):
            for name, cmd in commands.items():  # A B C A B C ...: all share the machine's state
                start = time.perf_counter()
                done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                times[name].append(time.perf_counter() - start)
                if done.returncode != 0:
                    raise RuntimeError(f"bench check_numpy: {' '.join(cmd[3:])} exited {done.returncode}: "
                                       f"{done.stderr.strip()[-300:]}")
    single = statistics.median(times["single"])
    per_sub = {k: [t / copies for t in times[k]] for k in ("batch", "plain")}
    batch, plain = statistics.median(per_sub["batch"]), statistics.median(per_sub["plain"])
    classes = sum(1 for v in vars(lab_reference).values() if isinstance(v, type) and hasattr(v, "forward")
                  and v.__module__ == lab_reference.__name__ and v.__name__ != "Layer")
    case = f"checking the correct lab ({classes} classes), per submission, {copies} copies"

    def spread(values):
        return f"runs {min(values):.2f}–{max(values):.2f} s"

    single_name = "one single-file run (jaxdl check-numpy FILE)"
    walls_name = f"a folder of {copies}, every wall up ({walled}, {os.cpu_count()} jobs)"
    plain_name = f"a folder of {copies}, resource limits only (--sandbox plain)"
    rows = [Row(case, single_name, single, note=spread(times["single"])),
            Row(case, walls_name, batch, note=spread(per_sub["batch"]) + " per submission"),
            Row(case, plain_name, plain, note=spread(per_sub["plain"]) + " per submission")]
    result = SuiteResult("check_numpy", rows, notes=[
        f"median of {rounds} runs of each whole command, in turn; a folder run with every wall costs "
        f"{statistics.median(times['batch']):.1f} s for {copies} submissions"])
    result.add_ratios(single_name)
    ratios = [s / b for s, b in zip(times["single"], per_sub["batch"])]
    result.targets.append({
        "target": "batch grading at least 8× cheaper per submission than single-file runs",
        "met": single / batch >= 8,
        "detail": f"{single / batch:.1f}× (per round: {', '.join(f'{r:.1f}×' for r in ratios)})",
    })
    wall_ratios = [b / p for b, p in zip(per_sub["batch"], per_sub["plain"])]
    result.targets.append({
        "target": "every wall up costs at most 1.3× the batch behind resource limits only",
        "met": batch / plain <= 1.3,
        "detail": f"{batch / plain:.2f}× (per round: {', '.join(f'{r:.2f}×' for r in wall_ratios)})",
    })
    return result


def exam_generate(quick: bool) -> SuiteResult:
    """``jaxdl exam generate all --stress N`` as a whole command (interpreter, JAX start-up, every
    family's compilation, the draws and the three-way verification), against the target of
    1,000 variants of every family in under 60 s."""
    import subprocess
    import sys

    n = 100 if quick else 1000
    cmd = [sys.executable, "-m", "jaxdl.cli", "exam", "generate", "all", "--stress", str(n)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"bench exam_generate: exited {done.returncode}: {done.stderr.strip()[-300:]}")
    rows = [Row(f"{n} verified variants of each of the 7 families", "jaxdl exam generate all --stress", seconds,
                note="whole command, compilation included")]
    result = SuiteResult("exam_generate", rows, notes=[line for line in done.stdout.splitlines() if line.strip()])
    if not quick:
        result.targets.append({"target": "--stress 1000 for every family in under 60 s, compilation included",
                               "met": seconds < 60, "detail": f"{seconds:.1f} s"})
    return result


# --------------------------------------------------------------------------------------------
# practice_page


def _page_timings(index: str, runs: int) -> tuple[list[float], str | None]:
    """Per opening of the page in a headless Chromium, the seconds from navigation until the
    practice tab has a variant to work (ready, a problem picked, its inputs shown), or why none."""
    import shutil

    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [], "playwright is not installed"
    if exe is None:
        return [], "no Chromium on this machine"
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            for _ in range(runs):
                page = browser.new_page()
                start = time.perf_counter()
                page.goto("file://" + index, wait_until="load")
                page.wait_for_selector('#practice-app[data-ready="true"]')
                page.click('[data-pick="Q1"]')
                page.wait_for_selector("article input[data-blank]")
                times.append(time.perf_counter() - start)
                page.close()
        finally:
            browser.close()
    return times, None


def practice_page(quick: bool) -> SuiteResult:
    """The course page's practice tab as ``make run`` builds it: drawing the pool (200 verified
    variants of every family, as a whole command), the page's size, and the time from opening the
    page in Chromium until a variant can be worked."""
    import json
    import os
    import subprocess
    import sys
    import tempfile

    count = 20 if quick else 200
    with tempfile.TemporaryDirectory(prefix="jaxdl-bench-practice-") as tmp:
        pool = os.path.join(tmp, "practice.json")
        cmd = [sys.executable, "-m", "jaxdl.cli", "exam", "generate", "all", "--seed", "1", "--count", str(count),
               "--practice", pool]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"bench practice_page: exited {done.returncode}: {done.stderr.strip()[-300:]}")
        from jaxdl import exams

        with open(os.path.join(tmp, "exam.json"), "w", encoding="utf-8") as f:
            json.dump({"rnn": exams.solve("rnn"), "errata": []}, f)
        subprocess.run([sys.executable, "-m", "jaxdl.cli", "site", "--results", tmp], check=True, capture_output=True)
        index = os.path.join(tmp, "site", "index.html")
        size = os.path.getsize(index)
        times, why = _page_timings(os.path.abspath(index), 3 if quick else 7)
    rows = [Row("the pool", f"jaxdl exam generate all --count {count} --practice", seconds,
                note="whole command: draw, verify three ways, solve, render both languages")]
    result = SuiteResult("practice_page", rows, notes=[f"page: {size / 1e6:.2f} MB with the pool"])
    if times:
        ordered = sorted(times)
        rows.append(Row("the page in Chromium", "open → a variant to work (Q1)", ordered[len(ordered) // 2],
                        note=f"runs {ordered[0]:.2f}–{ordered[-1]:.2f} s"))
    else:
        result.notes.append(f"the page was not opened: {why}")
    if not quick:
        result.targets.append({"target": "the page with the pool under 5 MB", "met": size < 5e6,
                               "detail": f"{size / 1e6:.2f} MB"})
        result.targets.append({"target": "usable in under 2 s after opening (median)",
                               "met": None if not times else rows[-1].median_s < 2,
                               "detail": why or f"{rows[-1].median_s:.2f} s"})
        result.targets.append({"target": "make run grows by at most about a minute (the pool's command)",
                               "met": seconds < 75, "detail": f"{seconds:.1f} s"})
    return result


# --------------------------------------------------------------------------------------------
# cnn_layers


def _no_peer_target(target: str) -> dict:
    """A target against PyTorch that could not be checked, and why."""
    why = ("PyTorch's columns left out (its peers run on the CPU)" if harness.PEERS_LEFT_OUT[0] else
           "PyTorch is not installed (pip install 'jaxdl[torch]'): no comparison")
    return {"target": target, "met": None, "detail": why}


def _layer_grad_fn(apply, first: bool):
    """:func:`_grad_fn` of an ``apply``, w.r.t. the params only for a network's first layer (whose
    ``∂L/∂x`` no train step computes)."""
    argnums = 0 if first else (0, 1)
    return jax.jit(jax.value_and_grad(lambda p, x, dy: jnp.sum(apply(p, x) * dy), argnums=argnums))


def _torch_layer_step(torch, module, x, dy, first: bool):
    """PyTorch eager's forward and backward of one module (the input's gradient unless ``first``)."""
    xt, dyt = torch.tensor(np.asarray(x)).requires_grad_(not first), torch.tensor(np.asarray(dy))

    def step():
        xt.grad = None
        module.zero_grad(set_to_none=True)
        module(xt).backward(dyt)
        return 0

    return step


def _sequence_output(torch, rnn):
    """``rnn`` (an ``nn.LSTM``) as a module returning only its output sequence; ``rnn`` stays its
    submodule, so that ``zero_grad`` clears its gradients."""
    module = torch.nn.Module()
    module.rnn = rnn
    module.forward = lambda x: module.rnn(x)[0]
    return module


XLA_CONV = "XLA's convolution (lax.conv, autodiff)"


def cnn_layers(quick: bool, limits: dict) -> SuiteResult:
    """Where ``mnist_cnn``'s train step spends its time: each layer of lab 2's network at the
    experiment's batch, forward and backward as the train step runs them (jaxdl's hand-derived
    backward through ``with_manual_grad``; the first layer without ``∂L/∂x``), against the same
    PyTorch module in eager mode and, for the convolutions, XLA's own convolution
    (``lax.conv_general_dilated`` through autodiff)."""
    from jaxdl.bench.torch_peers import lab2_cnn as torch_lab2_cnn
    from jaxdl.train import experiments
    from jaxdl.train.experiments.mnist_cnn import lab2_layers

    torch = torch_module()
    batch = 16 if quick else int(experiments.default_config("mnist_cnn").batch_size)
    shape = (batch, 1, 28, 28)
    modules = list(torch_lab2_cnn(torch, 1, 28)) if torch is not None else None
    rows, totals = [], {}
    for i, layer in enumerate(lab2_layers()):
        out_shape, params = layer.init(KEY, shape)
        out_shape = tuple(batch if d == -1 else d for d in out_shape)
        x, dy = _normal(shape, 1), _normal(out_shape, 2)
        first = i == 0
        cands = {"jaxdl": (_layer_grad_fn(with_manual_grad(layer).apply, first), (params, x, dy))}
        if layer.name == "conv2d":
            pads = tuple((k // 2, k // 2) for k in params["W"].shape[2:])  # SAME, odd kernels

            def xla_conv(p, x, pads=pads):
                y = jax.lax.conv_general_dilated(x, p["W"], (1, 1), pads, dimension_numbers=("NCHW", "OIHW", "NCHW"))
                return y + p["b"][None, :, None, None]

            cands[XLA_CONV] = (_layer_grad_fn(xla_conv, first), (params, x, dy))
        if modules is not None:
            with torch.no_grad():
                got = tuple(modules[i](torch.zeros(shape)).shape)
            if got != out_shape:  # jaxdl's bug: the two networks must be the same network
                raise AssertionError(f"cnn_layers: layer {i} ({layer.name}) gives {out_shape} in jaxdl, {got} in PyTorch")
            cands["PyTorch (eager)"] = (_torch_layer_step(torch, modules[i], x, dy, first), ())
        timed = measure_interleaved(cands, repeats=5 if quick else 9)
        case = f"{i} {layer.name} {shape} → {out_shape}"
        flops = None
        if layer.name == "conv2d":  # 2·N·F·C·kh·kw·Ho·Wo per product: the forward, ∂L/∂W and (but first) ∂L/∂x
            flops = 2 * math.prod(out_shape) * math.prod(params["W"].shape[1:]) * (2 if first else 3)
        for cand, (t, runs) in timed.items():
            peak = "" if flops is None else f"{100 * flops / t / 1e9 / limits['matmul_gflops']:.0f}% of the matmul peak; "
            rows.append(Row(case, cand, t, gflops=None if flops is None else flops / t / 1e9,
                            note=f"{peak}runs {_us(min(runs))}–{_us(max(runs))}"))
            if cand != XLA_CONV:
                totals.setdefault(cand, {})[case] = t
        shape = out_shape
    result = SuiteResult("cnn_layers", rows, notes=[
        f"mnist_cnn's network (lab2_cnn) at batch {batch}, one layer at a time: the forward and the backward a train "
        "step runs (the first layer without ∂L/∂x); ratio: the time against PyTorch eager's (< 1: jaxdl is faster)",
        f"GFLOP/s counts a convolution's products (2·N·F·C·kh·kw·Ho·Wo each: the forward, ∂L/∂W and, but for the "
        f"first layer, ∂L/∂x); the peak is this run's float32 matmul, {limits['matmul_gflops']:.0f} GFLOP/s",
    ])
    if torch is None:
        result.add_ratios("jaxdl")
        result.targets.append(_no_peer_target("mnist_cnn's layers against PyTorch eager"))
        return result
    result.add_ratios("PyTorch (eager)")
    mine, theirs = totals["jaxdl"], totals["PyTorch (eager)"]
    slower = sorted((c for c in mine if mine[c] > theirs[c]), key=lambda c: theirs[c] - mine[c])
    result.targets.append({
        "target": "mnist_cnn's layers, forward and backward: jaxdl's sum ≤ PyTorch eager's (what the step's parity needs)",
        "met": sum(mine.values()) <= sum(theirs.values()),
        "detail": f"{_us(sum(mine.values()))} vs {_us(sum(theirs.values()))}; slower, most time lost first: "
                  + ", ".join(f"{c.split(' (')[0]} {_us(mine[c])} vs {_us(theirs[c])}" for c in slower)
                  if slower else f"{_us(sum(mine.values()))} vs {_us(sum(theirs.values()))}; no layer slower",
    })
    return result


# --------------------------------------------------------------------------------------------
# lstm_loop


def lstm_loop(quick: bool) -> SuiteResult:
    """Where ``lstm_adding``'s train step spends its time: the LSTM layer at the experiment's
    batch, length and width, forward and forward+backward (w.r.t. the params, as a train step
    needs them; jaxdl's hand-derived BPTT), against ``nn.LSTM`` in PyTorch eager, and the floor of
    XLA's time loop: a ``lax.scan`` whose step is only the recurrent product and one ``tanh``."""
    from jaxdl.train import experiments

    torch = torch_module()
    cfg = experiments.default_config("lstm_adding")
    n, t, hidden = (16, 10, int(cfg.hidden)) if quick else (int(cfg.batch_size), int(cfg.length), int(cfg.hidden))
    shape = (n, t, 2)
    layer = L.lstm(hidden)
    out_shape, params = layer.init(KEY, shape)
    x, dy = _normal(shape, 1), _normal((n, t, hidden), 2)
    w_h = params["W_h"]

    def floor(w, x):
        def step(h, xw):
            return jnp.tanh(xw + h @ w)[:, :hidden], None  # the product of every gate, one activation

        xw = jnp.zeros((t, n, 4 * hidden), x.dtype) + x[:, :, :1].transpose(1, 0, 2)
        return jax.lax.scan(step, jnp.zeros((n, hidden), x.dtype), xw)[0]

    cases = {
        # The forward a train step runs: the gates and states kept for the backward.
        "forward": {"jaxdl": (jax.jit(layer.forward_with_residuals), (params, x))},
        "forward+backward": {"jaxdl": (_layer_grad_fn(with_manual_grad(layer).apply, True), (params, x, dy))},
        "the time loop's floor": {"lax.scan of h ← tanh(xw(t) + h·W_h)": (jax.jit(floor), (w_h, x))},
    }
    if torch is not None:
        module = torch.nn.LSTM(2, hidden, batch_first=True)
        xt = torch.tensor(np.asarray(x))

        def torch_forward():
            with torch.no_grad():
                return module(xt)[0]

        cases["forward"]["PyTorch nn.LSTM (eager)"] = (torch_forward, ())
        cases["forward+backward"]["PyTorch nn.LSTM (eager)"] = (
            _torch_layer_step(torch, _sequence_output(torch, module), x, dy, True), ())
    rows = []
    for what, cands in cases.items():
        timed = measure_interleaved(cands, repeats=5 if quick else 9)
        for cand, (sec, runs) in timed.items():
            rows.append(Row(f"{what} (N {n}, T {t}, H {hidden})", cand, sec,
                            note=f"{_us(sec / t)} per time step; runs {_us(min(runs))}–{_us(max(runs))}"))
    result = SuiteResult("lstm_loop", rows, notes=[
        "forward: jaxdl's keeps the gates and states for its backward (forward_with_residuals), as a train step runs "
        "it; forward+backward: the gradient w.r.t. the params, as a train step needs it; the floor: XLA's while loop "
        "with nothing in its step but the recurrent product (N, H)·(H, 4H) and one tanh",
    ])
    by = {(r.case.split(" (")[0], r.candidate): r.median_s for r in rows}
    if torch is None:
        result.add_ratios("jaxdl")
        result.targets.append(_no_peer_target("the LSTM against PyTorch's nn.LSTM"))
        return result
    result.add_ratios("PyTorch nn.LSTM (eager)")
    mine, theirs = by[("forward+backward", "jaxdl")], by[("forward+backward", "PyTorch nn.LSTM (eager)")]
    low = by[("the time loop's floor", "lax.scan of h ← tanh(xw(t) + h·W_h)")]
    result.targets.append({
        "target": "the LSTM's forward+backward at least 1.5× as fast as nn.LSTM's (what lstm_adding's target needs)",
        "met": theirs / mine >= 1.5,
        "detail": f"{theirs / mine:.2f}×: {_us(mine / t)} against {_us(theirs / t)} per time step; XLA's loop with only "
                  f"the product and a tanh in its step takes {_us(low / t)} per step forward",
    })
    return result


PEER = "PyTorch eager (same model, optimiser, batch)"
# cnn_digits and mnist_cnn: at least 1.5× PyTorch eager's steps/s; every other experiment at least as fast.
PEER_COMPILED = "PyTorch torch.compile (default mode; compile time apart)"
# jaxdl's step against the faster PyTorch column: at least this many times its steps/s (1 elsewhere).
PEER_SPEEDUP = {"cnn_digits": 1.5, "lstm_adding": 1.5, "mnist_cnn": 1.0}
# Where a missed target's time goes, measured in another suite of the same run.
WHERE = {"mnist_cnn": "layer by layer: the cnn_layers suite", "lstm_adding": "time step by time step: the lstm_loop suite"}


class PeerMismatch(Exception):
    """torch.compile's peer trains differently from the eager one: its column would time another run."""


def compiled_peer(torch, name: str, cfg, data, steps: int = 3, rtol: float = 1e-4):
    """Experiment ``name``'s PyTorch step through ``torch.compile`` and its compile time (the first
    call), checked first: from the same seed, its first ``steps`` losses are the eager step's, to
    ``rtol``; otherwise :class:`PeerMismatch`. The step has then trained ``steps`` steps."""
    from jaxdl.bench.torch_peers import make_peer

    losses = {}
    for compiled in (False, True):
        torch.manual_seed(0)  # the same initial weights and the same batches
        step = make_peer(torch, name, cfg, data, compiled=compiled)
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # torch.compile warns from its own internals
            warnings.simplefilter("ignore")
            first = float(step())  # with compiled: the compilation, timed apart
        seconds = time.perf_counter() - t0
        losses[compiled] = [first] + [float(step()) for _ in range(steps - 1)]
    if not np.allclose(losses[True], losses[False], rtol=rtol, atol=0):
        raise PeerMismatch(f"losses {', '.join(f'{v:.6g}' for v in losses[True])} against eager's "
                           f"{', '.join(f'{v:.6g}' for v in losses[False])}")
    return step, seconds


def training(quick: bool, names=None, smoke: bool = False, compile_peers: bool | None = None) -> SuiteResult:
    """Steps per second of each experiment's jitted train step at its default config (``smoke``:
    its tiny smoke config), timed as ``jaxdl train`` runs them, with each step structure
    (``loop``: a ``lax.scan`` chunk, or one jitted step per call) and, when PyTorch imports, the
    same model, optimiser and batch in PyTorch eager and through ``torch.compile`` (``compile_peers``;
    by default not with ``quick``, whose minute cannot hold the compilations): the candidates
    interleaved, round by round.

    Long because it is one table of experiments timed round by round: splitting it would scatter the
    interleaving it exists for."""
    import ml_collections

    from jaxdl.bench.torch_peers import PEERS, make_peer
    from jaxdl.train import experiments, trainer

    torch = torch_module()
    steps, rounds = (10, 3) if quick else (50, 5)
    if compile_peers is None:
        compile_peers = not quick
    rows, slower, versus = [], [], []
    for name in names or experiments.EXPERIMENTS:
        default = experiments.default_config(name)
        if smoke:
            default.smoke = True
        default = experiments.resolve(default)
        case = f"{name} (batch {default.batch_size})"
        task = experiments.EXPERIMENTS[name]()
        data = task.data(default)
        data_dev = {k: jnp.asarray(v) for k, v in data.items()}
        cands = {}
        for loop in ("scan", "step"):
            cfg = ml_collections.ConfigDict(default.to_dict())
            cfg.loop = loop
            params = task.init(cfg, data, KEY)
            optimizer = task.optimizer(cfg)
            _, data_sharding = trainer.mesh_and_shardings(cfg.batch_size)
            chunk = trainer.make_chunk(task, cfg, optimizer, data_sharding)
            opt_state = optimizer.init(params)
            chosen = " (the config's)" if loop == default.loop else ""
            cands[f"one train step, loop={loop}{chosen}"] = (
                lambda chunk=chunk, params=params, opt_state=opt_state:
                jax.block_until_ready(chunk(params, opt_state, KEY, data_dev, 0, steps)))
        compile_note = ""
        if torch is not None and name in PEERS:
            torch.manual_seed(0)
            peer = make_peer(torch, name, default, data)
            cands[PEER] = lambda peer=peer: [peer() for _ in range(steps)][-1].item()
            if compile_peers:
                try:
                    compiled, seconds = compiled_peer(torch, name, default, data)
                    compile_note = f"; compiled in {seconds:.1f} s, its first losses those of eager"
                    cands[PEER_COMPILED] = lambda peer=compiled: [peer() for _ in range(steps)][-1].item()
                except Exception as e:  # noqa: BLE001 - torch.compile needs a C++ compiler; say why it is absent
                    compile_note = f"; torch.compile failed: {type(e).__name__}: {str(e).splitlines()[0][:160]}"
        for fn in cands.values():  # compilation, caches, allocator warm-up: not timed
            fn()
        times = {label: [] for label in cands}
        for _ in range(rounds):  # interleaved: a busy moment falls on every candidate alike
            for label, fn in cands.items():
                t0 = time.perf_counter()
                fn()
                times[label].append((time.perf_counter() - t0) / steps)
        med = {label: statistics.median(ts) for label, ts in times.items()}
        for label, ts in times.items():
            rows.append(Row(case, label, med[label], note=f"{1 / med[label]:,.0f} steps/s (rounds "
                                                         f"{1 / max(ts):,.0f}–{1 / min(ts):,.0f})"
                                                         + (compile_note if label == PEER_COMPILED else "")))
        loops = {loop: med[label] for label in med for loop in ("scan", "step") if f"loop={loop}" in label}
        # 1.25: away from the convolutional experiments (5× apart) the two structures differ by
        # less than this machine's run-to-run noise, and the verdict must not flip with it.
        if loops[default.loop] > 1.25 * min(loops.values()):
            slower.append(f"{name} ({default.loop} {loops[default.loop] / min(loops.values()):.2f}× the other)")
        if PEER in med:
            need = PEER_SPEEDUP.get(name, 1.0)
            best = min((label for label in (PEER, PEER_COMPILED) if label in med), key=med.get)
            speedup = med[best] / loops[default.loop]
            which = "torch.compile" if best == PEER_COMPILED else "eager"
            others = (f"; eager {1 / med[PEER]:,.0f}, torch.compile {1 / med[PEER_COMPILED]:,.0f}"
                      if PEER_COMPILED in med else compile_note)  # or why torch.compile is absent
            versus.append({
                "target": f"{name}: jaxdl's step ≥ {need:g}× the faster PyTorch's steps/s",
                "met": speedup >= need,
                "detail": f"{1 / loops[default.loop]:,.0f} vs {1 / med[best]:,.0f} steps/s ({which}{others}): "
                          f"{speedup:.2f}×" + (f"; {WHERE[name]}" if name in WHERE and speedup < need else ""),
            })
    result = SuiteResult("training", rows, notes=[
        f"per step: the median of {rounds} interleaved rounds of {steps} steps each (the spread: the slowest and "
        "fastest round); ratio: the time per step against PyTorch's (< 1: jaxdl is faster)",
        *([f"PyTorch {torch.__version__} eager on the CPU with {torch.get_num_threads()} threads"
           + (", and with the forward and loss through torch.compile (default mode; its compile time is in its "
              "row's note, not in its steps/s)" if compile_peers else "")
           + "; the peers are jaxdl/bench/torch_peers.py"] if torch is not None else []),
    ])
    result.add_ratios(PEER)
    result.targets.append({"target": "each experiment's config uses its faster step structure (within 1.25×, the noise)",
                           "met": not slower, "detail": "; ".join(slower) or "all"})
    if torch is None:
        result.targets.append(_no_peer_target("jaxdl's training steps against PyTorch eager"))
    result.targets += versus
    return result
