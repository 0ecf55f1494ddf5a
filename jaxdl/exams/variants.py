"""What the problems' variant families share: drawing nice numbers, the Moodle blanks, and the
batched three-way verification of keys (:mod:`jaxdl.check.numeric`'s check inside one compiled
program per batch of equal shapes, in float64).

A family (``jaxdl/exams/<problem>/family.py``) draws givens backwards where that makes the
intermediate results nice (Numbas' advice), refuses degenerate draws with a cause
(:data:`jaxdl.exams.problem.CAUSES`), and verifies a batch with :func:`batched`: its computation
returns the hand-derived answers and, per pair of computations, the references they must equal.
Numbers are drawn nice and the key is computed from them: nothing is rounded after.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check.numeric import batched_differences, vjp_references
from jaxdl.exams.problem import Blank, Verified, tolerance_for

# Each verification program runs once: XLA's cheapest code generation compiles it a third faster.
COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}

HALVES = np.arange(-4, 5) / 2  # −2, −1.5, …, 2
NONZERO_HALVES = HALVES[HALVES != 0]


def pick(rng: np.random.Generator, values, shape=()) -> np.ndarray:
    return rng.choice(np.asarray(values, dtype=float), size=shape)


def few_digits(values, decimals: int, limit: float = 100.0) -> bool:
    """True when every value is exact with ``decimals`` decimals and below ``limit`` in size."""
    for v in values:
        a = np.asarray(v, dtype=float) * 10**decimals
        if not (np.all(np.abs(a - np.round(a)) < 1e-6) and np.all(np.abs(v) < limit)):
            return False
    return True


def blank(part: str, id: str, hr: str, en: str, value, tolerance: float | None = None) -> Blank:
    """A numerical answer of ``part``; by default accepted within 0.01 or 1 %, whichever is larger."""
    v = float(value)
    return Blank(part=part, id=id, label={"hr": hr, "en": en}, value=v,
                 tolerance=tolerance_for(v) if tolerance is None else tolerance)


def entry_id(id: str, index) -> str:
    """The id of one entry of an array blank: ``dx`` and (0, 2) → ``dx_1_3`` (1-based, as labelled)."""
    return "_".join([id, *(str(i + 1) for i in index)])


def entry_label(text: str, index) -> str:
    """The label of one entry: ``∂L/∂x`` and (0, 2) → ``∂L/∂x[1,3]``."""
    return f"{text}[{','.join(str(i + 1) for i in index)}]" if len(index) else text


def blanks_of(part: str, id: str, hr: str, en: str, array, entries=None) -> list[Blank]:
    """One blank per entry of ``array`` (or per index of ``entries``), labelled with its 1-based
    index."""
    a = np.asarray(array, dtype=float)
    indices = list(np.ndindex(a.shape)) if entries is None else [tuple(i) for i in entries]
    return [blank(part, entry_id(id, idx), entry_label(hr, idx), entry_label(en, idx), a[idx]) for idx in indices]


def values_of(id: str, array, entries=None) -> dict:
    """``{entry id: value}`` for the entries of ``array`` (or those of ``entries``), as
    :func:`blanks_of` names them: a mistake's or the catalogue's values."""
    a = np.asarray(array, dtype=float)
    indices = list(np.ndindex(a.shape)) if entries is None else [tuple(i) for i in entries]
    return {entry_id(id, idx): float(a[idx]) for idx in indices}


def batched(one: Callable, stacked: tuple) -> tuple:
    """``one(*args) -> (answers, {pair: reference})`` over a batch, in float64 and one program:
    returns ``(answers (batched), {pair: per-variant max |answers' part − reference|})``.

    ``reference`` is a dict ``{answer name: value}`` (the answers it names are compared to it) or
    a list of such dicts (the largest difference over them counts).
    """
    def run(*args):
        answers, refs = jax.vmap(one)(*args)
        return answers, batched_differences(answers, refs)

    with jax.enable_x64(True):
        args = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), stacked)
        answers, dis = jax.jit(run, compiler_options=COMPILER_OPTIONS)(*args)
        return jax.tree_util.tree_map(np.asarray, answers), {k: np.asarray(v) for k, v in dis.items()}


def split(answers: dict, n: int) -> list[dict]:
    """Batched answers (any tree) → one tree per variant."""
    return [jax.tree_util.tree_map(lambda a, i=i: a[i], answers) for i in range(n)]


def stack(givens: list, *fields) -> tuple:
    """The fields of every variant's givens, each stacked along a new leading axis (float)."""
    return tuple(np.stack([np.asarray(g[f], dtype=float) for g in givens]) for f in fields)


def verified(answers, disagreement: dict, n: int) -> Verified:
    """A batch's :class:`Verified` from :func:`batched`'s output."""
    return Verified(split(answers, n), disagreement)


def layer_three_ways(layer, params, x, dy):
    """A layer's output and hand-derived backward (``{"out", "dx", "d<param>"...}``) with its
    references, for :func:`batched`: ``jax.vjp`` and central differences."""
    out = layer.apply(params, x)
    dparams, dx = layer.backward(params, x, dy)
    answers = {"out": out, "dx": dx, **{f"d{k}": v for k, v in dparams.items()}}
    refs = vjp_references(layer.apply, (params, x), dy)
    as_answers = lambda grads: {"dx": grads[1], **{f"d{k}": v for k, v in grads[0].items()}}  # noqa: E731
    return answers, {pair: as_answers(grads) for pair, grads in refs.items()}
