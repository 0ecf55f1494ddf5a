"""What ``jaxdl check-numpy`` knows of a class of the course's numpy lab: how the checker builds
it, the jaxdl function it is compared with, the parameters a student's arrays must supply, and
what kind of class it is. A :class:`LabClass` is kept with its layer's registry entry
(``jaxdl.registry.REGISTRY``) or loss (``jaxdl.losses.LAB``), so that adding a layer the checker
compares is one entry.

Which checks a kind must pass is declared once, with each check (``@check(name, label=...,
required=..., points=...)`` in ``jaxdl.check.numpy_check.checks``), against the kinds of
:attr:`LabClass.requirements`; a class is ok only when every one of them ran to completion on
finite numbers and passed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

KINDS = ("layer", "loss", "regularizer", "composite")


@dataclasses.dataclass(frozen=True)
class Part:
    """A constructor argument of a composite lab class that is another lab class: the checker
    builds the composite once with a part of its own (``role``: a ``"loss"`` or a ``"regularizer"``
    whose numbers it knows) and once with the file's own class of the lab class ``kind``."""

    kind: str  # the lab class's registry (or loss) name, e.g. "softmax_cross_entropy"
    role: str  # "loss" or "regularizer"

    def __repr__(self):
        return f"<{self.kind}>"


@dataclasses.dataclass(frozen=True, kw_only=True)
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
      elementwise: an elementwise activation (checked at inputs of magnitude 1000 too: exp overflows
        in a careless sigmoid).
    """

    names: tuple[str, ...]
    kind: str = "layer"
    input_shape: tuple[int, ...] = (3, 4)
    args: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    aliases: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    reference: Callable[..., Any] | None = None
    params: tuple[str, ...] = ()
    elementwise: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"LabClass: kind must be 'layer', 'loss', 'regularizer' or 'composite'; got {self.kind!r}")

    @property
    def requirements(self) -> frozenset[str]:
        """What the class is, as the checks declare what they are required by: its kind (``"any
        layer"``, ``"any loss"``, ... for a class jaxdl does not know, checked against its own
        forward only), ``"layer with parameters"``, ``"elementwise"``."""
        if not self.names:
            return frozenset({f"any {self.kind}"})
        return frozenset({self.kind} | ({"layer with parameters"} if self.kind == "layer" and self.params else set())
                         | ({"elementwise"} if self.elementwise else set()))

    def spellings(self, arg: str) -> tuple[str, ...]:
        """``arg`` and its aliases: the constructor parameter names that take it."""
        return (arg, *self.aliases.get(arg, ()))


def key(name: str) -> str:
    """How a class name is matched: ignoring case, ``_`` and a ``Layer`` suffix."""
    k = name.replace("_", "").lower()
    return k[:-5] if k.endswith("layer") and len(k) > 5 else k


# A class of a name jaxdl does not know: checked against its own forward only.
GENERIC_LAYER = LabClass(names=())
GENERIC_LOSS = LabClass(names=(), kind="loss")
GENERIC_REGULARIZER = LabClass(names=(), kind="regularizer")
