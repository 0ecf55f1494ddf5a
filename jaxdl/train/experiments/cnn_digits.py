"""``cnn_digits``: the lab's CNN on scikit-learn's 8×8 digits."""

from __future__ import annotations

from jaxdl.train.experiments.classifier import classifier_task
from jaxdl.train.experiments.registry import experiment
from jaxdl.train.trainer import Task


def _digits(cfg):
    from jaxdl.train.data import load_digits

    d = load_digits()
    return {"x_train": d.x_train, "y_train": d.y_train, "x_test": d.x_test, "y_test": d.y_test}


@experiment("cnn_digits", headline=["test_accuracy"])
def cnn_digits() -> Task:
    """The lab's CNN (two 3×3 convolutions) on scikit-learn's 8×8 digits, softmax cross-entropy + L2."""
    return classifier_task("cnn_digits", _digits, "digits")
