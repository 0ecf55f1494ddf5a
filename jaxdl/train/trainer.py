"""``jaxdl train``: one loop for every experiment — jitted steps, orbax checkpoints, an honest
resume, metrics, plots, and data parallelism over the devices of one or many processes (the
workdir's lock, drift checks, history and checkpoints are :mod:`.workdir`).

An experiment is a :class:`Task` (see :mod:`jaxdl.train.experiments`). The loop:

- checks everything before it writes anything: the workdir (not a file, writable, not in use by
  another ``jaxdl train``: an exclusive lock), the data, the config against the workdir's
  ``config.json`` (only ``num_steps`` may grow), the checkpoint against the model, and the
  metrics already written;
- draws step ``t``'s randomness from ``fold_in(key(seed), t)``, so a run stopped (or killed) and
  resumed at any checkpoint ends with exactly the parameters of a run that went straight through;
- runs the steps as ``lax.scan`` chunks or as one jitted step per call (``config.loop``), shows
  a progress bar, appends one JSON line per chunk to ``metrics.jsonl`` (the training loss and
  the task's other step metrics, evaluation metrics every ``eval_every`` steps, steps per
  second with compilation counted apart) and saves a checkpoint every ``checkpoint_every`` steps
  with orbax's ``CheckpointManager`` under ``checkpoints/`` (atomic, asynchronous, the last
  ``keep_checkpoints`` kept; the run ends only after pending saves have finished);
- stops at the first non-finite loss or parameter, keeping the last good checkpoint;
- shards each minibatch over a ``Mesh`` of all local devices (parameters replicated), so the
  same code runs on one CPU, ``--xla_force_host_platform_device_count`` fake devices, or a GPU
  node; with ``distributed.coordinator_address`` set it first joins a multi-host run.

The workdir holds ``config.json``, ``metrics.jsonl``, ``checkpoints/<step>/``, ``summary.json``
and the experiment's PNG plots.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import threading
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxdl.errors import InputError
from jaxdl.fileio import write_atomically
from jaxdl.train import distributed
from jaxdl.train.distributed import host
from jaxdl.train.workdir import (  # noqa: F401  (checkpoint_steps, restore_checkpoint, read_history, load_snapshots: re-exported)
    WorkdirError,
    check_config,
    check_path,
    checkpoint_manager,
    checkpoint_steps,
    history_and_torn,
    is_writer,
    load_snapshots,
    locked,
    read_history,
    restore_checkpoint,
)


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
        opt_state, metrics)`` replacing the default gradient step (the GAN's D-then-G step);
        ``metrics`` is the loss, or a dict of scalars holding ``"loss"`` and others (logged too).
      eval_metrics: optional ``(cfg, params, data) -> dict`` of cheap evaluation figures (test
        loss, accuracy, NLL), logged to ``metrics.jsonl`` every ``eval_every`` steps.
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
    eval_metrics: Callable | None = None


def sample_rows(key, n: int, size: int):
    """``size`` row indices drawn uniformly (with replacement) from ``0..n-1``: a minibatch."""
    return jax.random.randint(key, (size,), 0, n)


class TrainingDiverged(Exception):
    """The loss or the parameters became NaN or infinite; the last good checkpoint is kept."""


# --------------------------------------------------------------------------------------------
# The steps.


def mesh_and_shardings(batch_size: int):
    devices = np.array(jax.devices())
    if batch_size % len(devices):
        raise InputError(f"train: batch_size must be divisible by the {len(devices)} devices (the batch is "
                         f"split evenly over them); got batch_size={batch_size}")
    mesh = Mesh(devices, ("data",))
    return NamedSharding(mesh, PartitionSpec()), NamedSharding(mesh, PartitionSpec("data"))


def _as_metrics(out) -> dict:
    return dict(out) if isinstance(out, dict) else {"loss": out}


def make_chunk(task: Task, cfg, optimizer, data_sharding):
    """``chunk(params, opt_state, key, data, first_step, length) -> (params, opt_state, metrics)``
    with ``metrics`` a dict of per-step arrays, ``"loss"`` among them."""
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
        params, opt_state, out = update(params, opt_state, batch, k_step)
        return params, opt_state, _as_metrics(out)

    loop = cfg.get("loop", "scan")
    if loop == "step":
        # One jitted step per call, dispatched asynchronously: XLA's CPU backend compiles
        # convolutions inside a while loop (lax.scan) several times slower than on their own.
        one = jax.jit(body)

        def stepwise(params, opt_state, key, data, first_step, length):
            outs = []
            for t in range(first_step, first_step + length):
                params, opt_state, out = one(params, opt_state, key, data, t)
                outs.append(out)
            return params, opt_state, jax.tree_util.tree_map(lambda *v: jnp.stack(v), *outs)

        return stepwise
    if loop != "scan":
        raise InputError(f"config: loop must be 'scan' or 'step'; got {loop!r}")

    def chunk(params, opt_state, key, data, first_step, length):
        def scan_body(carry, t):
            params, opt_state, out = body(*carry, key, data, t)
            return (params, opt_state), out

        steps = first_step + jnp.arange(length)
        (params, opt_state), outs = jax.lax.scan(scan_body, (params, opt_state), steps)
        return params, opt_state, outs

    return jax.jit(chunk, static_argnums=(5,))


_COMPILE_LOCK = threading.Lock()
_COMPILE_SECONDS = [0.0]
_LISTENING = [False]


def _compile_seconds() -> float:
    """Seconds JAX has spent tracing, lowering and compiling in this process so far."""
    with _COMPILE_LOCK:
        if not _LISTENING[0]:
            def listen(name, duration, **kwargs):
                if name.startswith("/jax/core/compile/"):
                    with _COMPILE_LOCK:
                        _COMPILE_SECONDS[0] += duration

            jax.monitoring.register_event_duration_secs_listener(listen)
            _LISTENING[0] = True
        return _COMPILE_SECONDS[0]


def _on_host(tree):
    """``tree``'s arrays as numpy arrays on this host (replicated global arrays included)."""
    return jax.tree_util.tree_map(host, tree)


@jax.jit
def _all_finite(leaves):
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))


def _finite(tree) -> bool:
    """Every float leaf finite: one program and one transfer to the host."""
    leaves = [leaf for leaf in jax.tree_util.tree_leaves(tree) if jnp.issubdtype(leaf.dtype, jnp.inexact)]
    return bool(_all_finite(leaves)) if leaves else True


def train_and_evaluate(task: Task, cfg, workdir: str, progress: bool = True, stop_after: int | None = None) -> dict:
    """Trains ``task`` with ``cfg`` in ``workdir`` (resuming from its last checkpoint) and returns
    the summary. ``stop_after`` ends the run early at that step (after its checkpoint) — the
    tests use it to stop and resume.

    Raises:
      WorkdirError: a workdir that is a file or not writable, in use by another process, holding
        another experiment's run or another config, or a damaged checkpoint or metrics file —
        before anything is written.
      TrainingDiverged: a non-finite loss or parameter (the last good checkpoint is kept).
    """
    check_path(workdir)
    replicated, data_sharding = mesh_and_shardings(cfg.batch_size)
    data = task.data(cfg)
    cfg_dict = cfg.to_dict()
    with locked(workdir):
        previous = check_config(workdir, cfg_dict)
        key = jax.random.PRNGKey(cfg.seed)
        init_key, loop_key = jax.random.split(key)
        params = task.init(cfg, data, init_key)
        optimizer = task.optimizer(cfg)
        opt_state = optimizer.init(params)
        step = 0
        if checkpoint_steps(workdir):
            step, params, opt_state, loop_key = restore_checkpoint(workdir, task.name, params, opt_state,
                                                                   sharding=replicated)
        elif previous is not None and os.path.exists(os.path.join(workdir, "summary.json")):
            raise WorkdirError(f"train: the workdir {workdir!r} holds a finished run without its checkpoints; "
                               "use another --workdir")
        metrics_path = os.path.join(workdir, "metrics.jsonl")
        all_rows, torn = history_and_torn(metrics_path)
        history = [r for r in all_rows if r["step"] <= step]
        summary_path = os.path.join(workdir, "summary.json")
        if step >= cfg.num_steps and os.path.exists(summary_path):
            with open(summary_path) as f:  # the same config, already trained to the end
                summary = json.load(f)
            summary["already_finished"] = True
            return summary
        # Everything is checked: from here on the workdir is written.
        if is_writer():
            write_atomically(os.path.join(workdir, "config.json"), json.dumps(cfg_dict, indent=2, default=str) + "\n")
            if torn or len(history) != len(all_rows):  # a torn line, or lines of a lost run after the checkpoint
                write_atomically(metrics_path, "".join(json.dumps(r) + "\n" for r in history))
        run = _Run(task, cfg, workdir, data, optimizer, replicated, data_sharding, progress, stop_after)
        try:
            return _loop(run, _State(params, opt_state, loop_key, step), history)
        except (InputError, TrainingDiverged):
            raise
        except Exception as e:  # noqa: BLE001 - only a peer's failure is translated; the rest stays visible
            if not distributed.is_peer_failure(e):
                raise
            first = str(e).strip().splitlines()[0][:160]
            raise distributed.DistributedError(
                f"train: another process of this {jax.process_count()}-process run stopped answering ({first}); "
                f"process {jax.process_index()} stops too — run the same command on every process to resume from "
                "the last checkpoint") from None


@dataclasses.dataclass(frozen=True)
class _Run:
    """What stays fixed over a run."""

    task: Task
    cfg: object
    workdir: str
    data: dict
    optimizer: optax.GradientTransformation
    replicated: NamedSharding
    data_sharding: NamedSharding
    progress: bool
    stop_after: int | None


@dataclasses.dataclass(frozen=True)
class _State:
    """Where a run stands: what a checkpoint holds, and the step it was taken at."""

    params: object
    opt_state: object
    key: jax.Array
    step: int


def _loop(run: _Run, state: _State, history: list[dict]) -> dict:
    """Trains from ``state`` to ``num_steps`` (or ``stop_after``), logging, checkpointing and
    stopping at the first non-finite number; returns the summary."""
    from tqdm.auto import tqdm

    import orbax.checkpoint as ocp

    task, cfg, workdir, data, replicated = run.task, run.cfg, run.workdir, run.data, run.replicated
    step = state.step
    # From host arrays: in a multi-process run the sharding spans other processes' devices too.
    params, opt_state, loop_key = jax.device_put(_on_host((state.params, state.opt_state, state.key)), replicated)
    data_dev = jax.device_put({k: np.asarray(v, jax.dtypes.canonicalize_dtype(np.asarray(v).dtype))
                               for k, v in data.items()}, replicated)
    chunk_fn = make_chunk(task, cfg, run.optimizer, run.data_sharding)
    eval_every = int(cfg.get("eval_every", 0) or 0) or cfg.checkpoint_every
    chunk_len = math.gcd(cfg.log_every, cfg.checkpoint_every, *([eval_every] if eval_every and task.eval_metrics else []))
    metrics_path = os.path.join(workdir, "metrics.jsonl")
    end = cfg.num_steps if run.stop_after is None else min(cfg.num_steps, run.stop_after)
    start_time = time.perf_counter()
    compile_start = _compile_seconds()
    bar = tqdm(total=cfg.num_steps, initial=step, desc=task.name, unit="step", disable=None if run.progress else True,
               leave=False)
    last_good = step
    manager = checkpoint_manager(workdir, int(cfg.get("keep_checkpoints", 2)))
    try:
        while step < end:
            length = min(chunk_len, end - step)
            t0, c0 = time.perf_counter(), _compile_seconds()
            new_params, new_opt_state, outs = chunk_fn(params, opt_state, loop_key, data_dev, step, length)
            outs = {k: host(v) for k, v in outs.items()}
            losses = outs["loss"]
            if not np.all(np.isfinite(losses)):
                bad = step + int(np.argmax(~np.isfinite(losses)))
                raise TrainingDiverged(f"train: the loss became {losses[bad - step]} at step {bad}; stopped, "
                                       f"the last good checkpoint (step {last_good}) is kept")
            params, opt_state = new_params, new_opt_state
            step += length
            compile_s = _compile_seconds() - c0
            elapsed = max(time.perf_counter() - t0 - compile_s, 1e-9)
            record = {"step": step, "loss": float(losses.mean()), "last_loss": float(losses[-1])}
            record.update({k: float(v.mean()) for k, v in outs.items() if k != "loss"})
            record["steps_per_sec"] = length / elapsed
            if compile_s > 0.05:
                record["compile_seconds"] = compile_s
            if eval_every and task.eval_metrics and step % eval_every == 0:
                record.update({f"eval_{k}": float(v) for k, v in task.eval_metrics(cfg, _on_host(params), data).items()})
            history.append(record)
            if is_writer():
                with open(metrics_path, "a") as f:
                    f.write(json.dumps(record) + "\n")
            if task.snapshot is not None and is_writer():
                os.makedirs(os.path.join(workdir, "snapshots"), exist_ok=True)
                np.save(os.path.join(workdir, "snapshots", f"{step:09d}.npy"), task.snapshot(cfg, _on_host(params)))
            bar.update(length)
            bar.set_postfix(loss=f"{record['last_loss']:.4g}", steps_s=f"{record['steps_per_sec']:.0f}")
            if step % cfg.checkpoint_every == 0 or step == end:
                if not _finite(params):
                    raise TrainingDiverged(f"train: the parameters became NaN or infinite by step {step} (with a "
                                           f"finite loss); stopped, the last good checkpoint (step {last_good}) is kept")
                state = {"params": params, "opt_state": opt_state, "key": loop_key}
                manager.save(step, args=ocp.args.Composite(
                    state=ocp.args.StandardSave(state),
                    meta=ocp.args.JsonSave({"experiment": task.name, "step": int(step),
                                            "processes": jax.process_count()})))
                last_good = step
        manager.wait_until_finished()
    finally:
        bar.close()
        manager.close()  # waits for pending saves
    wall = time.perf_counter() - start_time
    summary = {"experiment": task.name, "steps": step, "final_loss": history[-1]["last_loss"] if history else None,
               "wall_seconds": wall, "compile_seconds": _compile_seconds() - compile_start,
               "devices": jax.device_count(), "processes": jax.process_count()}
    if step >= cfg.num_steps:
        params_host = _on_host(params)
        summary.update(task.evaluate(cfg, params_host, data))
        summary["plots"] = task.plots(cfg, params_host, data, history, workdir) if is_writer() else []
        if is_writer():
            write_atomically(os.path.join(workdir, "summary.json"), json.dumps(summary, indent=2) + "\n")
    return summary
