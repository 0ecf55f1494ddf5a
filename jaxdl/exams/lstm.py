"""E4: the parameter count of a stacked LSTM, from the leaves of an initialized jaxdl LSTM."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.core import check_int, init_shapes, serial, tree_size
from jaxdl.exams._common import display, erratum
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.sheet import Body, Question
from jaxdl.layers import lstm


def closed_form(input_size: int, hidden_size: int, biases: int) -> int:
    """4 gates, each ``H × (D + H)`` weights and ``biases × H`` biases."""
    return 4 * hidden_size * (input_size + hidden_size) + biases * 4 * hidden_size


def flax_count(input_size: int, hidden_size: int) -> int:
    """Parameters of ``flax.linen.LSTMCell(hidden_size)`` on inputs of size ``input_size`` (shapes only)."""
    cell = nn.LSTMCell(features=hidden_size)
    carry = (jnp.zeros((1, hidden_size)), jnp.zeros((1, hidden_size)))
    shapes = jax.eval_shape(cell.init, jax.random.PRNGKey(0), carry, jnp.zeros((1, input_size)))
    return tree_size(shapes)


def solve(input_size: int = 300, hidden_size: int = 500, num_layers: int = 2) -> dict:
    d = check_int("exam lstm", "--input-size", input_size)
    h = check_int("exam lstm", "--hidden-size", hidden_size)
    n = check_int("exam lstm", "--num-layers", num_layers)
    net = serial(*[lstm(h) for _ in range(n)])
    _, params = init_shapes(net.init, (1, 1, d))
    per_layer = []
    for i, key in enumerate(params):
        layer_in = d if i == 0 else h
        one = tree_size(params[key])
        # PyTorch's LSTM keeps two bias vectors (b_ih and b_hh); their sum acts as the one bias.
        two = one + tree_size(params[key]["b"])
        per_layer.append({
            "input_size": layer_in,
            "shapes": {k: list(v.shape) for k, v in params[key].items()},
            "one_bias": one,
            "two_biases": two,
            "closed_form_one_bias": closed_form(layer_in, h, 1),
            "closed_form_two_biases": closed_form(layer_in, h, 2),
            "flax_lstm_cell": flax_count(layer_in, h),
        })
    agree = all(
        p["one_bias"] == p["closed_form_one_bias"] == p["flax_lstm_cell"] and p["two_biases"] == p["closed_form_two_biases"]
        for p in per_layer
    )
    return {
        "one_bias": sum(p["one_bias"] for p in per_layer),
        "two_biases": sum(p["two_biases"] for p in per_layer),
        "per_layer": per_layer,
        "agree": agree,
        "errata": [erratum(
            "E4", "no official solution", "the count per layer and in total, under both bias conventions, below",
            f"the seed's solutions end after E2; the count from a jaxdl LSTM's leaves equals the closed form and "
            f"flax.linen.LSTMCell: {'yes' if agree else 'no'}", kind="incomplete",
            hr={"seed": "nema službenog rješenja",
                "verified": "broj parametara po sloju i ukupno, za obje konvencije pomaka, dan je u rješenju",
                "evidence": f"službena rješenja završavaju nakon zadatka E2; broj prebrojan iz parametara jaxdl-ova "
                            f"LSTM-a jednak je broju iz zatvorenog oblika i iz flax.linen.LSTMCell: "
                            f"{'da' if agree else 'ne'}"})],
    }


def report(result: dict) -> str:
    lines = ["E4  LSTM parameter count: per layer 4·H·(D + H) weights + 4·H biases per bias vector"]
    for i, p in enumerate(result["per_layer"], start=1):
        lines.append(
            f"  layer {i}: D = {p['input_size']}: {p['one_bias']:,} (one bias per gate: flax, Keras) or "
            f"{p['two_biases']:,} (two: PyTorch); flax.linen.LSTMCell has {p['flax_lstm_cell']:,}"
        )
    lines.append(f"  total: {result['one_bias']:,} with one bias per gate, {result['two_biases']:,} with two"
                 f"  (jaxdl leaves = closed form = flax: {result['agree']})")
    return "\n".join(lines)


QUESTIONS = (Question(
    "E4", both("Broj parametara LSTM-a", "The parameter count of an LSTM"), 3,
    both("Dvoslojni LSTM ima skriveno stanje dimenzije 500, a ulazne reprezentacije prvog sloja su dimenzije 300. "
         "Koliko parametara ima cijela mreža?",
         "A two-layer LSTM has a hidden state of size 500, and the first layer's input representations have size "
         "300. How many parameters does the whole network have?"),
    givens="exam"),)


def _n(value: int, lang: Lang) -> str:
    """An integer in LaTeX, its digits grouped: ``1\\,600\\,000`` in Croatian (the comma is its decimal mark),
    ``1{,}600{,}000`` in English."""
    return f"{value:,}".replace(",", r"\," if lang.code == "hr" else "{,}")


def _grouped(value: int, lang: Lang) -> str:
    """An integer in prose, its digits grouped: ``3 604 000`` (no-break spaces) in Croatian, ``3,604,000`` in English."""
    return f"{value:,}".replace(",", "\u00a0") if lang.code == "hr" else f"{value:,}"


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E4's solution in ``lang``: the count per layer, worked out, under both bias conventions."""
    del figures
    s_ = lang.s
    first = result["per_layer"][0]
    hh = first["shapes"]["W_h"][0]
    givens = s_(f"{len(result['per_layer'])} sloja, skriveno stanje $H = {hh}$, ulaz prvog sloja $D = {first['input_size']}$; "
                "ulaz svakog sljedećeg sloja je skriveno stanje prethodnog ($D = H$).",
                f"{len(result['per_layer'])} layers, hidden state $H = {hh}$, the first layer's input "
                f"$D = {first['input_size']}$; each later layer's input is the previous hidden state ($D = H$).")
    work = [s_("U sloju s ulazom $D$ i skrivenim stanjem $H$ svaka od triju propusnica (ulazna, propusnica "
               "zaboravljanja i izlazna), kao i kandidat za novo stanje ćelije, ima matricu težina $H \\times (D + H)$ "
               "(za ulaz i za prethodno skriveno stanje) te jedan vektor pomaka veličine $H$ (flax, Keras) ili dva "
               "($b_{ih}$ i $b_{hh}$, PyTorch).",
               "Each of the 4 gates (input, forget, output and candidate) of a layer with input $D$ and hidden state "
               "$H$ has an $H \\times (D + H)$ weight matrix (on the input and on the previous hidden state) and a "
               "bias of size $H$ per bias vector: one (flax, Keras) or two ($b_{ih}$ and $b_{hh}$: PyTorch).")]
    for i, p in enumerate(result["per_layer"], start=1):
        d = p["input_size"]
        weights = 4 * hh * (d + hh)
        work += [s_(f"Sloj {i} ($D = {d}$, $H = {hh}$):", f"Layer {i} ($D = {d}$, $H = {hh}$):"),
                 display(rf"4 \cdot {hh} \cdot ({d} + {hh}) + 4 \cdot {hh} = {_n(weights, lang)} + {_n(4 * hh, lang)} "
                         rf"= {_n(p['one_bias'], lang)}",
                         rf"\text{{{s_('dva pomaka', 'two biases')}: }} {_n(weights, lang)} + 2 \cdot 4 \cdot {hh} "
                         rf"= {_n(p['two_biases'], lang)}")]
    answer = s_(f"**{_grouped(result['one_bias'], lang)}** parametara s jednim vektorom pomaka po propusnici, odnosno "
                f"**{_grouped(result['two_biases'], lang)}** s dva.",
                f"**{result['one_bias']:,}** parameters with one bias per gate, **{result['two_biases']:,}** with two.")
    verified = s_(
        "Prebrojano iz parametara inicijaliziranog jaxdl-ova LSTM-a (`jaxdl exam lstm`) i iz `flax.linen.LSTMCell`; "
        f"oba se slažu sa zatvorenim oblikom: {'da' if result['agree'] else '**NE**'}.",
        "Counted from the leaves of an initialized jaxdl LSTM (`jaxdl exam lstm`) and from `flax.linen.LSTMCell`; "
        f"both agree with the closed form: {'yes' if result['agree'] else '**NO**'}.")
    finals = [_grouped(result["one_bias"], lang), _grouped(result["two_biases"], lang)]
    return {"E4": Body(givens, {"": "\n\n".join(work)}, {"": answer}, verified, finals)}
