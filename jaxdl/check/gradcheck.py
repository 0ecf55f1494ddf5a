"""The three-way gradient check of a layer, in float64.

For a layer, random params of the shapes its ``init`` gives, an input ``x`` sampled away from non-differentiable points and a random upstream
gradient ``dy``, the scalar ``f(params, x) = Σ apply(params, x) ⊙ dy`` has gradient
``(∂f/∂params, ∂f/∂x) = backward(params, x, dy)``. We compare, for the input and every
parameter leaf:

- the hand-derived ``backward`` against ``jax.vjp`` of ``apply`` (autodiff);
- both against central finite differences ``(f(v + εe_i) − f(v − εe_i)) / 2ε``.

Invertible layers are also checked for ``inverse(apply(x)) = x`` and for ``log_det`` against
``log|det J|`` of the per-example Jacobian from ``jax.jacobian``. The references and the
tolerances are :mod:`jaxdl.check.numeric`'s, as every check of jaxdl's.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check.errors import max_errors
from jaxdl.check.numeric import FD_EPSILON, tolerance, vjp_references
from jaxdl.core import Layer, init_shapes
from jaxdl.errors import InputError



def sample_away_from_kinks(rng: np.random.Generator, shape) -> np.ndarray:
    """Distinct float64 values of magnitude in [0.2, 1.2) with random signs.

    Consecutive magnitudes differ by ``1/size``, so for the sizes used in checks no two entries
    are closer than ~1e-4 and none is within 0.2 of zero: ReLU kinks and max-pooling ties stay
    far outside the finite-difference step.
    """
    n = int(np.prod(shape))
    magnitude = 0.2 + rng.permutation(n) / max(n, 1)
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return (sign * magnitude).reshape(shape)


@dataclasses.dataclass
class TensorReport:
    """Errors of one gradient tensor (``x`` or a parameter leaf such as ``params.W``)."""

    tensor: str
    shape: tuple[int, ...]
    max_abs_err_vs_autodiff: float
    max_rel_err_vs_autodiff: float
    worst_index_vs_autodiff: tuple[int, ...]
    max_abs_err_vs_finite_diff: float
    max_rel_err_vs_finite_diff: float
    worst_index_vs_finite_diff: tuple[int, ...]
    autodiff_vs_finite_diff: float
    ok: bool


@dataclasses.dataclass
class LayerReport:
    """The outcome of :func:`check_layer`; ``to_json()`` gives the ``jaxdl gradcheck`` record."""

    name: str
    ok: bool
    input_shape: tuple[int, ...]
    max_abs_err_vs_autodiff: float
    max_abs_err_vs_finite_diff: float
    tensors: list[TensorReport]
    inverse: dict[str, Any] | None = None
    error: str | None = None
    # "hand-derived", or "autodiff" for a layer whose backward is jax.vjp (a flax module): its
    # agreement with autodiff proves no formula.
    backward: str = "hand-derived"

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        return {k: v for k, v in out.items() if v is not None}


def _leaf_names(tree, prefix) -> list[str]:
    paths = jax.tree_util.tree_leaves_with_path(tree)
    return [prefix + "".join(f".{p.key}" if hasattr(p, "key") else f"[{p}]" for p in path) for path, _ in paths]


def _inverse_errors(layer: Layer, params, x):
    """Round-trip error relative to max|x|, and ``log_det`` against ``slogdet`` of the Jacobian."""
    x_back = layer.inverse(params, layer.apply(params, x))
    round_trip = jnp.max(jnp.abs(x_back - x)) / jnp.max(jnp.abs(x))

    def per_example(xi):
        def f(v):
            return layer.apply(params, v.reshape((1,) + xi.shape)).reshape(-1)

        return jnp.linalg.slogdet(jax.jacobian(f)(xi.reshape(-1)))[1]

    log_det_err = jnp.max(jnp.abs(layer.log_det(params, x) - jax.vmap(per_example)(x)))
    return round_trip, log_det_err


def check_layer(layer: Layer, input_shape: Sequence[int], *, seed: int = 0, name: str | None = None,
                eps: float = FD_EPSILON) -> LayerReport:
    """Checks a layer's hand-derived ``backward`` three ways, in float64.

    Args:
      layer: the layer to check.
      input_shape: the shape of the example input, e.g. ``(4, 5)``; keep it small (finite
        differences cost two forward passes per scalar of input and params).
      seed: seeds the params, the input and ``dy`` (numpy's generator).
      name: the name to report (default ``layer.name``).
      eps: the finite-difference step.

    Returns:
      A :class:`LayerReport` with, per tensor, the max absolute and relative errors and the
      index of the worst element against autodiff and against finite differences.
    """
    input_shape = tuple(int(d) for d in input_shape)
    # Shapes come from the layer's init; values are drawn on the host with numpy (compiling
    # jax.random's generators would cost more than the check). Params are N(0, 0.5²), so that
    # leaves an init sets to zero (biases, a flow's log-scales) take generic values too.
    out_shape, param_shapes = init_shapes(layer.init, input_shape)
    rng = np.random.default_rng(seed)
    params = jax.tree_util.tree_map(lambda a: 0.5 * rng.standard_normal(a.shape), param_shapes)
    x = sample_away_from_kinks(rng, input_shape)
    dy = rng.standard_normal(out_shape)
    return check_layer_at(layer, params, x, dy, name=name, eps=eps)


@functools.lru_cache(maxsize=256)
def _compiled_check(layer: Layer, eps: float):
    """The whole check of ``layer`` as one jitted program (op-by-op dispatch would compile every
    small operation separately, which costs more than the check itself), kept per layer so that
    checking the same layer again at new values of the same shapes compiles nothing."""
    def run(params, x, dy):
        manual = layer.backward(params, x, dy)
        refs = vjp_references(layer.apply, (params, x), dy, eps)
        inverse = _inverse_errors(layer, params, x) if layer.invertible else None
        return manual, refs["autodiff"], refs["finite differences"], inverse

    return jax.jit(run)


def check_layer_at(layer: Layer, params, x, dy, *, name: str | None = None,
                   eps: float = FD_EPSILON) -> LayerReport:
    """:func:`check_layer` at given values: params, an input ``x`` and an upstream gradient ``dy``
    (of the output's shape), all converted to float64.

    Example (the exam's residual block on numbers a reader can follow)::

      check_layer_at(res_block(), {"W": W, "b": b}, x, dy).tensors[0].max_abs_err_vs_autodiff
    """
    name = name or layer.name
    input_shape = tuple(int(d) for d in np.shape(x))


    with jax.enable_x64(True):
        params, x, dy = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), (params, x, dy))
        manual_shape = jax.eval_shape(layer.backward, params, x, dy)
        if jax.tree_util.tree_structure(manual_shape) != jax.tree_util.tree_structure((params, x)):
            return LayerReport(
                name, False, input_shape, float("inf"), float("inf"), [],
                error=(
                    "backward returned a structure other than (dparams, dx): "
                    f"{jax.tree_util.tree_structure(manual_shape)}"
                ),
            )
        manual, autodiff, numeric, inverse_errors = _compiled_check(layer, eps)(params, x, dy)

    names = _leaf_names(params, "params") + ["x"]
    tensors = []
    for tname, m, a, n in zip(
        names,
        jax.tree_util.tree_leaves(manual),
        jax.tree_util.tree_leaves(autodiff),
        jax.tree_util.tree_leaves(numeric),
    ):
        ad, ad_rel, ad_idx = max_errors(m, a)
        fd, fd_rel, fd_idx = max_errors(m, n)
        ad_fd = max_errors(a, n)[0]
        ok = ad <= tolerance("autodiff") and max(fd, ad_fd) <= tolerance("finite differences")
        tensors.append(TensorReport(tname, tuple(np.shape(m)), ad, ad_rel, ad_idx, fd, fd_rel, fd_idx, ad_fd, ok))

    inverse = None
    if inverse_errors is not None:
        round_trip, log_det_err = (float(e) for e in inverse_errors)
        inverse = {
            "round_trip_rel_err": round_trip,
            "log_det_abs_err": log_det_err,
            "ok": round_trip <= tolerance("round trip") and log_det_err <= tolerance("log-det"),
        }

    ok = all(t.ok for t in tensors) and (inverse is None or inverse["ok"])
    return LayerReport(
        name=name,
        ok=ok,
        input_shape=input_shape,
        max_abs_err_vs_autodiff=max((t.max_abs_err_vs_autodiff for t in tensors), default=0.0),
        max_abs_err_vs_finite_diff=max(
            (max(t.max_abs_err_vs_finite_diff, t.autodiff_vs_finite_diff) for t in tensors), default=0.0
        ),
        tensors=tensors,
        inverse=inverse,
        backward="autodiff" if layer.autodiff_backward else "hand-derived",
    )


def check_registry(names: Sequence[str] | None = None, registry=None) -> list[LayerReport]:
    """Runs :func:`check_layer` on registry entries (all of them by default).

    Raises:
      ValueError: a name is not in the registry (before any check runs).
    """
    if registry is None:
        from jaxdl.registry import REGISTRY as registry
    names = list(registry) if not names else list(names)
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise InputError(
            f"gradcheck: unknown layer {unknown[0]!r}; known: {', '.join(sorted(registry))}"
        )
    reports = []
    for n in names:
        layer, shape = registry[n]()
        reports.append(check_layer(layer, shape, name=n))
    return reports


def _fmt(x: float) -> str:
    return f"{x:.1e}"


def format_reports(reports: list[LayerReport], formulas: bool = False, registry=None) -> str:
    """``jaxdl gradcheck``'s table: per layer its input, verdict and largest errors (and, for a
    failing tensor, where), a summary line and, with ``formulas``, each family's formulas."""
    width = max(len(r.name) for r in reports) + 2
    lines = ["Gradient check in float64: hand-derived backward vs jax.vjp (autodiff) vs central finite differences",
             f"pass: |manual − autodiff| <= {tolerance('autodiff'):.0e}, "
             f"|· − finite diff| <= {tolerance('finite differences'):.0e}\n",
             f"{'layer':<{width}}{'input':<18}{'ok':<6}{'vs autodiff':>13}{'vs fin. diff':>14}  tensors"]
    for r in reports:
        shape = "(" + ",".join(map(str, r.input_shape)) + ")"
        status = ("ok" if r.backward == "hand-derived" else "auto") if r.ok else "FAIL"
        names = ", ".join(t.tensor for t in r.tensors)
        if len(r.tensors) > 4:
            names = f"x and {len(r.tensors) - 1} parameter tensors"
        line = f"{r.name:<{width}}{shape:<18}{status:<6}{_fmt(r.max_abs_err_vs_autodiff):>13}"
        line += f"{_fmt(r.max_abs_err_vs_finite_diff):>14}  {names}"
        if r.inverse is not None:
            line += f"  | inverse: round trip {_fmt(r.inverse['round_trip_rel_err'])}, log-det {_fmt(r.inverse['log_det_abs_err'])}"
        lines.append(line)
        if r.error:
            lines.append(f"    error: {r.error}")
        for t in r.tensors:
            if not t.ok:
                lines.append(
                    f"    {t.tensor} {t.shape}: |manual − autodiff| = {_fmt(t.max_abs_err_vs_autodiff)} "
                    f"(rel {_fmt(t.max_rel_err_vs_autodiff)}) at {t.worst_index_vs_autodiff}; "
                    f"|manual − finite diff| = {_fmt(t.max_abs_err_vs_finite_diff)} at {t.worst_index_vs_finite_diff}"
                )
    failed = [r.name for r in reports if not r.ok]
    auto = [r.name for r in reports if r.ok and r.backward == "autodiff"]
    lines.append(f"\n{len(reports) - len(failed) - len(auto)}/{len(reports)} layers ok"
                 + (f"; {len(auto)} with an autodiff backward, not hand-derived (not a proven formula): {', '.join(auto)}"
                    if auto else "")
                 + (f"; failed: {', '.join(failed)}" if failed else ""))
    if formulas:
        if registry is None:
            from jaxdl.registry import REGISTRY as registry
        lines.append("\nFormulas (forward; backward) and the check of every registry entry of that layer:")
        by_base: dict[str, list] = {}
        for r in reports:
            by_base.setdefault(r.name.split("/")[0], []).append(r)
        for base, group in by_base.items():
            layer, _ = registry[group[0].name]()
            verdict = "ok" if all(r.ok for r in group) else "FAIL"
            lines.append(f"  [{verdict}] {base}: {layer.formula}")
    return "\n".join(lines)
