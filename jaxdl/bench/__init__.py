"""``jaxdl bench``: the benchmark suites, run side by side in one process.

:func:`run` times the requested suites after measuring the machine's limits, and returns one
JSON-ready dict: the environment (device, library versions), the limits, and per suite every
median, ratio and target. :func:`plot` draws one bar chart per suite.
"""

from __future__ import annotations

import dataclasses
import time

from jaxdl.bench import harness
from jaxdl.bench import suites as _suites
from jaxdl.bench.harness import CpuMonitor, environment, machine_limits
from jaxdl.errors import InputError

# Other processes keeping more than this many cores busy during a suite make its timings suspect.
BUSY_CORES = 0.25

SUITES = ("manual_vs_autodiff", "avg_pool", "coupling", "gan_step", "reversible", "numpy_lab", "check_numpy",
          "exam_generate", "cnn_layers", "lstm_loop", "training")


def run(names=None, quick: bool = False, progress=None, layers=None, peers: bool = True) -> dict:
    """Runs the suites ``names`` (default: all) and returns the report dict. ``layers`` restricts
    ``manual_vs_autodiff`` to those registry layer families; ``peers=False`` leaves PyTorch's
    columns out (on a GPU, where they would run on the CPU).

    Raises:
      InputError: an unknown suite or layer name (before anything runs).
    """
    names = list(names or SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise InputError(f"bench: unknown suite {unknown[0]!r}; known: {', '.join(SUITES)}")
    if layers:
        known = _suites.bench_layers(quick=True)
        missing = [n for n in layers if n not in known]
        if missing:
            raise InputError(f"bench: no benchmark for layer {missing[0]!r}; known: {', '.join(sorted(known))}")
    harness.PEERS_LEFT_OUT[0] = not peers
    try:
        return _run(names, quick, progress, layers)
    finally:
        harness.PEERS_LEFT_OUT[0] = False


def _run(names, quick, progress, layers) -> dict:
    start = time.perf_counter()
    limits = machine_limits(quick)
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "environment": environment(),
              "quick": quick, "limits": limits, "suites": {}}
    for name in names:
        if progress:
            progress(name)
        t0 = time.perf_counter()
        monitor = CpuMonitor()
        if name in ("coupling", "cnn_layers"):  # their rows' fractions of the machine's peak
            result = getattr(_suites, name)(quick, limits)
        elif name == "manual_vs_autodiff" and layers:
            result = _suites.manual_vs_autodiff(quick, names=list(layers))
        else:
            result = getattr(_suites, name)(quick)
        entry = dataclasses.asdict(result)
        entry["wall_seconds"] = time.perf_counter() - t0
        entry["busy_other_cores"] = monitor.others()
        if entry["busy_other_cores"] is not None and entry["busy_other_cores"] > BUSY_CORES:
            entry["notes"].append(
                f"WARNING: other processes kept {entry['busy_other_cores']:.2f} cores busy during this suite "
                "(read from /proc/stat): its timings and verdicts are suspect; rerun on a quiet machine")
        report["suites"][name] = entry
    report["wall_seconds"] = time.perf_counter() - start
    return report


def plot(report: dict, directory: str) -> list[str]:
    """One PNG per suite: horizontal bars of the medians (log scale), grouped by case."""
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(directory, exist_ok=True)
    written = []
    for name, suite in report["suites"].items():
        rows = suite["rows"]
        if not rows:
            continue
        labels = [f"{r['case']} — {r['candidate']}" for r in rows]
        values = [r["median_s"] * 1e6 for r in rows]
        cases = list(dict.fromkeys(r["case"] for r in rows))
        colors = [f"C{cases.index(r['case']) % 10}" for r in rows]
        fig, ax = plt.subplots(figsize=(10, 0.32 * len(rows) + 1.2))
        ax.barh(range(len(rows)), values, color=colors)
        ax.set_yticks(range(len(rows)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("median time per call (µs, log scale)")
        ax.set_title(f"{name} — {report['environment']['device']}")
        fig.tight_layout()
        path = os.path.join(directory, f"{name}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
