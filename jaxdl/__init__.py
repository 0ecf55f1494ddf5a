"""jaxdl: the layers of a deep-learning course as pure JAX functions with hand-derived
backward passes, each proven against ``jax.grad`` and finite differences.

    >>> import jax, jaxdl
    >>> net = jaxdl.serial(jaxdl.layers.dense(8), jaxdl.layers.relu(), jaxdl.layers.dense(1))
    >>> report = jaxdl.check_layer(net, (4, 3))
    >>> report.ok
    True
"""

from jaxdl import layers
from jaxdl import losses
from jaxdl.check.gradcheck import check_layer
from jaxdl.core import Layer
from jaxdl.core import elementwise
from jaxdl.core import make_layer
from jaxdl.core import reversible
from jaxdl.core import serial
from jaxdl.core import with_manual_grad

__version__ = "0.2.0"  # the one place the version is written (pyproject.toml reads it)

__all__ = ["Layer", "check_layer", "elementwise", "layers", "losses", "make_layer", "reversible", "serial",
           "with_manual_grad"]
