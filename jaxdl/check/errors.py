"""How far one array is from another: the one error measure every check in jaxdl reports."""

from __future__ import annotations

import numpy as np


def max_errors(got, ref) -> tuple[float, float, tuple[int, ...]]:
    """``(max |got − ref|, max |got − ref| / |ref|, index of the largest absolute error)``.

    Both arrays are compared in float64 and must have one shape; the relative error divides by
    ``max(|ref|, 1e-12)``. Empty arrays give ``(0.0, 0.0, ())``.
    """
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    if got.size == 0:
        return 0.0, 0.0, ()
    diff = np.abs(got - ref)
    worst = int(np.argmax(diff))
    rel = diff / np.maximum(np.abs(ref), 1e-12)
    return float(diff.max()), float(rel.max()), tuple(int(i) for i in np.unravel_index(worst, got.shape))
