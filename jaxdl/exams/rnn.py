"""E5: the hidden states of a vanilla RNN, computed by jaxdl's ``rnn`` recurrence."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import InputError
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.sheet import Body, Question
from jaxdl.exams._common import display, erratum, matrix, num, tex, tolist
from jaxdl.layers.recurrent import _ACTIVATIONS, rnn_states

_L = math.log(2.0)  # 2 ln √2
EXAM = {
    "W_hh": [[_L, 0.0], [0.0, _L]], "W_xh": [[1.0, 1.0], [-1.0, 0.0]], "b_h": [0.0, 0.0], "h0": [0.0, 0.0],
    "xs": [[_L, _L], [0.0, 0.75 * _L]], "activation": "sigmoid",
}
# For the exam's numbers (2 ln √2 = ln 2, σ(k ln 2) = 2^k / (1 + 2^k)):
#   h(1) = σ([ln 2 + ln 2, −ln 2]) = [4/5, 1/3]
#   h(2) = σ(ln 2 · h(1) + [0.75 ln 2, 0]) = σ([1.55 ln 2, ln 2 / 3]) = [2^1.55/(1 + 2^1.55), 2^(1/3)/(1 + 2^(1/3))]
CLOSED_FORM = {
    "h(1)": "[4/5, 1/3]",
    "h(2)": "[2^1.55 / (1 + 2^1.55), 2^(1/3) / (1 + 2^(1/3))]",
}
CLOSED_FORM_VALUES = [[4 / 5, 1 / 3], [2**1.55 / (1 + 2**1.55), 2 ** (1 / 3) / (1 + 2 ** (1 / 3))]]


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
    if cfg.activation not in _ACTIVATIONS:
        raise InputError(f"config: activation must be one of {sorted(_ACTIVATIONS)}; got {cfg.activation!r}")
    return W_hh, W_xh, b_h, h0, xs, cfg.activation


def solve(cfg) -> dict:
    W_hh, W_xh, b_h, h0, xs, activation = read_config(cfg)
    with jax.enable_x64(True):
        # The exam's column vectors → jaxdl's rows: W_xh and W_hh are transposed.
        params = {"W_xh": jnp.asarray(W_xh.T), "W_hh": jnp.asarray(W_hh.T), "b": jnp.asarray(b_h)}
        hs = np.asarray(rnn_states(params, jnp.asarray(xs)[None], jnp.asarray(h0)[None], activation))[0]
    is_exam = activation == EXAM["activation"] and all(
        np.allclose(np.asarray(cfg[k], float), np.asarray(EXAM[k], float)) for k in EXAM if k != "activation"
    )
    # The pre-activations a(t) = W_hh h(t−1) + W_xh x(t) + b_h, from jaxdl's states (column vectors).
    previous = np.concatenate([h0[None], hs[:-1]])
    pre = previous @ W_hh.T + xs @ W_xh.T + b_h
    result = {
        "givens": {"W_hh": tolist(W_hh), "W_xh": tolist(W_xh), "b_h": tolist(b_h), "h0": tolist(h0), "xs": tolist(xs)},
        "pre_activations": tolist(pre), "h": tolist(hs), "activation": activation, "errata": [],
    }
    if is_exam:
        result["errata"] = [erratum(
            "E5", "no official solution", "h(2) worked out step by step and in closed form, below",
            f"the seed's solutions end after E2; the recurrence run by jaxdl's rnn layer gives h(2) = "
            f"[{hs[1][0]:.6f}, {hs[1][1]:.6f}]", kind="incomplete",
            hr={"seed": "nema službenog rješenja", "verified": "h(2) izračunan korak po korak i u zatvorenom obliku, u rješenju",
                "evidence": f"službena rješenja završavaju nakon zadatka E2; povratna veza jaxdl-ova sloja rnn daje "
                            f"h(2) = [{hs[1][0]:.6f}, {hs[1][1]:.6f}]"})]
    if is_exam:
        result["closed_form"] = dict(CLOSED_FORM)
        result["closed_form_max_abs_err"] = float(np.max(np.abs(hs[:2] - np.asarray(CLOSED_FORM_VALUES))))
    return result


def report(result: dict) -> str:
    lines = [f"E5  Vanilla RNN, h(t) = {result['activation']}(W_hh h(t−1) + W_xh x(t) + b_h)"]
    for t, h in enumerate(result["h"], start=1):
        lines.append(f"  h({t}) = [{', '.join(f'{v:.6f}' for v in h)}]")
    if "closed_form" in result:
        lines.append("  exam's numbers, with 2 ln √2 = ln 2 and σ(k ln 2) = 2^k / (1 + 2^k):")
        for k, v in result["closed_form"].items():
            lines.append(f"    {k} = {v}")
        lines.append(f"    (the recurrence agrees with the closed form to {result['closed_form_max_abs_err']:.1e})")
    return "\n".join(lines)


_TEX_ACTIVATION = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\operatorname{ReLU}"}


QUESTIONS = (Question(
    "E5", both("Obična povratna mreža, dva vremenska koraka", "A vanilla RNN, two time steps"), 7,
    both(r"Obična povratna neuronska mreža bez izlaznog sloja ima logističku sigmoidu kao aktivacijsku funkciju na "
         r"povratnoj vezi: $h^{(t)} = \sigma(W_{hh} h^{(t-1)} + W_{xh} x^{(t)} + b_h)$. Uz zadane parametre, početno "
         r"stanje $h^{(0)} = 0$ i ulaze u prva dva vremenska koraka odredite skriveno stanje $h^{(2)}$.",
         r"A vanilla recurrent network with no output layer has the logistic sigmoid as the transfer function on its "
         r"recurrence: $h^{(t)} = \sigma(W_{hh} h^{(t-1)} + W_{xh} x^{(t)} + b_h)$. With the given parameters, the "
         r"initial state $h^{(0)} = 0$ and the inputs of the first two time steps, find the hidden state $h^{(2)}$."),
    givens="exam"),)


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E5's solution in ``lang``: the givens, each step's pre-activation and state, the closed form."""
    del figures
    s_ = lang.s
    gv, act = result["givens"], _TEX_ACTIVATION.get(result["activation"], rf"\operatorname{{{result['activation']}}}")
    givens = "\n\n".join([
        display(f"W_{{hh}} = {tex(gv['W_hh'])}", f"W_{{xh}} = {tex(gv['W_xh'])}", f"b_h = {tex(gv['b_h'])}",
                f"h^{{(0)}} = {tex(gv['h0'])}"),
        display(*[f"x^{{({t})}} = {tex(x)}" for t, x in enumerate(gv["xs"], start=1)]),
    ] + ([s_("(ovdje je $2 \\ln \\sqrt{2} = \\ln 2 \\approx 0.6931$)", "(here $2 \\ln \\sqrt{2} = \\ln 2 \\approx 0.6931$)")]
         if "closed_form" in result else []))
    work = [s_("Korak po korak (predaktivacija $a^{(t)}$, zatim stanje):",
               "Step by step (the pre-activation $a^{(t)}$, then the state):")]
    for t, (a, h) in enumerate(zip(result["pre_activations"], result["h"]), start=1):
        work.append(display(rf"a^{{({t})}} = W_{{hh}} h^{{({t - 1})}} + W_{{xh}} x^{{({t})}} + b_h = {tex(a, 6)}",
                            rf"h^{{({t})}} = {act}(a^{{({t})}}) = {tex(h, 6)}"))
    last = len(result["h"])
    answer = f"$h^{{({last})}} = {tex(result['h'][-1], 6)}$"
    if "closed_form" in result:
        work += [
            s_("U zatvorenom obliku, uz $\\ln 2$ umjesto $2 \\ln \\sqrt{2}$ i $\\sigma(k \\ln 2) = 2^k / (1 + 2^k)$:",
               "In closed form, with $\\ln 2$ for $2 \\ln \\sqrt{2}$ and $\\sigma(k \\ln 2) = 2^k / (1 + 2^k)$:"),
            display(r"a^{(1)} = \begin{bmatrix} 2 \ln 2 \\ -\ln 2 \end{bmatrix}",
                    r"h^{(1)} = \begin{bmatrix} 4/5 \\ 1/3 \end{bmatrix}"),
            display(r"a^{(2)} = \ln 2 \cdot h^{(1)} + \begin{bmatrix} 0.75 \ln 2 \\ 0 \end{bmatrix} = "
                    r"\begin{bmatrix} 1.55 \ln 2 \\ \tfrac{1}{3} \ln 2 \end{bmatrix}", sep=""),
        ]
        answer = display(r"h^{(2)} = \begin{bmatrix} 2^{1.55} / (1 + 2^{1.55}) \\ 2^{1/3} / (1 + 2^{1/3}) \end{bmatrix} "
                         r"\approx " + tex(result["h"][1], 6), sep="")
    check = (s_(f" Povratna veza slaže se sa zatvorenim oblikom do {result['closed_form_max_abs_err']:.1e}.",
                f" The recurrence agrees with the closed form to {result['closed_form_max_abs_err']:.1e}.")
             if "closed_form" in result else "")
    verified = s_(f"Stanja su izračunana jaxdl-ovim slojem `rnn` u float64 (`jaxdl exam rnn`).{check}",
                  f"The states are computed by jaxdl's `rnn` layer in float64 (`jaxdl exam rnn`).{check}")
    finals = [num(v, 6) for v in result["h"][-1]]
    return {"E5": Body(givens, {"": "\n\n".join(work)}, {"": answer}, verified, finals)}
