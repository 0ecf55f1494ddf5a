"""The experiments' plots: a headless matplotlib, saving into the workdir, the loss curve."""

from __future__ import annotations

import os


def plt():
    """``matplotlib.pyplot`` with the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    return pyplot


def save(fig, workdir: str, name: str) -> str:
    """Saves ``fig`` as ``workdir/name`` (PNG), closes it and returns the path."""
    path = os.path.join(workdir, name)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt().close(fig)
    return path


def loss_curve(history, workdir: str, title: str) -> str:
    """The training loss (each logged chunk's mean) against the step, as ``loss.png``."""
    fig, ax = plt().subplots(figsize=(5, 3.2))
    ax.plot([h["step"] for h in history], [h["loss"] for h in history])
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (chunk mean)")
    ax.set_title(title)
    return save(fig, workdir, "loss.png")
