"""``nice_mnist``: NICE's MNIST model (Dinh, Krueger & Bengio 2014) on real MNIST digits."""

from __future__ import annotations

import numpy as np

from jaxdl.train.experiments.nice import nice_task
from jaxdl.train.experiments.registry import experiment
from jaxdl.train.trainer import Task

PAPER_TEST_LOG_LIKELIHOOD_NATS = 1980.50  # NICE, Table 1: the full MNIST test set, after 1,500 epochs


def _mnist_levels(cfg) -> dict:
    """Pixels as ``k/256`` for grey levels ``k = 0..255`` (dequantization adds ``u/256``),
    flattened to 784-vectors."""
    from jaxdl.train.experiments.mnist_cnn import mnist

    d = mnist(cfg)
    out = {}
    for split in ("train", "test"):
        x = d[f"x_{split}"]
        k = np.round(x.reshape(len(x), -1).astype(np.float64) * 255.0)
        out[f"x_{split}"] = (k / 256.0).astype(np.float32)
    return out


def _flow(cfg):
    from jaxdl.models.nice import nice_mlp

    return nice_mlp(784, num_couplings=cfg.num_couplings, hidden=tuple(cfg.hidden), prior=cfg.prior,
                    partition=cfg.partition)


@experiment("nice_mnist", headline=["test_log_likelihood_nats", "test_bits_per_dim",
                                    "baseline_diag_gaussian_bits_per_dim", "baseline_full_gaussian_bits_per_dim"])
def nice_mnist() -> Task:
    """NICE's MNIST model: 4 odd/even couplings of 5×1000 ReLU MLPs, diagonal scaling, logistic prior."""
    return nice_task("nice_mnist", _mnist_levels, (784,), 256, make_flow=_flow, show_as=(1, 28, 28))
