"""E4's text: the question restated for the network, and the worked solution in each language (the
count per layer, under both bias conventions)."""

from __future__ import annotations

from jaxdl.exams._common import display
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.lstm.compute import CELL_NAMES, CELLS, EXAM, one_bias_owner, source_names
from jaxdl.exams.problem import Body, Question

_LAYERS_HR = {1: "Jednoslojn", 2: "Dvoslojn", 3: "Troslojn", 4: "Četveroslojn"}
_LAYERS_EN = {1: "one-layer", 2: "two-layer", 3: "three-layer", 4: "four-layer"}


def questions(result: dict) -> tuple:
    """E4 as asked for the result's network (the exam's: a two-layer LSTM, 500 hidden, 300 in)."""
    g = result["givens"]
    cell, n, bi = g["cell"], g["num_layers"], g["bidirectional"]
    name_hr, gen_hr, name_en = CELL_NAMES[cell]
    ending = "a" if cell == "rnn" else "i"  # obična povratna mreža is feminine, LSTM and GRU masculine
    layers_hr = (_LAYERS_HR[n] + ending) if n in _LAYERS_HR else f"{n}-slojn{ending}"
    layers_en = _LAYERS_EN.get(n, f"{n}-layer")
    bi_hr, bi_en = (f" dvosmjern{ending}", " bidirectional") if bi else ("", "")
    article = "An" if layers_en[0] in "aeiou" and not bi else "A"
    ask = both("", "")
    if "variant" in result:  # the exam leaves the bias convention open: a variant names both
        per = ("sloju i smjeru", "layer and direction") if bi else ("sloju", "layer")
        ask = both(f" Navedite broj težina (bez pomaka) te ukupan broj parametara uz jedan vektor pomaka $b$ po {per[0]} "
                   "i uz dva ($b_{ih}$ i $b_{hh}$, kao u PyTorchu).",
                   f" Give the number of weights (without the biases), and the total number of parameters with one bias "
                   f"vector $b$ per {per[1]} and with two ($b_{{ih}}$ and $b_{{hh}}$, as PyTorch's).")
    return (Question(
        code="E4",
        title=both(f"Broj parametara {gen_hr}", f"The parameter count of {'an' if cell == 'lstm' else 'a'} {name_en}"),
        points=3,
        stem=both(
            f"{layers_hr}{bi_hr} {name_hr} ima skriveno stanje dimenzije {g['hidden_size']}, a ulazne reprezentacije "
            f"prvog sloja su dimenzije {g['input_size']}. Koliko parametara ima cijela mreža?{ask['hr']}",
            f"{article} {layers_en}{bi_en} {name_en} has a hidden state of size {g['hidden_size']}, and the first "
            f"layer's input representations have size {g['input_size']}. How many parameters does the whole network "
            f"have?{ask['en']}"),
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
    later = (s_("spoj skrivenih stanja obaju smjerova ($D = 2H$)", "both directions' hidden states joined ($D = 2H$)")
             if dirs == 2 else s_("njegovo skriveno stanje ($D = H$)", "its hidden state ($D = H$)"))
    # Only what the question gives: how a later layer reads the one before is the working's.
    givens = s_(f"{lang.count(n_layers, 'sloj', 'sloja', 'slojeva')}{', dvosmjerno' if dirs == 2 else ''}, skriveno "
                f"stanje $H = {hh}$, ulaz prvog sloja $D = {g['input_size']}$.",
                f"{n_layers} layer{'s' if n_layers > 1 else ''}{', bidirectional' if dirs == 2 else ''}, hidden state "
                f"$H = {hh}$, the first layer's input $D = {g['input_size']}$.")
    owner = one_bias_owner(cell)
    one_hr = " (kao flaxova ćelija)" if owner else ""
    one_en = " (as flax's cell)" if owner else ""
    work = [s_(f"U sloju s ulazom $D$ i skrivenim stanjem $H$ {_GATES[cell]['hr']} matricu težina $H \\times (D + H)$ "
               f"(za ulaz i za prethodno skriveno stanje) te $H$ pomaka u svakom vektoru pomaka: jedan vektor{one_hr} ili "
               "dva ($b_{ih}$ i $b_{hh}$, kao u PyTorchu)."
               + (" Svaki smjer ima svoje parametre." if dirs == 2 else "")
               + (f" Ulaz svakog sljedećeg sloja je izlaz prethodnog: {later}." if n_layers > 1 else ""),
               f"In a layer with input $D$ and hidden state $H$ {_GATES[cell]['en']} an $H \\times (D + H)$ weight "
               f"matrix (on the input and on the previous hidden state) and $H$ biases in each bias vector: one "
               f"vector{one_en} or two ($b_{{ih}}$ and $b_{{hh}}$, as PyTorch's)."
               + (" Each direction has its own parameters." if dirs == 2 else "")
               + (f" A later layer reads the previous one's output: {later}." if n_layers > 1 else ""))]
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
    gated = cell != "rnn"  # a vanilla RNN cell has no gates
    answer = s_(f"**{_grouped(result['one_bias'], lang)}** parametara s jednim vektorom pomaka"
                + (" po propusnici" if gated else "")
                + f", odnosno **{_grouped(result['two_biases'], lang)}** s dva (od toga "
                f"{_grouped(result['weights'], lang)} težina).",
                f"**{result['one_bias']:,}** parameters with one bias " + ("per gate" if gated else "vector")
                + f", **{result['two_biases']:,}** with two (of them {result['weights']:,} weights).")
    flax_note = ""
    if cell == "gru":
        flax_note = s_(f" flaxov `GRUCell` ima vlastitu konvenciju pomaka (četiri vektora: ulazni za $r$, $z$, $n$ i "
                       f"pomak kandidata na skrivenom stanju): ukupno {_grouped(result['flax'], lang)}.",
                       f" flax's `GRUCell` keeps its own biases (four vectors: the input biases of $r$, $z$, $n$ and "
                       f"the candidate's bias on the hidden state): {result['flax']:,} in all.")
    verified = s_(
        f"Zatvoreni oblik uspoređen je s brojem parametara {source_names(result['checked_against'], 'hr')} "
        f"(`jaxdl exam lstm`): {'jednak je svakome od njih' if result['agree'] else '**nije jednak svakome od njih**'}"
        + (" (broj težina i PyTorchovu modulu izgrađenom bez pomaka, `bias=False`)" if result["torch"] is not None else "")
        + f".{flax_note}",
        f"The closed form is compared with the parameters of {source_names(result['checked_against'], 'en')} "
        f"(`jaxdl exam lstm`): they agree: {'yes' if result['agree'] else '**NO**'}"
        + (" (the weights also with PyTorch's module built without biases, `bias=False`)" if result["torch"] is not None
           else "") + f".{flax_note}")
    finals = [_grouped(result["one_bias"], lang), _grouped(result["two_biases"], lang)]
    return {"E4": Body(givens=givens, steps={"": "\n\n".join(work)}, answers={"": answer}, verified=verified,
                       finals=finals)}
