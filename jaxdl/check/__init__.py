"""Checks of backward passes: ``gradcheck`` for jaxdl layers."""

from jaxdl.check.gradcheck import LayerReport
from jaxdl.check.gradcheck import check_layer
from jaxdl.check.gradcheck import check_layer_at
from jaxdl.check.gradcheck import check_registry
from jaxdl.check.numeric import TOLERANCES

__all__ = ["TOLERANCES", "LayerReport", "check_layer", "check_layer_at", "check_registry"]
