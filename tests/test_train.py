"""The bundled data sets: scikit-learn's digits and two moons, read without importing it."""

import subprocess
import sys

import numpy as np
import pytest

from jaxdl.train import load_digits
from jaxdl.train.data import two_moons


def test_digits_split_is_the_documented_one():
    data = load_digits()
    assert data.x_train.shape == (1437, 1, 8, 8) and data.x_test.shape == (360, 1, 8, 8)
    assert 0.0 <= data.x_train.min() and data.x_train.max() == 1.0
    # Stratified: every class has 35 or 36 test images.
    assert set(np.bincount(data.y_test)) <= {35, 36, 37}


@pytest.mark.parametrize("test_size, seed", [(0.2, 0), (0.3, 1)])
def test_digits_are_scikit_learns_with_its_stratified_split(test_size, seed):
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    d = sk_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None, :, :]
    expected = train_test_split(x, d.target, test_size=test_size, random_state=seed, stratify=d.target)
    got = load_digits(test_size, seed)
    for a, b in zip((got.x_train, got.x_test, got.y_train, got.y_test), expected):
        np.testing.assert_array_equal(a, b)
    assert got.y_train.dtype == np.int32 and got.x_train.dtype == np.float32


@pytest.mark.parametrize("n, noise, seed", [(3000, 0.05, 0), (7, 0.3, 5), (1, 0.1, 2)])
def test_two_moons_are_scikit_learns(n, noise, seed):
    from sklearn.datasets import make_moons

    np.testing.assert_array_equal(two_moons(n, noise, seed), make_moons(n_samples=n, noise=noise, random_state=seed)[0])


def test_the_digits_and_the_moons_load_without_importing_scikit_learn():
    # Its import costs seconds, paid by every `jaxdl train` of a digits or moons experiment.
    code = ("import sys; from jaxdl.train.data import load_digits, two_moons; load_digits(); two_moons(10, 0.1, 0); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_missing_scikit_learn_data_file_is_named_with_the_install_line(monkeypatch):
    from jaxdl.train import data

    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"scikit-learn's bundled digits.csv.gz is not installed "
                                                r"\(pip install scikit-learn\)"):
        load_digits()
