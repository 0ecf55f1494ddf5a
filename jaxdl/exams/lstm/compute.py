"""E4's computation: the parameter count of a stacked recurrent network (LSTM, GRU or vanilla RNN,
one- or bidirectional), in closed form, from the leaves of jaxdl's layers, from flax's cells and,
where PyTorch is installed, from its modules."""

from __future__ import annotations

import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import export

from jaxdl.core import init_shapes, tree_size
from jaxdl.errors import InputError
from jaxdl.layers import lstm as lstm_layer, rnn as rnn_layer

# cell: (gate blocks g, flax's cell, PyTorch's module, flax's bias blocks). Per direction and layer
# a cell has g·H·(D + H) weights and g·H biases per bias vector: one (flax's LSTMCell and
# SimpleCell: counted by flax_count) or two (PyTorch's b_ih and b_hh: counted by torch_count).
# flax's GRUCell keeps its own four: the input biases of r, z, n and the candidate's bias on the
# hidden state, inside the reset product; a GRU with one bias per block (3H) is no library's
# layer that jaxdl builds, so no library is named for it.
CELLS = {
    "lstm": (4, nn.LSTMCell, "LSTM", 4),
    "gru": (3, nn.GRUCell, "GRU", 4),
    "rnn": (1, nn.SimpleCell, "RNN", 1),
}
EXAM = {"cell": "lstm", "input_size": 300, "hidden_size": 500, "num_layers": 2, "bidirectional": False}


def closed_form(cell: str, input_size: int, hidden_size: int, biases: str = "one") -> int:
    """One direction of one layer: ``g·H·(D + H)`` weights and the biases of ``biases``: ``"one"``
    (g·H), ``"two"`` (2·g·H) or ``"flax"`` (flax's cell's)."""
    gates, _, _, flax_blocks = CELLS[cell]
    blocks = {"one": gates, "two": 2 * gates, "flax": flax_blocks}[biases]
    return gates * hidden_size * (input_size + hidden_size) + blocks * hidden_size


@functools.lru_cache(maxsize=None)
def _flax_shapes(cell: str, hidden_size: int):
    """flax's cell's parameter shapes for a symbolic input size ``D`` (traced once per cell and H)."""
    (d,) = export.symbolic_shape("D")
    module = CELLS[cell][1](features=hidden_size)
    h = jnp.zeros((1, hidden_size))
    carry = (h, h) if cell == "lstm" else h
    shapes = jax.eval_shape(module.init, jax.random.PRNGKey(0), carry, jax.ShapeDtypeStruct((1, d), jnp.float32))
    return d, [leaf.shape for leaf in jax.tree_util.tree_leaves(shapes)]


def flax_count(cell: str, input_size: int, hidden_size: int) -> int:
    """The parameters of flax's cell (``flax.linen.LSTMCell``, ``GRUCell``, ``SimpleCell``) on inputs
    of size ``input_size``, from the shapes flax gives its parameters."""
    d, shapes = _flax_shapes(cell, hidden_size)

    def size(dim):
        if isinstance(dim, int):
            return dim
        if dim == d:
            return input_size
        raise RuntimeError(f"flax's {cell} cell has a parameter dimension {dim} jaxdl does not read")

    return sum(math.prod(size(x) for x in shape) for shape in shapes)


@functools.lru_cache(maxsize=None)
def jaxdl_count(cell: str, input_size: int, hidden_size: int) -> int | None:
    """The parameters of jaxdl's layer for the cell (``lstm``, ``rnn``; jaxdl has no GRU: None)."""
    layer = {"lstm": lstm_layer, "rnn": rnn_layer}.get(cell)
    if layer is None:
        return None
    return tree_size(init_shapes(layer(hidden_size).init, (1, 1, input_size))[1])


@functools.lru_cache(maxsize=None)
def torch_count(cell: str, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool,
                bias: bool = True) -> int | None:
    """``sum(p.numel() for p in torch.nn.LSTM/GRU/RNN(..., bias=bias).parameters())`` (on the meta
    device: nothing is allocated), or None where PyTorch is not installed. ``bias=False`` counts
    the weights alone."""
    try:
        import torch
    except ImportError:
        return None
    module = getattr(torch.nn, CELLS[cell][2])(input_size, hidden_size, num_layers=num_layers,
                                                bidirectional=bidirectional, bias=bias, device="meta")
    return int(sum(p.numel() for p in module.parameters()))


def count(cell: str, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool) -> dict:
    """Every count of the network, per layer and in total, and how far each independent count is
    from the closed form (``disagreement``: jaxdl's leaves, flax's cells, PyTorch's module)."""
    directions = 2 if bidirectional else 1
    per_layer = []
    for i in range(num_layers):
        d = input_size if i == 0 else directions * hidden_size
        mine = jaxdl_count(cell, d, hidden_size)
        per_layer.append({
            "input_size": d, "directions": directions,
            "weights": directions * CELLS[cell][0] * hidden_size * (d + hidden_size),
            "one_bias": directions * closed_form(cell, d, hidden_size, "one"),
            "two_biases": directions * closed_form(cell, d, hidden_size, "two"),
            "flax_closed_form": directions * closed_form(cell, d, hidden_size, "flax"),
            "flax": directions * flax_count(cell, d, hidden_size),
            "jaxdl": None if mine is None else directions * mine,
        })
    total = {k: sum(p[k] for p in per_layer) for k in ("weights", "one_bias", "two_biases", "flax")}
    torch_total = torch_count(cell, input_size, hidden_size, num_layers, bidirectional)
    torch_weights = torch_count(cell, input_size, hidden_size, num_layers, bidirectional, bias=False)
    disagreement = {"flax": max(abs(p["flax"] - p["flax_closed_form"]) for p in per_layer)}
    if per_layer[0]["jaxdl"] is not None:
        disagreement["jaxdl"] = max(abs(p["jaxdl"] - p["one_bias"]) for p in per_layer)
    if torch_total is not None:
        disagreement["PyTorch"] = max(abs(torch_total - total["two_biases"]), abs(torch_weights - total["weights"]))
    return {"per_layer": per_layer, **total, "torch": torch_total, "torch_weights": torch_weights,
            "disagreement": disagreement}


def read_config(cfg) -> dict:
    """Validates E4's config: the cell, the sizes (integers >= 1) and whether it is bidirectional."""
    known = set(EXAM)
    unknown = sorted(set(cfg.keys()) - known)
    if unknown:
        raise InputError(f"config: unknown field {unknown[0]!r} for exam lstm; known: {sorted(known)}")
    if cfg.cell not in CELLS:
        raise InputError(f"config: cell must be one of {list(CELLS)}; got {cfg.cell!r}")
    for field in ("input_size", "hidden_size", "num_layers"):
        value = cfg[field]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"config: {field} must be an integer >= 1; got {value!r}")
    if not isinstance(cfg.bidirectional, bool):
        raise InputError(f"config: bidirectional must be True or False; got {cfg.bidirectional!r}")
    return {k: cfg[k] for k in EXAM}


def solve(cfg) -> dict:
    """E4's answers for the config's network: the count per layer and in total under both bias
    conventions, and whether every independent count agrees with the closed form."""
    givens = read_config(cfg)
    counts = count(givens["cell"], givens["input_size"], givens["hidden_size"], givens["num_layers"],
                   givens["bidirectional"])
    agree = all(v == 0 for v in counts["disagreement"].values())
    checked = ["flax"] + [k for k in ("jaxdl", "PyTorch") if k in counts["disagreement"]]
    return {
        "givens": givens,
        "weights": counts["weights"], "one_bias": counts["one_bias"], "two_biases": counts["two_biases"],
        "flax": counts["flax"], "torch": counts["torch"], "torch_weights": counts["torch_weights"],
        "per_layer": counts["per_layer"],
        "checked_against": checked, "agree": agree, "errata": [],
    }


def ok(result: dict) -> bool:
    return result["agree"]


SOURCES = {
    "jaxdl": ("jaxdl-ova sloja", "jaxdl's layer"),
    "flax": ("flaxove ćelije", "flax's cell"),
    "PyTorch": ("PyTorchova modula", "PyTorch's module"),
}


def source_names(checked, lang: str) -> str:
    """The computations the closed form was checked against, in words (``lang``: "hr" or "en")."""
    names = [SOURCES[k][0 if lang == "hr" else 1] for k in checked]
    joint = " i " if lang == "hr" else " and "
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + joint + names[-1]


CELL_NAMES = {"lstm": ("LSTM", "LSTM-a", "LSTM"), "gru": ("GRU", "GRU-a", "GRU"),
              "rnn": ("obična povratna mreža", "obične povratne mreže", "vanilla RNN")}


def one_bias_owner(cell: str) -> str | None:
    """The library whose cell has one bias vector (counted by :func:`flax_count`): flax's LSTMCell
    and SimpleCell; None for the GRU (flax's GRUCell has a fourth bias vector)."""
    return "flax" if CELLS[cell][0] == CELLS[cell][3] else None


def report(result: dict) -> str:
    g = result["givens"]
    gates = CELLS[g["cell"]][0]
    owner = one_bias_owner(g["cell"])
    one = f"one bias vector: {owner}'s cell" if owner else "one bias vector"
    lines = [f"E4  {CELL_NAMES[g['cell']][2]} parameter count"
             f"{' (bidirectional)' if g['bidirectional'] else ''}: per layer and direction {gates}·H·(D + H) weights "
             f"+ {gates}·H biases per bias vector"]
    for i, p in enumerate(result["per_layer"], start=1):
        lines.append(
            f"  layer {i}: D = {p['input_size']}: {p['weights']:,} weights; {p['one_bias']:,} ({one}) or "
            f"{p['two_biases']:,} (two: PyTorch's); flax's cell has {p['flax']:,}"
        )
    torch = f", torch.nn.{CELLS[g['cell']][2]} {result['torch']:,}" if result["torch"] is not None else ""
    lines.append(f"  total: {result['weights']:,} weights; {result['one_bias']:,} with one bias vector, "
                 f"{result['two_biases']:,} with two{torch}  (closed form = {', '.join(result['checked_against'])}: "
                 f"{result['agree']})")
    return "\n".join(lines)
