"""The experiments of ``jaxdl train``: each a :class:`jaxdl.train.trainer.Task`, built only from
jaxdl's layers and trained on their hand-derived backward passes (``with_manual_grad``).

One module per experiment, found by :mod:`pkgutil` and registered by the :func:`experiment`
decorator in ``EXPERIMENTS`` with its headline metrics and its config file; ``config.experiment`` names one of them, or a
factory of one's own as ``"package.module:function"`` returning a ``Task``. :func:`run` is the
library entry point of ``jaxdl train``.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Iterable

import jax
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

__all__ = ["EXPERIMENTS", "Experiment", "base_config", "default_config", "experiment", "resolve", "run", "task_of"]


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
    if cfg.experiment not in EXPERIMENTS and ":" not in str(cfg.experiment):
        raise InputError(f"config: unknown experiment {cfg.experiment!r}; known: {', '.join(sorted(EXPERIMENTS))}, "
                         "or a factory 'package.module:function' returning a Task")
    cfg.lock()
    return cfg


def run(cfg, workdir: str, progress: bool = True, stop_after: int | None = None, explicit: Iterable[str] = ()) -> dict:
    """Resolves ``cfg`` (smoke overrides, validation), joins a multi-host run if the config names
    a coordinator, and trains. The library entry point of ``jaxdl train``."""
    from jaxdl.train.trainer import train_and_evaluate

    cfg = resolve(cfg, explicit)
    task = task_of(cfg)
    from jaxdl.train import distributed

    d = cfg.distributed
    cluster = (distributed.parse(d.coordinator_address, d.num_processes, d.process_id) if d.coordinator_address
               else None)
    distributed.initialize(cluster, int(d.get("timeout_seconds", distributed.TIMEOUT_SECONDS)))
    return train_and_evaluate(task, cfg, workdir, progress=progress, stop_after=stop_after)
