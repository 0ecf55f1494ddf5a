"""The workdir of a ``jaxdl train`` run: one run, one process (or one per process of a
multi-process run), nothing written before everything is checked — the lock, the config drift
checks, the metrics history and the orbax checkpoints. The loop itself is :mod:`.trainer`.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import InputError
from jaxdl.fileio import unwritable_reason


class WorkdirError(InputError):
    """A workdir that cannot be used as it is (one line, exit code 2); nothing was written."""


# Fields that may differ on resume without changing what the run computes.
COSMETIC_FIELDS = ("keep_checkpoints", "distributed")


def is_writer() -> bool:
    """In a multi-host run only process 0 writes the workdir's own files."""
    return jax.process_index() == 0


def check_path(workdir: str) -> None:
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise WorkdirError(f"train: the workdir {workdir!r} is a file, not a directory")
    reason = None if os.path.isdir(workdir) else unwritable_reason(workdir)
    if os.path.isdir(workdir) and not os.access(workdir, os.W_OK | os.X_OK):
        reason = f"{workdir!r} is not writable"
    if reason:
        raise WorkdirError(f"train: cannot use the workdir {workdir!r}: {reason}")


@contextlib.contextmanager
def locked(workdir: str):
    """An exclusive lock on the workdir for the whole run (a second run is refused); in a
    multi-process run each process holds its own (process 0 ``.lock``, process i ``.lock.i``)."""
    import fcntl

    name = ".lock" if jax.process_index() == 0 else f".lock.{jax.process_index()}"
    try:
        os.makedirs(workdir, exist_ok=True)
        fd = os.open(os.path.join(workdir, name), os.O_RDWR | os.O_CREAT, 0o644)
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


def config_drift(old: dict, new: dict, prefix: str = "") -> list[str]:
    """``["learning_rate 0.003 → 0.5", ...]``: every field that differs, except ``num_steps``
    growing and the cosmetic fields."""
    out = []
    for k in sorted(set(old) | set(new)):
        name = f"{prefix}{k}"
        if not prefix and k in COSMETIC_FIELDS:
            continue
        a, b = old.get(k, "<absent>"), new.get(k, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            out += config_drift(a, b, f"{name}.")
        elif name == "num_steps" and isinstance(a, int) and isinstance(b, int) and b >= a:
            continue
        elif a != b and not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and list(a) == list(b)):
            out.append(f"{name} {a!r} → {b!r}")
    return out


def check_config(workdir: str, cfg_dict: dict) -> dict | None:
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
    drift = config_drift(old, cfg_dict)
    if drift:
        raise WorkdirError(f"train: the workdir {workdir!r} holds a run with another config: {'; '.join(drift)} "
                           "(only num_steps may grow on resume; use another --workdir)")
    return old


def read_history(path: str, upto: int | None = None) -> list[dict[str, Any]]:
    """The records of ``metrics.jsonl`` (those up to step ``upto``). A torn last line (a kill
    while it was written) is dropped with a warning; a malformed line before it is an error
    naming the file and the line."""
    return history_and_torn(path, upto)[0]


def history_and_torn(path: str, upto: int | None = None) -> tuple[list[dict[str, Any]], bool]:
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


def checkpoint_manager(workdir: str, keep: int, create: bool = True):
    """The run's orbax manager; ``create`` (the loop's, which saves) first removes incomplete
    checkpoints (a save that was killed) — here, at once: the workdir is locked. orbax's own
    cleanup runs on a thread that ``close()`` does not wait for, so a process that stops right
    after (a refused resume) could end while it still runs and print its error at exit."""
    import orbax.checkpoint as ocp

    root = os.path.abspath(os.path.join(workdir, "checkpoints"))
    if create and is_writer() and os.path.isdir(root):
        for name in os.listdir(root):
            if _TMP_SUFFIX in name:
                shutil.rmtree(os.path.join(root, name))
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=create, cleanup_tmp_directories=False)
    return ocp.CheckpointManager(root, options=options)


# What orbax appends to a checkpoint's directory name until the save has finished.
_TMP_SUFFIX = ".orbax-checkpoint-tmp"


def checkpoint_steps(workdir: str) -> list[int]:
    """The steps of the workdir's complete checkpoints, oldest first."""
    if not os.path.isdir(os.path.join(workdir, "checkpoints")):
        return []
    with checkpoint_manager(workdir, None, create=False) as m:
        return sorted(m.all_steps())


def restore_checkpoint(workdir: str, experiment: str, params_like, opt_state_like, step: int | None = None,
                       key_like=None, sharding=None):
    """``(step, params, opt_state, key)`` of the latest (or ``step``'s) checkpoint; ``ValueError``
    for another experiment's, a damaged one or one that does not fit the model (nothing touched)."""
    import orbax.checkpoint as ocp

    with checkpoint_manager(workdir, None, create=False) as m:
        step = m.latest_step() if step is None else step
        if key_like is None:
            key_like = jax.random.PRNGKey(0)  # a raw key, of this process's PRNG implementation's shape
        target = {"params": params_like, "opt_state": opt_state_like, "key": key_like}
        abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, target)
        if sharding is not None:  # every process restores its copy of the replicated state
            abstract = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sharding),
                                              abstract)
        where = os.path.join(workdir, "checkpoints", str(step))
        try:
            meta = m.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]
        except Exception as e:  # noqa: BLE001 - orbax raises several kinds for a damaged checkpoint
            raise WorkdirError(f"train: checkpoint {where!r} is corrupt or truncated ({type(e).__name__}); "
                               "nothing was overwritten — remove it to restart from the previous one") from None
        if meta.get("experiment") != experiment:
            raise WorkdirError(f"train: the workdir holds a checkpoint of experiment {meta.get('experiment')!r}, "
                               f"not {experiment!r}; use another --workdir")
        written_by = int(meta.get("processes", 1))
        if written_by != jax.process_count():
            raise WorkdirError(f"train: the workdir's run was trained on {written_by} process(es), this one has "
                               f"{jax.process_count()}; resume it with --num-processes {written_by} (another number "
                               "splits each batch differently, so the run would not be the same run)")
        try:
            state = m.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract)))["state"]
        except Exception as e:  # noqa: BLE001
            raise WorkdirError(f"train: checkpoint {where!r} does not fit this config's model or is damaged "
                               f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})") from None
    return int(meta["step"]), state["params"], state["opt_state"], jnp.asarray(state["key"], key_like.dtype)


def load_snapshots(workdir: str) -> list[tuple[int, np.ndarray]]:
    """``[(step, array)]`` saved by a task's ``snapshot``, in step order."""
    out = []
    for path in sorted(glob.glob(os.path.join(workdir, "snapshots", "*.npy"))):
        out.append((int(os.path.basename(path)[:-4]), np.load(path)))
    return out
