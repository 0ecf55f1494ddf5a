"""E2's text: the question restated, and the worked solution in each language (the forward and
backward steps on the givens, the numpy class and the PyTorch module)."""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxdl.exams._common import code_block, display, lab_source, num, tex, without_docstrings
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.problem import Body, Part, Question
from jaxdl.exams.resblock.family import w_entry
from jaxdl.exams.torch_answers import source as torch_source

QUESTIONS = (Question(
    code="E2", title=both("Rezidualni blok", "A residual block"), points=10,
    stem=both("Datoteku `layers.py` iz druge laboratorijske vježbe dopunite razredom `ResBlock` koji opisuje modul sa "
              "slike i ostvaruje sučelje `Layer`: `forward(self, inputs)` vraća izlaz sloja, `backward_inputs(self, grads)` "
              "gradijent po ulazu, a `backward_params(self, grads)` listu parova (parametar, gradijent po parametru). "
              "Isti modul izvedite i u PyTorchu ili TensorFlowu.",
              "Extend the lab-2 file `layers.py` with a class `ResBlock` for the module of the figure, in the `Layer` "
              "interface: `forward(self, inputs)` returns the layer's output, `backward_inputs(self, grads)` the "
              "gradient by the input, `backward_params(self, grads)` the list of pairs (parameter, gradient by the "
              "parameter). Write the same module in PyTorch or TensorFlow too."),
    parts=(Part(id="a", points=7, text=both("razred `ResBlock` u NumPyju (forward, backward_inputs, backward_params)",
                                            "the class `ResBlock` in numpy (forward, backward_inputs, backward_params)")),
           Part(id="b", points=3, text=both("isti modul u PyTorchu ili TensorFlowu",
                                            "the same module in PyTorch or TensorFlow"))),
    givens="lost",
    assumed=both(r"$\mathrm{out} = X + \operatorname{ReLU}(X W + b)$ uz $W \in \mathbb{R}^{D \times D}$ (retci "
                 r"matrice $X$ su primjeri, $N \times D$, kao u vježbi); brojevi su odabrani za ovo rješenje",
                 r"$\mathrm{out} = X + \operatorname{ReLU}(X W + b)$ with $W \in \mathbb{R}^{D \times D}$ (the "
                 r"rows of $X$ are the examples, $N \times D$, as in the lab); the numbers are chosen for this "
                 r"sheet")),)


def questions(result: dict) -> tuple:
    """E2 as asked for ``result``: a drawn variant's part (a) also asks for numbers on its givens
    (the first row of ∂L/∂X, ∂L/∂b and one entry of ∂L/∂W), which its answers key."""
    if "variant" not in result:
        return QUESTIONS
    i, j = w_entry(result["givens"])
    q = QUESTIONS[0]
    a, b = q.parts
    ask = both(f"; za zadane vrijednosti izračunajte prvi redak od $\\partial L / \\partial X$, "
               f"$\\partial L / \\partial b$ i element $(\\partial L / \\partial W)_{{{i + 1}{j + 1}}}$",
               f"; on the givens, compute the first row of $\\partial L / \\partial X$, "
               f"$\\partial L / \\partial b$ and the entry $(\\partial L / \\partial W)_{{{i + 1}{j + 1}}}$")
    a = dataclasses.replace(a, text={k: a.text[k] + ask[k] for k in ("hr", "en")})
    return (dataclasses.replace(q, parts=(a, b)),)


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E2's solution in ``lang``: the forward and backward steps on the givens, the numpy class and
    the PyTorch module."""
    gv, f, b, c = result["givens"], result["forward"], result["backward"], result["cross_check"]
    mask = (np.asarray(f["h"]) > 0).astype(float)
    s_ = lang.s
    d = lambda a, b_: rf"\frac{{\partial {a}}}{{\partial {b_}}}"  # noqa: E731
    givens = display(f"W = {tex(gv['W'])}", f"b = {tex(gv['b'], row=True)}", f"X = {tex(gv['x'])}",
                     rf"{d('L', chr(92) + 'mathrm{out}')} = {tex(gv['dy'])}")
    work = "\n\n".join([
        s_("Unatražni prolaz slijedi oba puta (obje grane) od $X$ do izlaza: preskočna veza prenosi "
           "$\\partial L / \\partial \\mathrm{out}$ nepromijenjen, a druga grana ide kroz ReLU i afinu transformaciju.",
           "The backward pass follows both paths from $X$ to the output: the skip connection carries "
           "$\\partial L / \\partial \\mathrm{out}$ unchanged, the other goes through ReLU and the affine map."),
        s_("Unaprijedni prolaz:", "Forward pass:"),
        display(f"H = X W + b = {tex(f['h'])}", rf"\operatorname{{ReLU}}(H) = {tex(f['relu_h'])}",
                rf"\mathrm{{out}} = X + \operatorname{{ReLU}}(H) = {tex(f['out'])}"),
        s_("Unatražni prolaz:", "Backward pass:"),
        display(rf"{d('L', 'H')} = {d('L', chr(92) + 'mathrm{out}')} \odot [H > 0] = "
                rf"{tex(gv['dy'])} \odot {tex(mask)} = {tex(result['dh'])}", sep=""),
        display(rf"{d('L', 'X')} = {d('L', chr(92) + 'mathrm{out}')} + {d('L', 'H')} W^\top = {tex(b['dx'])}"),
        display(rf"{d('L', 'W')} = X^\top {d('L', 'H')} = {tex(b['dW'])}",
                rf"{d('L', 'b')} = \sum_n {d('L', 'H_n')} = {tex(b['db'], row=True)}"),
        s_("U kodu se `grads` ne smije mijenjati na mjestu: množi se maskom, a rezultat se sprema u novo polje.",
           "In code, `grads` must not be changed in place: the mask multiplies into a new array."),
    ])
    answers = {
        "a": s_("razred `ResBlock` ispod; za zadane vrijednosti:", "the class `ResBlock` below; on the givens:")
        + f" ${d('L', 'X')} = {tex(b['dx'])}$",
        "b": s_("modul `ResBlock` ispod (`nn.Linear` i ReLU, uz preskočnu vezu).",
                "the module `ResBlock` below (`nn.Linear` and ReLU, with the skip connection)."),
    }
    code = "\n\n".join([
        s_("**(a)** Razred u NumPyju (sučelje `Layer` iz vježbe):", "**(a)** The numpy class (the lab's `Layer` interface):"),
        code_block(without_docstrings(lab_source("ResBlock", lang))),
        s_("**(b)** Modul u PyTorchu:", "**(b)** The PyTorch module:"),
        code_block(without_docstrings(torch_source("res_block", lang))),
    ])
    verified = s_(
        f"Izračunano u float64 (`jaxdl exam resblock`, brojevi u `configs/exam_resblock.py`): ručni unatražni "
        f"prolaz jaxdl-ovog sloja `res_block` uspoređen je s `jax.vjp` (najveća razlika "
        f"{c['max_abs_err_vs_autodiff']:.1e}) i s konačnim razlikama ({c['max_abs_err_vs_finite_diff']:.1e}). "
        "Razred u NumPyju prolazi `jaxdl check-numpy`; modul u PyTorchu testiran je na istim težinama "
        "(izlaz i gradijenti do 1e-6).",
        f"Computed in float64 (`jaxdl exam resblock`, the numbers in `configs/exam_resblock.py`): the manual "
        f"backward pass of jaxdl's `res_block` layer against `jax.vjp` (largest difference "
        f"{c['max_abs_err_vs_autodiff']:.1e}) and finite differences ({c['max_abs_err_vs_finite_diff']:.1e}). "
        "The numpy class passes `jaxdl check-numpy`; the PyTorch module is tested on the same weights (output "
        "and gradients to 1e-6).")
    finals = [num(v) for v in np.asarray(b["dx"]).reshape(-1)[:3]]
    return {"E2": Body(givens=givens, steps={"": work, "a": "", "b": ""}, answers=answers, verified=verified,
                       finals=finals, code=code)}
