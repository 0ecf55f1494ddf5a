"""``lstm_adding``: an LSTM on the adding problem, on its hand-derived BPTT."""

from __future__ import annotations

from jaxdl.train.experiments.adding import adding_task
from jaxdl.train.experiments.registry import experiment
from jaxdl.train.trainer import Task


@experiment("lstm_adding", headline=["test_mse", "baseline_mse"])
def lstm_adding() -> Task:
    """An LSTM on the adding problem (backpropagation through time by hand); test MSE."""
    return adding_task("lstm_adding", "lstm")
