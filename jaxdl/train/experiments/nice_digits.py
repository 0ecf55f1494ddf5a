"""``nice_digits``: a NICE flow on scikit-learn's 8×8 digits, dequantized."""

from __future__ import annotations

from jaxdl.train.experiments.nice import nice_task
from jaxdl.train.experiments.registry import experiment
from jaxdl.train.trainer import Task


def _digits_unit(cfg):
    from jaxdl.train.data import load_digits

    d = load_digits()
    # The 17 grey levels k = 0..16 as k/17: dequantization adds u/17, u ~ U[0, 1).
    return {"x_train": d.x_train * 16.0 / 17.0, "x_test": d.x_test * 16.0 / 17.0}


@experiment("nice_digits", headline=["test_bits_per_dim", "baseline_diag_gaussian_bits_per_dim",
                                   "baseline_full_gaussian_bits_per_dim"])
def nice_digits() -> Task:
    """A NICE flow on the 8×8 digits (17 grey levels, dequantized); bits/dim against Gaussians."""
    return nice_task("nice_digits", _digits_unit, (1, 8, 8), 17)
