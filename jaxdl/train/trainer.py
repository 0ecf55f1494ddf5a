"""``jaxdl train``: one loop for every experiment — jitted chunks of steps, checkpoints, resume,
metrics, plots, and data parallelism over the local devices.

An experiment is a :class:`Task` (see :mod:`jaxdl.train.experiments`). The loop:

- draws step ``t``'s randomness from ``fold_in(key(seed), t)``, so a run stopped and resumed at
  any checkpoint ends with exactly the parameters of a run that went straight through;
- runs ``lax.scan`` over chunks of steps (one compiled program per chunk length), shows a
  progress bar, appends one JSON line per chunk to ``metrics.jsonl`` and writes a checkpoint
  every ``checkpoint_every`` steps (msgpack via ``flax.serialization``, written to a temporary
  file and renamed, so a crash never leaves half a checkpoint);
- stops at the first non-finite loss, keeping the last good checkpoint;
- shards each minibatch over a ``Mesh`` of all local devices (parameters replicated), so the
  same code runs on one CPU, ``--xla_force_host_platform_device_count`` fake devices, or a GPU
  node; with ``distributed.coordinator_address`` set it first joins a multi-host run.

The workdir holds ``config.json``, ``metrics.jsonl``, ``checkpoint_<step>.msgpack``,
``summary.json`` and the experiment's PNG plots.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import math
import os
import re
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization
from jax.sharding import Mesh, NamedSharding, PartitionSpec

CHECKPOINT_RE = re.compile(r"checkpoint_(\d+)\.msgpack$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Task:
    """One experiment.

    Attributes:
      name: the experiment's name (``config.experiment``).
      data: ``cfg -> dict`` of numpy arrays (the whole data set; minibatches are drawn on device).
      init: ``(cfg, data, key) -> params``.
      optimizer: ``cfg -> optax.GradientTransformation``.
      batch: ``(cfg, data, key) -> batch``: a minibatch (a dict of arrays, leading axis the
        batch), drawn inside the jitted step.
      loss: ``(cfg, params, batch, key) -> scalar``, differentiated with ``jax.grad`` (tasks
        wire their layers' manual backward passes in with ``with_manual_grad``).
      evaluate: ``(cfg, params, data) -> dict`` of final figures for ``summary.json``.
      plots: ``(cfg, params, data, history, workdir) -> [paths]``.
      update: optional ``(cfg, optimizer) -> update(params, opt_state, batch, key) -> (params,
        opt_state, loss)`` replacing the default gradient step (the GAN's D-then-G step).
      snapshot: optional ``(cfg, params) -> np.ndarray``, saved after every chunk as
        ``snapshots/<step>.npy`` so that plots can show the model over training.
    """

    name: str
    data: Callable
    init: Callable
    optimizer: Callable
    batch: Callable
    loss: Callable | None
    evaluate: Callable
    plots: Callable
    update: Callable | None = None
    snapshot: Callable | None = None


def sample_rows(key, n: int, size: int):
    """``size`` row indices drawn uniformly (with replacement) from ``0..n-1``: a minibatch."""
    return jax.random.randint(key, (size,), 0, n)


def load_snapshots(workdir: str) -> list[tuple[int, np.ndarray]]:
    """``[(step, array)]`` saved by a task's ``snapshot``, in step order."""
    out = []
    for path in sorted(glob.glob(os.path.join(workdir, "snapshots", "*.npy"))):
        out.append((int(os.path.basename(path)[:-4]), np.load(path)))
    return out


class TrainingDiverged(Exception):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


# --------------------------------------------------------------------------------------------
# Checkpoints.


def checkpoints(workdir: str) -> list[tuple[int, str]]:
    """``[(step, path)]`` of the workdir's checkpoints, oldest first."""
    found = []
    for path in glob.glob(os.path.join(workdir, "checkpoint_*.msgpack")):
        m = CHECKPOINT_RE.search(path)
        if m:
            found.append((int(m.group(1)), path))
    return sorted(found)


def _writer() -> bool:
    """In a multi-host run only process 0 writes files."""
    return jax.process_index() == 0


def save_checkpoint(workdir: str, experiment: str, step: int, params, opt_state, key, keep: int = 2) -> str:
    state = {
        "experiment": experiment,
        "step": int(step),
        "key": np.asarray(key),  # a raw uint32 key (jax.random.PRNGKey)
        "params": serialization.to_state_dict(jax.device_get(params)),
        "opt_state": serialization.to_state_dict(jax.device_get(opt_state)),
    }
    path = os.path.join(workdir, f"checkpoint_{step}.msgpack")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(serialization.msgpack_serialize(state))
    os.replace(tmp, path)
    for _, old in checkpoints(workdir)[:-keep]:
        os.remove(old)
    return path


def load_checkpoint(path: str, experiment: str, params_like, opt_state_like):
    """``(step, params, opt_state, key)``; raises ``ValueError`` for another experiment's or a
    corrupt checkpoint (and touches nothing)."""
    try:
        with open(path, "rb") as f:
            state = serialization.msgpack_restore(f.read())
        found = state["experiment"]
    except Exception as e:  # noqa: BLE001 - msgpack raises several kinds for a damaged file
        raise ValueError(f"train: checkpoint {path!r} is corrupt or truncated ({type(e).__name__}); "
                         "nothing was overwritten — remove it to restart from the previous one") from None
    if found != experiment:
        raise ValueError(f"train: the workdir holds a checkpoint of experiment {found!r}, not {experiment!r}; "
                         "use another --workdir")
    try:
        params = serialization.from_state_dict(params_like, state["params"])
        opt_state = serialization.from_state_dict(opt_state_like, state["opt_state"])
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"train: checkpoint {path!r} does not fit this config's model ({e})") from None
    return int(state["step"]), params, opt_state, jnp.asarray(state["key"], jnp.uint32)


# --------------------------------------------------------------------------------------------
# The loop.


def _mesh_and_shardings(batch_size: int):
    devices = np.array(jax.devices())
    if batch_size % len(devices):
        raise ValueError(f"train: batch_size must be divisible by the {len(devices)} devices (the batch is "
                         f"split evenly over them); got batch_size={batch_size}")
    mesh = Mesh(devices, ("data",))
    return NamedSharding(mesh, PartitionSpec()), NamedSharding(mesh, PartitionSpec("data"))


def _make_chunk(task: Task, cfg, optimizer, data_sharding):
    """``chunk(params, opt_state, key, data, first_step, length) -> (params, opt_state, losses)``."""
    if task.update is not None:
        update = task.update(cfg, optimizer)
    else:
        def update(params, opt_state, batch, key):
            loss, grads = jax.value_and_grad(lambda p: task.loss(cfg, p, batch, key))(params)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

    def shard(batch):
        return jax.tree_util.tree_map(lambda a: jax.lax.with_sharding_constraint(a, data_sharding), batch)

    def body(params, opt_state, key, data, t):
        k_batch, k_step = jax.random.split(jax.random.fold_in(key, t))
        batch = shard(task.batch(cfg, data, k_batch))
        return update(params, opt_state, batch, k_step)

    loop = cfg.get("loop", "scan")
    if loop == "step":
        # One jitted step per call, dispatched asynchronously: XLA's CPU backend compiles
        # convolutions inside a while loop (lax.scan) several times slower than on their own.
        one = jax.jit(body)

        def stepwise(params, opt_state, key, data, first_step, length):
            losses = []
            for t in range(first_step, first_step + length):
                params, opt_state, loss = one(params, opt_state, key, data, t)
                losses.append(loss)
            return params, opt_state, jnp.stack(losses)

        return stepwise
    if loop != "scan":
        raise ValueError(f"config: loop must be 'scan' or 'step'; got {loop!r}")

    def chunk(params, opt_state, key, data, first_step, length):
        def scan_body(carry, t):
            params, opt_state, loss = body(*carry, key, data, t)
            return (params, opt_state), loss

        steps = first_step + jnp.arange(length)
        (params, opt_state), losses = jax.lax.scan(scan_body, (params, opt_state), steps)
        return params, opt_state, losses

    return jax.jit(chunk, static_argnums=(5,))


def train_and_evaluate(task: Task, cfg, workdir: str, progress: bool = True, stop_after: int | None = None) -> dict:
    """Trains ``task`` with ``cfg`` in ``workdir`` (resuming from its last checkpoint) and returns
    the summary. ``stop_after`` ends the run early at that step (after its checkpoint) — the
    tests use it to stop and resume."""
    from tqdm.auto import tqdm

    os.makedirs(workdir, exist_ok=True)
    replicated, data_sharding = _mesh_and_shardings(cfg.batch_size)
    found = checkpoints(workdir)
    _check_workdir(workdir, task.name, found)

    data = task.data(cfg)
    key = jax.random.PRNGKey(cfg.seed)
    init_key, loop_key = jax.random.split(key)
    params = task.init(cfg, data, init_key)
    optimizer = task.optimizer(cfg)
    opt_state = optimizer.init(params)
    step = 0
    if found:
        step, params, opt_state, loop_key = load_checkpoint(found[-1][1], task.name, params, opt_state)
    # Written only once the checkpoint (if any) has loaded: a refused run changes nothing.
    if _writer():
        with open(os.path.join(workdir, "config.json"), "w") as f:
            json.dump(cfg.to_dict(), f, indent=2, default=str)
    params, opt_state = jax.device_put((params, opt_state), replicated)
    data_dev = jax.device_put({k: jnp.asarray(v) for k, v in data.items()}, replicated)

    chunk_fn = _make_chunk(task, cfg, optimizer, data_sharding)
    chunk_len = math.gcd(cfg.log_every, cfg.checkpoint_every)
    metrics_path = os.path.join(workdir, "metrics.jsonl")
    history = _read_history(metrics_path, upto=step)
    end = cfg.num_steps if stop_after is None else min(cfg.num_steps, stop_after)
    start_time = time.perf_counter()
    summary_path = os.path.join(workdir, "summary.json")
    if step >= end and step >= cfg.num_steps and os.path.exists(summary_path):
        with open(summary_path) as f:  # a finished run: nothing to do
            return json.load(f)
    bar = tqdm(total=cfg.num_steps, initial=step, desc=task.name, unit="step", disable=None if progress else True,
               leave=False)
    last_good = step
    while step < end:
        length = min(chunk_len, end - step)
        t0 = time.perf_counter()
        new_params, new_opt_state, losses = chunk_fn(params, opt_state, loop_key, data_dev, step, length)
        losses = np.asarray(losses)
        if not np.all(np.isfinite(losses)):
            bad = step + int(np.argmax(~np.isfinite(losses)))
            bar.close()
            raise TrainingDiverged(f"train: the loss became {losses[bad - step]} at step {bad}; stopped, "
                                   f"the last good checkpoint (step {last_good}) is kept")
        params, opt_state = new_params, new_opt_state
        step += length
        rate = length / (time.perf_counter() - t0)
        record = {"step": step, "loss": float(losses.mean()), "last_loss": float(losses[-1]), "steps_per_sec": rate}
        history.append(record)
        if _writer():
            with open(metrics_path, "a") as f:
                f.write(json.dumps(record) + "\n")
        if task.snapshot is not None and _writer():
            os.makedirs(os.path.join(workdir, "snapshots"), exist_ok=True)
            np.save(os.path.join(workdir, "snapshots", f"{step:09d}.npy"), task.snapshot(cfg, jax.device_get(params)))
        bar.update(length)
        bar.set_postfix(loss=f"{record['last_loss']:.4g}", steps_s=f"{rate:.0f}")
        if (step % cfg.checkpoint_every == 0 or step == end) and _writer():
            save_checkpoint(workdir, task.name, step, params, opt_state, loop_key)
            last_good = step
    bar.close()
    wall = time.perf_counter() - start_time
    summary = {"experiment": task.name, "steps": step, "final_loss": history[-1]["last_loss"] if history else None,
               "wall_seconds": wall, "devices": jax.device_count()}
    if step >= cfg.num_steps:
        params_host = jax.device_get(params)
        summary.update(task.evaluate(cfg, params_host, data))
        summary["plots"] = task.plots(cfg, params_host, data, history, workdir) if _writer() else []
        if _writer():
            with open(summary_path, "w") as f:
                json.dump(summary, f, indent=2)
    return summary


def _check_workdir(workdir, name, found):
    cfg_path = os.path.join(workdir, "config.json")
    if found and os.path.exists(cfg_path):
        try:
            with open(cfg_path) as f:
                previous = json.load(f).get("experiment")
        except (OSError, ValueError):
            previous = None
        if previous not in (None, name):
            raise ValueError(f"train: the workdir holds a run of experiment {previous!r}, not {name!r}; "
                             "use another --workdir")


def _read_history(path: str, upto: int) -> list[dict[str, Any]]:
    """The metrics already written, up to the resumed step (later lines belong to a lost run)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    kept = [r for r in rows if r["step"] <= upto]
    if len(kept) != len(rows):
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in kept)
    return kept
