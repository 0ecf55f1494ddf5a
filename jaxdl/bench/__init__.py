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
          "exam_generate", "practice_page", "cnn_layers", "lstm_loop", "training")


def run(names=None, quick: bool = False, progress=None, layers=None, peers: bool = True) -> dict:
    """Runs the suites ``names`` (default: all) and returns the report dict. ``layers`` restricts
    ``manual_vs_autodiff`` to those registry layer families; ``peers=False`` leaves PyTorch's
    columns out (on a GPU, where they would run on the CPU).

    Raises:
      InputError: an unknown suite or layer name (before anything runs).
    """
    if layers and names and list(names) != ["manual_vs_autodiff"]:
        raise InputError("jaxdl bench: --layer belongs to --suite manual_vs_autodiff")
    names = list(names or (["manual_vs_autodiff"] if layers else SUITES))
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise InputError(f"jaxdl bench: unknown suite {unknown[0]!r}; known: {', '.join(SUITES)}")
    if layers:
        known = _suites.bench_layers(quick=True)
        missing = [n for n in layers if n not in known]
        if missing:
            raise InputError(f"jaxdl bench: no benchmark for layer {missing[0]!r}; known: {', '.join(sorted(known))}")
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


def format_report(report: dict) -> str:
    """The report as ``jaxdl bench`` prints it: the machine, its limits measured now, then per
    suite each case's candidates (median, ratio to the reference, throughput, notes) and targets."""
    from jaxdl.bench.harness import format_seconds

    env, lim = report["environment"], report["limits"]
    spread = lambda v: f"runs {v[0]:.0f}–{v[2]:.0f}"  # noqa: E731
    by_lib = ", ".join(f"{k} {v['best']:.0f}" for k, v in lim.get("matmul_by_library", {}).items())
    lines = [
        f"jaxdl bench{' --quick' if report['quick'] else ''} on {env['device']} ({env['cpu_count']} CPUs), "
        f"jax {env['versions'].get('jax')}"
        + (f", torch {env['versions']['torch']}" if "torch" in env["versions"] else ", no PyTorch"),
        f"machine limits measured now: float32 matmul {lim['matmul_gflops']:.0f} GFLOP/s ({lim['matmul_size']}², "
        f"{lim.get('matmul_library', 'xla')}'s, {spread(lim['matmul_gflops_spread'])}; best per library: {by_lib}); "
        f"copy with donated buffers "
        f"{lim['copy_cache_gbps']:.0f} GB/s in cache ({lim['copy_cache_mib']} MiB, {spread(lim['copy_cache_gbps_spread'])}), "
        f"{lim['copy_gbps']:.1f} GB/s from DRAM ({lim['copy_mib']} MiB, {spread(lim['copy_gbps_spread'])})"]
    for name, suite in report["suites"].items():
        lines += _format_suite(name, suite, format_seconds)
    lines.append(f"\ntotal {report['wall_seconds']:.0f} s")
    return "\n".join(lines)


def _format_suite(name: str, suite: dict, format_seconds) -> list[str]:
    busy = suite.get("busy_other_cores")
    lines = [f"\n== {name} ({suite['wall_seconds']:.0f} s"
             + (f"; other processes: {busy:.2f} cores busy" if busy is not None else "") + ")"]
    case = None
    cases = list(dict.fromkeys(r["case"] for r in suite["rows"]))
    for r in sorted(suite["rows"], key=lambda r: cases.index(r["case"])):
        if r["case"] != case:
            case = r["case"]
            lines.append(f"  {case}")
        extra = []
        if r["ratio"] is not None and r["candidate"] != r["reference"]:
            extra.append(f"{r['ratio']:.2f}× {r['reference']}")
        if r["gflops"] is not None:
            extra.append(f"{r['gflops']:.1f} GFLOP/s")
        if r["gbps"] is not None:
            extra.append(f"{r['gbps']:.1f} GB/s")
        if r["note"]:
            extra.append(r["note"])
        lines.append(f"    {r['candidate']:<58} {format_seconds(r['median_s']):>10}   {'; '.join(extra)}")
    lines += [f"  note: {note}" for note in suite["notes"]]
    for t in suite["targets"]:
        verdict = {True: "met", False: "NOT MET", None: "n/a"}[t["met"]]
        lines.append(f"  target [{verdict}] {t['target']}: {t['detail']}")
    return lines


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
