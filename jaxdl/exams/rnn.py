"""E5: the hidden states of a vanilla RNN, computed by jaxdl's ``rnn`` recurrence, and in closed
form where the pre-activations are rational multiples of a logarithm: with ``L = ln 2``,
``σ(q L) = 2^q / (1 + 2^q)``, and with ``L = ln √2``, ``tanh(q L) = (2^q − 1) / (2^q + 1)`` (for a
whole ``q``, a fraction)."""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import InputError
from jaxdl.exams.lang import Lang, both
from jaxdl.exams._legacy_records import Body, Question
from jaxdl.exams._common import display, erratum, matrix, num, tex, tolist
from jaxdl.layers.recurrent import ACTIVATIONS, rnn_states

_L = math.log(2.0)  # 2 ln √2
EXAM = {
    "W_hh": [[_L, 0.0], [0.0, _L]], "W_xh": [[1.0, 1.0], [-1.0, 0.0]], "b_h": [0.0, 0.0], "h0": [0.0, 0.0],
    "xs": [[_L, _L], [0.0, 0.75 * _L]], "activation": "sigmoid",
}
# The logarithm L whose multiples make each activation a ratio of powers of 2.
UNITS = {"sigmoid": math.log(2.0), "tanh": math.log(2.0) / 2}
UNIT_TEX = {"sigmoid": r"\ln 2", "tanh": r"\ln \sqrt{2}"}
UNIT_TEXT = {"sigmoid": "ln 2", "tanh": "ln √2"}
_DENOMINATOR = 100  # the largest denominator a closed form's multiples of L may have


def state_fraction(activation: str, q: int) -> Fraction:
    """The activation at ``q L`` for a whole ``q``, exactly: ``2^q/(1 + 2^q)`` or ``(2^q − 1)/(2^q + 1)``."""
    p = Fraction(2) ** int(q)
    return p / (1 + p) if activation == "sigmoid" else (p - 1) / (p + 1)


def _state_value(activation: str, q: Fraction) -> float:
    p = 2.0 ** float(q)
    return p / (1 + p) if activation == "sigmoid" else (p - 1) / (p + 1)


def _fraction(v: float, unit: float = 1.0) -> Fraction | None:
    """``v / unit`` as a fraction with a small denominator, if it is one (to 1e-12)."""
    f = Fraction(v / unit).limit_denominator(_DENOMINATOR)
    return f if abs(float(f) * unit - v) <= 1e-12 * max(1.0, abs(v)) else None


def _fractions(a, unit: float = 1.0):
    out = [[_fraction(float(v), unit) for v in np.atleast_1d(row)] for row in np.atleast_2d(np.asarray(a, float))]
    return None if any(f is None for row in out for f in row) else out


def closed_form(givens: dict) -> dict | None:
    """The states in closed form, when ``W_hh``, ``b_h`` and the inputs are rational multiples of
    the activation's ``L`` and ``W_xh``, ``h(0)`` rational: per step the pre-activation's multiple
    ``q`` of ``L`` and the state (exact Fractions where ``q`` is whole; a later step needs them).
    None when the givens are not of that kind."""
    activation = givens["activation"]
    if activation not in UNITS:
        return None
    unit = UNITS[activation]
    W_hh, b = _fractions(givens["W_hh"], unit), _fractions([givens["b_h"]], unit)
    xs, W_xh, h = _fractions(givens["xs"], unit), _fractions(givens["W_xh"]), _fractions([givens["h0"]])
    if None in (W_hh, b, xs, W_xh, h):
        return None
    h, b = h[0], b[0]
    qs, states, values = [], [], []
    for t, x in enumerate(xs):
        if h is None:  # the previous state was not a fraction: no closed form beyond it
            return None
        q = [sum(W_hh[i][j] * h[j] for j in range(len(h))) + sum(W_xh[i][j] * x[j] for j in range(len(x))) + b[i]
             for i in range(len(b))]
        qs.append(q)
        values.append([_state_value(activation, v) for v in q])
        exact = [state_fraction(activation, int(v)) if v.denominator == 1 else None for v in q]
        states.append(exact)
        h = None if None in exact else exact
    return {"activation": activation, "q": qs, "states": states, "values": values}


def _fraction_text(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def _power_text(activation: str, q: Fraction) -> str:
    e = _fraction_text(q)
    e = e if q.denominator == 1 and q >= 0 else f"({e})"
    return f"2^{e}/(1 + 2^{e})" if activation == "sigmoid" else f"(2^{e} − 1)/(2^{e} + 1)"


def read_config(cfg):
    known = set(EXAM)
    unknown = sorted(set(cfg.keys()) - known)
    if unknown:
        raise InputError(f"config: unknown field {unknown[0]!r} for exam rnn; known: {sorted(known)}")
    W_hh = matrix(cfg, "W_hh", ndim=2)
    h = W_hh.shape[0]
    W_hh = matrix(cfg, "W_hh", (h, h))
    W_xh = matrix(cfg, "W_xh", (h, None))
    b_h = matrix(cfg, "b_h", (h,))
    h0 = matrix(cfg, "h0", (h,))
    xs = matrix(cfg, "xs", (None, W_xh.shape[1]))
    if len(xs) == 0:
        raise InputError("config: xs must hold at least one input vector; got none")
    if cfg.activation not in ACTIVATIONS:
        raise InputError(f"config: activation must be one of {sorted(ACTIVATIONS)}; got {cfg.activation!r}")
    return W_hh, W_xh, b_h, h0, xs, cfg.activation


def solve(cfg) -> dict:
    W_hh, W_xh, b_h, h0, xs, activation = read_config(cfg)
    with jax.enable_x64(True):
        # The exam's column vectors → jaxdl's rows: W_xh and W_hh are transposed.
        params = {"W_xh": jnp.asarray(W_xh.T), "W_hh": jnp.asarray(W_hh.T), "b": jnp.asarray(b_h)}
        hs = np.asarray(rnn_states(params, jnp.asarray(xs)[None], jnp.asarray(h0)[None], activation))[0]
    givens = {"W_hh": tolist(W_hh), "W_xh": tolist(W_xh), "b_h": tolist(b_h), "h0": tolist(h0), "xs": tolist(xs),
              "activation": activation}
    is_exam = activation == EXAM["activation"] and all(
        np.allclose(np.asarray(cfg[k], float), np.asarray(EXAM[k], float)) for k in EXAM if k != "activation"
    )
    # The pre-activations a(t) = W_hh h(t−1) + W_xh x(t) + b_h, from jaxdl's states (column vectors).
    previous = np.concatenate([h0[None], hs[:-1]])
    pre = previous @ W_hh.T + xs @ W_xh.T + b_h
    result = {"givens": givens, "pre_activations": tolist(pre), "h": tolist(hs), "activation": activation, "errata": []}
    if is_exam:
        result["errata"] = [erratum(
            "E5", "no official solution", "h(2) worked out step by step and in closed form, below",
            f"the seed's solutions end after E2; the recurrence run by jaxdl's rnn layer gives h(2) = "
            f"[{hs[1][0]:.6f}, {hs[1][1]:.6f}]", kind="incomplete",
            hr={"seed": "nema službenog rješenja", "verified": "h(2) izračunan korak po korak i u zatvorenom obliku, u rješenju",
                "evidence": f"službena rješenja završavaju nakon zadatka E2; povratna veza jaxdl-ova sloja rnn daje "
                            f"h(2) = [{hs[1][0]:.6f}, {hs[1][1]:.6f}]"})]
    form = closed_form(givens)
    if form is not None:
        result["closed_form"] = {
            "unit": UNIT_TEXT[activation],
            "pre_activations": [[_fraction_text(q) for q in step] for step in form["q"]],
            "h": [[_fraction_text(f) if f is not None else _power_text(activation, q) for f, q in zip(fs, qs)]
                  for fs, qs in zip(form["states"], form["q"])],
        }
        result["closed_form_max_abs_err"] = float(np.max(np.abs(hs - np.asarray(form["values"]))))
    return result


def report(result: dict) -> str:
    lines = [f"E5  Vanilla RNN, h(t) = {result['activation']}(W_hh h(t−1) + W_xh x(t) + b_h)"]
    for t, h in enumerate(result["h"], start=1):
        lines.append(f"  h({t}) = [{', '.join(f'{v:.6f}' for v in h)}]")
    form = result.get("closed_form")
    if form:
        rule = "σ(q ln 2) = 2^q / (1 + 2^q)" if result["activation"] == "sigmoid" else "tanh(q ln √2) = (2^q − 1) / (2^q + 1)"
        lines.append(f"  in closed form, the pre-activations as multiples q of {form['unit']}, and {rule}:")
        for t, (q, h) in enumerate(zip(form["pre_activations"], form["h"]), start=1):
            lines.append(f"    a({t}) = {form['unit']} · [{', '.join(q)}],  h({t}) = [{', '.join(h)}]")
        lines.append(f"    (the recurrence agrees with the closed form to {result['closed_form_max_abs_err']:.1e})")
    return "\n".join(lines)


_TEX_ACTIVATION = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\operatorname{ReLU}"}
_STEPS_HR = {1: "jedan vremenski korak", 2: "dva vremenska koraka", 3: "tri vremenska koraka", 4: "četiri vremenska koraka"}
_FIRST_HR = {1: "prvom vremenskom koraku", 2: "prva dva vremenska koraka", 3: "prva tri vremenska koraka",
             4: "prva četiri vremenska koraka"}
_WORDS_EN = {1: "one", 2: "two", 3: "three", 4: "four"}
_ACT_NAMES = {"sigmoid": ("logističku sigmoidu", "the logistic sigmoid"), "tanh": ("tangens hiperbolni", "tanh"),
              "relu": ("ReLU", "ReLU")}


def questions(result: dict) -> tuple:
    """E5 as asked for the result's activation and number of steps (the exam's: σ, two steps)."""
    act, steps = result["activation"], len(result["h"])
    g = _TEX_ACTIVATION.get(act, rf"\operatorname{{{act}}}")
    words_en = _WORDS_EN.get(steps, str(steps))
    hr_title = _STEPS_HR.get(steps, f"{steps} vremenskih koraka")
    hr_first = _FIRST_HR.get(steps, f"prvih {steps} vremenskih koraka")
    first_en = "first time step" if steps == 1 else f"first {words_en} time steps"
    return (Question(
        "E5", both(f"Obična povratna mreža, {hr_title}",
                   f"A vanilla RNN, {words_en} time step{'s' if steps != 1 else ''}"), 7,
        both(rf"Obična povratna neuronska mreža bez izlaznog sloja ima {_ACT_NAMES[act][0]} kao aktivacijsku funkciju na "
             rf"povratnoj vezi: $h^{{(t)}} = {g}(W_{{hh}} h^{{(t-1)}} + W_{{xh}} x^{{(t)}} + b_h)$. Uz zadane parametre, "
             rf"početno stanje $h^{{(0)}} = 0$ i ulaze u {hr_first} odredite skriveno stanje $h^{{({steps})}}$.",
             rf"A vanilla recurrent network with no output layer has {_ACT_NAMES[act][1]} as the transfer function on its "
             rf"recurrence: $h^{{(t)}} = {g}(W_{{hh}} h^{{(t-1)}} + W_{{xh}} x^{{(t)}} + b_h)$. With the given "
             rf"parameters, the initial state $h^{{(0)}} = 0$ and the inputs of the {first_en}, find the hidden state "
             rf"$h^{{({steps})}}$."),
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
    rows = _fractions(a, unit)
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
        note = s_(f"(ovdje je ${unit_tex} \\approx {unit:.4f}$)", f"(here ${unit_tex} \\approx {unit:.4f}$)")
    else:
        shown, note = tex, ""
    givens = "\n\n".join([
        display(f"W_{{hh}} = {shown(gv['W_hh'])}", f"W_{{xh}} = {tex(gv['W_xh'])}", f"b_h = {shown(gv['b_h'])}",
                f"h^{{(0)}} = {tex(gv['h0'])}"),
        display(*[f"x^{{({t})}} = {shown(x)}" for t, x in enumerate(gv["xs"], start=1)]),
    ] + ([note] if note else []))
    work = [s_("Korak po korak (predaktivacija $a^{(t)}$, zatim stanje):",
               "Step by step (the pre-activation $a^{(t)}$, then the state):")]
    last = len(result["h"])
    if form:
        rule = (r"\sigma(q \ln 2) = 2^q / (1 + 2^q)" if activation == "sigmoid"
                else r"\tanh(q \ln \sqrt{2}) = (2^q - 1) / (2^q + 1)")
        work[0] = s_(f"Svaka predaktivacija višekratnik je od ${unit_tex}$, a ${rule}$; korak po korak:",
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
    return {"E5": Body(givens, {"": "\n\n".join(work)}, {"": answer}, verified, finals)}
