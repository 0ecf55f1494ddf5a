"""Drawing the solution sheets' pictures without system binaries: a graph (SVG and PNG, by
Graphviz's ``dot`` — the ``graphviz-pure`` wheel that jaxdl depends on, or a system ``dot`` when
one is installed), a board, a filter and a layer's units (matplotlib). Each problem draws its own
pictures with these (``Problem.figures``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

# Looked for in this order: a system Graphviz, then the wheel's port (same command line).
RENDERERS = ("dot", "graphviz-pure")


def find_renderer() -> str | None:
    """The path of a ``dot``-compatible command, or ``None``.

    The interpreter's own scripts folder is searched too: a virtual environment's ``bin`` holds
    ``graphviz-pure`` even when it is not on ``PATH`` (``.venv/bin/jaxdl`` run directly).
    """
    folders = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    for name in RENDERERS:
        found = shutil.which(name) or next(
            (p for p in (os.path.join(f, name) for f in folders) if os.path.isfile(p) and os.access(p, os.X_OK)), None)
        if found:
            return found
    return None


def render_dot(dot_text: str, stem: str, formats=("svg", "png")) -> list[str]:
    """Writes ``stem.dot`` and, with a renderer, ``stem.svg`` and ``stem.png``; returns the paths.

    Raises ``FileNotFoundError`` naming what to install when no renderer is found (the ``.dot``
    file is written first, so it can be rendered elsewhere).
    """
    from jaxdl.fileio import write_atomically

    write_atomically(stem + ".dot", dot_text)
    written = [stem + ".dot"]
    renderer = find_renderer()
    if renderer is None:
        raise FileNotFoundError(
            f"no Graphviz renderer ({' or '.join(RENDERERS)}) found: wrote {stem}.dot only; "
            "pip install graphviz-pure (a jaxdl dependency) to draw it")
    for fmt in formats:
        path = f"{stem}.{fmt}"
        tmp = f"{stem}.tmp.{fmt}"
        # The port warns on stderr about glyph widths it estimates; only a failure is reported.
        done = subprocess.run([renderer, f"-T{fmt}", stem + ".dot", "-o", tmp], capture_output=True, text=True)
        if done.returncode != 0 or not os.path.isfile(tmp):
            raise RuntimeError(f"{os.path.basename(renderer)} -T{fmt} failed on {stem}.dot: {done.stderr.strip()[-500:]}")
        os.replace(tmp, path)
        written.append(path)
    return written


# matplotlib writes the date into an SVG's metadata and random ids into its clip paths: both
# fixed, so that the same answers give the same bytes (the sheets embed the SVGs).
_REPRODUCIBLE = {"svg": {"Date": None}, "png": {"Software": None}}


def _save(fig, stem: str) -> list[str]:
    """Saves a matplotlib figure as ``stem.svg`` and ``stem.png`` (each written whole, then renamed;
    the same figure gives the same bytes)."""
    import matplotlib
    import matplotlib.pyplot as plt

    written = []
    for fmt in ("svg", "png"):
        tmp = f"{stem}.tmp.{fmt}"
        with matplotlib.rc_context({"svg.hashsalt": "jaxdl"}):
            fig.savefig(tmp, format=fmt, dpi=120, bbox_inches="tight", metadata=_REPRODUCIBLE[fmt])
        os.replace(tmp, f"{stem}.{fmt}")
        written.append(f"{stem}.{fmt}")
    plt.close(fig)
    return written


def _grid(ax, values, title, fmt=None, cmap="Greys", vmin=0, vmax=1):
    import numpy as np

    values = np.asarray(values, float)
    ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    if fmt:
        for (i, j), v in np.ndenumerate(values):
            ax.text(j, i, fmt(v), ha="center", va="center", fontsize=11,
                    color="white" if (v - vmin) / (vmax - vmin) > 0.6 else "black")


def draw_board(image, stem: str, title: str = "the example board (1 = black)") -> list[str]:
    """E3's example board as its 9×9 binary image, the 3×3 cells outlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.2, 3.2))
    _grid(ax, image, title)
    for k in (2.5, 5.5):
        ax.axhline(k, color="tab:red", lw=1.5)
        ax.axvline(k, color="tab:red", lw=1.5)
    return _save(fig, stem)


def draw_filter(weights, stem: str, title: str = "convolution filter W_c") -> list[str]:
    """E3's hand-set 3×3 convolution filter, each weight written in its cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import numpy as np

    fig, ax = plt.subplots(figsize=(2.6, 2.6))
    top = max(0.3, float(np.max(np.abs(weights))))
    _grid(ax, weights, title, fmt=lambda v: f"{v:+.2g}", cmap="RdBu_r", vmin=-top, vmax=top)
    return _save(fig, stem)


def draw_line_units(weights, names, stem: str,
                    title: str = "fully connected units: weight per cell (bias −50 each)") -> list[str]:
    """E3's fully connected layer as 8 hand-set 3×3 filters over the cells, one per line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    weights = np.asarray(weights, float)  # (9 cells, units)
    fig, axes = plt.subplots(1, weights.shape[1], figsize=(1.3 * weights.shape[1], 1.7), squeeze=False)
    for k, ax in enumerate(axes[0]):
        _grid(ax, weights[:, k].reshape(3, 3), names[k], fmt=lambda v: f"{v:g}", vmin=min(0.0, weights.min()),
              vmax=weights.max())
    fig.suptitle(title, fontsize=10)
    return _save(fig, stem)
