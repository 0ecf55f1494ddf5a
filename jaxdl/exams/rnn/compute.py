"""E5's computation: the hidden states of a vanilla RNN, computed by jaxdl's ``rnn`` recurrence,
and in closed form where the pre-activations are rational multiples of a logarithm: with
``L = ln 2``, ``σ(q L) = 2^q / (1 + 2^q)``, and with ``L = ln √2``,
``tanh(q L) = (2^q − 1) / (2^q + 1)`` (for a whole ``q``, a fraction)."""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import InputError
from jaxdl.exams._common import matrix, tolist
from jaxdl.layers.recurrent import ACTIVATIONS, rnn_states

_L = math.log(2.0)  # 2 ln √2
EXAM = {
    "W_hh": [[_L, 0.0], [0.0, _L]], "W_xh": [[1.0, 1.0], [-1.0, 0.0]], "b_h": [0.0, 0.0], "h0": [0.0, 0.0],
    "xs": [[_L, _L], [0.0, 0.75 * _L]], "activation": "sigmoid",
}
# The logarithm L whose multiples make each activation a ratio of powers of 2.
UNITS = {"sigmoid": math.log(2.0), "tanh": math.log(2.0) / 2}
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


def fractions_of(a, unit: float = 1.0):
    """``a / unit`` (a vector or matrix) as rows of small fractions, or None where an entry is not one."""
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
    W_hh, b = fractions_of(givens["W_hh"], unit), fractions_of([givens["b_h"]], unit)
    xs, W_xh, h = fractions_of(givens["xs"], unit), fractions_of(givens["W_xh"]), fractions_of([givens["h0"]])
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
    """Validates E5's config: ``W_hh (H, H)``, ``W_xh (H, D)``, ``b_h (H)``, ``h0 (H)``, ``xs (T, D)`` and the
    activation (the exam's column vectors)."""
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


# Compiled once per shape and activation: called eagerly, the scan closed over each variant's
# weights and compiled again for every one (a pool of 200 variants spent 23 s compiling).
_states = jax.jit(rnn_states, static_argnames="activation")


def solve(cfg) -> dict:
    """E5's answers for the config's givens: the states by jaxdl's ``rnn`` recurrence, their
    pre-activations, and the closed form where the givens are multiples of the activation's logarithm."""
    W_hh, W_xh, b_h, h0, xs, activation = read_config(cfg)
    with jax.enable_x64(True):
        # The exam's column vectors → jaxdl's rows: W_xh and W_hh are transposed.
        params = {"W_xh": jnp.asarray(W_xh.T), "W_hh": jnp.asarray(W_hh.T), "b": jnp.asarray(b_h)}
        hs = np.asarray(_states(params, jnp.asarray(xs)[None], jnp.asarray(h0)[None], activation))[0]
    givens = {"W_hh": tolist(W_hh), "W_xh": tolist(W_xh), "b_h": tolist(b_h), "h0": tolist(h0), "xs": tolist(xs),
              "activation": activation}
    # The pre-activations a(t) = W_hh h(t−1) + W_xh x(t) + b_h, from jaxdl's states (column vectors).
    previous = np.concatenate([h0[None], hs[:-1]])
    pre = previous @ W_hh.T + xs @ W_xh.T + b_h
    result = {"givens": givens, "pre_activations": tolist(pre), "h": tolist(hs), "activation": activation, "errata": []}
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
