"""Facts read off a function's jaxpr: scalar operation counts, the structural zeros of its
Jacobian, and its computational graph.

These answer the exam's questions about an implementation from the implementation itself:

- :func:`count_ops` counts the scalar additions and multiplications the traced program performs
  (a dot product of length n is n multiplications and n − 1 additions);
- :func:`jacobian_sparsity` finds which entries of ``∂f/∂x`` are zero *for every input*, by
  propagating dependency sets through the jaxpr (no sample can tell a structural zero from an
  accidental one);
- :func:`computational_graph` turns a function built from named elementary operations into the
  exam's graph (nodes: inputs and intermediate results with their operation; edges: direct
  dependencies), and :func:`to_dot` writes it for Graphviz.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import jax
import numpy as np
from jax.extend import core as jcore

from jaxdl.errors import InputError

_CALL_PARAMS = ("jaxpr", "call_jaxpr", "fun_jaxpr")


def _inner_jaxpr(eqn):
    for key in _CALL_PARAMS:
        if key in eqn.params:
            inner = eqn.params[key]
            return inner.jaxpr if hasattr(inner, "jaxpr") else inner
    return None


def _size(aval) -> int:
    return int(math.prod(aval.shape))


# --------------------------------------------------------------------------------------------
# Operation counts.


def _count_jaxpr(jaxpr, counts: dict) -> None:
    for eqn in jaxpr.eqns:
        inner = _inner_jaxpr(eqn)
        if inner is not None:
            _count_jaxpr(inner, counts)
            continue
        prim = eqn.primitive.name
        out = _size(eqn.outvars[0].aval)
        if prim == "dot_general":
            (lhs_contract, _), _ = eqn.params["dimension_numbers"]
            k = int(math.prod(eqn.invars[0].aval.shape[d] for d in lhs_contract))
            counts["multiplications"] += out * k
            counts["additions"] += out * (k - 1)
        elif prim in ("add", "sub", "add_any"):
            counts["additions"] += out
        elif prim == "mul":
            counts["multiplications"] += out
        elif prim == "reduce_sum":
            counts["additions"] += _size(eqn.invars[0].aval) - out
        elif prim not in ("broadcast_in_dim", "reshape", "squeeze", "transpose", "convert_element_type"):
            counts["other"][prim] = counts["other"].get(prim, 0) + out


def count_ops(fn: Callable, *args) -> dict:
    """Scalar additions and multiplications performed by ``fn(*args)``, from its jaxpr.

    Returns ``{"additions": int, "multiplications": int, "other": {primitive: count}}``;
    subtractions count as additions, reshapes and broadcasts as nothing.

    Example:
      >>> count_ops(lambda W, x, b: W @ x + b, jnp.ones((3, 4)), jnp.ones(4), jnp.ones(3))
      {'additions': 12, 'multiplications': 12, 'other': {}}
    """
    counts = {"additions": 0, "multiplications": 0, "other": {}}
    _count_jaxpr(jax.make_jaxpr(fn)(*args).jaxpr, counts)
    return counts


# --------------------------------------------------------------------------------------------
# Structural sparsity of Jacobians.
#
# Each variable carries a boolean array of shape (*var.shape, K): entry [..., k] says whether
# that element can depend on input coordinate k. Dependency sets are unions, so a dot product's
# output depends on everything either operand's contracted entries depend on.

_ZERO_DERIVATIVE = {"sign", "floor", "ceil", "round", "stop_gradient", "argmax", "argmin", "iota"}
_SHAPE_FREE = {"convert_element_type", "copy", "copy_p", "reduce_precision"}


def _deps_dot_general(eqn, lhs, rhs):
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    nl, nr = lhs.ndim - 1, rhs.ndim - 1
    lfree = [d for d in range(nl) if d not in lc and d not in lb]
    rfree = [d for d in range(nr) if d not in rc and d not in rb]
    # Reduce each operand over its contracted dims, order the rest as (batch, free), then
    # broadcast both to the output layout (batch, lhs free, rhs free).
    a = lhs.any(axis=tuple(lc)) if lc else lhs
    keep_l = [d for d in range(nl) if d not in lc]
    a = a.transpose([keep_l.index(d) for d in list(lb) + lfree] + [len(keep_l)])
    a = a.reshape(a.shape[:-1] + (1,) * len(rfree) + a.shape[-1:])
    b = rhs.any(axis=tuple(rc)) if rc else rhs
    keep_r = [d for d in range(nr) if d not in rc]
    b = b.transpose([keep_r.index(d) for d in list(rb) + rfree] + [len(keep_r)])
    b = b.reshape(b.shape[:len(rb)] + (1,) * len(lfree) + b.shape[len(rb):])
    return a | b


def _deps_eqn(eqn, ins, k):
    prim = eqn.primitive.name
    out_aval = eqn.outvars[0].aval
    shape = tuple(out_aval.shape)
    if prim in _ZERO_DERIVATIVE or not np.issubdtype(out_aval.dtype, np.inexact):
        return [np.zeros(tuple(v.aval.shape) + (k,), bool) for v in eqn.outvars]
    if prim == "dot_general":
        return [_deps_dot_general(eqn, *ins)]
    if prim == "broadcast_in_dim":
        op = ins[0]
        dims = eqn.params["broadcast_dimensions"]
        expanded = np.ones(len(shape), int)
        for src, dst in enumerate(dims):
            expanded[dst] = op.shape[src]
        return [np.broadcast_to(op.reshape(tuple(expanded) + (k,)), shape + (k,))]
    if prim == "reshape":
        return [ins[0].reshape(shape + (k,))]
    if prim == "squeeze":
        return [ins[0].reshape(shape + (k,))]
    if prim == "transpose":
        return [ins[0].transpose(tuple(eqn.params["permutation"]) + (len(shape),))]
    if prim.startswith("reduce_") or prim in ("argmax", "cumsum"):
        axes = tuple(eqn.params.get("axes", ()))
        return [ins[0].any(axis=axes)]
    if prim == "concatenate":
        return [np.concatenate(ins, axis=eqn.params["dimension"])]
    if prim == "slice":
        idx = tuple(
            slice(s, e, st)
            for s, e, st in zip(eqn.params["start_indices"], eqn.params["limit_indices"],
                                eqn.params["strides"] or (1,) * len(shape))
        )
        return [ins[0][idx]]
    if prim == "rev":
        return [np.flip(ins[0], axis=tuple(eqn.params["dimensions"]))]
    # Elementwise: every operand has the output's shape, up to size-1 axes, or is a scalar.
    out = np.zeros(shape + (k,), bool)
    for v, d in zip(eqn.invars, ins):
        operand = tuple(v.aval.shape)
        fits = operand == () or (len(operand) == len(shape) and all(a in (1, b) for a, b in zip(operand, shape)))
        if not fits:
            raise NotImplementedError(f"jacobian_sparsity: primitive {prim!r} is not supported")
        out = out | (d if operand else d.reshape((1,) * len(shape) + (k,)))
    return [out]


def _deps_jaxpr(jaxpr, in_deps, k):
    env = {}

    def read(v):
        if isinstance(v, jcore.Literal):
            return np.zeros(np.shape(v.val) + (k,), bool)
        return env[v]

    for v, d in zip(jaxpr.constvars, [np.zeros(tuple(c.aval.shape) + (k,), bool) for c in jaxpr.constvars]):
        env[v] = d
    for v, d in zip(jaxpr.invars, in_deps):
        env[v] = d
    for eqn in jaxpr.eqns:
        ins = [read(v) for v in eqn.invars]
        inner = _inner_jaxpr(eqn)
        outs = _deps_jaxpr(inner, ins, k) if inner is not None else _deps_eqn(eqn, ins, k)
        for v, d in zip(eqn.outvars, outs):
            env[v] = d
    return [read(v) for v in jaxpr.outvars]


def jacobian_sparsity(fn: Callable, args: Sequence, argnum: int = 0) -> np.ndarray:
    """Which entries of ``∂fn(*args)/∂args[argnum]`` can be non-zero, from the program's structure.

    Returns a boolean array of shape ``out.shape + args[argnum].shape``; ``False`` marks an
    entry that is zero for every input (the output element does not depend on that input
    element). Comparisons, ``sign`` and integer results carry no derivative.

    Example: ReLU's Jacobian is diagonal, so ``(~jacobian_sparsity(relu, [h])).sum()`` is
    ``m² − m`` for ``h`` of length m.
    """
    closed = jax.make_jaxpr(fn)(*args)
    k = int(np.size(args[argnum]))
    in_deps = []
    for i, a in enumerate(args):
        shape = np.shape(a)
        if i == argnum:
            in_deps.append(np.eye(k, dtype=bool).reshape(shape + (k,)))
        else:
            in_deps.append(np.zeros(shape + (k,), bool))
    (out,) = _deps_jaxpr(closed.jaxpr, in_deps, k)
    return out.reshape(out.shape[:-1] + np.shape(args[argnum]))


# --------------------------------------------------------------------------------------------
# Computational graphs.


@dataclasses.dataclass(frozen=True)
class Graph:
    """A computational graph in the exam's convention.

    ``nodes``: ``(name, operation)`` pairs, ``operation`` ``None`` for an input;
    ``edges``: ``(source, target)`` pairs, one per direct dependency.
    """

    nodes: tuple[tuple[str, str | None], ...]
    edges: tuple[tuple[str, str], ...]


def computational_graph(fn: Callable, arg_names: Sequence[str], args: Sequence,
                        op_labels: dict[str, str]) -> Graph:
    """Traces ``fn(*args) -> {name: value}`` into a :class:`Graph`.

    ``fn`` must be built from jit-compiled elementary operations (each appears in the jaxpr as
    one call named after its Python function); ``op_labels`` maps those names to the labels
    shown (``{"matmul": "·"}``). Every intermediate result must be among the returned values,
    so that every node has a name. An operation outside ``op_labels`` is an error: the graph
    would otherwise hide work.
    """
    closed = jax.make_jaxpr(fn)(*args)
    jaxpr = closed.jaxpr
    out_tree = jax.tree_util.tree_structure(jax.eval_shape(fn, *args))
    out_names = jax.tree_util.tree_unflatten(out_tree, list(range(out_tree.num_leaves)))
    names = {}
    for v, n in zip(jaxpr.invars, arg_names):
        names[v] = n
    index_to_name = {i: k for k, i in out_names.items()}
    produced = {}
    for i, v in enumerate(jaxpr.outvars):
        if isinstance(v, jcore.Var) and v not in names:
            produced[v] = index_to_name[i]
    nodes = [(n, None) for n in arg_names]
    edges = []
    for eqn in jaxpr.eqns:
        op = eqn.params.get("name")
        if eqn.primitive.name not in ("jit", "pjit") or op not in op_labels:
            raise InputError(f"computational_graph: {eqn.primitive.name} {op or ''} is not a named elementary operation")
        (outvar,) = eqn.outvars
        if outvar not in produced:
            raise InputError(f"computational_graph: the result of {op} is not returned, so it has no name")
        target = produced[outvar]
        names[outvar] = target
        nodes.append((target, op_labels[op]))
        for v in eqn.invars:
            if isinstance(v, jcore.Var) and v in names:
                edges.append((names[v], target))
    used = {s for s, _ in edges} | {t for _, t in edges}
    nodes = [(n, op) for n, op in nodes if op is not None or n in used]
    return Graph(tuple(nodes), tuple(edges))


def to_dot(graph: Graph, title: str) -> str:
    """Graphviz DOT text: inputs as plain boxes, results as ``(name, operation)`` ellipses."""
    lines = [f'digraph "{title}" {{', "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for name, op in graph.nodes:
        if op is None:
            lines.append(f'  "{name}" [shape=box, label="{name}"];')
        else:
            lines.append(f'  "{name}" [shape=ellipse, label="({name}, {op})"];')
    for src, dst in graph.edges:
        lines.append(f'  "{src}" -> "{dst}";')
    lines.append("}")
    return "\n".join(lines) + "\n"
