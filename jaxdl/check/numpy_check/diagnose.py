"""Comparing a student's array with the truth, and a one-line guess at what went wrong."""

from __future__ import annotations

import numpy as np

from jaxdl.check.errors import max_errors
from jaxdl.check.numpy_check.results import Check
from jaxdl.check.numpy_check.protocol import Opaque

TOL_FD = 1e-6  # relative to max(1, |reference|): float64 central differences
TOL_REF = 1e-9  # against jaxdl's layers, float64
SCALE_CAP = 1e4  # the largest |reference| a tolerance is scaled by


def close(a, b, tol: float = 1e-6) -> bool:
    """Equal shapes, finite, and within ``tol · max(1, |b|)`` entry by entry."""
    try:
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    except (TypeError, ValueError):
        return False
    with np.errstate(all="ignore"):
        return (a.shape == b.shape and bool(np.all(np.isfinite(a))) and bool(np.all(np.isfinite(b)))
                and bool(np.all(np.abs(a - b) <= tol * np.maximum(1.0, np.abs(b)))))


def describe(value) -> str:
    """How a value that is not a numeric array is named in a failure."""
    if value is None:
        return "None"
    if isinstance(value, Opaque):
        return value.type_name
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    return type(value).__name__


def diagnose(got, ref, batch: int) -> str:
    """What went wrong, in one line, named only when it reproduces ``got`` from the true ``ref``
    entry by entry (a missing sum, a transpose, a sign, a factor); "" when nothing does."""
    if got is None:
        return "returned None"
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "biuf":
        return f"returned {describe(got)}, not a numeric array"
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    if got.shape != ref.shape:
        if got.ndim == ref.ndim + 1 and got.shape[1:] == ref.shape and close(got.sum(0), ref):
            return "missing sum over the batch (a gradient per example, not their sum)"
        if got.shape == ref.shape[::-1] and close(got.T, ref):
            return "transposed result"
        return f"wrong shape {got.shape}, expected {ref.shape}"
    if not np.all(np.isfinite(got)):
        return "NaN or inf in the result"
    nonzero = np.abs(ref).max(initial=0) > 0
    if nonzero and close(got, -ref):
        return "gradient of the wrong sign"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and close(got.T, ref) and not close(got, ref):
        return "transposed result"
    for factor, what in ((batch, f"a factor of {batch} (the batch size N)"),
                         (1 / batch, f"a factor of 1/{batch} (1/N, the batch size N)"),
                         (2.0, "a factor of 2"), (0.5, "a factor of 1/2")):
        if nonzero and close(got, factor * ref):
            return f"off by {what}"
    return ""


def compare(name: str, got, ref, batch: int, tol: float, diagnosis: bool = True) -> Check:
    """``got`` against the truth ``ref``: passes within ``tol · min(max(1, max |ref|), SCALE_CAP)``.
    A reference or a result that is not finite fails: nothing is compared with NaN or inf.
    ``diagnosis``: add :func:`diagnose`'s line to a failure (off: the caller confirms its own)."""
    ref = np.asarray(ref, np.float64)
    if not np.all(np.isfinite(ref)):
        return Check(name=name, ok=False,
                     detail="the reference holds NaN or inf (the student's forward near the checked "
                            "point?): nothing finite to compare with")
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "biuf" or got.shape != np.shape(ref):
        return Check(name=name, ok=False, detail=diagnose(got, ref, batch) if diagnosis else
                     f"wrong shape {np.shape(got)}, expected {np.shape(ref)}" if isinstance(got, np.ndarray)
                     else describe(got))
    if not np.all(np.isfinite(got)):
        return Check(name=name, ok=False, detail="NaN or inf in the result")
    err, rel, worst = max_errors(got, ref)
    scale = min(max(1.0, float(np.abs(ref).max(initial=0))), SCALE_CAP)
    ok = err <= tol * scale
    detail = "" if ok else f"max abs err {err:.3g} (rel {rel:.3g}) at index {worst}"
    if not ok and diagnosis:
        guess = diagnose(got, ref, batch)
        detail += f"; {guess}" if guess else ""
    return Check(name=name, ok=ok, max_abs_err=err, detail=detail)
