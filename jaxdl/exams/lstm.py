"""E4: the parameter count of a stacked recurrent network (LSTM, GRU or vanilla RNN, one- or
bidirectional), in closed form, from the leaves of jaxdl's layers, from flax's cells and, where
PyTorch is installed, from its modules."""

from __future__ import annotations

import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.core import init_shapes, tree_size
from jaxdl.errors import InputError
from jaxdl.exams._common import display, erratum
from jaxdl.exams.lang import Lang, both
from jaxdl.exams._legacy_records import Body, Question

# cell: (gate blocks g, flax's cell, PyTorch's module, flax's bias blocks). Per direction and layer
# a cell has g·H·(D + H) weights and g·H biases per bias vector: one (flax's LSTMCell, Keras) or
# two (PyTorch's b_ih and b_hh). flax's GRUCell keeps its own four: the input biases of r, z, n and
# the candidate's bias on the hidden state, inside the reset product.
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
    from jax import export

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
    from jaxdl.layers import lstm, rnn

    layer = {"lstm": lstm, "rnn": rnn}.get(cell)
    if layer is None:
        return None
    return tree_size(init_shapes(layer(hidden_size).init, (1, 1, input_size))[1])


@functools.lru_cache(maxsize=None)
def torch_count(cell: str, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool) -> int | None:
    """``sum(p.numel() for p in torch.nn.LSTM/GRU/RNN(...).parameters())`` (on the meta device:
    nothing is allocated), or None where PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    module = getattr(torch.nn, CELLS[cell][2])(input_size, hidden_size, num_layers=num_layers,
                                                bidirectional=bidirectional, device="meta")
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
    total = {k: sum(p[k] for p in per_layer) for k in ("one_bias", "two_biases", "flax")}
    torch_total = torch_count(cell, input_size, hidden_size, num_layers, bidirectional)
    disagreement = {"flax": max(abs(p["flax"] - p["flax_closed_form"]) for p in per_layer)}
    if per_layer[0]["jaxdl"] is not None:
        disagreement["jaxdl"] = max(abs(p["jaxdl"] - p["one_bias"]) for p in per_layer)
    if torch_total is not None:
        disagreement["PyTorch"] = abs(torch_total - total["two_biases"])
    return {"per_layer": per_layer, **total, "torch": torch_total, "disagreement": disagreement}


def read_config(cfg) -> dict:
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
    givens = read_config(cfg)
    counts = count(givens["cell"], givens["input_size"], givens["hidden_size"], givens["num_layers"],
                   givens["bidirectional"])
    agree = all(v == 0 for v in counts["disagreement"].values())
    checked = ["flax"] + [k for k in ("jaxdl", "PyTorch") if k in counts["disagreement"]]
    errata = []
    if givens == EXAM:
        errata = [erratum(
            "E4", "no official solution", "the count per layer and in total, under both bias conventions, below",
            f"the seed's solutions end after E2; the closed form equals the count of {_names(checked, 'en')}: "
            f"{'yes' if agree else 'no'}", kind="incomplete",
            hr={"seed": "nema službenog rješenja",
                "verified": "broj parametara po sloju i ukupno, za obje konvencije pomaka, dan je u rješenju",
                "evidence": f"službena rješenja završavaju nakon zadatka E2; zatvoreni oblik jednak je broju "
                            f"parametara {_names(checked, 'hr')}: {'da' if agree else 'ne'}"})]
    return {
        "givens": givens,
        "one_bias": counts["one_bias"], "two_biases": counts["two_biases"], "flax": counts["flax"],
        "torch": counts["torch"], "per_layer": counts["per_layer"],
        "checked_against": checked, "agree": agree, "errata": errata,
    }


_SOURCES = {
    "jaxdl": ("jaxdl-ova sloja", "jaxdl's layer"),
    "flax": ("flaxove ćelije", "flax's cell"),
    "PyTorch": ("PyTorchova modula", "PyTorch's module"),
}


def _names(checked, lang: str) -> str:
    names = [_SOURCES[k][0 if lang == "hr" else 1] for k in checked]
    joint = " i " if lang == "hr" else " and "
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + joint + names[-1]


_CELL_NAMES = {"lstm": ("LSTM", "LSTM-a", "LSTM"), "gru": ("GRU", "GRU-a", "GRU"),
               "rnn": ("obična povratna mreža", "obične povratne mreže", "vanilla RNN")}


def report(result: dict) -> str:
    g = result["givens"]
    gates = CELLS[g["cell"]][0]
    lines = [f"E4  {_CELL_NAMES[g['cell']][2]} parameter count"
             f"{' (bidirectional)' if g['bidirectional'] else ''}: per layer and direction {gates}·H·(D + H) weights "
             f"+ {gates}·H biases per bias vector"]
    for i, p in enumerate(result["per_layer"], start=1):
        lines.append(
            f"  layer {i}: D = {p['input_size']}: {p['one_bias']:,} (one bias per gate: flax, Keras) or "
            f"{p['two_biases']:,} (two: PyTorch); flax's cell has {p['flax']:,}"
        )
    torch = f", torch.nn.{CELLS[g['cell']][2]} {result['torch']:,}" if result["torch"] is not None else ""
    lines.append(f"  total: {result['one_bias']:,} with one bias per gate, {result['two_biases']:,} with two"
                 f"{torch}  (closed form = {', '.join(result['checked_against'])}: {result['agree']})")
    return "\n".join(lines)


_LAYERS_HR = {1: "Jednoslojn", 2: "Dvoslojn", 3: "Troslojn", 4: "Četveroslojn"}
_LAYERS_EN = {1: "one-layer", 2: "two-layer", 3: "three-layer", 4: "four-layer"}


def questions(result: dict) -> tuple:
    """E4 as asked for the result's network (the exam's: a two-layer LSTM, 500 hidden, 300 in)."""
    g = result["givens"]
    cell, n, bi = g["cell"], g["num_layers"], g["bidirectional"]
    name_hr, gen_hr, name_en = _CELL_NAMES[cell]
    ending = "a" if cell == "rnn" else "i"  # obična povratna mreža is feminine, LSTM and GRU masculine
    layers_hr = (_LAYERS_HR[n] + ending) if n in _LAYERS_HR else f"{n}-slojn{ending}"
    layers_en = _LAYERS_EN.get(n, f"{n}-layer")
    bi_hr, bi_en = (f" dvosmjern{ending}", " bidirectional") if bi else ("", "")
    article = "An" if layers_en[0] in "aeiou" and not bi else "A"
    return (Question(
        "E4", both(f"Broj parametara {gen_hr}", f"The parameter count of {'an' if cell == 'lstm' else 'a'} {name_en}"), 3,
        both(f"{layers_hr}{bi_hr} {name_hr} ima skriveno stanje dimenzije {g['hidden_size']}, a ulazne reprezentacije "
             f"prvog sloja su dimenzije {g['input_size']}. Koliko parametara ima cijela mreža?",
             f"{article} {layers_en}{bi_en} {name_en} has a hidden state of size {g['hidden_size']}, and the first "
             f"layer's input representations have size {g['input_size']}. How many parameters does the whole network "
             "have?"),
        givens="exam"),)


QUESTIONS = questions({"givens": EXAM})


def _n(value: int, lang: Lang) -> str:
    """An integer in LaTeX, its digits grouped: ``1\\,600\\,000`` in Croatian (the comma is its decimal mark),
    ``1{,}600{,}000`` in English."""
    return f"{value:,}".replace(",", r"\," if lang.code == "hr" else "{,}")


def _grouped(value: int, lang: Lang) -> str:
    """An integer in prose, its digits grouped: ``3 604 000`` (no-break spaces) in Croatian, ``3,604,000`` in English."""
    return f"{value:,}".replace(",", "\u00a0") if lang.code == "hr" else f"{value:,}"


_GATES = {
    "lstm": both("svaka od triju propusnica (ulazna, propusnica zaboravljanja i izlazna), kao i kandidat za novo "
                 "stanje ćelije, ima",
                 "each of the 4 gates (input, forget, output and candidate) has"),
    "gru": both("svaka od dviju propusnica (ažuriranja $z$ i poništavanja $r$), kao i kandidat za novo stanje $n$, ima",
                "each of the 2 gates (update $z$ and reset $r$) and the candidate state $n$ has"),
    "rnn": both("jedini blok (predaktivacija skrivenog stanja) ima", "the one block (the hidden state's pre-activation) has"),
}


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E4's solution in ``lang``: the count per layer, worked out, under both bias conventions."""
    del figures
    s_ = lang.s
    g = result["givens"]
    cell, hh, gates = g["cell"], g["hidden_size"], CELLS[g["cell"]][0]
    dirs = 2 if g["bidirectional"] else 1
    n_layers = len(result["per_layer"])
    later = (s_("ulaz svakog sljedećeg sloja spoj je skrivenih stanja obaju smjerova prethodnog ($D = 2H$)",
                "each later layer's input joins both directions' hidden states of the previous one ($D = 2H$)")
             if dirs == 2 else s_("ulaz svakog sljedećeg sloja je skriveno stanje prethodnog ($D = H$)",
                                  "each later layer's input is the previous hidden state ($D = H$)"))
    givens = s_(f"{lang.count(n_layers, 'sloj', 'sloja', 'slojeva')}{', dvosmjerno' if dirs == 2 else ''}, skriveno "
                f"stanje $H = {hh}$, ulaz prvog sloja $D = {g['input_size']}$"
                + (f"; {later}." if n_layers > 1 else "."),
                f"{n_layers} layer{'s' if n_layers > 1 else ''}{', bidirectional' if dirs == 2 else ''}, hidden state "
                f"$H = {hh}$, the first layer's input $D = {g['input_size']}$" + (f"; {later}." if n_layers > 1 else "."))
    work = [s_(f"U sloju s ulazom $D$ i skrivenim stanjem $H$ {_GATES[cell]['hr']} matricu težina $H \\times (D + H)$ "
               "(za ulaz i za prethodno skriveno stanje) te jedan vektor pomaka veličine $H$ (flax, Keras) ili dva "
               "($b_{ih}$ i $b_{hh}$, PyTorch)."
               + (" Svaki smjer ima svoje parametre." if dirs == 2 else ""),
               f"In a layer with input $D$ and hidden state $H$ {_GATES[cell]['en']} an $H \\times (D + H)$ weight "
               "matrix (on the input and on the previous hidden state) and a bias of size $H$ per bias vector: one "
               "(flax, Keras) or two ($b_{ih}$ and $b_{hh}$: PyTorch)."
               + (" Each direction has its own parameters." if dirs == 2 else ""))]
    times = f"{dirs} \\cdot " if dirs == 2 else ""
    for i, p in enumerate(result["per_layer"], start=1):
        d = p["input_size"]
        weights = p["weights"]
        open_, close = ("(", ")") if dirs == 2 else ("", "")
        work += [s_(f"Sloj {i} ($D = {d}$, $H = {hh}$):", f"Layer {i} ($D = {d}$, $H = {hh}$):"),
                 display(rf"{times}{open_}{gates} \cdot {hh} \cdot ({d} + {hh}) + {gates} \cdot {hh}{close} = "
                         rf"{_n(weights, lang)} + {_n(p['one_bias'] - weights, lang)} = {_n(p['one_bias'], lang)}",
                         rf"\text{{{s_('dva pomaka', 'two biases')}: }} {_n(weights, lang)} + {times}2 \cdot {gates} "
                         rf"\cdot {hh} = {_n(p['two_biases'], lang)}")]
    answer = s_(f"**{_grouped(result['one_bias'], lang)}** parametara s jednim vektorom pomaka po propusnici, odnosno "
                f"**{_grouped(result['two_biases'], lang)}** s dva.",
                f"**{result['one_bias']:,}** parameters with one bias per gate, **{result['two_biases']:,}** with two.")
    flax_note = ""
    if cell == "gru":
        flax_note = s_(f" flaxov `GRUCell` ima vlastitu konvenciju pomaka (četiri vektora: ulazni za $r$, $z$, $n$ i "
                       f"pomak kandidata na skrivenom stanju): ukupno {_grouped(result['flax'], lang)}.",
                       f" flax's `GRUCell` keeps its own biases (four vectors: the input biases of $r$, $z$, $n$ and "
                       f"the candidate's bias on the hidden state): {result['flax']:,} in all.")
    verified = s_(
        f"Zatvoreni oblik uspoređen je s brojem parametara {_names(result['checked_against'], 'hr')} "
        f"(`jaxdl exam lstm`): slažu se: {'da' if result['agree'] else '**NE**'}.{flax_note}",
        f"The closed form is compared with the parameters of {_names(result['checked_against'], 'en')} "
        f"(`jaxdl exam lstm`): they agree: {'yes' if result['agree'] else '**NO**'}.{flax_note}")
    finals = [_grouped(result["one_bias"], lang), _grouped(result["two_biases"], lang)]
    return {"E4": Body(givens, {"": "\n\n".join(work)}, {"": answer}, verified, finals)}
