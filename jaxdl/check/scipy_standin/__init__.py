"""What the course's lab uses of scipy, in numpy: the stand-in the standalone checker of
``check-numpy --export`` gives a lab file where scipy is not installed (a checker that needs only
numpy). The skeleton draws its initial weights with ``scipy.stats.truncnorm(...).rvs(shape)``;
students use ``scipy.stats.norm`` and ``scipy.special``'s ``expit``, ``softmax``, ``log_softmax``,
``logsumexp`` and ``xlogy``. Anything else names itself as missing and says to install scipy; where
scipy is installed, the worker imports the real one. Nothing here differentiates."""

from . import special, stats  # noqa: F401  (scipy ≥ 1.9 loads its submodules on first use: so does this)

__version__ = "0+jaxdl.standin"


def __getattr__(name):
    raise AttributeError(f"scipy.{name} is not in check_lab.py's scipy stand-in (scipy is not installed here): "
                         "install scipy (pip install scipy) to check a file that uses it")
