"""The experiments of ``jaxdl train``: each a :class:`jaxdl.train.trainer.Task`, built only from
jaxdl's layers and trained on their hand-derived backward passes (``with_manual_grad``).

One module per experiment, found by :mod:`pkgutil` and registered by the :func:`experiment`
decorator in ``EXPERIMENTS`` with its headline metrics and its config file; ``config.experiment`` names one of them, or a
factory of one's own as ``"package.module:function"`` returning a ``Task``. :func:`run` is the
library entry point of ``jaxdl train``.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pkgutil
import sys
from collections.abc import Iterable

import ml_collections

from jaxdl.errors import InputError
from jaxdl.train.experiments.registry import EXPERIMENTS, Experiment, base_config, experiment
from jaxdl.train.trainer import Task


def _discover() -> None:
    """Imports every module of this package: each experiment registers itself with
    ``@experiment``, so a new experiment is one module (and one config file), nothing else."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


_discover()

__all__ = ["EXPERIMENTS", "Experiment", "TrainRequest", "base_config", "config_path", "default_config", "experiment",
           "listing", "resolve", "run", "summary_text", "task_of", "train"]


def default_config(name: str) -> ml_collections.ConfigDict:
    """The experiment's default config, from ``configs/``."""
    from jaxdl.config import default_config_path, load_config

    return load_config(default_config_path(EXPERIMENTS[name].config))


def task_of(cfg) -> Task:
    """The task ``cfg.experiment`` names: a registered experiment or ``"package.module:function"``.

    Raises:
      ValueError: an unknown name, a factory that cannot be imported or that returns no ``Task``.
    """
    name = cfg.experiment
    if name in EXPERIMENTS:
        return EXPERIMENTS[name]()
    if not isinstance(name, str) or ":" not in name:
        raise InputError(f"config: unknown experiment {name!r}; known: {', '.join(sorted(EXPERIMENTS))}, "
                         "or a factory 'package.module:function' returning a Task")
    module_name, _, attr = name.partition(":")
    if os.getcwd() not in sys.path:  # as `python -m` does: the user's modules in the current folder
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise InputError(f"config: experiment {name!r}: cannot import {module_name!r} ({e})") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise InputError(f"config: experiment {name!r}: {module_name!r} has no function {attr!r}")
    task = factory()
    if not isinstance(task, Task):
        raise InputError(f"config: experiment {name!r} returned {type(task).__name__}, not a jaxdl.train.Task")
    return task


def resolve(cfg: ml_collections.ConfigDict, explicit: Iterable[str] = ()) -> ml_collections.ConfigDict:
    """Applies ``smoke_overrides`` when ``smoke`` is set (fields named in ``explicit``, set on the
    command line, keep their values) and validates the common fields."""
    cfg = ml_collections.ConfigDict(cfg.to_dict())
    explicit = {name.split("=", 1)[0] for name in explicit}
    if cfg.smoke:
        for k, v in cfg.smoke_overrides.items():
            if k not in cfg:
                raise InputError(f"config: smoke_overrides names an unknown field {k!r}")
            if k not in explicit:
                cfg[k] = v
    seed = cfg.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not -(2**63) <= seed < 2**63:
        raise InputError(f"config: seed must be an integer (a 64-bit one); got {seed!r}")
    for field in ("batch_size", "num_steps", "checkpoint_every", "log_every"):
        v = cfg[field]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InputError(f"config: {field} must be an integer >= 1; got {v!r}")
    if not (isinstance(cfg.learning_rate, (int, float)) and cfg.learning_rate > 0
            and cfg.learning_rate < float("inf")):
        raise InputError(f"config: learning_rate must be a finite number > 0; got {cfg.learning_rate!r}")
    cfg.lock()
    return cfg


def run(cfg, workdir: str, progress: bool = True, stop_after: int | None = None, explicit: Iterable[str] = ()) -> dict:
    """Resolves ``cfg`` (smoke overrides, validation), joins the multi-host run its
    ``distributed`` fields name, if any, and trains."""
    from jaxdl.train import distributed

    d = cfg.distributed
    cluster = (distributed.parse(d.coordinator_address, d.num_processes, d.process_id) if d.coordinator_address
               else None)
    return _train(cfg, cluster, workdir, progress, stop_after, explicit)


def _train(cfg, cluster, workdir: str, progress: bool, stop_after: int | None, explicit: Iterable[str]) -> dict:
    from jaxdl.train import distributed
    from jaxdl.train.trainer import train_and_evaluate

    cfg = resolve(cfg, explicit)
    task = task_of(cfg)
    distributed.initialize(cluster, int(cfg.distributed.get("timeout_seconds", distributed.TIMEOUT_SECONDS)))
    return train_and_evaluate(task, cfg, workdir, progress=progress, stop_after=stop_after)


def config_path(name_or_file: str) -> str:
    """A config file's path, or an experiment's name (its config among jaxdl's own)."""
    from jaxdl.config import default_config_path

    if os.path.isfile(name_or_file) or name_or_file.endswith(".py") or os.sep in name_or_file:
        return name_or_file
    if name_or_file in EXPERIMENTS:
        return str(default_config_path(EXPERIMENTS[name_or_file].config))
    raise InputError(f"jaxdl train: {name_or_file!r} is neither a config file nor an experiment; "
                     f"known: {', '.join(EXPERIMENTS)} (jaxdl train --list)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainRequest:
    """What ``jaxdl train`` was asked: an experiment's name or a config file, ``NAME=VALUE``
    overrides, the workdir, and (for one process of a multi-process run) the cluster."""

    config: str
    workdir: str
    overrides: tuple[str, ...] = ()
    coordinator: str | None = None
    num_processes: str | None = None
    process_id: str | None = None
    progress: bool = True


def train(req: TrainRequest) -> dict:
    """Loads the request's config (bad input refused before anything is written), joins the
    cluster it names, trains, and returns the run's summary."""
    from jaxdl.config import load_config
    from jaxdl.train import distributed

    cluster = distributed.parse(req.coordinator, req.num_processes, req.process_id)
    cfg = load_config(config_path(req.config), req.overrides)
    if "experiment" not in cfg:
        raise InputError(f"train: {req.config!r} names no experiment (config.experiment)")
    if cluster is not None:
        if "distributed" not in cfg:
            raise InputError(f"train: {req.config!r} has no distributed field (base_config gives it one)")
        cfg.distributed.coordinator_address = cluster.coordinator
        cfg.distributed.num_processes = cluster.num_processes
        cfg.distributed.process_id = cluster.process_id
    elif "distributed" in cfg and cfg.distributed.coordinator_address:
        d = cfg.distributed
        cluster = distributed.parse(d.coordinator_address, d.num_processes, d.process_id)
    return _train(cfg, cluster, req.workdir, req.progress, None, req.overrides)


def listing() -> str:
    """``jaxdl train --list``: one line per experiment."""
    width = max(map(len, EXPERIMENTS)) + 2
    return "\n".join(f"{name:<{width}}{e.description}" for name, e in EXPERIMENTS.items())


_NOT_SHOWN = {"confusion_matrix", "plots", "generated", "already_finished", "compile_seconds", "processes",
              "experiment", "steps", "wall_seconds", "devices"}


def summary_text(summary: dict, workdir: str) -> str:
    """A run's summary as ``jaxdl train`` prints it."""
    if summary.get("already_finished"):
        lines = [f"{summary['experiment']}: already finished ({summary['steps']} steps) in workdir {workdir}; "
                 "its summary (raise --config.num_steps to train further):"]
    else:
        lines = [f"{summary['experiment']}: {summary['steps']} steps in {summary['wall_seconds']:.1f} s on "
                 f"{summary['devices']} device(s) ({summary.get('compile_seconds', 0):.1f} s compiling); "
                 f"workdir {workdir}"]
    for k, v in summary.items():
        if k not in _NOT_SHOWN:
            lines.append(f"  {k}: {v:.6g}" if isinstance(v, float) else f"  {k}: {v}")
    lines += [f"  wrote {path}" for path in summary.get("plots", [])]
    return "\n".join(lines)
