"""E5's text: the question restated for the activation and the number of steps, and the worked
solution in each language (each step's pre-activation and state, in closed form where there is one)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from jaxdl.exams._common import display, num, tex
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.problem import Body, Question
from jaxdl.exams.rnn.compute import UNITS, fractions_of

UNIT_TEX = {"sigmoid": r"\ln 2", "tanh": r"\ln \sqrt{2}"}
_TEX_ACTIVATION = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\operatorname{ReLU}"}
_STEPS_HR = {1: "jedan vremenski korak", 2: "dva vremenska koraka", 3: "tri vremenska koraka", 4: "četiri vremenska koraka"}
_FIRST_HR = {1: "prvom vremenskom koraku", 2: "prva dva vremenska koraka", 3: "prva tri vremenska koraka",
             4: "prva četiri vremenska koraka"}
_WORDS_EN = {1: "one", 2: "two", 3: "three", 4: "four"}
# The transfer function, in the instrumental case the Croatian sentence takes ("s … kao prijenosnom
# funkcijom"), and in English.
_ACT_NAMES = {"sigmoid": ("logističkom sigmoidom", "the logistic sigmoid"),
              "tanh": ("tangensom hiperbolnim", "the hyperbolic tangent"), "relu": ("ReLU-om", "ReLU")}
LN_SQRT2 = UNITS["tanh"]  # ln √2, the unit the exam writes its numbers in
LN_SQRT2_TEX = r"\ln(\sqrt{2})"


def _exam_entry(v: float) -> str:
    """One given as the exam writes it: a multiple of ln(√2) (``2 ln(√2)``, ``1.5 ln(√2)`` in TeX)."""
    f = fractions_of([v], LN_SQRT2)[0][0]
    if f == 0:
        return "0"
    c = _tex_fraction(f)
    c = {"1": "", "-1": "-"}.get(c, c + " ")
    return c + LN_SQRT2_TEX


def exam_notation(a, column: bool = True) -> str:
    """A vector (a column) or matrix of multiples of ln(√2), entry by entry as the exam prints them;
    plain numbers where an entry is no such multiple."""
    if fractions_of(a, LN_SQRT2) is None:
        return tex(a)
    a = np.asarray(a, float)
    rows = [[_exam_entry(v) for v in row] for row in (a[:, None] if a.ndim == 1 and column else np.atleast_2d(a))]
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(r) for r in rows) + r" \end{bmatrix}"


def questions(result: dict) -> tuple:
    """E5 as asked for the result's transfer function and number of steps (the exam's: σ, two
    steps). As the exam, the question names the network and leaves its recurrence to the student."""
    act, steps = result["activation"], len(result["h"])
    words_en = _WORDS_EN.get(steps, str(steps))
    hr_title = _STEPS_HR.get(steps, f"{steps} vremenskih koraka")
    hr_first = _FIRST_HR.get(steps, f"prvih {steps} vremenskih koraka")
    first_en = "first time step" if steps == 1 else f"first {words_en} time steps"
    after_hr = _STEPS_HR.get(steps, f"{steps} vremenskih koraka")
    return (Question(
        code="E5", title=both(f"Obična povratna mreža, {hr_title}",
                              f"A vanilla RNN, {words_en} time step{'s' if steps != 1 else ''}"), points=7,
        stem=both(
            f"Zadana je obična povratna neuronska mreža bez izlaznog sloja, s {_ACT_NAMES[act][0]} kao prijenosnom "
            f"funkcijom na povratnoj vezi. Njezini parametri $W_{{hh}}$, $W_{{xh}}$ i $b_h$ zadani su ispod. Početno skriveno "
            f"stanje je nul-vektor; uz ulaze u {hr_first} zadane ispod odredite skriveno stanje $h^{{({steps})}}$ nakon "
            f"{'jednog vremenskog koraka' if steps == 1 else after_hr}.",
            f"A vanilla recurrent neural network has no output layer and {_ACT_NAMES[act][1]} as the transfer function "
            f"on its recurrence. Its parameters $W_{{hh}}$, $W_{{xh}}$ and $b_h$ are given below. The initial hidden "
            f"state is the zero vector; with the inputs of the {first_en} given below, find the hidden state "
            f"$h^{{({steps})}}$ after {words_en} time step{'s' if steps != 1 else ''}."),
        givens="exam"),)


QUESTIONS = questions({"activation": "sigmoid", "h": [0, 0]})


def _tex_fraction(f: Fraction, decimals: bool = True) -> str:
    if f.denominator == 1:
        return str(f.numerator)
    decimal = f.numerator / f.denominator
    if decimals and (f * 100).denominator == 1:  # a terminating decimal of at most two places
        return f"{decimal:g}"
    sign = "-" if f < 0 else ""
    return rf"{sign}\tfrac{{{abs(f.numerator)}}}{{{f.denominator}}}"


def _tex_multiples(a, unit: float, unit_tex: str) -> str:
    """A vector or matrix that is ``unit`` times rational entries, as ``unit · [entries]``."""
    rows = fractions_of(a, unit)
    if all(f == 0 for row in rows for f in row):
        return tex(a)
    inner = r" \\ ".join(" & ".join(_tex_fraction(f) for f in row) for row in rows)
    a = np.asarray(a)
    if a.ndim == 1:  # a column vector
        inner = r" \\ ".join(_tex_fraction(f) for f in rows[0])
    return rf"{unit_tex} \cdot \begin{{bmatrix}} {inner} \end{{bmatrix}}"


def _tex_power(activation: str, q: str) -> str:
    e = q if "/" not in q else rf"{q.split('/')[0]}/{q.split('/')[1]}"
    if activation == "sigmoid":
        return rf"\frac{{2^{{{e}}}}}{{1 + 2^{{{e}}}}}"
    return rf"\frac{{2^{{{e}}} - 1}}{{2^{{{e}}} + 1}}"


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E5's solution in ``lang``: the givens, each step's pre-activation and state, the closed form."""
    del figures
    s_ = lang.s
    gv, activation = result["givens"], result["activation"]
    act = _TEX_ACTIVATION.get(activation, rf"\operatorname{{{activation}}}")
    form = result.get("closed_form")
    if form:
        unit, unit_tex = UNITS[activation], UNIT_TEX[activation]
        shown = lambda a: _tex_multiples(a, unit, unit_tex)  # noqa: E731
    else:
        shown = tex
    # The givens as the exam prints them: each entry a multiple of ln(√2), the vectors as columns.
    givens = "\n\n".join([
        display(f"W_{{hh}} = {exam_notation(gv['W_hh'])}", f"W_{{xh}} = {tex(gv['W_xh'])}",
                f"b_h = {exam_notation(gv['b_h'])}", sep=r" \quad "),
        display(*[f"x^{{({t})}} = {exam_notation(x)}" for t, x in enumerate(gv["xs"], start=1)], sep=r" \quad "),
    ])
    # The reading taken (R4 in the errata): the exam's columns.
    reading = s_(
        f"Ispit ispisuje $b_h$ i ulaze $x^{{(t)}}$ kao stupce, pa se povratna veza čita sa stupčanim vektorima: "
        f"$h^{{(t)}} = {act}(W_{{hh}} h^{{(t-1)}} + W_{{xh}} x^{{(t)}} + b_h)$, uz $h^{{(0)}} = 0$.",
        f"The exam prints $b_h$ and the inputs $x^{{(t)}}$ as columns, so the recurrence is read with column vectors: "
        f"$h^{{(t)}} = {act}(W_{{hh}} h^{{(t-1)}} + W_{{xh}} x^{{(t)}} + b_h)$, with $h^{{(0)}} = 0$.")
    if "variant" not in result:
        reading += s_(" Čitanje s retčanim vektorima ($h W_{hh} + x W_{xh}$, kao u laboratorijskoj vježbi) daje drugi "
                      "odgovor (vidi ispravke).",
                      " Read with row vectors ($h W_{hh} + x W_{xh}$, as in the lab) it gives another answer (see the "
                      "errata).")
    work = [reading]
    if form:
        work += [s_(("Kako je $2 \\ln \\sqrt{2} = \\ln 2$, zadane" if activation == "sigmoid" else "Zadane")
                    + f" vrijednosti su višekratnici od ${unit_tex} \\approx {unit:.4f}$:",
                    ("Since $2 \\ln \\sqrt{2} = \\ln 2$, the" if activation == "sigmoid" else "The")
                    + f" givens are multiples of ${unit_tex} \\approx {unit:.4f}$:"),
                 display(f"W_{{hh}} = {shown(gv['W_hh'])}", f"b_h = {shown(gv['b_h'])}",
                         *[f"x^{{({t})}} = {shown(x)}" for t, x in enumerate(gv["xs"], start=1)])]
    work.append(s_("Korak po korak (predaktivacija $a^{(t)}$, zatim stanje):",
                   "Step by step (the pre-activation $a^{(t)}$, then the state):"))
    last = len(result["h"])
    if form:
        rule = (r"\sigma(q \ln 2) = 2^q / (1 + 2^q)" if activation == "sigmoid"
                else r"\tanh(q \ln \sqrt{2}) = (2^q - 1) / (2^q + 1)")
        work[-1] = s_(f"Svaka predaktivacija višekratnik je od ${unit_tex}$, a ${rule}$; korak po korak:",
                      f"Every pre-activation is a multiple of ${unit_tex}$, and ${rule}$; step by step:")
        for t, (q, h, value) in enumerate(zip(form["pre_activations"], form["h"], result["h"]), start=1):
            qs = r" \\ ".join(_tex_fraction(Fraction(v)) for v in q)
            states = r" \\ ".join(_tex_fraction(Fraction(v), False) if "^" not in v else _tex_power(activation, qv)
                                   for v, qv in zip(h, q))
            work.append(display(rf"a^{{({t})}} = W_{{hh}} h^{{({t - 1})}} + W_{{xh}} x^{{({t})}} + b_h = {unit_tex} \cdot "
                                rf"\begin{{bmatrix}} {qs} \end{{bmatrix}}",
                                rf"h^{{({t})}} = {act}(a^{{({t})}}) = \begin{{bmatrix}} {states} \end{{bmatrix}} "
                                rf"\approx {tex(value, 6)}"))
        states = r" \\ ".join(_tex_fraction(Fraction(v), False) if "^" not in v else _tex_power(activation, qv)
                               for v, qv in zip(form["h"][-1], form["pre_activations"][-1]))
        answer = display(rf"h^{{({last})}} = \begin{{bmatrix}} {states} \end{{bmatrix}} \approx " + tex(result["h"][-1], 6),
                         sep="")
    else:
        for t, (a, h) in enumerate(zip(result["pre_activations"], result["h"]), start=1):
            work.append(display(rf"a^{{({t})}} = W_{{hh}} h^{{({t - 1})}} + W_{{xh}} x^{{({t})}} + b_h = {tex(a, 6)}",
                                rf"h^{{({t})}} = {act}(a^{{({t})}}) = {tex(h, 6)}"))
        answer = f"$h^{{({last})}} = {tex(result['h'][-1], 6)}$"
    check = (s_(f" Povratna veza slaže se sa zatvorenim oblikom do {result['closed_form_max_abs_err']:.1e}.",
                f" The recurrence agrees with the closed form to {result['closed_form_max_abs_err']:.1e}.")
             if form else "")
    verified = s_(f"Stanja su izračunana jaxdl-ovim slojem `rnn` u float64 (`jaxdl exam rnn`).{check}",
                  f"The states are computed by jaxdl's `rnn` layer in float64 (`jaxdl exam rnn`).{check}")
    finals = [num(v, 6) for v in result["h"][-1]]
    return {"E5": Body(givens=givens, steps={"": "\n\n".join(work)}, answers={"": answer}, verified=verified,
                       finals=finals)}
