"""The experiments of ``jaxdl train``: a registry filled by the :func:`experiment` decorator.

Each experiment is a factory of a :class:`jaxdl.train.trainer.Task`, registered with the figures
it is judged by (its headline metrics, keys of ``summary.json``), the name of its config file in
``configs/`` and one line that says what it is.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence

import ml_collections

from jaxdl.errors import InputError


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A registered experiment; calling it builds its :class:`~jaxdl.train.trainer.Task`."""

    name: str
    factory: Callable
    headline: tuple[str, ...]
    config: str
    description: str

    def __call__(self):
        return self.factory()


EXPERIMENTS: dict[str, Experiment] = {}


def experiment(name: str, *, headline: Sequence[str], config: str | None = None, description: str = ""):
    """Registers a task factory as experiment ``name``.

    Args:
      name: ``config.experiment``.
      headline: the keys of ``summary.json`` the experiment is judged by (the report's table and
        the tests read them).
      config: the config file's name in ``configs/`` (default: ``name``).
      description: one line for ``jaxdl train --list`` (default: the factory's docstring's first
        line).
    """

    def register(factory):
        if name in EXPERIMENTS:
            raise InputError(f"experiment {name!r} is registered twice")
        doc = description or next(iter((factory.__doc__ or "").strip().splitlines()), "")
        EXPERIMENTS[name] = Experiment(name, factory, tuple(headline), config or name, doc)
        return factory

    return register


def base_config(experiment: str) -> ml_collections.ConfigDict:
    """The fields every experiment has; a config file adds its own and sets ``smoke_overrides``."""
    c = ml_collections.ConfigDict()
    c.experiment = experiment
    c.seed = 0
    c.batch_size = 64
    c.num_steps = 1000
    c.checkpoint_every = 500
    c.log_every = 100
    c.eval_every = 0  # evaluation metrics in metrics.jsonl every this many steps; 0: at every checkpoint
    c.keep_checkpoints = 2  # the newest checkpoints kept (cosmetic: may change on resume)
    c.learning_rate = 1e-3
    c.loop = "scan"  # "scan": lax.scan over a chunk of steps; "step": one jitted step per call
    c.smoke = False  # True: apply smoke_overrides (a run small enough for a test)
    c.smoke_overrides = ml_collections.ConfigDict()
    # A multi-process run (jaxdl train --coordinator ... --num-processes ... --process-id ...); the
    # timeout bounds the wait for the coordinator and for a process that stopped answering.
    c.distributed = ml_collections.ConfigDict({"coordinator_address": "", "num_processes": 1, "process_id": 0,
                                               "timeout_seconds": 30})
    return c


def config_cached(fn: Callable) -> Callable:
    """``fn(cfg)`` computed once per distinct config (by its contents): a task's evaluation,
    called at every ``eval_every`` step, then reuses one network and one compiled function
    instead of tracing and compiling them anew each time."""
    cache: dict[str, object] = {}

    @functools.wraps(fn)
    def cached(cfg):
        key = json.dumps(cfg.to_dict(), sort_keys=True, default=str)
        if key not in cache:
            cache[key] = fn(cfg)
        return cache[key]

    return cached
