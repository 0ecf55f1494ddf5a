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

from jaxdl.layers import cpu_conv, cpu_coupling, cpu_lstm


def _block(out):
    if hasattr(out, "block_until_ready") or isinstance(out, (tuple, list, dict)):
        jax.block_until_ready(out)
    return out


def _calls_per_run(fn: Callable, args, min_run_s: float, max_calls: int) -> int:
    """After one untimed call (compilation, caches), how many back-to-back calls make a timed run
    last at least ``min_run_s``."""
    _block(fn(*args))
    k = 1
    while True:
        start = time.perf_counter()
        for _ in range(k):
            out = fn(*args)
        _block(out)
        elapsed = time.perf_counter() - start
        if elapsed >= min_run_s or k >= max_calls:
            return k
        k = min(max_calls, max(2 * k, int(k * min_run_s / max(elapsed, 1e-9) * 1.2)))


def measure(fn: Callable, *args, repeats: int = 7, min_run_s: float = 0.02, max_calls: int = 1 << 16) -> float:
    """Median seconds per call of ``fn(*args)``.

    The first call (compilation, caches) is not timed. Each timed run makes ``k`` back-to-back
    calls and waits for the last result, ``k`` chosen so that a run lasts at least
    ``min_run_s`` (so microsecond calls are not lost in timer noise); the result is the median
    over ``repeats`` runs of run time / ``k``.
    """
    k = _calls_per_run(fn, args, min_run_s, max_calls)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(k):
            out = fn(*args)
        _block(out)
        runs.append((time.perf_counter() - start) / k)
    return statistics.median(runs)


def measure_interleaved(cands: dict, repeats: int = 9, min_run_s: float = 0.02, max_calls: int = 1 << 16) -> dict:
    """Like :func:`measure` for several candidates at once, ``{label: (fn, args)}``, their timed
    runs interleaved round by round, so that a busy moment of the machine falls on all of them
    alike and their ratios stay meaningful. Returns ``{label: (median s per call, [s per call
    of each round])}``."""
    calls = {label: _calls_per_run(fn, args, min_run_s, max_calls) for label, (fn, args) in cands.items()}
    runs = {label: [] for label in cands}
    for _ in range(repeats):
        for label, (fn, args) in cands.items():
            start = time.perf_counter()
            for _ in range(calls[label]):
                out = fn(*args)
            _block(out)
            runs[label].append((time.perf_counter() - start) / calls[label])
    return {label: (statistics.median(ts), ts) for label, ts in runs.items()}


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


def _runs(fn, *args, repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` calls (after one untimed call), each waited for."""
    _block(fn(*args))
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        _block(fn(*args))
        out.append(time.perf_counter() - start)
    return out


def _copy_gbps(mib: float, repeats: int) -> tuple[float, list[float]]:
    """``x + 1`` on a ``mib`` MiB float32 array whose buffer is donated (the output reuses it, as
    a real in-place update does): bytes read + written per second, without the allocation and
    page faults that a fresh output of that size costs each call. ``(best GB/s, all GB/s)``."""
    n = int(mib * 2**20) // 4
    step = jax.jit(lambda x: x + 1.0, donate_argnums=0)
    x = jnp.zeros((n,), jnp.float32)
    x = step(x)
    x.block_until_ready()
    rates = []
    for _ in range(repeats):
        calls = max(1, int(2**28 // (8 * n)))  # about 256 MiB of traffic per timed run
        start = time.perf_counter()
        for _ in range(calls):
            x = step(x)
        x.block_until_ready()
        rates.append(calls * 8 * n / (time.perf_counter() - start) / 1e9)
    return max(rates), rates


def _matmul_gflops(n: int, repeats: int) -> dict[str, list[float]]:
    """GFLOP/s of each timed ``n × n`` float32 product, per library: XLA's (jit), numpy's BLAS and,
    when importable, PyTorch's (its own thread setting); each after one untimed call."""
    flops = 2 * n**3
    a = jnp.ones((n, n), jnp.float32)
    out = {"xla": [flops / t / 1e9 for t in _runs(jax.jit(lambda a, b: a @ b), a, a, repeats=repeats)]}
    an = np.ones((n, n), np.float32)
    out["numpy"] = [flops / t / 1e9 for t in _runs(np.matmul, an, an, repeats=repeats)]
    torch = torch_module()
    if torch is not None:
        at = torch.ones((n, n), dtype=torch.float32)
        with torch.no_grad():
            out["torch"] = [flops / t / 1e9 for t in _runs(torch.matmul, at, at, repeats=repeats)]
    return out


def machine_limits(quick: bool) -> dict:
    """What this machine can do, measured now: the float32 matmul's peak (GFLOP/s: the best run of
    the best of XLA's, numpy's BLAS and PyTorch's products, each reported with its spread) and the
    copy bandwidth with donated buffers, once for a working set that fits the last-level cache and
    once for one that must stream from DRAM. Every roofline fraction uses the best peak."""
    n = 1024 if quick else 2048
    per_library = _matmul_gflops(n, repeats=5 if quick else 9)
    best = max(per_library, key=lambda k: max(per_library[k]))
    gflops = per_library[best]
    cache_mib, dram_mib = 4, (64 if quick else 256)
    cache_best, cache_all = _copy_gbps(cache_mib, 5)
    dram_best, dram_all = _copy_gbps(dram_mib, 5)
    return {
        "matmul_gflops": max(gflops),
        "matmul_gflops_spread": [min(gflops), statistics.median(gflops), max(gflops)],
        "matmul_library": best,
        "matmul_by_library": {k: {"best": max(v), "spread": [min(v), statistics.median(v), max(v)]}
                              for k, v in per_library.items()},
        "matmul_size": n,
        "copy_cache_gbps": cache_best,
        "copy_cache_gbps_spread": [min(cache_all), statistics.median(cache_all), max(cache_all)],
        "copy_cache_mib": cache_mib,
        "copy_gbps": dram_best,  # DRAM: the roofline's bandwidth for working sets beyond the cache
        "copy_gbps_spread": [min(dram_all), statistics.median(dram_all), max(dram_all)],
        "copy_mib": dram_mib,
    }


class CpuMonitor:
    """How much CPU other processes used while a measurement ran, from ``/proc/stat`` (all
    CPUs) minus this process's own time and its waited-for children's (``os.times``).

    ``others()`` is the average number of cores other processes kept busy since ``start()``;
    ``None`` where ``/proc/stat`` cannot be read.
    """

    def __init__(self):
        import os

        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.start()

    @staticmethod
    def _busy_jiffies() -> int | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]) - idle

    @staticmethod
    def _own_seconds() -> float:
        import os

        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def start(self) -> None:
        self._busy0, self._own0, self._wall0 = self._busy_jiffies(), self._own_seconds(), time.perf_counter()

    def others(self) -> float | None:
        busy = self._busy_jiffies()
        wall = time.perf_counter() - self._wall0
        if busy is None or self._busy0 is None or wall <= 0:
            return None
        total = (busy - self._busy0) / self._tick
        return max(0.0, (total - (self._own_seconds() - self._own0)) / wall)


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
        "convolutions": cpu_conv.status(),  # float32 convolutions: jaxdl's CPU kernels or XLA's
        "lstm": cpu_lstm.status(),  # float32 LSTM time loops: jaxdl's CPU kernels or XLA's lax.scan
        "coupling": cpu_coupling.status(),  # the quiz's float32 coupling: jaxdl's CPU kernels or XLA's
    }


def format_seconds(seconds: float) -> str:
    """A median as people read it: ``14.4 µs``, ``7.63 ms``, ``1.2 s`` (three significant digits)."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


# Set by ``jaxdl.bench.run(peers=False)`` (the GPU script: PyTorch's peers run on the CPU).
PEERS_LEFT_OUT = [False]


def torch_module():
    """``torch`` if it is importable (an optional comparison) and the peers are wanted, else ``None``."""
    if PEERS_LEFT_OUT[0]:
        return None
    try:
        import torch
    except ImportError:
        return None
    torch.set_grad_enabled(True)
    return torch

