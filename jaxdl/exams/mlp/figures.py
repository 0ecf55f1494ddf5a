"""E1's pictures: the forward and backward computational graphs, traced from the code and drawn
by Graphviz's ``dot``."""

from __future__ import annotations

import os

from jaxdl.exams.figures import render_dot


def figures(result: dict, directory: str, lang) -> tuple[dict[str, str], list[str]]:
    """Draws ``e1_forward`` and ``e1_backward`` (SVG and PNG) into ``directory``, their words in
    ``lang`` (a Croatian file's name ends in ``_hr``); a graph that cannot be drawn is a warning
    (its reason), never silent."""
    code = getattr(lang, "code", lang) or "en"
    graphs = result["graphs"] if code == "en" else result[f"graphs_{code}"]
    suffix = "" if code == "en" else f"_{code}"
    out, warnings = {}, []
    for kind, text in graphs.items():
        stem = os.path.join(directory, f"e1_{kind}{suffix}")
        try:
            render_dot(text, stem)
            out[f"e1_{kind}"] = stem + ".svg"
        except (FileNotFoundError, RuntimeError) as e:
            warnings.append(str(e))
    return out, warnings
