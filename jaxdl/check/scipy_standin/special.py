"""``scipy.special``'s functions lab files use: ``expit``, ``logit``, ``logsumexp`` (with ``b``),
``softmax``, ``log_softmax``, ``xlogy`` (numerically stable, as scipy's)."""

import numpy as np

_MISSING = ("is not in check_lab.py's scipy stand-in (scipy is not installed here): install scipy "
            "(pip install scipy) to check a file that uses it")


def __getattr__(name):
    raise AttributeError(f"scipy.special.{name} {_MISSING}")


def expit(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p) - np.log1p(-p)


def xlogy(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(y))


def logsumexp(a, axis=None, b=None, keepdims=False):
    a = np.asarray(a, dtype=float)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(a - m) if b is None else np.asarray(b, dtype=float) * np.exp(a - m)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(e, axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())[()]


def log_softmax(x, axis=None):
    x = np.asarray(x, dtype=float)
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x, axis=None):
    return np.exp(log_softmax(x, axis=axis))
