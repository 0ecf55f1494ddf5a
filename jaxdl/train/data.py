"""Bundled data sets; nothing is downloaded."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Dataset(NamedTuple):
    """A train/test split: ``x_*`` inputs, ``y_*`` integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(test_size: float = 0.2, random_state: int = 0) -> Dataset:
    """scikit-learn's bundled 8×8 digits as NCHW images in [0, 1], with a fixed stratified split.

    Returns ``x (N, 1, 8, 8) float32`` (the 17 grey levels 0..16 divided by 16) and ``y (N,)
    int32``; 1,437 training and 360 test images with the defaults — the split every digits
    experiment uses (``train_test_split(test_size=0.2, random_state=0, stratify=y)``).
    """
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    digits = sk_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int32)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, random_state=random_state, stratify=y
    )
    return Dataset(x_tr, y_tr, x_te, y_te)
