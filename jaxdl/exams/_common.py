"""Helpers shared by the exam problems: config validation and JSON-ready values."""

from __future__ import annotations

import numpy as np

from jaxdl.errors import InputError


def tolist(x):
    """Arrays (and trees of them) as nested Python floats, for JSON."""
    if isinstance(x, dict):
        return {k: tolist(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [tolist(v) for v in x]
    a = np.asarray(x)
    if a.dtype == bool:
        return a.tolist()
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(int).tolist()
    return a.astype(float).tolist()


def matrix(cfg, field: str, shape=None, *, ndim: int | None = None) -> np.ndarray:
    """Reads config field ``field`` (dotted) as a float64 array, checking its shape.

    ``shape`` entries may be ``None`` (any size); ``ndim`` checks the rank only.
    """
    node = cfg
    for part in field.split("."):
        node = node[part]
    try:
        a = np.asarray(node, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"config: {field} must be numeric; got {node!r}") from None
    want_ndim = len(shape) if shape is not None else ndim
    if want_ndim is not None and a.ndim != want_ndim:
        raise InputError(f"config: {field} must have {want_ndim} dimension(s); got shape {a.shape}")
    if shape is not None and any(s is not None and s != g for s, g in zip(shape, a.shape)):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + (",)" if len(shape) == 1 else ")")
        raise InputError(f"config: {field} must have shape {want}; got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"config: {field} must be finite; got {node!r}")
    return a


def erratum(problem: str, seed: str, verified: str, evidence: str) -> dict:
    """One place where a seed's official solution disagrees with the verified computation."""
    return {"problem": problem, "seed": seed, "verified": verified, "evidence": evidence}
