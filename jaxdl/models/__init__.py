"""Models built only from jaxdl's layers."""

from jaxdl.models.nice import Flow
from jaxdl.models.nice import nice

__all__ = ["Flow", "nice"]
