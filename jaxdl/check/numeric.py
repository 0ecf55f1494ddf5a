"""How jaxdl proves a number: the one tolerance table and the one three-way check.

A number jaxdl publishes (a layer's gradient, an exam's key) is computed by its hand-derived
formula and compared with two independent computations: autodiff (``jax.vjp``/``jax.grad`` of
the forward pass) and central finite differences ``(f(v + εe_i) − f(v − εe_i)) / 2ε``, and with a
closed form where one exists. Every check in jaxdl — ``jaxdl gradcheck``, the exam's answers,
the variants of ``jaxdl exam generate`` — compares through this module, with this table.

The student's numpy lab code is checked apart (``jaxdl.check.numpy_check``): its finite
differences run on the student's own forward, where the student's numpy is.

Example::

  >>> import jax.numpy as jnp
  >>> refs = grad_references(lambda v: jnp.sum(v ** 3), jnp.array([1.0, 2.0]))
  >>> [round(float(g), 6) for g in refs["finite differences"]]
  [3.0, 12.0]
"""

from __future__ import annotations

import math

import numpy as np

# The largest absolute difference a check accepts, per dtype and per pair of computations.
# float64: two exact formulas differ by rounding only; central differences carry O(ε²)
# truncation and O(u/ε) rounding with ε = 1e-6; a round trip through an inverse is relative to
# max|x|. Integer results (parameter counts) are exact.
TOLERANCES = {
    "float64": {
        "autodiff": 1e-9,
        "finite differences": 1e-6,
        "closed form": 1e-9,
        "independent": 1e-9,
        "round trip": 1e-12,
        "log-det": 1e-9,
    },
    "int64": {},  # every pair: exact
}
FD_EPSILON = 1e-6
NOT_RUN = -1.0  # the difference of a computation that does not apply (never a disagreement)


def tolerance(pair: str, dtype: str = "float64") -> float:
    """The largest difference ``pair`` ("autodiff", "finite differences", ...) may show in ``dtype``."""
    if dtype not in TOLERANCES:
        raise ValueError(f"numeric: no tolerance table for dtype {dtype!r}; known: {', '.join(TOLERANCES)}")
    if dtype.startswith("int"):
        return 0.0
    table = TOLERANCES[dtype]
    if pair not in table:
        raise ValueError(f"numeric: unknown pair {pair!r} for {dtype}; known: {', '.join(table)}")
    return table[pair]


def agrees(pair: str, difference: float, dtype: str = "float64") -> bool:
    """True when ``difference`` (a largest absolute difference) is within the pair's tolerance, or
    the computation did not apply (:data:`NOT_RUN`). NaN never agrees."""
    if difference == NOT_RUN:
        return True
    return bool(0 <= difference <= tolerance(pair, dtype))


def central_differences(f, tree, eps: float = FD_EPSILON):
    """Central differences of scalar ``f(tree)`` along every coordinate of ``tree`` (any pytree of
    arrays), vectorised, as a tree of ``tree``'s structure."""
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    flat, unravel = ravel_pytree(tree)
    basis = jnp.eye(flat.size, dtype=flat.dtype) * eps
    return unravel(jax.vmap(lambda e: (f(unravel(flat + e)) - f(unravel(flat - e))) / (2 * eps))(basis))


def grad_references(f, tree, eps: float = FD_EPSILON) -> dict:
    """The two references for the gradient of scalar ``f`` at ``tree``:
    ``{"autodiff": jax.grad(f)(tree), "finite differences": central differences}``."""
    import jax

    return {"autodiff": jax.grad(f)(tree), "finite differences": central_differences(f, tree, eps)}


def vjp_references(apply, primals: tuple, cotangent, eps: float = FD_EPSILON) -> dict:
    """The two references for a backward pass: the gradient of ``Σ apply(*primals) ⊙ cotangent``
    by every primal, ``{"autodiff": jax.vjp's, "finite differences": central differences}``, each
    a tuple like ``primals``."""
    import jax
    import jax.numpy as jnp

    autodiff = jax.vjp(apply, *primals)[1](cotangent)
    numeric = central_differences(lambda p: jnp.sum(apply(*p) * cotangent), tuple(primals), eps)
    return {"autodiff": tuple(autodiff), "finite differences": tuple(numeric)}


def largest_difference(a, b) -> float:
    """The largest |a − b| over every leaf of two trees of arrays (numbers, lists), in float64;
    ``inf`` where their structures or shapes differ, NaN where a value is NaN."""
    import jax

    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    if ta != tb:
        return math.inf
    worst = 0.0
    for x, y in zip(la, lb):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if x.shape != y.shape:
            return math.inf
        if x.size:
            d = float(np.max(np.abs(x - y)))
            if math.isnan(d):
                return math.nan
            worst = max(worst, d)
    return worst


def three_way(answers: dict, references: dict) -> dict:
    """Per pair of computations, the largest difference between the hand-derived ``answers``
    (name → array) and each reference (``{pair: {name: array}}``, or a list of such dicts whose
    worst counts): the record a check's verdict is read from with :func:`agrees`."""
    out = {}
    for pair, refs in references.items():
        refs = refs if isinstance(refs, list) else [refs]
        out[pair] = max(largest_difference({k: answers[k] for k in r}, r) for r in refs)
    return out


def batched_differences(answers: dict, references: dict) -> dict:
    """:func:`three_way` inside a traced batch (every leaf's leading axis a variant): per pair, each
    variant's largest difference, as a ``jnp`` array."""
    import jax
    import jax.numpy as jnp

    def largest(a, b):
        diffs = [jnp.max(jnp.abs(x - y).reshape(x.shape[0], -1), axis=1)
                 for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))]
        return jnp.max(jnp.stack(diffs), axis=0)

    out = {}
    for pair, refs in references.items():
        refs = refs if isinstance(refs, list) else [refs]
        out[pair] = jnp.max(jnp.stack([largest({k: answers[k] for k in r}, r) for r in refs]), axis=0)
    return out
