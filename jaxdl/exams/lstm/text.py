"""E4's text: the question restated for the network, and the worked solution in each language (the
count per layer, under both bias conventions)."""

from __future__ import annotations

from jaxdl.exams._common import display
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.lstm.compute import CELL_NAMES, CELLS, EXAM, source_names
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
    return (Question(
        code="E4",
        title=both(f"Broj parametara {gen_hr}", f"The parameter count of {'an' if cell == 'lstm' else 'a'} {name_en}"),
        points=3,
        stem=both(
            f"{layers_hr}{bi_hr} {name_hr} ima skriveno stanje dimenzije {g['hidden_size']}, a ulazne reprezentacije "
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
        f"Zatvoreni oblik uspoređen je s brojem parametara {source_names(result['checked_against'], 'hr')} "
        f"(`jaxdl exam lstm`): slažu se: {'da' if result['agree'] else '**NE**'}.{flax_note}",
        f"The closed form is compared with the parameters of {source_names(result['checked_against'], 'en')} "
        f"(`jaxdl exam lstm`): they agree: {'yes' if result['agree'] else '**NO**'}.{flax_note}")
    finals = [_grouped(result["one_bias"], lang), _grouped(result["two_biases"], lang)]
    return {"E4": Body(givens=givens, steps={"": "\n\n".join(work)}, answers={"": answer}, verified=verified,
                       finals=finals)}
