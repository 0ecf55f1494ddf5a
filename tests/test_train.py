"""The bundled data sets."""

import numpy as np

from jaxdl.train import load_digits


def test_digits_split_is_the_documented_one():
    data = load_digits()
    assert data.x_train.shape == (1437, 1, 8, 8) and data.x_test.shape == (360, 1, 8, 8)
    assert 0.0 <= data.x_train.min() and data.x_train.max() == 1.0
    # Stratified: every class has 35 or 36 test images.
    assert set(np.bincount(data.y_test)) <= {35, 36, 37}
