"""What ``jaxdl check-numpy`` knows of a class of the course's numpy lab: how the checker builds
it, the jaxdl function it is compared with, the parameters a student's arrays must supply, and
the checks it must pass. A :class:`LabClass` is kept with its layer's registry entry
(``jaxdl.registry.REGISTRY``) or loss (``jaxdl.losses.LAB``), so that adding a layer the checker
compares is one entry.

The checks are named by the functions of ``jaxdl.check.numpy_check.checks.CHECKS``; a class is
ok only when every one of its kind's checks ran to completion on finite numbers and passed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

# The checks of each kind (names of jaxdl.check.numpy_check.checks.CHECKS, run in this order).
LAYER_CHECKS = ("forward", "output_shape", "forward_side_effects", "backward_inputs", "backward_inputs_side_effects",
                "backward_inputs_cache", "backward_inputs_fd", "call_order_forwards")
PARAM_CHECKS = ("backward_params", "backward_params_side_effects", "params_cover", "params_fd",
                "call_order_params")
REFERENCE_CHECKS = ("reference_forward", "reference_inputs")
SECOND_POINT = ("second_point",)
LOSS_CHECKS = ("loss_forward", "loss_side_effects", "loss_backward_fd", "loss_call_order")
REGULARIZER_CHECKS = ("regularizer_forward", "regularizer_backward_params", "regularizer_fd")
# A composite of other lab classes (RegularizedLoss): built from the checker's parts, how it combines
# them; built from the file's own parts (as the lab's training script builds it), that it gives
# what those parts give.
COMPOSITE_CHECKS = ("composite_forward", "composite_side_effects", "composite_backward_inputs",
                    "composite_call_order", "composite_backward_params", "composite_own_forward",
                    "composite_own_backward_inputs", "composite_own_backward_params")


@dataclasses.dataclass(frozen=True)
class Part:
    """A constructor argument of a composite lab class that is another lab class: the checker
    builds the composite once with a part of its own (``role``: a ``"loss"`` or a ``"regularizer"``
    whose numbers it knows) and once with the file's own class of the lab class ``kind``."""

    kind: str  # the lab class's registry (or loss) name, e.g. "softmax_cross_entropy"
    role: str  # "loss" or "regularizer"

    def __repr__(self):
        return f"<{self.kind}>"


@dataclasses.dataclass(frozen=True)
class LabClass:
    """One kind of lab class.

    Attributes:
      names: the lab's class names for it (``"FC"``, ...), matched ignoring case and ``_``.
      kind: ``"layer"`` (``forward(inputs)``), ``"loss"`` (``forward(x, y)``),
        ``"regularizer"`` (built on ``weights``; ``forward()``) or ``"composite"`` (a loss built
        from other lab classes, its :class:`Part` arguments).
      input_shape: the input the checker builds a layer for and feeds it, e.g. ``(3, 4)``.
      args: the constructor arguments the checker passes, by the lab's names
        (``{"num_outputs": 3}``); the comparison uses these values, never the instance's own. A
        composite's are its parts (a :class:`Part`, or a tuple of them for a list).
      aliases: other names a student's constructor may give an argument.
      defaults: the lab's documented value of an argument the student's constructor does not take.
      reference: ``reference(**args)`` is the jaxdl layer (or loss) compared with.
      params: the reference's parameter names the student's arrays must supply, in order.
      checks: the checks this kind must pass.
    """

    names: tuple[str, ...]
    kind: str = "layer"
    input_shape: tuple[int, ...] = (3, 4)
    args: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    aliases: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    reference: Callable[..., Any] | None = None
    params: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()

    def __post_init__(self):
        if self.kind not in ("layer", "loss", "regularizer", "composite"):
            raise ValueError(f"LabClass: kind must be 'layer', 'loss', 'regularizer' or 'composite'; got {self.kind!r}")
        if not self.checks:
            checks = {"layer": LAYER_CHECKS + (PARAM_CHECKS if self.params else ()) + REFERENCE_CHECKS
                      + (("reference_params",) if self.params else ()) + SECOND_POINT,
                      "loss": LOSS_CHECKS, "regularizer": REGULARIZER_CHECKS, "composite": COMPOSITE_CHECKS}[self.kind]
            object.__setattr__(self, "checks", checks)

    def spellings(self, arg: str) -> tuple[str, ...]:
        """``arg`` and its aliases: the constructor parameter names that take it."""
        return (arg, *self.aliases.get(arg, ()))


def key(name: str) -> str:
    """How a class name is matched: ignoring case, ``_`` and a ``Layer`` suffix."""
    k = name.replace("_", "").lower()
    return k[:-5] if k.endswith("layer") and len(k) > 5 else k


# An elementwise activation: the layer checks, the jaxdl comparison, a second point, and inputs of
# magnitude 1000 (exp overflows in a careless sigmoid).
ELEMENTWISE_CHECKS = LAYER_CHECKS + REFERENCE_CHECKS + SECOND_POINT + ("large_inputs",)

# A class of a name jaxdl does not know: checked against its own forward only.
GENERIC_LAYER = LabClass((), checks=LAYER_CHECKS[:1] + LAYER_CHECKS[2:] + ("params_if_any",) + SECOND_POINT)
GENERIC_LOSS = LabClass((), kind="loss", checks=LOSS_CHECKS + ("stable_if_cross_entropy",))
GENERIC_REGULARIZER = LabClass((), kind="regularizer")
