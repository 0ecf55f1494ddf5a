"""``scipy.stats``'s normal and truncated normal distributions as lab files draw initial weights with
them: ``truncnorm(a, b, loc, scale).rvs(size)`` (the skeleton's), ``truncnorm.rvs(a, b, loc=,
scale=, size=)``, ``norm(loc, scale).rvs(size)``, ``norm.rvs(...)``, and a frozen distribution's
``mean()`` and ``std()``."""

import math

import numpy as np

_MISSING = ("is not in check_lab.py's scipy stand-in (scipy is not installed here): install scipy "
            "(pip install scipy) to check a file that uses it")


def __getattr__(name):
    raise AttributeError(f"scipy.stats.{name} {_MISSING}")


def _generator(random_state):
    if random_state is None:
        return np.random  # the global generator: np.random.seed in a lab file seeds it, as with scipy
    if isinstance(random_state, (int, np.integer)):
        return np.random.RandomState(int(random_state))
    return random_state


def _shape(size):
    return () if size is None else (tuple(int(s) for s in size) if np.iterable(size) else (int(size),))


def _pdf(z):
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def _cdf(z):
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _truncated(a: float, b: float, n: int, rng) -> np.ndarray:
    """``n`` draws of N(0, 1) conditioned on [a, b], by rejection from a proposal that keeps the
    acceptance high wherever the interval lies (a normal, a uniform over a narrow interval, or an
    exponential beyond the tail's start)."""
    if not a < b:
        raise ValueError(f"truncnorm: expected a < b; got a={a:g}, b={b:g}")
    if b <= 0:
        return -_truncated(-b, -a, n, rng)
    out = np.empty(n)
    filled = 0
    while filled < n:
        m = max(2 * (n - filled), 16)
        if a >= 0.5:  # a tail: a translated exponential (Robert's method)
            lam = (a + math.sqrt(a * a + 4)) / 2
            z = a + rng.standard_exponential(m) / lam
            keep = (rng.uniform(size=m) <= np.exp(-0.5 * (z - lam) ** 2)) & (z <= b)
        elif b - a < 2.0:  # a narrow interval: a uniform, weighted by the density
            z = rng.uniform(a, b, m)
            top = 0.0 if a <= 0 <= b else min(a * a, b * b)
            keep = rng.uniform(size=m) <= np.exp(-0.5 * (z * z - top))
        else:  # a wide interval around the middle: the normal itself
            z = rng.standard_normal(m)
            keep = (z >= a) & (z <= b)
        z = z[keep][: n - filled]
        out[filled:filled + z.size] = z
        filled += z.size
    return out


class _Frozen:
    def __init__(self, draw, mean, std, loc, scale):
        self._draw, self._mean, self._std, self.loc, self.scale = draw, mean, std, float(loc), float(scale)

    def rvs(self, size=None, random_state=None):
        shape = _shape(size)
        n = int(np.prod(shape, dtype=np.int64))
        draws = self.loc + self.scale * self._draw(max(n, 1), _generator(random_state))[:n]
        return draws.reshape(shape) if shape else float(self.loc + self.scale * self._draw(1, _generator(random_state))[0])

    def mean(self):
        return self.loc + self.scale * self._mean

    def std(self):
        return self.scale * self._std

    def var(self):
        return self.std() ** 2


class _Distribution:
    def __init__(self, make):
        self._make = make

    def __call__(self, *args, **kwargs):
        return self._make(*args, **kwargs)

    def rvs(self, *args, size=None, random_state=None, **kwargs):
        return self._make(*args, **kwargs).rvs(size=size, random_state=random_state)


def _truncnorm(a, b, loc=0.0, scale=1.0):
    a, b = float(a), float(b)
    mass = _cdf(-a) - _cdf(-b) if a > 0 else _cdf(b) - _cdf(a)  # in the tail that keeps the digits
    mean = (_pdf(a) - _pdf(b)) / mass if mass > 0 else (a + b) / 2
    second = 1 + ((a * _pdf(a) if math.isfinite(a) else 0) - (b * _pdf(b) if math.isfinite(b) else 0)) / mass \
        if mass > 0 else mean * mean
    return _Frozen(lambda n, rng: _truncated(a, b, n, rng), mean, math.sqrt(max(second - mean * mean, 0.0)), loc, scale)


def _norm(loc=0.0, scale=1.0):
    return _Frozen(lambda n, rng: rng.standard_normal(n), 0.0, 1.0, loc, scale)


truncnorm = _Distribution(_truncnorm)
norm = _Distribution(_norm)
