"""``rnn_adding``: a vanilla tanh RNN on the adding problem, on its hand-derived BPTT."""

from __future__ import annotations

from jaxdl.train.experiments.adding import adding_task
from jaxdl.train.experiments.registry import experiment
from jaxdl.train.trainer import Task


@experiment("rnn_adding", headline=["test_mse", "baseline_mse"])
def rnn_adding() -> Task:
    """A vanilla tanh RNN on the adding problem (backpropagation through time by hand); test MSE."""
    return adding_task("rnn_adding", "rnn")
