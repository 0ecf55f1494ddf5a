"""``nice_moons``: a NICE flow on scikit-learn's two moons."""

from __future__ import annotations

import numpy as np

from jaxdl.train.experiments.nice import nice_task
from jaxdl.train.experiments.registry import experiment
from jaxdl.train.trainer import Task


def _moons(cfg):
    from jaxdl.train.data import two_moons

    x = two_moons(3000, noise=0.05, seed=0).astype(np.float32)
    return {"x_train": x[:2000], "x_test": x[2000:]}


@experiment("nice_moons", headline=["test_nll_nats", "baseline_diag_gaussian_nll_nats",
                                  "baseline_full_gaussian_nll_nats"])
def nice_moons() -> Task:
    """A NICE flow (additive couplings, diagonal scaling) on two moons; test NLL against Gaussians."""
    return nice_task("nice_moons", _moons, (2,), None)
