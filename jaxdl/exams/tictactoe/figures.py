"""E3's pictures: the chosen board as its 9×9 image, the convolution's hand-set filter and the
fully connected units as 3×3 filters over the cells (matplotlib, SVG and PNG)."""

from __future__ import annotations

import os

from jaxdl.exams.figures import draw_board, draw_filter, draw_line_units
from jaxdl.exams.lang import Lang
from jaxdl.exams.tictactoe.compute import unit_names


def figures(result: dict, directory: str, lang: Lang) -> tuple[dict[str, str], list[str]]:
    """Draws E3's pictures into ``directory``, their words in ``lang``: ``({e3_board, e3_filter,
    e3_lines} → SVG path, warnings)`` (matplotlib needs nothing outside Python: no warnings)."""
    s = lang.s
    suffix = "" if lang.code == "en" else f"_{lang.code}"
    os.makedirs(directory, exist_ok=True)
    draw_board(result["forward_example"]["image"], os.path.join(directory, f"e3_board{suffix}"),
               s("odabrana ploča (1 = crno)", "the example board (1 = black)"))
    draw_filter(result["model"]["layers"][0]["W"], os.path.join(directory, f"e3_filter{suffix}"),
                s("jezgra konvolucije W_c", "convolution filter W_c"))
    fc = result["model"]["layers"][1]
    bias = f"{fc['b'][0]:g}".replace("-", "−")
    draw_line_units(fc["W"], unit_names(result["givens"]["target"], lang.code),
                    os.path.join(directory, f"e3_lines{suffix}"),
                    s(f"jedinice potpuno povezanog sloja: težina po ćeliji (pomak {bias} svakoj)",
                      f"fully connected units: weight per cell (bias {bias} each)"))
    return {key: os.path.join(directory, f"{key}{suffix}.svg") for key in ("e3_board", "e3_filter", "e3_lines")}, []
