"""``scipy.stats.truncnorm`` as the lab's skeleton uses it: ``truncnorm(a, b, loc, scale).rvs(size)``."""

import numpy as np


class _Frozen:
    def __init__(self, a, b, loc=0.0, scale=1.0):
        self.a, self.b, self.loc, self.scale = float(a), float(b), float(loc), float(scale)

    def rvs(self, size=None, random_state=None):
        """Draws from N(0, 1) kept within [a, b] (by rejection), then ``loc + scale · z``; the
        global numpy generator unless ``random_state`` (an int or a numpy generator) is given."""
        rng = np.random.RandomState(random_state) if isinstance(random_state, (int, np.integer)) else \
            (random_state if random_state is not None else np.random)
        shape = () if size is None else (tuple(size) if np.iterable(size) else (int(size),))
        n = int(np.prod(shape, dtype=np.int64))
        out = np.empty(n)
        filled = 0
        while filled < n:
            z = rng.standard_normal(max(2 * (n - filled), 16))
            z = z[(z >= self.a) & (z <= self.b)][: n - filled]
            out[filled:filled + z.size] = z
            filled += z.size
        draws = self.loc + self.scale * out
        return draws.reshape(shape) if shape else float(draws[0])


def truncnorm(a, b, loc=0.0, scale=1.0):
    return _Frozen(a, b, loc, scale)
