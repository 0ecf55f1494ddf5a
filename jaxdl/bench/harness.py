"""Timing, in one process: warm-up and compilation first, ``block_until_ready``, the median of
repeated runs, and the machine's own limits measured beside the candidates."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import platform
import statistics
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np


def _block(out):
    if hasattr(out, "block_until_ready") or isinstance(out, (tuple, list, dict)):
        jax.block_until_ready(out)
    return out


def measure(fn: Callable, *args, repeats: int = 7, min_run_s: float = 0.02, max_calls: int = 1 << 16) -> float:
    """Median seconds per call of ``fn(*args)``.

    The first call (compilation, caches) is not timed. Each timed run makes ``k`` back-to-back
    calls and waits for the last result, ``k`` chosen so that a run lasts at least
    ``min_run_s`` (so microsecond calls are not lost in timer noise); the result is the median
    over ``repeats`` runs of run time / ``k``.
    """
    _block(fn(*args))
    k = 1
    while True:
        start = time.perf_counter()
        for _ in range(k):
            out = fn(*args)
        _block(out)
        elapsed = time.perf_counter() - start
        if elapsed >= min_run_s or k >= max_calls:
            break
        k = min(max_calls, max(2 * k, int(k * min_run_s / max(elapsed, 1e-9) * 1.2)))
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(k):
            out = fn(*args)
        _block(out)
        runs.append((time.perf_counter() - start) / k)
    return statistics.median(runs)


@dataclasses.dataclass
class Row:
    """One timed candidate of one case of a suite."""

    case: str
    candidate: str
    median_s: float
    reference: str = ""  # the candidate this row's ratio is against (same case)
    ratio: float | None = None  # median / reference median (< 1: faster)
    gflops: float | None = None
    gbps: float | None = None
    note: str = ""


@dataclasses.dataclass
class SuiteResult:
    name: str
    rows: list[Row]
    notes: list[str] = dataclasses.field(default_factory=list)
    targets: list[dict] = dataclasses.field(default_factory=list)

    def add_ratios(self, reference: str) -> None:
        """Sets every row's ratio against the ``reference`` candidate of the same case."""
        base = {r.case: r.median_s for r in self.rows if r.candidate == reference}
        for r in self.rows:
            if r.case in base:
                r.reference = reference
                r.ratio = r.median_s / base[r.case]


def machine_limits(quick: bool) -> dict:
    """A large float32 matmul (GFLOP/s) and a large array copy (GB/s), measured now."""
    n = 1024 if quick else 2048
    a = jnp.ones((n, n), jnp.float32)
    matmul = jax.jit(lambda a, b: a @ b)
    t = measure(matmul, a, a, repeats=5)
    size = (16 if quick else 64) * 2**20 // 4
    x = jnp.arange(size, dtype=jnp.float32)
    copy = jax.jit(lambda x: x + 1.0)  # reads and writes every element once
    tc = measure(copy, x, repeats=5)
    return {
        "matmul_gflops": 2 * n**3 / t / 1e9,
        "matmul_size": n,
        "copy_gbps": 2 * size * 4 / tc / 1e9,
        "copy_mib": size * 4 / 2**20,
    }


def environment() -> dict:
    versions = {}
    for pkg in ("jax", "jaxlib", "numpy", "optax", "flax", "torch"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    device = jax.devices()[0]
    return {
        "device": f"{device.platform}: {device.device_kind}",
        "device_count": jax.device_count(),
        "cpu_count": __import__("os").cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "versions": versions,
    }


def torch_module():
    """``torch`` if it is importable (an optional comparison), else ``None``."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_grad_enabled(True)
    return torch


def to_numpy_f32(*arrays):
    return [np.asarray(a, np.float32) for a in arrays]
