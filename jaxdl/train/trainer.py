"""``jaxdl train``: one loop for every experiment — jitted steps, orbax checkpoints, an honest
resume, metrics, plots, and data parallelism over the local devices.

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

import contextlib
import dataclasses
import glob
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxdl.errors import InputError
from jaxdl.fileio import unwritable_reason, write_atomically


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


def load_snapshots(workdir: str) -> list[tuple[int, np.ndarray]]:
    """``[(step, array)]`` saved by a task's ``snapshot``, in step order."""
    out = []
    for path in sorted(glob.glob(os.path.join(workdir, "snapshots", "*.npy"))):
        out.append((int(os.path.basename(path)[:-4]), np.load(path)))
    return out


class TrainingDiverged(Exception):
    """The loss or the parameters became NaN or infinite; the last good checkpoint is kept."""


class WorkdirError(InputError):
    """A workdir that cannot be used as it is (one line, exit code 2); nothing was written."""


# --------------------------------------------------------------------------------------------
# The workdir: one run, one process, nothing written before everything is checked.

# Fields that may differ on resume without changing what the run computes.
COSMETIC_FIELDS = ("keep_checkpoints", "distributed")


def _writer() -> bool:
    """In a multi-host run only process 0 writes the workdir's own files."""
    return jax.process_index() == 0


def _check_workdir_path(workdir: str) -> None:
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise WorkdirError(f"train: the workdir {workdir!r} is a file, not a directory")
    reason = None if os.path.isdir(workdir) else unwritable_reason(workdir)
    if os.path.isdir(workdir) and not os.access(workdir, os.W_OK | os.X_OK):
        reason = f"{workdir!r} is not writable"
    if reason:
        raise WorkdirError(f"train: cannot use the workdir {workdir!r}: {reason}")


@contextlib.contextmanager
def _locked(workdir: str):
    """An exclusive lock on the workdir for the whole run (a second process is refused)."""
    import fcntl

    try:
        os.makedirs(workdir, exist_ok=True)
        fd = os.open(os.path.join(workdir, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise WorkdirError(f"train: cannot use the workdir {workdir!r}: {e.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkdirError(f"train: the workdir {workdir!r} is in use by another jaxdl train; "
                               "wait for it to end or use another --workdir") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _config_drift(old: dict, new: dict, prefix: str = "") -> list[str]:
    """``["learning_rate 0.003 → 0.5", ...]``: every field that differs, except ``num_steps``
    growing and the cosmetic fields."""
    out = []
    for k in sorted(set(old) | set(new)):
        name = f"{prefix}{k}"
        if not prefix and k in COSMETIC_FIELDS:
            continue
        a, b = old.get(k, "<absent>"), new.get(k, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            out += _config_drift(a, b, f"{name}.")
        elif name == "num_steps" and isinstance(a, int) and isinstance(b, int) and b >= a:
            continue
        elif a != b and not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and list(a) == list(b)):
            out.append(f"{name} {a!r} → {b!r}")
    return out


def _check_config(workdir: str, cfg_dict: dict) -> dict | None:
    """The workdir's previous config (``None`` for a new run); refuses another experiment or a
    changed config."""
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            old = json.load(f)
    except (OSError, ValueError) as e:
        raise WorkdirError(f"train: {path!r} cannot be read ({type(e).__name__}); the workdir's run is unknown — "
                           "use another --workdir") from None
    if old.get("experiment") != cfg_dict.get("experiment"):
        raise WorkdirError(f"train: the workdir holds a run of experiment {old.get('experiment')!r}, not "
                           f"{cfg_dict.get('experiment')!r}; use another --workdir")
    drift = _config_drift(old, cfg_dict)
    if drift:
        raise WorkdirError(f"train: the workdir {workdir!r} holds a run with another config: {'; '.join(drift)} "
                           "(only num_steps may grow on resume; use another --workdir)")
    return old


def read_history(path: str, upto: int | None = None) -> list[dict[str, Any]]:
    """The records of ``metrics.jsonl`` (those up to step ``upto``). A torn last line (a kill
    while it was written) is dropped with a warning; a malformed line before it is an error
    naming the file and the line."""
    return _read_history(path, upto)[0]


def _read_history(path: str, upto: int | None = None) -> tuple[list[dict[str, Any]], bool]:
    """``(records, torn)``: ``torn`` when a torn last line was dropped (the file needs rewriting)."""
    if not os.path.exists(path):
        return [], False
    with open(path) as f:
        lines = f.read().split("\n")
    rows = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("step"), int):
                raise InputError("no step")
        except ValueError:
            if all(not rest.strip() for rest in lines[i + 1:]):
                print(f"train: warning: dropped the torn last line {i + 1} of {path!r}", file=sys.stderr)
                return (rows if upto is None else [r for r in rows if r["step"] <= upto]), True
            raise WorkdirError(f"train: {path!r} line {i + 1} is not a metrics record; repair or remove the "
                               "line to resume") from None
        rows.append(row)
    torn = bool(lines) and lines[-1] != ""  # no final newline: the last write did not finish
    return (rows if upto is None else [r for r in rows if r["step"] <= upto]), torn


# --------------------------------------------------------------------------------------------
# Checkpoints (orbax).


def _manager(workdir: str, keep: int, create: bool = True):
    import orbax.checkpoint as ocp

    # Incomplete checkpoints (a save that was killed) are removed: the workdir is locked.
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=create, cleanup_tmp_directories=True)
    return ocp.CheckpointManager(os.path.abspath(os.path.join(workdir, "checkpoints")), options=options)


def checkpoint_steps(workdir: str) -> list[int]:
    """The steps of the workdir's complete checkpoints, oldest first."""
    if not os.path.isdir(os.path.join(workdir, "checkpoints")):
        return []
    with _manager(workdir, None, create=False) as m:
        return sorted(m.all_steps())


def restore_checkpoint(workdir: str, experiment: str, params_like, opt_state_like, step: int | None = None,
                       key_like=None):
    """``(step, params, opt_state, key)`` of the latest (or ``step``'s) checkpoint; ``ValueError``
    for another experiment's, a damaged one or one that does not fit the model (nothing touched)."""
    import orbax.checkpoint as ocp

    with _manager(workdir, None, create=False) as m:
        step = m.latest_step() if step is None else step
        if key_like is None:
            key_like = jax.random.PRNGKey(0)  # a raw key, of this process's PRNG implementation's shape
        target = {"params": params_like, "opt_state": opt_state_like, "key": key_like}
        abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, target)
        where = os.path.join(workdir, "checkpoints", str(step))
        try:
            meta = m.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]
        except Exception as e:  # noqa: BLE001 - orbax raises several kinds for a damaged checkpoint
            raise WorkdirError(f"train: checkpoint {where!r} is corrupt or truncated ({type(e).__name__}); "
                               "nothing was overwritten — remove it to restart from the previous one") from None
        if meta.get("experiment") != experiment:
            raise WorkdirError(f"train: the workdir holds a checkpoint of experiment {meta.get('experiment')!r}, "
                               f"not {experiment!r}; use another --workdir")
        try:
            state = m.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract)))["state"]
        except Exception as e:  # noqa: BLE001
            raise WorkdirError(f"train: checkpoint {where!r} does not fit this config's model or is damaged "
                               f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})") from None
    return int(meta["step"]), state["params"], state["opt_state"], jnp.asarray(state["key"], key_like.dtype)


# --------------------------------------------------------------------------------------------
# The steps.


def _mesh_and_shardings(batch_size: int):
    devices = np.array(jax.devices())
    if batch_size % len(devices):
        raise InputError(f"train: batch_size must be divisible by the {len(devices)} devices (the batch is "
                         f"split evenly over them); got batch_size={batch_size}")
    mesh = Mesh(devices, ("data",))
    return NamedSharding(mesh, PartitionSpec()), NamedSharding(mesh, PartitionSpec("data"))


def _as_metrics(out) -> dict:
    return dict(out) if isinstance(out, dict) else {"loss": out}


def _make_chunk(task: Task, cfg, optimizer, data_sharding):
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


def _finite(tree) -> bool:
    """Every float leaf finite, with one transfer to the host."""
    leaves = [leaf for leaf in jax.tree_util.tree_leaves(tree) if jnp.issubdtype(leaf.dtype, jnp.inexact)]
    return bool(jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))) if leaves else True


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
    _check_workdir_path(workdir)
    replicated, data_sharding = _mesh_and_shardings(cfg.batch_size)
    data = task.data(cfg)
    cfg_dict = cfg.to_dict()
    with _locked(workdir):
        previous = _check_config(workdir, cfg_dict)
        key = jax.random.PRNGKey(cfg.seed)
        init_key, loop_key = jax.random.split(key)
        params = task.init(cfg, data, init_key)
        optimizer = task.optimizer(cfg)
        opt_state = optimizer.init(params)
        step = 0
        if checkpoint_steps(workdir):
            step, params, opt_state, loop_key = restore_checkpoint(workdir, task.name, params, opt_state)
        elif previous is not None and os.path.exists(os.path.join(workdir, "summary.json")):
            raise WorkdirError(f"train: the workdir {workdir!r} holds a finished run without its checkpoints; "
                               "use another --workdir")
        metrics_path = os.path.join(workdir, "metrics.jsonl")
        all_rows, torn = _read_history(metrics_path)
        history = [r for r in all_rows if r["step"] <= step]
        summary_path = os.path.join(workdir, "summary.json")
        if step >= cfg.num_steps and os.path.exists(summary_path):
            with open(summary_path) as f:  # the same config, already trained to the end
                summary = json.load(f)
            summary["already_finished"] = True
            return summary
        # Everything is checked: from here on the workdir is written.
        if _writer():
            write_atomically(os.path.join(workdir, "config.json"), json.dumps(cfg_dict, indent=2, default=str) + "\n")
            if torn or len(history) != len(all_rows):  # a torn line, or lines of a lost run after the checkpoint
                write_atomically(metrics_path, "".join(json.dumps(r) + "\n" for r in history))
        return _loop(task, cfg, workdir, data, params, opt_state, loop_key, step, history, replicated, data_sharding,
                     optimizer, progress, stop_after)


def _loop(task, cfg, workdir, data, params, opt_state, loop_key, step, history, replicated, data_sharding, optimizer,
          progress, stop_after):
    from tqdm.auto import tqdm

    import orbax.checkpoint as ocp

    params, opt_state = jax.device_put((params, opt_state), replicated)
    data_dev = jax.device_put({k: jnp.asarray(v) for k, v in data.items()}, replicated)
    chunk_fn = _make_chunk(task, cfg, optimizer, data_sharding)
    eval_every = int(cfg.get("eval_every", 0) or 0) or cfg.checkpoint_every
    chunk_len = math.gcd(cfg.log_every, cfg.checkpoint_every, *([eval_every] if eval_every and task.eval_metrics else []))
    metrics_path = os.path.join(workdir, "metrics.jsonl")
    end = cfg.num_steps if stop_after is None else min(cfg.num_steps, stop_after)
    start_time = time.perf_counter()
    compile_start = _compile_seconds()
    bar = tqdm(total=cfg.num_steps, initial=step, desc=task.name, unit="step", disable=None if progress else True,
               leave=False)
    last_good = step
    manager = _manager(workdir, int(cfg.get("keep_checkpoints", 2)))
    try:
        while step < end:
            length = min(chunk_len, end - step)
            t0, c0 = time.perf_counter(), _compile_seconds()
            new_params, new_opt_state, outs = chunk_fn(params, opt_state, loop_key, data_dev, step, length)
            outs = {k: np.asarray(v) for k, v in outs.items()}
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
                record.update({f"eval_{k}": float(v) for k, v in task.eval_metrics(cfg, jax.device_get(params), data).items()})
            history.append(record)
            if _writer():
                with open(metrics_path, "a") as f:
                    f.write(json.dumps(record) + "\n")
            if task.snapshot is not None and _writer():
                os.makedirs(os.path.join(workdir, "snapshots"), exist_ok=True)
                np.save(os.path.join(workdir, "snapshots", f"{step:09d}.npy"), task.snapshot(cfg, jax.device_get(params)))
            bar.update(length)
            bar.set_postfix(loss=f"{record['last_loss']:.4g}", steps_s=f"{record['steps_per_sec']:.0f}")
            if step % cfg.checkpoint_every == 0 or step == end:
                if not _finite(params):
                    raise TrainingDiverged(f"train: the parameters became NaN or infinite by step {step} (with a "
                                           f"finite loss); stopped, the last good checkpoint (step {last_good}) is kept")
                state = {"params": params, "opt_state": opt_state, "key": loop_key}
                manager.save(step, args=ocp.args.Composite(
                    state=ocp.args.StandardSave(state),
                    meta=ocp.args.JsonSave({"experiment": task.name, "step": int(step)})))
                last_good = step
        manager.wait_until_finished()
    finally:
        bar.close()
        manager.close()  # waits for pending saves
    wall = time.perf_counter() - start_time
    summary = {"experiment": task.name, "steps": step, "final_loss": history[-1]["last_loss"] if history else None,
               "wall_seconds": wall, "compile_seconds": _compile_seconds() - compile_start,
               "devices": jax.device_count()}
    if step >= cfg.num_steps:
        params_host = jax.device_get(params)
        summary.update(task.evaluate(cfg, params_host, data))
        summary["plots"] = task.plots(cfg, params_host, data, history, workdir) if _writer() else []
        if _writer():
            write_atomically(os.path.join(workdir, "summary.json"), json.dumps(summary, indent=2) + "\n")
    return summary
