"""The exam's PyTorch answers, as real files (PyTorch is an optional extra: ``jaxdl[torch]``).

- :mod:`.conv_avg_pool`: Q2's ``ConvAvgPool2d``, the quiz's skeleton filled in;
- :mod:`.additive_coupling`: Q3's ``AdditiveCoupling`` with its ``inverse`` (the bonus);
- :mod:`.res_block`: E2's ``ResBlock``;
- :mod:`.official_q2`: the official Q2 solution, transcribed with only its syntax mended (a
  missing parenthesis, ``O`` read as ``0``, the indentation): it cannot be constructed.

Importing this package does not import torch; the modules do. The solution sheet shows their
source (:func:`source`), and the tests run them against jaxdl's layers on the same weights.
"""

from __future__ import annotations

from importlib import resources

ANSWERS = {"Q2": "conv_avg_pool", "Q3": "additive_coupling", "E2": "res_block"}


def source(module: str, lang=None) -> str:
    """The text of one answer file, as the sheet prints it (read from the installed package), its
    comments and messages in ``lang`` (a :class:`~jaxdl.exams.lang.Lang` or code; ``None``: as
    written, in English)."""
    from jaxdl.exams.lang import localized

    return localized(resources.files(__name__).joinpath(f"{module}.py").read_text(encoding="utf-8"), lang)


def official_q2_error() -> str:
    """What constructing the official Q2 class raises, as ``"TypeError: …"``.

    Raises ``ImportError`` when PyTorch is not installed.
    """
    from jaxdl.exams.torch_answers import official_q2

    try:
        official_q2.ConvAvgPool2d(channels=3, K=2)
    except TypeError as e:
        return f"TypeError: {e}"
    return "no error (the official class was constructed)"
