"""What the course's lab uses of scipy, in numpy: the stand-in the standalone checker of
``check-numpy --export`` gives a lab file where scipy is not installed (a checker that needs only
numpy). The skeleton draws its initial weights with ``scipy.stats.truncnorm(...).rvs(shape)``;
students use ``scipy.special``'s ``expit``, ``softmax``, ``log_softmax`` and ``logsumexp``. Where
scipy is installed, the worker imports the real one. Nothing here differentiates."""

from . import special, stats  # noqa: F401  (scipy ≥ 1.9 loads its submodules on first use: so does this)

__version__ = "0+jaxdl.standin"
